//! The scheduler splits batches that exceed a binding, a buffer or the dispatch grid into
//! chunks; the results do not depend on the split.

mod common;

use batched_svd::tuning::KernelFamily;
use batched_svd::{MatrixBatch, PlanLimits, SvdOptions, Vectors};
use common::matrices::gaussian_row_major;

#[test]
fn chunked_results_equal_unchunked() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (1000, 6, 5);
    let data = gaussian_row_major(count, m, n, 21);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    for vectors in [Vectors::Thin, Vectors::Full] {
        let opts = SvdOptions::default().with_vectors(vectors);
        let whole = gpu.svd(&batch, &opts).unwrap();
        // A 64-matrix binding cap (one input matrix is 120 bytes) and a 5-wide grid: 16 chunks
        // (the last one partial), each dispatched as a 2-D grid.
        let lowered = gpu.with_plan_limits(PlanLimits {
            max_binding_bytes: 64 * (m * n * 4) as u64,
            max_buffer_bytes: u64::MAX,
            max_workgroups_per_dimension: 5,
            max_chunk_bytes: u64::MAX,
        });
        assert_eq!(lowered.plan_limits().max_workgroups_per_dimension, 5);
        let chunked = lowered.svd(&batch, &opts).unwrap();
        assert_eq!(whole.all_singular_values(), chunked.all_singular_values());
        assert_eq!(whole.all_u(), chunked.all_u());
        assert_eq!(whole.all_vt(), chunked.all_vt());
        assert_eq!(whole.infos(), chunked.infos());
        common::assert_accurate("chunked", &batch, &chunked);
    }
}

/// More matrices than one grid dimension holds (65535) run as a 2-D grid.
#[test]
fn more_than_65535_matrices() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (70_000, 2, 2);
    let data = gaussian_row_major(count, m, n, 22);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    assert!(out.all_converged());
    for i in [0, 65_534, 65_535, 65_536, count - 1] {
        let a = batch.to_dmatrix_f64(i);
        let acc = common::accuracy(&out, i, &a);
        assert!(acc.worst() <= 1.0, "matrix {i}: {acc:?}");
    }
}

/// The multi-dispatch family puts the matrix index on the grid's y axis: a lowered grid limit
/// splits the batch into chunks of at most that many matrices.
#[test]
fn multi_dispatch_chunks() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (10, 80, 70);
    let data = gaussian_row_major(count, m, n, 23);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let opts = SvdOptions::default();
    let whole = gpu.svd(&batch, &opts).unwrap();
    let lowered = gpu.with_plan_limits(PlanLimits {
        max_workgroups_per_dimension: 3,
        ..gpu.plan_limits()
    });
    let chunked = lowered.svd(&batch, &opts).unwrap();
    assert_eq!(chunked.work().chunks, 4);
    assert_eq!(whole.all_singular_values(), chunked.all_singular_values());
    assert_eq!(whole.all_u(), chunked.all_u());
    assert_eq!(whole.infos(), chunked.infos());
    common::assert_accurate("multi-dispatch chunked", &batch, &chunked);
}

/// Every kernel family meets the bounds on the same matrices (forced families; `Auto` picks
/// one of them by shape and device).
#[test]
fn all_families_agree() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (40, 16, 12);
    let data = gaussian_row_major(count, m, n, 24);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    for vectors in [Vectors::Thin, Vectors::Full] {
        for kernel in [
            KernelFamily::PerInvocation,
            KernelFamily::Workgroup,
            KernelFamily::MultiDispatch,
        ] {
            let opts = SvdOptions::default()
                .with_vectors(vectors)
                .with_kernel(kernel);
            let out = gpu.svd(&batch, &opts).unwrap();
            let single = kernel != KernelFamily::MultiDispatch;
            assert_eq!(
                out.work().dispatches == 1,
                single,
                "{kernel:?}: {:?}",
                out.work()
            );
            common::assert_accurate(&format!("{kernel:?} {vectors:?}"), &batch, &out);
        }
    }
    // A sweep cap too large for one dispatch's loop budget moves the solve to multi-dispatch.
    let out = gpu
        .svd(&batch, &SvdOptions::default().with_max_sweeps(100_000))
        .unwrap();
    assert!(out.work().dispatches > 10, "{:?}", out.work());
    common::assert_accurate("auto, huge sweep cap", &batch, &out);
}
