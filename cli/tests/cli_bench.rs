//! `batched-svd bench`: the table, the documented JSON, and its usage errors.

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
// bench
// ---------------------------------------------------------------------------------------

/// `bench --quick --shapes 3x3,8x8 --dtype complex64 --json FILE`: GPU, CPU-engine, auto and
/// nalgebra rows in complex64 (the GPU row from the complex per-invocation kernel).
#[test]
fn bench_complex_rows_include_the_gpu_engine() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("bench_complex");
    let json_path = s.path("bench.json");
    let result = run(&[
        OsStr::new("bench"),
        OsStr::new("--quick"),
        OsStr::new("--shapes"),
        OsStr::new("3x3,8x8"),
        OsStr::new("--count"),
        OsStr::new("512"),
        OsStr::new("--dtype"),
        OsStr::new("complex64"),
        OsStr::new("--json"),
        json_path.as_os_str(),
    ]);
    assert_success(&result);
    let doc: Value = serde_json::from_str(&fs::read_to_string(&json_path).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    for shape in ["3x3", "8x8"] {
        let backends: Vec<&str> = rows
            .iter()
            .filter(|r| r["shape"] == shape)
            .map(|r| r["backend"].as_str().unwrap())
            .collect();
        assert_eq!(
            backends[..4],
            ["gpu", "cpu", "auto", "nalgebra-1-thread"],
            "{backends:?}"
        );
    }
    for row in rows {
        assert_eq!(row["dtype"], "complex64");
        assert_eq!(row["vectors"], "thin");
        assert!(row["matrices_per_second"].as_f64().unwrap() > 0.0, "{row}");
        if ["gpu", "cpu", "auto"].contains(&row["backend"].as_str().unwrap()) {
            assert_eq!(row["converged"], 512, "{row}");
            assert!(row["speedup"].as_f64().unwrap() > 0.0, "{row}");
        }
    }
}

/// `bench --quick --shapes 3x3 --dtype float32,float64 --json FILE` (with a small `--count`):
/// the table, and JSON with the keys the README documents, f32 and f64 rows.
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
        OsStr::new("--dtype"),
        OsStr::new("float32,float64"),
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
            "dtype",
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
    // The f64 rows: thin only, no resident row, every engine and peer converged or counted.
    let f64_rows: Vec<&Value> = rows.iter().filter(|r| r["dtype"] == "float64").collect();
    let f64_backends: Vec<&str> = f64_rows
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    assert_eq!(
        f64_backends,
        [
            "gpu",
            "cpu",
            "auto",
            "nalgebra-1-thread",
            "nalgebra-all-cores"
        ][..f64_backends.len()],
        "{f64_backends:?}"
    );
    assert!(f64_backends.len() >= 4, "{f64_backends:?}");
    assert!(f64_rows.iter().all(|r| r["vectors"] == "thin"));
    assert_eq!(f64_rows[0]["converged"], 4096);
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
