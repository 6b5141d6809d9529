//! The derived operations on non-finite matrices (NaN results, the rest unaffected) and on bad
//! input (errors, never panics).

#![allow(unused_imports)]

mod common;

use batched_svd::ops::{self, Cutoff, Pca, RightHandSides, default_rcond};
use batched_svd::{Backend, Error, MatrixBatch, Solver, Status, SvdOptions, SvdOutput, Vectors};
use common::matrices::Rng;
use common::ops::*;
use common::{EPS, reference_sigma};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

// ---------------------------------------------------------------------------------------
// Non-finite matrices and errors
// ---------------------------------------------------------------------------------------

#[test]
fn non_finite_matrices_give_nan_and_leave_the_rest_alone() {
    let (count, m, n) = (3, 5, 3);
    let mats = generate(Kind::Gaussian, count, m, n, 1);
    let mut data = flatten(&mats);
    data[m * n + 4] = f32::NAN;
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let mut b: Vec<f32> = (0..count * m).map(|i| i as f32 * 0.5 - 3.0).collect();
    b[2 * m + 1] = f32::INFINITY; // the right-hand side of matrix 2
    let rhs = RightHandSides::vectors(&b, count, m).unwrap();
    for (label, out) in svds_allow_nan(&batch) {
        let t = ops::truncate(&out, Cutoff::Rank(2)).unwrap();
        assert_eq!(t.ranks(), &[2, 0, 2], "{label}");
        assert!(t.singular_values(1).iter().all(|x| x.is_nan()));
        assert!(t.reconstruct(1).unwrap().iter().all(|x| x.is_nan()));
        let p = ops::pinv(&out, None).unwrap();
        assert_eq!(p.ranks(), &[3, 0, 3], "{label}");
        assert!(p.matrix(1).iter().all(|x| x.is_nan()));
        assert!(p.matrix(0).iter().all(|x| x.is_finite()));
        let want = reference_pinv(&mats[2], default_rcond(m, n));
        assert!((widen(p.matrix(2)) - want).amax() < 1e-4, "{label}");
        let norms = ops::norms::frobenius_norms(&out);
        assert!(norms[1].is_nan() && norms[0].is_finite());
        let lr = ops::low_rank(&out, Cutoff::Rank(1)).unwrap();
        assert!(lr.matrix(1).iter().all(|x| x.is_nan()) && lr.error_spectral(1).is_nan());
        let x = ops::lstsq(&batch, &out, &rhs, None).unwrap();
        assert_eq!(x.status(0), Status::Converged);
        assert_eq!(x.status(1), Status::NonFinite, "{label}: non-finite A");
        assert_eq!(x.status(2), Status::NonFinite, "{label}: non-finite b");
        assert!(x.solution(0).iter().all(|v| v.is_finite()));
        assert!(x.solution(1).iter().all(|v| v.is_nan()));
        assert!(x.solution(2).iter().all(|v| v.is_nan()));
    }
}

/// [`svds`] without the convergence assertion (for batches with non-finite matrices).
fn svds_allow_nan(batch: &MatrixBatch<'_>) -> Vec<(&'static str, SvdOutput)> {
    let opts = SvdOptions::default();
    let mut runs = vec![("cpu", batched_svd::cpu::svd(batch, &opts).unwrap())];
    if let Some(gpu) = common::gpu() {
        runs.push(("gpu", gpu.svd(batch, &opts).unwrap()));
    }
    runs
}

fn invalid(result: Result<impl std::fmt::Debug, Error>, needle: &str) {
    match result {
        Err(Error::InvalidOption(msg)) => assert!(msg.contains(needle), "{msg:?} lacks {needle:?}"),
        other => panic!("expected InvalidOption({needle}), got {other:?}"),
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (count, m, n) = (2, 4, 3);
    let data = flatten(&generate(Kind::Gaussian, count, m, n, 3));
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let out = batched_svd::cpu::svd(&batch, &SvdOptions::default()).unwrap();
    let values = batched_svd::cpu::svd(&batch, &SvdOptions::values_only()).unwrap();

    invalid(ops::truncate(&out, Cutoff::Rank(0)), "at least 1");
    invalid(ops::truncate(&out, Cutoff::Relative(-1.0)), "non-negative");
    invalid(
        ops::truncate(&out, Cutoff::Absolute(f64::NAN)),
        "non-negative",
    );
    invalid(
        ops::norms::ranks(&out, Some(Cutoff::Relative(f64::INFINITY))),
        "finite",
    );
    invalid(ops::pinv(&out, Some(-1e-3)), "rcond");
    invalid(ops::pinv(&out, Some(f64::NAN)), "rcond");
    invalid(ops::pinv(&values, None), "singular vectors");
    invalid(ops::low_rank(&values, Cutoff::Rank(1)), "singular vectors");

    let b = vec![1.0f32; count * m];
    let rhs = RightHandSides::vectors(&b, count, m).unwrap();
    invalid(ops::lstsq(&batch, &values, &rhs, None), "singular vectors");
    invalid(ops::lstsq(&batch, &out, &rhs, Some(-2.0)), "rcond");
    let wrong_rows = RightHandSides::vectors(&b[..count * (m - 1)], count, m - 1).unwrap();
    invalid(
        ops::lstsq(&batch, &out, &wrong_rows, None),
        "right-hand sides",
    );
    let wrong_count = RightHandSides::vectors(&b[..m], 1, m).unwrap();
    invalid(
        ops::lstsq(&batch, &out, &wrong_count, None),
        "right-hand sides",
    );
    let other = MatrixBatch::row_major(&data[..m * n], 1, m, n).unwrap();
    invalid(ops::lstsq(&other, &out, &rhs, None), "SVD output");
    assert!(matches!(
        RightHandSides::vectors(&b, count, m + 1),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        RightHandSides::matrices(&b, count, m, 0),
        Err(Error::LengthMismatch { expected: 0, .. })
    ));

    // PCA: at least two samples; 1 ≤ n_components ≤ min(n_samples, n_features).
    let one = MatrixBatch::row_major(&data[..n], 1, 1, n).unwrap();
    invalid(Pca::fit(&one, None, &Solver::cpu()), "at least 2 samples");
    invalid(Pca::fit(&batch, Some(0), &Solver::cpu()), "n_components");
    invalid(Pca::fit(&batch, Some(4), &Solver::cpu()), "n_components");
    let pca = Pca::fit(&batch, Some(2), &Solver::cpu()).unwrap();
    let wide = MatrixBatch::row_major(&data, count, n, m).unwrap();
    invalid(pca.transform(&wide), "features");
    invalid(pca.inverse_transform(&batch), "columns");
    let centered = ops::center(&batch).unwrap();
    invalid(Pca::from_svd(&centered, &values, None), "singular vectors");

    // Unsorted singular values (GPU with sort off, on columns of increasing norm, which the
    // sweeps leave in place) are refused.
    if let Some(gpu) = common::gpu() {
        let diag = [
            1.0f32, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0,
        ];
        let graded = MatrixBatch::row_major(&diag, 1, 4, 3).unwrap();
        let unsorted = gpu
            .svd(&graded, &SvdOptions::default().with_sort(false))
            .unwrap();
        assert_eq!(unsorted.singular_values(0), &[1.0, 2.0, 3.0]);
        invalid(ops::pinv(&unsorted, None), "descending");
        invalid(ops::truncate(&unsorted, Cutoff::Rank(1)), "descending");
    }
}
