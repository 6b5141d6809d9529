//! Blocked sweeps (pairs of 16-column blocks, a 32×32 Gram matrix diagonalised per block pair)
//! forced on the software device, where `SweepPairs::Auto` would pick column pairs: every
//! result against nalgebra in f64 with the core bounds, and against the column-pair sweeps.

mod common;

use batched_svd::tuning::{KernelFamily, SweepPairs};
use batched_svd::{MatrixBatch, Status, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major, to_col_major};

fn opts(vectors: Vectors, pairs: SweepPairs) -> SvdOptions {
    SvdOptions::default()
        .with_vectors(vectors)
        .with_kernel(KernelFamily::MultiDispatch)
        .with_sweep_pairs(pairs)
}

/// Square shapes with a partial last block (200 = 12·16 + 8) and a phantom block (13 blocks),
/// on random, graded (κ = 10⁶), rank-deficient, repeated-σ, Hilbert (σ far below ε·σ₁) and
/// Kahan matrices.
#[test]
fn square_classes_match_column_pairs() {
    let Some(gpu) = common::gpu() else { return };
    for (class, n, vectors) in [
        (Class::Gaussian, 256, Vectors::Thin),
        (Class::Graded, 200, Vectors::Thin),
        (Class::RankDeficient, 150, Vectors::Full),
        (Class::Repeated, 96, Vectors::None),
        (Class::Hilbert, 80, Vectors::Thin),
        (Class::Kahan, 90, Vectors::Thin),
    ] {
        let data = batch_row_major(class, 2, n, n, 61);
        let batch = MatrixBatch::row_major(&data, 2, n, n).unwrap();
        let blocks = gpu.svd(&batch, &opts(vectors, SweepPairs::Blocks)).unwrap();
        let columns = gpu
            .svd(&batch, &opts(vectors, SweepPairs::Columns))
            .unwrap();
        let label = format!("{class:?} {n}×{n} {vectors:?}");
        common::assert_accurate(&format!("{label} blocks"), &batch, &blocks);
        common::assert_accurate(&format!("{label} columns"), &batch, &columns);
        // The blocked path really ran: a blocked sweep records 2·(even block count − 1) + 2
        // dispatches (at most 30 sweeps, plus 5 outside the sweeps), a column-pair sweep
        // N + 1, and that solve ran at least its reported sweep count.
        let per_blocked_sweep = 2 * (n.div_ceil(16).next_multiple_of(2) - 1) + 2;
        let blocked_most = 30 * per_blocked_sweep as u64 + 5;
        let columns_least = u64::from(columns.max_sweeps_used()) * (n as u64 + 1);
        assert!(blocks.work().dispatches <= blocked_most, "{label}");
        assert!(blocked_most < columns_least, "{label}");
        assert!(columns.work().dispatches >= columns_least, "{label}");
    }
}

/// QR preconditioning then blocked sweeps on R (100 columns: 7 blocks, one phantom), and a
/// wide column-major matrix through Aᵀ.
#[test]
fn with_qr_and_transposed() {
    let Some(gpu) = common::gpu() else { return };
    let tall = batch_row_major(Class::Gaussian, 1, 2000, 100, 62);
    let batch = MatrixBatch::row_major(&tall, 1, 2000, 100).unwrap();
    let out = gpu
        .svd(&batch, &opts(Vectors::Thin, SweepPairs::Blocks))
        .unwrap();
    common::assert_accurate("2000×100 QR + blocks", &batch, &out);

    let (m, n) = (80, 500);
    let wide = to_col_major(&batch_row_major(Class::Graded, 2, m, n, 63), 2, m, n);
    let batch = MatrixBatch::col_major(&wide, 2, m, n).unwrap();
    let out = gpu
        .svd(&batch, &opts(Vectors::Full, SweepPairs::Blocks))
        .unwrap();
    common::assert_accurate("graded 80×500 col-major blocks", &batch, &out);
}

/// A NaN matrix and a zero matrix next to normal ones: own statuses, others unaffected.
#[test]
fn bad_matrices_are_isolated() {
    let Some(gpu) = common::gpu() else { return };
    let n = 70;
    let clean = batch_row_major(Class::Gaussian, 3, n, n, 64);
    let mut data = clean.clone();
    data[n * n + 5] = f32::INFINITY;
    data[2 * n * n..].fill(0.0);
    let batch = MatrixBatch::row_major(&data, 3, n, n).unwrap();
    let out = gpu
        .svd(&batch, &opts(Vectors::Thin, SweepPairs::Blocks))
        .unwrap();
    assert_eq!(out.status(1), Status::NonFinite);
    assert!(out.singular_values(1).iter().all(|x| x.is_nan()));
    assert_eq!(out.status(2), Status::Converged);
    assert!(out.singular_values(2).iter().all(|&x| x == 0.0));
    let alone = MatrixBatch::row_major(&clean[..n * n], 1, n, n).unwrap();
    let reference = gpu
        .svd(&alone, &opts(Vectors::Thin, SweepPairs::Blocks))
        .unwrap();
    assert_eq!(out.status(0), Status::Converged);
    assert_eq!(out.singular_values(0), reference.singular_values(0));
    assert_eq!(out.u(0), reference.u(0));
    let acc = common::accuracy(&out, 0, &batch.to_dmatrix_f64(0));
    assert!(acc.worst() <= 1.0, "{acc:?}");
}

/// A sweep cap below what the matrices need: `NotConverged`, the cap as the sweep count, and
/// finite results, for blocked sweeps with and without QR preconditioning.
#[test]
fn sweep_cap_reports_not_converged() {
    let Some(gpu) = common::gpu() else { return };
    for (m, n) in [(100, 100), (600, 80)] {
        let data = batch_row_major(Class::Graded, 2, m, n, 65);
        let batch = MatrixBatch::row_major(&data, 2, m, n).unwrap();
        for pairs in [SweepPairs::Blocks, SweepPairs::Columns] {
            let out = gpu
                .svd(&batch, &opts(Vectors::Thin, pairs).with_max_sweeps(2))
                .unwrap();
            for i in 0..2 {
                assert_eq!(out.status(i), Status::NotConverged, "{m}×{n} {pairs:?}");
                assert_eq!(out.info(i).sweeps, 2, "{m}×{n} {pairs:?}");
                assert!(out.info(i).off_diagonal > 0.0);
                assert!(out.singular_values(i).iter().all(|x| x.is_finite()));
                assert!(out.u(i).unwrap().iter().all(|x| x.is_finite()));
            }
        }
    }
}
