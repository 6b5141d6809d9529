//! The `batched-svd svd` command on the CPU engine: output files, their shapes and values
//! for every input order and byte order, the report, and exit codes. These always run.

#![allow(unused_imports)]

mod common;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::cli::{
    Scratch, assert_error, assert_success, entries, load_report, run, run_env, stderr, stdout,
};
use common::matrices::{Rng, gaussian_row_major};
use common::svd::*;
use nalgebra::DMatrix;
use npyz::{DType, NpyFile, Order, TypeStr, WriteOptions, WriterBuilder};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Help, version, dispatch
// ---------------------------------------------------------------------------------------

#[test]
fn help_version_and_no_arguments() {
    let help = run(&["--help"]);
    assert_success(&help);
    assert!(stdout(&help).contains("Usage:"));
    assert!(stdout(&help).contains("batched-svd svd INPUT.npy -o OUTDIR"));
    assert_success(&run(&["-h"]));

    let svd_help = run(&["svd", "--help"]);
    assert_success(&svd_help);
    assert!(stdout(&svd_help).contains("--vectors"));

    let version = run(&["--version"]);
    assert_success(&version);
    assert_eq!(
        stdout(&version).trim(),
        format!("batched-svd {}", env!("CARGO_PKG_VERSION"))
    );

    let none: [&str; 0] = [];
    let bare = run(&none);
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("Usage:"));
    assert!(bare.stdout.is_empty());
}

#[test]
fn unknown_and_future_commands_are_one_line_errors() {
    assert_error(&run(&["frobnicate"]), "unknown command 'frobnicate'");
    assert_error(&run(&["--frobnicate"]), "unknown option '--frobnicate'");
    assert_error(&run(&["polar"]), "polar: missing INPUT.npy");
    assert_error(&run(&["info", "extra"]), "takes no arguments");
}

// ---------------------------------------------------------------------------------------
// svd on the CPU backend (always runs)
// ---------------------------------------------------------------------------------------

#[test]
fn cpu_two_by_two_known_values() {
    let s = Scratch::new("cpu_2x2");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[3.0, 1.0, 1.0, 3.0]);
    let out = s.path("out");
    let result = svd(&input, &out, &["--backend", "cpu"]);
    assert_success(&result);
    assert!(stderr(&result).is_empty(), "stderr: {}", stderr(&result));
    assert_eq!(
        entries(&out),
        ["report.json", "s.npy", "status.npy", "u.npy", "vh.npy"]
    );
    let (shape, sigma) = load_f32(&out.join("s.npy"));
    assert_eq!(shape, vec![2]);
    assert!(
        (sigma[0] - 4.0).abs() < 1e-5 && (sigma[1] - 2.0).abs() < 1e-5,
        "{sigma:?}"
    );
    check_outputs(&out, &[3.0, 1.0, 1.0, 3.0], [1, 2, 2], false, false);
}

#[test]
fn cpu_report_has_the_documented_keys() {
    let s = Scratch::new("cpu_report");
    let input = s.path("a.npy");
    let data = gaussian_row_major(3, 5, 4, 1);
    save(&input, &[3, 5, 4], &data);
    let out = s.path("out");
    assert_success(&svd(&input, &out, &["--backend", "cpu", "--tol", "1e-5"]));
    let r = load_report(&out);
    assert_eq!(r["backend"], "cpu");
    assert_eq!(r["adapter"], "cpu");
    assert_eq!(
        (r["count"].as_u64(), r["m"].as_u64(), r["n"].as_u64()),
        (Some(3), Some(5), Some(4))
    );
    assert_eq!(r["vectors"], "thin");
    assert!((r["tolerance"].as_f64().unwrap() - 1e-5).abs() < 1e-12);
    assert_eq!(r["max_sweeps"], 30);
    for key in [
        "upload",
        "compute",
        "download",
        "read_input",
        "write_output",
        "total",
    ] {
        assert!(
            r["seconds"][key].as_f64().is_some_and(|x| x >= 0.0),
            "seconds.{key}"
        );
    }
    assert_eq!(r["not_converged"], 0);
    assert_eq!(r["non_finite"], 0);
    assert!(r["max_sweeps_used"].is_u64());
    assert_eq!(r["status_codes"]["0"], "converged");
    assert_eq!(r["status_codes"]["1"], "not converged within max_sweeps");
    assert_eq!(r["status_codes"]["2"], "non-finite input");
}

#[test]
fn cpu_default_tolerance_is_reported() {
    let s = Scratch::new("cpu_default_tol");
    let input = s.path("a.npy");
    save(&input, &[16, 9], &gaussian_row_major(1, 16, 9, 2));
    let out = s.path("out");
    assert_success(&svd(&input, &out, &["--backend=cpu", "--max-sweeps=12"]));
    let r = load_report(&out);
    let expected = f64::from(batched_svd::default_tolerance(16, 9));
    let got = r["tolerance"].as_f64().unwrap();
    assert!(
        (got - expected).abs() <= 1e-6 * expected,
        "{got} vs {expected}"
    );
    assert_eq!(r["max_sweeps"], 12);
}

#[test]
fn cpu_random_batch_c_order() {
    let s = Scratch::new("cpu_random_c");
    let (count, m, n) = (6, 7, 4);
    let data = gaussian_row_major(count, m, n, 42);
    let input = s.path("a.npy");
    save(&input, &[count as u64, m as u64, n as u64], &data);
    let out = s.path("out");
    assert_success(&svd(&input, &out, &["--backend", "cpu"]));
    check_outputs(&out, &data, [count, m, n], true, false);
}

#[test]
fn cpu_fortran_order_3d_and_2d() {
    let s = Scratch::new("cpu_fortran");
    let (count, m, n) = (4, 3, 5);
    let data = gaussian_row_major(count, m, n, 7);
    let input = s.path("f3.npy");
    save_f32(
        &input,
        &[count as u64, m as u64, n as u64],
        &data,
        Order::Fortran,
        false,
    );
    let out = s.path("out3");
    assert_success(&svd(&input, &out, &["--backend", "cpu"]));
    check_outputs(&out, &data, [count, m, n], true, false);

    let single = &data[..m * n];
    let input2 = s.path("f2.npy");
    save_f32(
        &input2,
        &[m as u64, n as u64],
        single,
        Order::Fortran,
        false,
    );
    let out2 = s.path("out2");
    assert_success(&svd(&input2, &out2, &["--backend", "cpu"]));
    check_outputs(&out2, single, [1, m, n], false, false);
    assert_eq!(load_report(&out2)["input"]["fortran_order"], true);
}

#[test]
fn cpu_big_endian_input() {
    let s = Scratch::new("cpu_big_endian");
    let (count, m, n) = (3, 4, 4);
    let data = gaussian_row_major(count, m, n, 9);
    let input = s.path("be.npy");
    save_f32(
        &input,
        &[count as u64, m as u64, n as u64],
        &data,
        Order::C,
        true,
    );
    let out = s.path("out");
    assert_success(&svd(&input, &out, &["--backend", "cpu"]));
    check_outputs(&out, &data, [count, m, n], true, false);
    assert_eq!(load_report(&out)["input"]["dtype"], ">f4");

    // Big-endian and Fortran order together.
    let input2 = s.path("be_f.npy");
    save_f32(
        &input2,
        &[count as u64, m as u64, n as u64],
        &data,
        Order::Fortran,
        true,
    );
    let out2 = s.path("out2");
    assert_success(&svd(&input2, &out2, &["--backend", "cpu"]));
    check_outputs(&out2, &data, [count, m, n], true, false);
}

#[test]
fn cpu_full_vectors_tall_and_wide() {
    let s = Scratch::new("cpu_full");
    for (count, m, n) in [(2, 5, 3), (2, 3, 5)] {
        let data = gaussian_row_major(count, m, n, 11);
        let input = s.path(&format!("a{m}x{n}.npy"));
        save(&input, &[count as u64, m as u64, n as u64], &data);
        let out = s.path(&format!("out{m}x{n}"));
        assert_success(&svd(
            &input,
            &out,
            &["--vectors", "full", "--backend", "cpu"],
        ));
        check_outputs(&out, &data, [count, m, n], true, true);
        assert_eq!(load_report(&out)["vectors"], "full");
    }
}

#[test]
fn cpu_values_only_writes_no_vectors() {
    let s = Scratch::new("cpu_none");
    let data = gaussian_row_major(2, 4, 3, 5);
    let input = s.path("a.npy");
    save(&input, &[2, 4, 3], &data);
    let out = s.path("out");
    assert_success(&svd(
        &input,
        &out,
        &["--vectors", "none", "--backend", "cpu"],
    ));
    assert_eq!(entries(&out), ["report.json", "s.npy", "status.npy"]);
    let (shape, sigma) = load_f32(&out.join("s.npy"));
    assert_eq!(shape, vec![2, 3]);
    for b in 0..2 {
        assert_sigma(
            &sigma[b * 3..(b + 1) * 3],
            &matrix(&data, b, 4, 3),
            "values only",
        );
    }
}

#[test]
fn cpu_non_finite_matrix_exits_1() {
    non_finite_batch("cpu", "cpu_nan");
}

#[test]
fn existing_output_directory_is_reused() {
    let s = Scratch::new("existing_out");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[1.0, 0.0, 0.0, 1.0]);
    let out = s.path("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("keep.txt"), b"mine").unwrap();
    assert_success(&svd(&input, &out, &["--backend", "cpu"]));
    assert_eq!(
        entries(&out),
        [
            "keep.txt",
            "report.json",
            "s.npy",
            "status.npy",
            "u.npy",
            "vh.npy"
        ]
    );
}
