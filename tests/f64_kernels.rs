//! Every GPU kernel family in f64, forced where the shape-based choice would pick another:
//! per-invocation, workgroup, multi-dispatch, QR preconditioning (tall, and wide through Aᵀ),
//! blocked sweeps; on the classes that stress f64 (grading to κ = 10¹², entries near 10^±300,
//! rank deficiency). Every result against nalgebra with the f64 bounds (ε = 2⁻⁵²) and
//! double-double residuals, and against the CPU engine's singular values.

mod common;

use batched_svd::tuning::{KernelFamily, SweepPairs};
use batched_svd::{MatrixBatch, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major_as, to_col_major};

/// The stressing classes, two matrices each.
const CLASSES: [Class; 6] = [
    Class::Gaussian,
    Class::RankDeficient,
    Class::GradedE12,
    Class::GradedColumnsE12,
    Class::TinyE300,
    Class::HugeE300,
];

fn batch_data(m: usize, n: usize, seed: u64) -> (Vec<f64>, usize) {
    let data: Vec<f64> = CLASSES
        .iter()
        .enumerate()
        .flat_map(|(c, &class)| batch_row_major_as::<f64>(class, 2, m, n, seed + c as u64))
        .collect();
    (data, 2 * CLASSES.len())
}

fn check(label: &str, m: usize, n: usize, col_major: bool, opts: &SvdOptions) {
    let Some(gpu) = common::gpu_f64() else { return };
    let (row, count) = batch_data(m, n, (m * 7 + n) as u64);
    let col = to_col_major(&row, count, m, n);
    let batch = if col_major {
        MatrixBatch::col_major(&col, count, m, n).unwrap()
    } else {
        MatrixBatch::row_major(&row, count, m, n).unwrap()
    };
    for vectors in [Vectors::Thin, Vectors::Full] {
        let opts = opts.clone().with_vectors(vectors);
        let out = gpu.svd(&batch, &opts).unwrap();
        let label = format!("{label} {m}×{n} {vectors:?}");
        common::assert_accurate(&label, &batch, &out);
        let cpu = batched_svd::cpu::svd(&batch, &opts).unwrap();
        for i in 0..count {
            let (g, c) = (out.singular_values(i), cpu.singular_values(i));
            let tol = 32.0 * m.max(n) as f64 * f64::EPSILON * c[0];
            for (a, b) in g.iter().zip(c) {
                assert!((a - b).abs() <= tol, "{label} matrix {i}: gpu {a} cpu {b}");
            }
        }
    }
}

fn family(kernel: KernelFamily) -> SvdOptions {
    SvdOptions::default().with_kernel(kernel)
}

#[test]
fn per_invocation() {
    check(
        "per-invocation",
        8,
        8,
        false,
        &family(KernelFamily::PerInvocation),
    );
    check(
        "per-invocation",
        3,
        3,
        true,
        &family(KernelFamily::PerInvocation),
    );
}

#[test]
fn workgroup() {
    check("workgroup", 24, 24, false, &family(KernelFamily::Workgroup));
    check("workgroup", 30, 12, true, &family(KernelFamily::Workgroup));
}

#[test]
fn multi_dispatch() {
    let opts = family(KernelFamily::MultiDispatch).with_qr_preconditioning(false);
    check("multi-dispatch", 48, 48, false, &opts);
}

#[test]
fn qr_preconditioning_tall_and_wide() {
    let opts = family(KernelFamily::MultiDispatch).with_qr_preconditioning(true);
    check("QR", 300, 24, false, &opts);
    check("QR via Aᵀ", 24, 300, true, &opts);
}

#[test]
fn blocked_sweeps() {
    let opts = family(KernelFamily::MultiDispatch).with_sweep_pairs(SweepPairs::Blocks);
    check("blocks", 72, 72, false, &opts);
}
