//! The pseudoinverse and least squares (`batched_svd::ops`) against nalgebra f64 references
//! on both engines, and numpy's documented behaviour on hand-checked examples.

#![allow(unused_imports)]

mod common;

use batched_svd::ops::{self, Cutoff, Pca, RightHandSides, default_rcond};
use batched_svd::{Backend, Error, MatrixBatch, Solver, Status, SvdOptions, SvdOutput, Vectors};
use common::matrices::Rng;
use common::ops::*;
use common::{EPS, reference_sigma};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

// ---------------------------------------------------------------------------------------
// Pseudoinverse
// ---------------------------------------------------------------------------------------

#[test]
fn pinv_matches_nalgebra_pseudo_inverse() {
    let mut worst = 0.0f64;
    for (m, n) in SHAPES {
        for kind in [Kind::Gaussian, Kind::RankDeficient] {
            let mats = generate(kind, 4, m, n, 707 + (m * 13 + n) as u64);
            let data = flatten(&mats);
            let batch = MatrixBatch::row_major(&data, 4, m, n).unwrap();
            for vectors in [Vectors::Thin, Vectors::Full] {
                let opts = SvdOptions::default().with_vectors(vectors);
                for (label, out) in svds(&batch, &opts) {
                    let label = format!("{label} {kind:?} {m}×{n} {vectors:?}");
                    let rcond = rcond_for(kind, m, n);
                    let p = ops::pinv(&out, Some(rcond)).unwrap();
                    assert_eq!(p.matrix_shape(), (n, m));
                    assert_eq!(p.shape(), (m, n));
                    assert_eq!(p.as_slice().len(), 4 * n * m);
                    assert_eq!(p.rcond(), rcond);
                    for (i, a) in mats.iter().enumerate() {
                        let r = reference_rank(a, rcond);
                        assert_eq!(p.rank(i), r, "{label}");
                        let got = widen(p.matrix(i));
                        let want = reference_pinv(a, rcond);
                        let s = reference_sigma(a);
                        let kappa = s[0] / s[r - 1];
                        let rel = (&got - &want).norm() / want.norm();
                        let bound = kappa * unit(m, n);
                        worst = worst.max(rel / bound);
                        assert!(
                            rel <= bound,
                            "{label} {i}: ‖ΔA⁺‖/‖A⁺‖ = {rel:e} > {bound:e}"
                        );
                        // Penrose conditions: A·A⁺·A = A and A⁺·A·A⁺ = A⁺.
                        let a_norm = a.norm();
                        assert!((a * &got * a - a).norm() <= 4.0 * kappa * unit(m, n) * a_norm);
                        let g = got.norm();
                        assert!((&got * a * &got - &got).norm() <= 4.0 * kappa * unit(m, n) * g);
                    }
                }
            }
        }
    }
    eprintln!("pinv: worst error / (κ·16·max(m, n)·ε) = {worst:.3}");
    // The default cutoff is max(m, n)·ε.
    let mats = generate(Kind::Gaussian, 2, 6, 3, 9);
    let data = flatten(&mats);
    let batch = MatrixBatch::row_major(&data, 2, 6, 3).unwrap();
    let out = batched_svd::cpu::svd(&batch, &SvdOptions::default()).unwrap();
    let default = ops::pinv(&out, None).unwrap();
    assert_eq!(default.rcond(), default_rcond(6, 3));
    assert_eq!(
        default.as_slice(),
        ops::pinv(&out, Some(default_rcond(6, 3)))
            .unwrap()
            .as_slice()
    );
}

/// numpy's rule is "`s > rcond·max(s)` are inverted, the rest set to zero" (so `σ = rcond·σ₁`
/// exactly is dropped). Powers of two make the comparison exact on both backends.
#[test]
fn pinv_cutoff_is_inclusive_like_numpy() {
    // diag(1, 0.25) and its 3×2 extension with a zero row.
    let data = [1.0f32, 0.0, 0.0, 0.25, 0.0, 0.0];
    let batch = MatrixBatch::row_major(&data, 1, 3, 2).unwrap();
    for (label, out) in svds(&batch, &SvdOptions::default()) {
        assert_eq!(out.singular_values(0), &[1.0, 0.25], "{label}");
        let at = ops::pinv(&out, Some(0.25)).unwrap();
        assert_eq!(at.rank(0), 1, "{label}: σ = rcond·σ₁ must be dropped");
        let expect_at = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!((widen(at.matrix(0)) - expect_at).amax() < 1e-7, "{label}");
        let below = ops::pinv(&out, Some(0.2499)).unwrap();
        assert_eq!(below.rank(0), 2, "{label}");
        let expect_below = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0, 0.0, 4.0, 0.0]);
        assert!(
            (widen(below.matrix(0)) - expect_below).amax() < 1e-6,
            "{label}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Least squares
// ---------------------------------------------------------------------------------------

#[test]
fn lstsq_matches_nalgebra_solve() {
    let mut worst = 0.0f64;
    for (m, n) in SHAPES {
        for kind in [Kind::Gaussian, Kind::RankDeficient] {
            let count = 3;
            let mats = generate(kind, count, m, n, 909 + (m * 17 + n) as u64);
            let data = flatten(&mats);
            let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
            let mut rng = Rng::new(77);
            for r in [None, Some(1), Some(3)] {
                let cols = r.unwrap_or(1);
                let b: Vec<f32> = (0..count * m * cols).map(|_| rng.normal() as f32).collect();
                let rhs = match r {
                    None => RightHandSides::vectors(&b, count, m).unwrap(),
                    Some(r) => RightHandSides::matrices(&b, count, m, r).unwrap(),
                };
                for (label, out) in svds(&batch, &SvdOptions::default()) {
                    let label = format!("{label} {kind:?} {m}×{n} rhs {r:?}");
                    let rcond = rcond_for(kind, m, n);
                    let x = ops::lstsq(&batch, &out, &rhs, Some(rcond)).unwrap();
                    let shape = match r {
                        None => vec![count, n],
                        Some(r) => vec![count, n, r],
                    };
                    assert_eq!(x.solution_shape(), shape, "{label}");
                    assert_eq!(x.all_solutions().len(), count * n * cols);
                    for (i, a) in mats.iter().enumerate() {
                        let bi = DMatrix::from_fn(m, cols, |row, c| {
                            f64::from(b[i * m * cols + row * cols + c])
                        });
                        let s = reference_sigma(a);
                        let rank = reference_rank(a, rcond);
                        assert_eq!(x.rank(i), rank, "{label}");
                        // nalgebra's SVD::solve with the absolute threshold rcond·σ₁.
                        let svd = reference_svd(a);
                        let want = svd.solve(&bi, rcond * s[0]).unwrap();
                        let got = DMatrix::from_row_slice(n, cols, x.solution(i)).map(f64::from);
                        let kappa = s[0] / s[rank - 1];
                        let res_want: Vec<f64> = (0..cols)
                            .map(|c| (bi.column(c) - a * want.column(c)).norm_squared())
                            .collect();
                        let res_norm = res_want.iter().sum::<f64>().sqrt();
                        let sens = kappa + kappa * kappa * res_norm / (s[0] * want.norm());
                        let rel = (&got - &want).norm() / want.norm();
                        let bound = sens * unit(m, n);
                        worst = worst.max(rel / bound);
                        assert!(rel <= bound, "{label} {i}: ‖Δx‖/‖x‖ = {rel:e} > {bound:e}");
                        // The residuals are ‖b − A·x‖² of the minimum-norm solution.
                        for (c, (&got_r, &want_r)) in
                            x.residuals(i).iter().zip(&res_want).enumerate()
                        {
                            let scale = bi.column(c).norm_squared();
                            assert!(
                                (got_r - want_r).abs() <= 4.0 * kappa * unit(m, n) * scale,
                                "{label} {i}: residual {got_r} vs {want_r}"
                            );
                        }
                        // Minimum norm: x is orthogonal to the null space of A (x = A⁺b lies
                        // in the row space), checked against the reference pseudoinverse.
                        let proj = reference_pinv(a, rcond) * a * &got;
                        assert!((&proj - &got).norm() <= 4.0 * kappa * unit(m, n) * got.norm());
                    }
                }
            }
        }
    }
    eprintln!("lstsq: worst error / bound = {worst:.3}");
}

/// numpy's documented example (`numpy.linalg.lstsq` docstring): fit `y = m·x + c` through
/// (0, −1), (1, 0.2), (2, 0.9), (3, 2.1): `m = 1`, `c = −0.95`, and residuals `[0.05]`.
#[test]
fn lstsq_numpy_docstring_example() {
    let a = [0.0f32, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0, 1.0];
    let y = [-1.0f32, 0.2, 0.9, 2.1];
    let batch = MatrixBatch::row_major(&a, 1, 4, 2).unwrap();
    let rhs = RightHandSides::vectors(&y, 1, 4).unwrap();
    for (label, out) in svds(&batch, &SvdOptions::default()) {
        let x = ops::lstsq(&batch, &out, &rhs, None).unwrap();
        let sol = x.solution(0);
        assert!(
            (sol[0] - 1.0).abs() < 1e-5 && (sol[1] + 0.95).abs() < 1e-5,
            "{label} {sol:?}"
        );
        assert_eq!(x.rank(0), 2);
        assert!(
            (x.residuals(0)[0] - 0.05).abs() < 1e-5,
            "{label} {:?}",
            x.residuals(0)
        );
    }
}

/// A rank-deficient 3×2 matrix checked by hand: `A = a·vᵀ` with `a = (1, 2, 3)`,
/// `v = (1, 2)`, so `σ = (√70, 0)` and `A⁺ = v·aᵀ/(‖a‖²·‖v‖²) = [[1, 2, 3], [2, 4, 6]]/70`
/// — what `numpy.linalg.pinv(A, rtol=None)` and `numpy.linalg.pinv(A)` return (σ₂ is zero, so
/// any cutoff below 1 drops it). For `b = (1, 0, 0)`, `numpy.linalg.lstsq(A, b, rcond=None)`
/// returns `x = A⁺·b = (1, 2)/70`, rank 1, and an empty residuals array (rank < n); the
/// residual we return is `‖b − A·x‖² = 13/14`.
#[test]
fn numpy_behaviour_on_a_hand_checked_rank_deficient_matrix() {
    let a = [1.0f32, 2.0, 2.0, 4.0, 3.0, 6.0];
    let batch = MatrixBatch::row_major(&a, 1, 3, 2).unwrap();
    let expect = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0]) / 70.0;
    let b = [1.0f32, 0.0, 0.0];
    let rhs = RightHandSides::vectors(&b, 1, 3).unwrap();
    for (label, out) in svds(&batch, &SvdOptions::default()) {
        assert!((f64::from(out.singular_values(0)[0]) - 70f64.sqrt()).abs() < 1e-5);
        for rcond in [None, Some(1e-6), Some(0.5)] {
            let p = ops::pinv(&out, rcond).unwrap();
            assert_eq!(p.rank(0), 1, "{label} rcond {rcond:?}");
            let err = (widen(p.matrix(0)) - &expect).amax();
            assert!(err < 1e-7, "{label} rcond {rcond:?}: A⁺ off by {err:e}");
            let x = ops::lstsq(&batch, &out, &rhs, rcond).unwrap();
            let sol = x.solution(0);
            assert!(
                (f64::from(sol[0]) - 1.0 / 70.0).abs() < 1e-7,
                "{label} {sol:?}"
            );
            assert!(
                (f64::from(sol[1]) - 2.0 / 70.0).abs() < 1e-7,
                "{label} {sol:?}"
            );
            assert_eq!(x.rank(0), 1);
            assert!((x.residuals(0)[0] - 13.0 / 14.0).abs() < 1e-6, "{label}");
        }
        // rcond ≥ 1 drops every singular value: A⁺ = 0, x = 0.
        let zero = ops::pinv(&out, Some(1.0)).unwrap();
        assert_eq!(zero.rank(0), 0);
        assert!(zero.as_slice().iter().all(|&x| x == 0.0));
    }
    // nalgebra f64 agrees.
    let a64 = matrix(&a, 0, 3, 2);
    assert!((reference_pinv(&a64, default_rcond(3, 2)) - &expect).amax() < 1e-12);
}
