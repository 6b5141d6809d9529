//! QR preconditioning of tall (and, transposed, wide) matrices in the multi-dispatch family:
//! A = Q·R, sweeps on R, U = Q·U_R. Every result is checked against nalgebra in f64 with the
//! core accuracy bounds, and against the plain sweeps over all M rows.

mod common;

use batched_svd::tuning::KernelFamily;
use batched_svd::{MatrixBatch, Status, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major, gaussian_row_major, matrix, to_col_major};

fn opts(vectors: Vectors, qr: bool) -> SvdOptions {
    SvdOptions::default()
        .with_vectors(vectors)
        .with_kernel(KernelFamily::MultiDispatch)
        .with_qr_preconditioning(qr)
}

/// The tall size the issue names: one 8192×256 matrix, thin U and V.
#[test]
fn tall_8192_by_256_within_bounds() {
    let Some(gpu) = common::gpu() else { return };
    let (m, n) = (8192, 256);
    let data = gaussian_row_major(1, m, n, 51);
    let batch = MatrixBatch::row_major(&data, 1, m, n).unwrap();
    let out = gpu.svd(&batch, &opts(Vectors::Thin, true)).unwrap();
    common::assert_accurate("8192×256 with QR", &batch, &out);
}

/// With and without preconditioning: both within the bounds, on random, graded (κ = 10⁶) and
/// rank-deficient matrices, for every vector mode.
#[test]
fn same_results_with_and_without_qr() {
    let Some(gpu) = common::gpu() else { return };
    let (m, n) = (700, 48);
    for class in [Class::Gaussian, Class::Graded, Class::RankDeficient] {
        let data = batch_row_major(class, 3, m, n, 52);
        let batch = MatrixBatch::row_major(&data, 3, m, n).unwrap();
        for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
            let with = gpu.svd(&batch, &opts(vectors, true)).unwrap();
            let without = gpu.svd(&batch, &opts(vectors, false)).unwrap();
            let label = format!("{class:?} {m}×{n} {vectors:?}");
            common::assert_accurate(&format!("{label} QR"), &batch, &with);
            common::assert_accurate(&format!("{label} plain"), &batch, &without);
            for i in 0..3 {
                let s1 = f64::from(without.singular_values(i)[0]);
                for (a, b) in with
                    .singular_values(i)
                    .iter()
                    .zip(without.singular_values(i))
                {
                    let diff = f64::from(a - b).abs();
                    assert!(
                        diff <= 32.0 * m as f64 * common::EPS * s1,
                        "{label}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

/// Wide matrices are preconditioned through Aᵀ; column-major input exercises the other load.
#[test]
fn wide_column_major() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (2, 40, 900);
    let data = to_col_major(&gaussian_row_major(count, m, n, 53), count, m, n);
    let batch = MatrixBatch::col_major(&data, count, m, n).unwrap();
    for vectors in [Vectors::Thin, Vectors::Full] {
        let out = gpu.svd(&batch, &opts(vectors, true)).unwrap();
        common::assert_accurate(&format!("col-major {m}×{n} {vectors:?}"), &batch, &out);
    }
}

/// More than 20 000 rows: one invocation's pass down a column would exceed the loop budget,
/// so the QR runs with a workgroup per column (the path real GPUs always take).
#[test]
fn workgroup_reductions_past_the_lane_budget() {
    let Some(gpu) = common::gpu() else { return };
    let (m, n) = (20_480, 6);
    let data = batch_row_major(Class::Graded, 2, m, n, 54);
    let batch = MatrixBatch::row_major(&data, 2, m, n).unwrap();
    let out = gpu.svd(&batch, &opts(Vectors::Thin, true)).unwrap();
    common::assert_accurate("graded 20480×6", &batch, &out);
}

/// A non-finite, a zero and a rank-one matrix next to a normal one: each gets its own status
/// and the others are unaffected.
#[test]
fn bad_matrices_in_a_tall_batch() {
    let Some(gpu) = common::gpu() else { return };
    let (m, n) = (600, 40);
    let mut rng = common::matrices::Rng::new(55);
    let mut data = Vec::new();
    for class in [
        Class::Gaussian,
        Class::Zero,
        Class::Gaussian,
        Class::RankDeficient,
    ] {
        let a = matrix(class, m, n, &mut rng);
        data.extend(
            (0..m)
                .flat_map(|i| (0..n).map(move |j| (i, j)))
                .map(|(i, j)| a[(i, j)] as f32),
        );
    }
    let clean = data.clone();
    data[2 * m * n + 17] = f32::NAN;
    let batch = MatrixBatch::row_major(&data, 4, m, n).unwrap();
    let out = gpu.svd(&batch, &opts(Vectors::Thin, true)).unwrap();
    assert_eq!(out.status(2), Status::NonFinite);
    assert!(out.singular_values(2).iter().all(|x| x.is_nan()));
    assert!(out.u(2).unwrap().iter().all(|x| x.is_nan()));
    let clean_batch = MatrixBatch::row_major(&clean, 4, m, n).unwrap();
    let reference = gpu.svd(&clean_batch, &opts(Vectors::Thin, true)).unwrap();
    for i in [0, 1, 3] {
        assert_eq!(out.status(i), Status::Converged, "matrix {i}");
        assert_eq!(out.singular_values(i), reference.singular_values(i));
        assert_eq!(out.u(i), reference.u(i), "U of {i} changed");
        let a = batch.to_dmatrix_f64(i);
        let acc = common::accuracy(&out, i, &a);
        assert!(acc.worst() <= 1.0, "matrix {i}: {acc:?}");
    }
    assert!(out.singular_values(1).iter().all(|&x| x == 0.0));
}
