//! f32 results pinned bit for bit: adding the f64 element type (the scalar parameter of the
//! kernels, the generic host code) must not change a single f32 output.
//!
//! The hashes are FNV-1a over the little-endian bytes of σ, U and Vᵀ, as computed by the build
//! before f64 existed (commit 7a30508, through the command-line tool) on the same matrices.
//! GPU results depend on the device's arithmetic, so the GPU pins are checked on the device
//! they were taken on (Mesa llvmpipe with 256-bit vectors, the CI device); elsewhere the test
//! checks that two identical calls agree bit for bit. The CPU pins use the Jacobi and nalgebra
//! solvers, whose scalar code does not depend on the processor's vector extensions.

mod common;

use batched_svd::{Cpu, MatrixBatch, SvdOptions, SvdOutput};
use common::matrices::gaussian_row_major;

fn fnv1a(out: &SvdOutput) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in out
        .all_singular_values()
        .iter()
        .chain(out.all_u())
        .chain(out.all_vt())
    {
        for b in x.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn data(count: usize, m: usize, n: usize) -> Vec<f32> {
    gaussian_row_major(count, m, n, (1000 + m * 10 + n) as u64)
}

#[test]
fn cpu_engine_f32_results_are_unchanged() {
    for (m, n, count, pin) in [
        (3, 3, 64, 0x0332_3472_3b8f_83e5u64),
        (32, 32, 8, 0x3e67_400d_1288_d09c),
    ] {
        let d = data(count, m, n);
        let b = MatrixBatch::row_major(&d, count, m, n).unwrap();
        let out = Cpu::new().svd(&b, &SvdOptions::default()).unwrap();
        assert_eq!(fnv1a(&out), pin, "{m}×{n} on the CPU engine changed");
    }
}

#[test]
fn gpu_engine_f32_results_are_unchanged() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    let info = gpu.adapter_info();
    let pinned_device = info.name.contains("llvmpipe") && info.name.contains("256 bits");
    for (m, n, count, pin) in [
        (3, 3, 64, 0xeafc_3428_96c5_9bf3u64),
        (8, 8, 32, 0x9152_10ac_9796_9f21),
        (40, 33, 4, 0x6d4b_bea8_b1d2_656f),
        (128, 16, 2, 0x51c5_67c6_a498_6df0),
    ] {
        let d = data(count, m, n);
        let b = MatrixBatch::row_major(&d, count, m, n).unwrap();
        let out = gpu.svd(&b, &SvdOptions::default()).unwrap();
        let again = gpu.svd(&b, &SvdOptions::default()).unwrap();
        assert_eq!(fnv1a(&out), fnv1a(&again), "{m}×{n}: two calls differ");
        if pinned_device {
            assert_eq!(fnv1a(&out), pin, "{m}×{n} on {} changed", info.name);
        } else {
            eprintln!(
                "{m}×{n}: pins are for llvmpipe (256 bits); {} checked for determinism only",
                info.name
            );
        }
    }
}
