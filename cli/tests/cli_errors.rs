//! The tool's errors: exit 2, exactly one line on stderr naming the problem, and nothing left
//! behind in the output directory (bad files, bad command lines, unwritable outputs).

#![allow(unused_imports)]

mod common;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::cli::{
    Scratch, assert_error, assert_success, entries, load_report, run, run_env, stderr, stdout,
    write_raw_npy,
};
use common::matrices::{Rng, gaussian_row_major};
use common::svd::*;
use nalgebra::DMatrix;
use npyz::{DType, NpyFile, Order, TypeStr, WriteOptions, WriterBuilder};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Errors: exit 2, one line, nothing left behind
// ---------------------------------------------------------------------------------------

/// Runs `svd input -o <scratch>/out extra` expecting an error naming `needle`; checks that the
/// output directory was not created.
fn expect_input_error(s: &Scratch, input: &Path, extra: &[&str], needle: &str) {
    let out = s.path("out");
    let result = svd(input, &out, extra);
    assert_error(&result, needle);
    assert!(!out.exists(), "{} was created", out.display());
}

#[test]
fn missing_input_file() {
    let s = Scratch::new("missing_input");
    let input = s.path("x.npy");
    expect_input_error(&s, &input, &["--backend", "cpu"], "cannot read '");
    expect_input_error(&s, &input, &[], "No such file or directory");
}

#[test]
fn wrong_dtype_names_it() {
    let s = Scratch::new("wrong_dtype");
    // float16, clongdouble, strings and structured arrays: one line naming the dtype.
    let expected = "expected float32, float64, complex64 or complex128";
    let half = format!("float16 (<f2); {expected}");
    let clongdouble = format!("complex256 (<c32); {expected}");
    let string = format!("str (<U1); {expected}");
    let cases: [(&str, &str, &str); 4] = [
        ("<f2", &half, "half"),
        ("<c32", &clongdouble, "complex"),
        ("<U1", &string, "str"),
        ("[('a', '<f4'), ('b', '<f4')]", "structured", "record"),
    ];
    for (descr, needle, name) in cases {
        let input = s.path(&format!("{name}.npy"));
        let quoted = if descr.starts_with('[') {
            descr.to_string()
        } else {
            format!("'{descr}'")
        };
        write_raw_npy(&input, &quoted, "(2, 2)", &[0u8; 128]);
        expect_input_error(&s, &input, &["--backend", "cpu"], needle);
    }
}

#[test]
fn too_few_dimensions() {
    let s = Scratch::new("wrong_rank");
    let one = s.path("one.npy");
    save(&one, &[3], &[0.0; 3]);
    expect_input_error(
        &s,
        &one,
        &[],
        "has 1 dimension; expected (m, n) or a batch (..., m, n)",
    );
    let zero = s.path("zero.npy");
    save(&zero, &[], &[0.0]);
    expect_input_error(&s, &zero, &[], "has 0 dimensions;");
}

#[test]
fn corrupt_and_truncated_files() {
    let s = Scratch::new("corrupt");
    let text = s.path("text.npy");
    fs::write(&text, b"not a numpy file at all").unwrap();
    expect_input_error(&s, &text, &[], "is not a valid .npy file");

    let good = s.path("good.npy");
    save(&good, &[2, 3, 3], &[1.0; 18]);
    let bytes = fs::read(&good).unwrap();
    let truncated = s.path("truncated.npy");
    fs::write(&truncated, &bytes[..bytes.len() - 4]).unwrap();
    expect_input_error(&s, &truncated, &[], "is truncated");
    let header_only = s.path("header.npy");
    fs::write(&header_only, &bytes[..20]).unwrap();
    expect_input_error(&s, &header_only, &[], "is not a valid .npy file");

    // A shape whose dimensions multiply past 2⁶⁴.
    let huge = s.path("huge.npy");
    let mut header =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"
            .to_string();
    while !(header.len() + 11).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    file.extend_from_slice(&(header.len() as u16).to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    fs::write(&huge, &file).unwrap();
    expect_input_error(&s, &huge, &[], "too large");
}

#[test]
fn bad_command_lines() {
    let s = Scratch::new("bad_args");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let cases: [(&[&str], &str); 10] = [
        (&["--bogus"], "unknown option '--bogus'"),
        (&["--tol"], "option --tol needs a value"),
        (&["--tol", "abc"], "bad number for --tol: 'abc'"),
        (&["--tol", "1.5"], "--tol must be in (0, 1)"),
        (&["--tol", "0"], "--tol must be in (0, 1)"),
        (&["--max-sweeps", "0"], "--max-sweeps must be at least 1"),
        (&["--max-sweeps", "2.5"], "bad number for --max-sweeps"),
        (&["--vectors", "half"], "bad value for --vectors: 'half'"),
        (&["--backend", "tpu"], "bad value for --backend: 'tpu'"),
        (&["second.npy"], "unexpected argument 'second.npy'"),
    ];
    for (extra, needle) in cases {
        expect_input_error(&s, &input, extra, needle);
    }
    assert_error(&run(&["svd", "-o", "x"]), "missing INPUT.npy");
    assert_error(&run(&["svd", input.to_str().unwrap()]), "missing -o OUTDIR");
    assert_error(
        &run(&["svd", input.to_str().unwrap(), "-o"]),
        "option -o needs a value",
    );
}

#[test]
fn output_path_that_is_a_file() {
    let s = Scratch::new("out_is_file");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let out = s.path("out");
    fs::write(&out, b"precious").unwrap();
    assert_error(
        &svd(&input, &out, &["--backend", "cpu"]),
        "exists and is not a directory",
    );
    assert_eq!(fs::read(&out).unwrap(), b"precious");

    let nested = out.join("sub");
    assert_error(
        &svd(&input, &nested, &["--backend", "cpu"]),
        "cannot create output directory",
    );
}

#[test]
fn input_error_leaves_existing_directory_untouched() {
    let s = Scratch::new("input_error_existing");
    let input = s.path("a.npy");
    save(&input, &[4], &[0.0; 4]);
    let out = s.path("out");
    fs::create_dir(&out).unwrap();
    assert_error(&svd(&input, &out, &["--backend", "cpu"]), "has 1 dimension");
    assert!(entries(&out).is_empty());
}

#[test]
fn failed_commit_removes_every_output() {
    // `status.npy` is a non-empty directory, so renaming onto it fails after s, u and vh were
    // already renamed: those are removed again, and so are all temporaries.
    let s = Scratch::new("failed_commit");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[3.0, 1.0, 1.0, 3.0]);
    let out = s.path("out");
    fs::create_dir_all(out.join("status.npy")).unwrap();
    fs::write(out.join("status.npy").join("x"), b"").unwrap();
    assert_error(&svd(&input, &out, &["--backend", "cpu"]), "cannot write");
    assert_eq!(entries(&out), ["status.npy"]);
}
