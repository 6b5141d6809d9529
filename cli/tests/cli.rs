//! Integration tests of the `batched-svd` command-line tool: exit codes, output files, their
//! shapes and values, and the all-or-nothing behaviour on errors.
//!
//! Tests passing `--backend cpu` always run; tests passing `--backend gpu` skip (with a
//! printed reason) when [`common::gpu`] finds no adapter, unless `BATCHED_SVD_REQUIRE_GPU=1`.

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
use nalgebra::DMatrix;
use npyz::{DType, NpyFile, Order, TypeStr, WriteOptions, WriterBuilder};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Runs `svd INPUT -o OUT` plus `extra`.
fn svd(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new("svd"), input.as_os_str()];
    args.extend([OsStr::new("-o"), out.as_os_str()]);
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// Reorders a C-order array of `shape` into Fortran (first index fastest) file order.
fn to_fortran_order(data: &[f32], shape: &[u64]) -> Vec<f32> {
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let mut out = vec![0.0; data.len()];
    for (c, &x) in data.iter().enumerate() {
        let mut rest = c;
        let mut f = 0;
        let mut stride = 1;
        let mut index = vec![0; dims.len()];
        for (k, &d) in dims.iter().enumerate().rev() {
            index[k] = rest % d;
            rest /= d;
        }
        for (k, &d) in dims.iter().enumerate() {
            f += index[k] * stride;
            stride *= d;
        }
        out[f] = x;
    }
    out
}

/// Writes a float32 `.npy` of `shape` whose logical (C-order) contents are `data`, stored in
/// `order` and the given byte order.
fn save_f32(path: &Path, shape: &[u64], data: &[f32], order: Order, big_endian: bool) {
    let descr = if big_endian { ">f4" } else { "<f4" };
    let file_data = match order {
        Order::C => data.to_vec(),
        Order::Fortran => to_fortran_order(data, shape),
    };
    let mut w = WriteOptions::new()
        .dtype(DType::Plain(descr.parse::<TypeStr>().unwrap()))
        .shape(shape)
        .order(order)
        .writer(BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(file_data).unwrap();
    w.finish().unwrap();
}

/// Writes a little-endian C-order float32 `.npy`.
fn save(path: &Path, shape: &[u64], data: &[f32]) {
    save_f32(path, shape, data, Order::C, false);
}

/// Reads a C-order `.npy` of `T`: shape and data.
fn load<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, Vec<T>) {
    let npy = NpyFile::new(BufReader::new(File::open(path).unwrap())).unwrap();
    assert_eq!(npy.order(), Order::C, "{} is not C order", path.display());
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

fn load_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    load(path)
}

fn matrix(data: &[f32], b: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| f64::from(data[b * m * n + i * n + j]))
}

/// Asserts `got` matches the f64 reference singular values of `a` within 1e-4·σ₁.
fn assert_sigma(got: &[f32], a: &DMatrix<f64>, label: &str) {
    let reference = common::reference_sigma(a);
    assert_eq!(got.len(), reference.len(), "{label}");
    let tol = 1e-4 * reference[0].max(f64::MIN_POSITIVE);
    for (g, r) in got.iter().zip(&reference) {
        assert!(
            (f64::from(*g) - r).abs() <= tol,
            "{label}: σ {got:?} vs reference {reference:?}"
        );
    }
}

/// Checks every output of a thin or full run on a row-major `(count, m, n)` input: shapes as
/// `numpy.linalg.svd`, σ against the reference, orthonormal U and V, and `U·Σ·Vᵀ = A`.
fn check_outputs(dir: &Path, data: &[f32], shape3: [usize; 3], batched: bool, full: bool) {
    let [count, m, n] = shape3;
    let k = m.min(n);
    let (uc, vr) = if full { (m, n) } else { (k, k) };
    let lead = |dims: &[usize]| -> Vec<u64> {
        let mut v: Vec<u64> = if batched { vec![count as u64] } else { vec![] };
        v.extend(dims.iter().map(|&d| d as u64));
        v
    };
    let (s_shape, s) = load_f32(&dir.join("s.npy"));
    let (u_shape, u) = load_f32(&dir.join("u.npy"));
    let (vh_shape, vh) = load_f32(&dir.join("vh.npy"));
    let (st_shape, status) = load::<i32>(&dir.join("status.npy"));
    assert_eq!(s_shape, lead(&[k]));
    assert_eq!(u_shape, lead(&[m, uc]));
    assert_eq!(vh_shape, lead(&[vr, n]));
    assert_eq!(st_shape, vec![count as u64]);
    assert!(status.iter().all(|&x| x == 0), "status {status:?}");
    for b in 0..count {
        let a = matrix(data, b, m, n);
        assert_sigma(&s[b * k..(b + 1) * k], &a, &format!("matrix {b}"));
        let ub = matrix(&u, b, m, uc);
        let vt = matrix(&vh, b, vr, n);
        let scale = 1e-4;
        assert!(
            common::orthogonality_error(&ub) < scale,
            "U of {b} not orthonormal"
        );
        let v = vt.transpose();
        assert!(
            common::orthogonality_error(&v) < scale,
            "V of {b} not orthonormal"
        );
        let sigma = DMatrix::from_fn(
            k,
            k,
            |i, j| {
                if i == j { f64::from(s[b * k + i]) } else { 0.0 }
            },
        );
        let recon = ub.columns(0, k) * sigma * vt.rows(0, k);
        let err = (&a - recon).norm();
        assert!(
            err <= 1e-4 * a.norm().max(1.0),
            "matrix {b}: ‖A − UΣVᵀ‖ = {err}"
        );
    }
}

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

/// A batch whose middle matrix holds a NaN: exit 1, status `[0, 2, 0]`, others correct.
fn non_finite_batch(backend: &str, test: &str) {
    let s = Scratch::new(test);
    let (count, m, n) = (3, 4, 3);
    let mut data = gaussian_row_major(count, m, n, 3);
    data[m * n + 5] = f32::NAN;
    let input = s.path("a.npy");
    save(&input, &[count as u64, m as u64, n as u64], &data);
    let out = s.path("out");
    let result = svd(&input, &out, &["--backend", backend]);
    assert_eq!(result.status.code(), Some(1), "stderr: {}", stderr(&result));
    let (_, status) = load::<i32>(&out.join("status.npy"));
    assert_eq!(status, vec![0, 2, 0]);
    let (_, sigma) = load_f32(&out.join("s.npy"));
    for b in [0, 2] {
        assert_sigma(
            &sigma[b * n..(b + 1) * n],
            &matrix(&data, b, m, n),
            "finite matrix",
        );
    }
    assert!(sigma[n..2 * n].iter().all(|x| x.is_nan()));
    let r = load_report(&out);
    assert_eq!(r["non_finite"], 1);
    assert_eq!(r["not_converged"], 0);
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
    let input = s.path("a.npy");
    let mut w = WriteOptions::new()
        .default_dtype()
        .shape(&[2, 2])
        .writer(BufWriter::new(File::create(&input).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend([1.0f64, 2.0, 3.0, 4.0]).unwrap();
    w.finish().unwrap();
    expect_input_error(
        &s,
        &input,
        &["--backend", "cpu"],
        "has dtype float64 (<f8); expected float32",
    );

    let ints = s.path("i.npy");
    let mut w = WriteOptions::new()
        .default_dtype()
        .shape(&[2, 2])
        .writer(BufWriter::new(File::create(&ints).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend([1i32, 2, 3, 4]).unwrap();
    w.finish().unwrap();
    expect_input_error(&s, &ints, &[], "has dtype int32 (<i4); expected float32");
}

#[test]
fn wrong_rank_and_empty_dimensions() {
    let s = Scratch::new("wrong_rank");
    let four = s.path("four.npy");
    save(&four, &[2, 1, 2, 2], &[0.0; 8]);
    expect_input_error(
        &s,
        &four,
        &[],
        "has 4 dimensions; expected (m, n) or (count, m, n)",
    );
    let one = s.path("one.npy");
    save(&one, &[3], &[0.0; 3]);
    expect_input_error(&s, &one, &[], "has 1 dimension;");
    let empty = s.path("empty.npy");
    save(&empty, &[0, 3, 3], &[]);
    expect_input_error(&s, &empty, &[], "zero-sized dimension");
    let empty2 = s.path("empty2.npy");
    save(&empty2, &[4, 0], &[]);
    expect_input_error(&s, &empty2, &[], "zero-sized dimension");
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
    save(&input, &[2, 2, 2, 2], &[0.0; 16]);
    let out = s.path("out");
    fs::create_dir(&out).unwrap();
    assert_error(
        &svd(&input, &out, &["--backend", "cpu"]),
        "has 4 dimensions",
    );
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

// ---------------------------------------------------------------------------------------
// GPU backend (skipped without an adapter)
// ---------------------------------------------------------------------------------------

#[test]
fn gpu_matches_reference() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("gpu_reference");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[3.0, 1.0, 1.0, 3.0]);
    let out = s.path("out");
    assert_success(&svd(&input, &out, &["--backend", "gpu"]));
    let (_, sigma) = load_f32(&out.join("s.npy"));
    assert!(
        (sigma[0] - 4.0).abs() < 1e-4 && (sigma[1] - 2.0).abs() < 1e-4,
        "{sigma:?}"
    );
    let r = load_report(&out);
    assert_eq!(r["backend"], "gpu");
    assert_ne!(r["adapter"], "cpu");

    let (count, m, n) = (16, 8, 5);
    let data = gaussian_row_major(count, m, n, 21);
    let input = s.path("b.npy");
    save(&input, &[count as u64, m as u64, n as u64], &data);
    let out = s.path("out_b");
    assert_success(&svd(&input, &out, &["--backend", "gpu"]));
    check_outputs(&out, &data, [count, m, n], true, false);
}

#[test]
fn gpu_fortran_big_endian_full() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("gpu_fortran_full");
    let (count, m, n) = (5, 4, 6);
    let data = gaussian_row_major(count, m, n, 23);
    let input = s.path("a.npy");
    save_f32(
        &input,
        &[count as u64, m as u64, n as u64],
        &data,
        Order::Fortran,
        true,
    );
    let out = s.path("out");
    assert_success(&svd(
        &input,
        &out,
        &["--vectors", "full", "--backend", "gpu"],
    ));
    check_outputs(&out, &data, [count, m, n], true, true);

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
    assert_success(&svd(&input2, &out2, &["--backend", "gpu"]));
    check_outputs(&out2, single, [1, m, n], false, false);
}

#[test]
fn gpu_non_finite_matrix_exits_1() {
    if common::gpu().is_none() {
        return;
    }
    non_finite_batch("gpu", "gpu_nan");
}

#[test]
fn gpu_sweep_cap_reports_not_converged() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("gpu_sweep_cap");
    let (count, m, n) = (8, 12, 12);
    let data = gaussian_row_major(count, m, n, 31);
    let input = s.path("a.npy");
    save(&input, &[count as u64, m as u64, n as u64], &data);
    let out = s.path("out");
    let result = svd(
        &input,
        &out,
        &["--max-sweeps", "1", "--tol", "1e-6", "--backend", "gpu"],
    );
    assert_eq!(result.status.code(), Some(1), "stderr: {}", stderr(&result));
    let (_, status) = load::<i32>(&out.join("status.npy"));
    assert!(status.iter().all(|&x| x == 1), "{status:?}");
    let r = load_report(&out);
    assert_eq!(r["not_converged"], count);
    assert_eq!(r["max_sweeps"], 1);
    assert!((r["tolerance"].as_f64().unwrap() - 1e-6).abs() < 1e-12);
}

#[test]
fn auto_backend_uses_the_gpu_when_there_is_one() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("auto_gpu");
    let input = s.path("a.npy");
    let mut rng = Rng::new(5);
    let data: Vec<f32> = (0..9).map(|_| rng.normal() as f32).collect();
    save(&input, &[3, 3], &data);
    let out = s.path("out");
    assert_success(&svd(&input, &out, &[]));
    assert_eq!(load_report(&out)["backend"], "gpu");
    check_outputs(&out, &data, [1, 3, 3], false, false);
}

#[test]
fn info_describes_the_chosen_adapter() {
    if common::gpu().is_none() {
        return;
    }
    let result = run(&["info"]);
    assert_success(&result);
    let text = stdout(&result);
    for needle in [
        "Chosen adapter:",
        "max_storage_buffer_binding_size",
        "max_compute_workgroups_per_dimension",
        "SHADER_F64",
        "WGPU_BACKEND",
        "WGPU_ADAPTER_NAME",
    ] {
        assert!(text.contains(needle), "info output lacks {needle}:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------
// No adapter (simulated with WGPU_BACKEND=metal, which Linux and Windows do not have)
// ---------------------------------------------------------------------------------------

#[cfg(not(target_os = "macos"))]
#[test]
fn no_adapter_gpu_fails_and_auto_falls_back() {
    let s = Scratch::new("no_adapter");
    let input = s.path("a.npy");
    save(&input, &[2, 2], &[3.0, 1.0, 1.0, 3.0]);
    let out = s.path("out");
    let env = [("WGPU_BACKEND", "metal")];
    let args = |backend: &str| -> Vec<PathBuf> {
        [
            "svd",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--backend",
            backend,
        ]
        .iter()
        .map(PathBuf::from)
        .collect()
    };
    let failed = run_env(&args("gpu"), &env);
    assert_error(&failed, "no GPU adapter found");
    assert!(
        !out.exists(),
        "the output directory created for the run was not removed"
    );

    let fallback = run_env(&args("auto"), &env);
    assert_success(&fallback);
    let warning = stderr(&fallback);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(warning.starts_with("batched-svd: warning: "), "{warning}");
    assert_eq!(load_report(&out)["backend"], "cpu");

    assert_error(&run_env(&["info"], &env), "no GPU adapter found");
}

// ---------------------------------------------------------------------------------------
// bench
// ---------------------------------------------------------------------------------------

/// `bench --quick --shapes 3x3 --json FILE` (with a small `--count`): the table, and JSON with
/// the keys the README documents.
#[test]
fn bench_quick_writes_the_documented_json() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("bench_json");
    let json_path = s.path("bench.json");
    let result = run(&[
        OsStr::new("bench"),
        OsStr::new("--quick"),
        OsStr::new("--shapes"),
        OsStr::new("3x3"),
        OsStr::new("--count"),
        OsStr::new("4096"),
        OsStr::new("--json"),
        json_path.as_os_str(),
    ]);
    assert_success(&result);
    let table = stdout(&result);
    for needle in [
        "start-up:",
        "matrices/s",
        "speedup",
        "nalgebra 1 thread",
        "peak resident memory",
    ] {
        assert!(
            table.contains(needle),
            "bench output lacks {needle}:\n{table}"
        );
    }
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(&json_path).expect("bench.json written"))
            .expect("bench.json is JSON");
    for key in [
        "version",
        "quick",
        "runs",
        "cpu_threads",
        "adapter",
        "peak_gflops",
        "flops_formula",
        "startup",
        "peak_rss_bytes",
        "largest_case_io_bytes",
        "total_seconds",
        "rows",
    ] {
        assert!(doc.get(key).is_some(), "bench.json lacks {key}: {doc}");
    }
    assert_eq!(doc["quick"], true);
    assert!(doc["startup"]["first_result_seconds"].as_f64().unwrap() > 0.0);
    let rows = doc["rows"].as_array().expect("rows is an array");
    let backends: Vec<&str> = rows
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    assert_eq!(backends[0], "gpu");
    assert!(backends.contains(&"nalgebra-1-thread"), "{backends:?}");
    // 3×3 also runs on device-resident data (the zero-copy path), with a speedup but no
    // host-side facts.
    let resident: Vec<&Value> = rows
        .iter()
        .filter(|r| r["backend"] == "gpu-resident")
        .collect();
    assert_eq!(
        resident.len(),
        2,
        "one resident row each for thin and polar"
    );
    for row in resident {
        assert!(row["speedup"].as_f64().unwrap() > 0.0, "{row}");
        assert!(
            row["threads"].is_null() && row["host_round_trips"].is_null(),
            "{row}"
        );
    }
    for row in rows {
        for key in [
            "shape",
            "m",
            "n",
            "count",
            "count_planned",
            "vectors",
            "backend",
            "threads",
            "runs",
            "seconds",
            "median_seconds",
            "matrices_per_second",
            "speedup",
            "gflops",
            "peak_fraction",
            "warmup_seconds",
            "sweeps_max",
            "sweeps_mean",
            "converged",
            "host_round_trips",
            "dispatches",
            "submissions",
            "chunks",
            "bytes_uploaded",
            "bytes_downloaded",
            "statically_sized",
            "sigma_sum",
        ] {
            assert!(row.get(key).is_some(), "row lacks {key}: {row}");
        }
        assert_eq!(row["shape"], "3x3");
        assert_eq!(row["count"], 4096);
        // 3×3 is measured as an SVD (thin) and as a polar decomposition.
        assert!(
            row["vectors"] == "thin" || row["vectors"] == "polar",
            "{row}"
        );
        assert_eq!(row["runs"], 3);
        assert!(row["matrices_per_second"].as_f64().unwrap() > 0.0);
        assert!(row["gflops"].as_f64().unwrap() > 0.0);
    }
    let gpu = &rows[0];
    assert!(gpu["speedup"].as_f64().unwrap() > 0.0);
    assert!(gpu["host_round_trips"].as_u64().unwrap() >= 1);
    assert!(gpu["sweeps_max"].as_u64().unwrap() >= 1);
    assert_eq!(gpu["converged"], 4096);
}

#[test]
fn bench_usage_errors_are_one_line() {
    assert_error(&run(&["bench", "--shapes", "3y3"]), "bad shape '3y3'");
    assert_error(&run(&["bench", "--bogus"]), "unknown option '--bogus'");
    assert_error(&run(&["bench", "--count", "0"]), "--count");
    assert_error(&run(&["bench", "--peak-gflops", "-2"]), "--peak-gflops");
    let help = run(&["bench", "--help"]);
    assert_success(&help);
    assert!(stdout(&help).contains("flops per matrix"));
}
