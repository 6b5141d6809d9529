//! Batches shaped like numpy's: leading batch dimensions, and zero-sized dimensions on both
//! engines, in f32 and f64, for the SVD, polar, pinv, lstsq and the truncations. The expected
//! outputs are `numpy.linalg`'s: for a `(3, 0)` matrix, full U = I₃, no σ, Vᵀ 0×0.

mod common;

use batched_svd::ops::{Cutoff, RightHandSides};
use batched_svd::{
    Backend, Error, Layout, MatrixBatch, PolarOptions, Real, Solver, Status, SvdOptions, Vectors,
};
use common::matrices::{Class, batch_row_major_as};

/// The CPU engine, and the GPU engine when there is an adapter that runs `T`.
fn solvers<T: Real>() -> Vec<(&'static str, Solver)> {
    let mut solvers = vec![("cpu", Solver::cpu())];
    let gpu = if T::NAME == "f64" {
        common::gpu_f64()
    } else {
        common::gpu()
    };
    if let Some(gpu) = gpu {
        solvers.push(("gpu", Solver::with_gpu(gpu.clone(), Backend::Gpu)));
    }
    solvers
}

fn is_identity<T: Real>(data: &[T], size: usize) -> bool {
    data.chunks_exact((size * size).max(1)).all(|m| {
        (0..size * size).all(|e| m[e].to_f64() == f64::from(u8::from(e / size == e % size)))
    })
}

/// Leading dimensions `(5, 6)` give the 30 matrices of the flat batch, in C order, with the same
/// results bit for bit, and the outputs carry the batch shape.
fn check_leading_dimensions<T: Real>() {
    let (m, n) = (4, 3);
    let data = batch_row_major_as::<T>(Class::Gaussian, 30, m, n, 11);
    let shaped = MatrixBatch::from_shape(&data, &[5, 6, m, n], Layout::RowMajor).unwrap();
    let flat = MatrixBatch::row_major(&data, 30, m, n).unwrap();
    assert_eq!((shaped.count(), shaped.rows(), shaped.cols()), (30, m, n));
    assert_eq!(shaped.batch_shape(), [5, 6]);
    assert_eq!(flat.batch_shape(), [30]);
    for (label, solver) in solvers::<T>() {
        let opts = SvdOptions::default().with_vectors(Vectors::Full);
        let a = solver.svd(&shaped, &opts).unwrap();
        let b = solver.svd(&flat, &opts).unwrap();
        assert_eq!(a.batch_shape(), [5, 6], "{label} {}", T::NAME);
        assert_eq!(b.batch_shape(), [30], "{label}");
        assert_eq!(a.all_singular_values(), b.all_singular_values(), "{label}");
        assert_eq!(a.all_u(), b.all_u(), "{label}");
        assert_eq!(a.all_vt(), b.all_vt(), "{label}");
        assert!(a.all_converged(), "{label}");
    }
}

#[test]
fn leading_dimensions_f32() {
    check_leading_dimensions::<f32>();
}

#[test]
fn leading_dimensions_f64() {
    check_leading_dimensions::<f64>();
}

#[test]
fn a_single_matrix_has_an_empty_batch_shape() {
    let data = [3.0f32, 0.0, 0.0, 4.0];
    let batch = MatrixBatch::from_shape(&data, &[2, 2], Layout::ColMajor).unwrap();
    assert_eq!(batch.count(), 1);
    assert!(batch.batch_shape().is_empty());
    let out = Solver::cpu().svd(&batch, &SvdOptions::default()).unwrap();
    assert!(out.batch_shape().is_empty());
    assert_eq!(out.all_singular_values(), [4.0, 3.0]);
}

#[test]
fn shapes_that_describe_no_batch_are_errors() {
    let data = [1.0f32; 6];
    for shape in [&[][..], &[6]] {
        assert!(matches!(
            MatrixBatch::from_shape(&data, shape, Layout::RowMajor),
            Err(Error::InvalidShape(_))
        ));
    }
    assert!(matches!(
        MatrixBatch::from_shape(&data, &[2, 2, 2], Layout::RowMajor),
        Err(Error::LengthMismatch {
            expected: 8,
            actual: 6
        })
    ));
    assert!(matches!(
        MatrixBatch::from_shape(&data, &[usize::MAX, 2, 2], Layout::RowMajor),
        Err(Error::TooLarge(_))
    ));
}

/// numpy's outputs for every zero-sized shape, every vectors mode, both engines.
fn check_zero_sized_svd<T: Real>() {
    let shapes: [&[usize]; 6] = [
        &[0, 4, 4],
        &[3, 0],
        &[0, 3],
        &[2, 3, 0],
        &[2, 0, 0],
        &[2, 0, 5, 5],
    ];
    for (label, solver) in solvers::<T>() {
        for shape in shapes {
            let len = shape.iter().product::<usize>();
            let data = vec![T::default(); len];
            let batch = MatrixBatch::from_shape(&data, shape, Layout::RowMajor).unwrap();
            let lead = &shape[..shape.len() - 2];
            let (m, n) = (shape[shape.len() - 2], shape[shape.len() - 1]);
            let count = lead.iter().product::<usize>();
            for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
                let what = format!("{label} {} {shape:?} {vectors:?}", T::NAME);
                let out = solver
                    .svd(&batch, &SvdOptions::default().with_vectors(vectors))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(out.batch_shape(), lead, "{what}");
                assert_eq!(out.count(), count, "{what}");
                assert_eq!(out.shape(), (m, n), "{what}");
                assert_eq!(out.all_singular_values().len(), count * m.min(n), "{what}");
                assert_eq!(out.count_status(Status::Converged), count, "{what}");
                assert_eq!(out.max_sweeps_used(), 0, "{what}");
                let (uc, vr) = (out.u_cols(), out.vt_rows());
                assert_eq!(out.all_u().len(), count * m * uc, "{what}");
                assert_eq!(out.all_vt().len(), count * vr * n, "{what}");
                if vectors == Vectors::Full {
                    assert_eq!((uc, vr), (m, n), "{what}");
                    assert!(is_identity(out.all_u(), m), "{what}: U = I");
                    assert!(is_identity(out.all_vt(), n), "{what}: Vᵀ = I");
                }
            }
        }
    }
}

#[test]
fn zero_sized_svd_f32() {
    check_zero_sized_svd::<f32>();
}

#[test]
fn zero_sized_svd_f64() {
    check_zero_sized_svd::<f64>();
}

/// Regression: the derived operations sliced rows of zero width (`chunks_exact(0)` panics).
fn check_zero_sized_derived<T: Real>() {
    for (label, solver) in solvers::<T>() {
        let opts = SvdOptions::default();
        // polar: no matrix, and 0×0 matrices.
        for (count, n) in [(0, 3), (2, 0), (0, 2)] {
            let data: Vec<T> = Vec::new();
            let batch = MatrixBatch::row_major(&data, count, n, n).unwrap();
            let p = solver.polar(&batch, &PolarOptions::default()).unwrap();
            assert_eq!((p.count(), p.all_r().len(), p.all_s().len()), (count, 0, 0));
        }
        // pinv of (2, 3, 0) is (2, 0, 3), of (2, 0, 3) is (2, 3, 0): no elements, rank 0.
        for (m, n) in [(3, 0), (0, 3)] {
            let batch = MatrixBatch::row_major(&[] as &[T], 2, m, n).unwrap();
            let p = solver.pinv(&batch, &opts, None).unwrap();
            assert_eq!(p.matrix_shape(), (n, m), "{label}");
            assert!(p.as_slice().is_empty() && p.ranks() == [0, 0], "{label}");
            let t = solver
                .truncated_svd(&batch, &opts, Cutoff::Rank(2))
                .unwrap();
            assert_eq!(t.width(), 0, "{label}");
            let l = solver.low_rank(&batch, &opts, Cutoff::Rank(2)).unwrap();
            assert!(l.as_slice().is_empty() && l.ranks() == [0, 0], "{label}");
        }
        // lstsq with n = 0: x is empty and the residuals are ‖b‖², as numpy's.
        let a = MatrixBatch::row_major(&[] as &[T], 2, 3, 0).unwrap();
        let b: Vec<T> = [1.0, 2.0, 2.0, 0.0, 3.0, 4.0].map(T::from_f64).to_vec();
        let rhs = RightHandSides::vectors(&b, 2, 3).unwrap();
        let x = solver.lstsq(&a, &rhs, &opts, None).unwrap();
        assert!(x.all_solutions().is_empty(), "{label}");
        assert_eq!(x.all_residuals(), [9.0, 25.0], "{label}");
        assert_eq!(x.ranks(), [0, 0], "{label}");
        // lstsq with m = 0: x = 0 (n of them), residuals 0.
        let a = MatrixBatch::row_major(&[] as &[T], 2, 0, 3).unwrap();
        let rhs = RightHandSides::matrices(&[] as &[T], 2, 0, 2).unwrap();
        let x = solver.lstsq(&a, &rhs, &opts, None).unwrap();
        assert_eq!(x.all_solutions().len(), 2 * 3 * 2, "{label}");
        assert!(
            x.all_solutions().iter().all(|v| v.to_f64() == 0.0),
            "{label}"
        );
        assert_eq!(x.all_residuals(), [0.0; 4], "{label}");
        // r = 0 right-hand sides, and no matrix at all.
        let data = batch_row_major_as::<T>(Class::Gaussian, 2, 3, 2, 5);
        let a = MatrixBatch::row_major(&data, 2, 3, 2).unwrap();
        let rhs = RightHandSides::matrices(&[] as &[T], 2, 3, 0).unwrap();
        let x = solver.lstsq(&a, &rhs, &opts, None).unwrap();
        assert!(x.all_solutions().is_empty() && x.all_residuals().is_empty());
        assert_eq!(x.ranks(), [2, 2], "{label}");
        let a = MatrixBatch::row_major(&[] as &[T], 0, 3, 2).unwrap();
        let rhs = RightHandSides::vectors(&[] as &[T], 0, 3).unwrap();
        let x = solver.lstsq(&a, &rhs, &opts, None).unwrap();
        assert_eq!(x.count(), 0, "{label}");
    }
}

#[test]
fn zero_sized_derived_operations_f32() {
    check_zero_sized_derived::<f32>();
}

#[test]
fn zero_sized_derived_operations_f64() {
    check_zero_sized_derived::<f64>();
}
