//! The tool on the GPU engine and without an adapter: results against the reference, auto's
//! choice, `info`, and the fallback when there is no adapter. GPU tests skip (with a printed
//! reason) when [`common::gpu`] finds no adapter, unless `BATCHED_SVD_REQUIRE_GPU=1`.

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
