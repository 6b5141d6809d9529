//! Truncation, rank, norms and condition numbers, and low-rank approximation
//! (`batched_svd::ops`) against nalgebra f64 references, on both engines.

#![allow(unused_imports)]

mod common;

use batched_svd::ops::{self, Cutoff, Pca, RightHandSides, default_rcond};
use batched_svd::{Backend, Error, MatrixBatch, Solver, Status, SvdOptions, SvdOutput, Vectors};
use common::matrices::Rng;
use common::ops::*;
use common::{EPS, reference_sigma};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

// ---------------------------------------------------------------------------------------
// Truncation
// ---------------------------------------------------------------------------------------

#[test]
fn truncation_to_top_k_and_tolerances() {
    for (m, n) in SHAPES {
        let k = m.min(n);
        for kind in [Kind::Gaussian, Kind::RankDeficient] {
            let mats = generate(kind, 4, m, n, 11 + m as u64 * 7 + n as u64);
            let data = flatten(&mats);
            let batch = MatrixBatch::row_major(&data, 4, m, n).unwrap();
            for vectors in [Vectors::Thin, Vectors::Full] {
                let opts = SvdOptions::default().with_vectors(vectors);
                for (label, out) in svds(&batch, &opts) {
                    let label = format!("{label} {kind:?} {m}×{n} {vectors:?}");
                    check_top_k(&label, &out, &mats);
                    check_tolerance(&label, &out, &mats, kind);
                }
            }
            // Values only: σ are truncated, no vectors.
            let (label, out) = svds(&batch, &SvdOptions::values_only()).remove(0);
            let t = ops::truncate(&out, Cutoff::Rank(k + 3)).unwrap();
            assert_eq!(t.width(), k, "{label}");
            assert!(!t.has_vectors() && t.u(0).is_none() && t.all_u().is_empty());
            assert_eq!(t.all_singular_values(), out.all_singular_values());
        }
    }
}

/// `Rank(K)` for every K: width, ranks, copied triplets, and `A_K` against nalgebra f64.
fn check_top_k(label: &str, out: &SvdOutput, mats: &[DMatrix<f64>]) {
    let (m, n) = out.shape();
    let k = out.k();
    for kk in 1..=k + 1 {
        let t = ops::truncate(out, Cutoff::Rank(kk)).unwrap();
        let w = kk.min(k);
        assert_eq!(t.width(), w, "{label} K={kk}");
        assert_eq!(t.ranks(), vec![w; out.count()].as_slice(), "{label} K={kk}");
        assert_eq!(t.all_u().len(), out.count() * m * w);
        assert_eq!(t.all_vt().len(), out.count() * w * n);
        for (i, a) in mats.iter().enumerate() {
            assert_eq!(t.singular_values(i), &out.singular_values(i)[..w]);
            let (u, vt) = (t.u(i).unwrap(), t.vt(i).unwrap());
            let (u0, vt0) = (out.u(i).unwrap(), out.vt(i).unwrap());
            assert_eq!(u, u0.columns(0, w), "{label}: U copied");
            assert_eq!(vt, vt0.rows(0, w), "{label}: Vᵀ copied");
            // Against the f64 truncation where σ_K is separated from σ_{K+1}.
            let s = reference_sigma(a);
            let separated = w == k || s[w - 1] - s[w] > 0.05 * s[0];
            if separated {
                let err = (t.reconstruct(i).unwrap() - reference_low_rank(a, w)).norm();
                // Perturbation of a separated singular subspace: ≲ δ·σ₁/gap, δ the SVD error.
                let gap = if w == k { s[0] } else { s[w - 1] - s[w] };
                let bound = 4.0 * unit(m, n) * s[0] * (1.0 + s[0] / gap);
                assert!(
                    err <= bound,
                    "{label} K={kk}: ‖A_K − ref‖ = {err:e} > {bound:e}"
                );
            }
        }
    }
}

/// `Relative` and `Absolute`: ranks as nalgebra's, dropped triplets zeroed.
fn check_tolerance(label: &str, out: &SvdOutput, mats: &[DMatrix<f64>], kind: Kind) {
    let k = out.k();
    let rtol = match kind {
        Kind::Gaussian => 0.3,
        Kind::RankDeficient => DEFICIENT_RCOND,
    };
    let t = ops::truncate(out, Cutoff::Relative(rtol)).unwrap();
    assert_eq!(t.width(), k);
    let atol = 0.9;
    let ta = ops::truncate(out, Cutoff::Absolute(atol)).unwrap();
    for (i, a) in mats.iter().enumerate() {
        let s = reference_sigma(a);
        // Skip a matrix with a singular value too close to a threshold to decide.
        let near = |thr: f64| s.iter().any(|&x| (x - thr).abs() < 1e-3 * s[0]);
        if !near(rtol * s[0]) {
            let r = reference_rank(a, rtol);
            assert_eq!(t.rank(i), r, "{label}: rank at rtol {rtol}, σ = {s:?}");
            let sv = t.singular_values(i);
            assert!(
                sv[r..].iter().all(|&x| x == 0.0),
                "{label}: dropped σ not zero"
            );
            let u = t.u(i).unwrap();
            let vt = t.vt(i).unwrap();
            assert!(u.columns(r, k - r).iter().all(|&x| x == 0.0));
            assert!(vt.rows(r, k - r).iter().all(|&x| x == 0.0));
            if kind == Kind::RankDeficient {
                assert_eq!(r, deficient_rank(k), "{label}");
            }
        }
        if !near(atol) {
            assert_eq!(ta.rank(i), a.rank(atol), "{label}: rank above {atol}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rank, norms, condition number
// ---------------------------------------------------------------------------------------

#[test]
fn rank_norms_and_condition_numbers() {
    for (m, n) in SHAPES {
        let k = m.min(n);
        for kind in [Kind::Gaussian, Kind::RankDeficient] {
            let mut mats = generate(kind, 5, m, n, 101 + (m * n) as u64);
            mats.push(DMatrix::zeros(m, n));
            let count = mats.len();
            let data = flatten(&mats);
            let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
            for (label, out) in svds(&batch, &SvdOptions::values_only()) {
                let label = format!("{label} {kind:?} {m}×{n}");
                let rcond = rcond_for(kind, m, n);
                let ranks = ops::norms::ranks(&out, Some(Cutoff::Relative(rcond))).unwrap();
                let spectral = ops::norms::spectral_norms(&out);
                let frobenius = ops::norms::frobenius_norms(&out);
                let nuclear = ops::norms::nuclear_norms(&out);
                let cond = ops::norms::condition_numbers(&out);
                let u = unit(m, n);
                for (i, a) in mats.iter().enumerate() {
                    let s = reference_sigma(a);
                    if s[0] == 0.0 {
                        assert_eq!(ranks[i], 0, "{label}: zero matrix rank");
                        assert_eq!((spectral[i], frobenius[i], nuclear[i]), (0.0, 0.0, 0.0));
                        assert_eq!(cond[i], f64::INFINITY, "{label}: cond of zero matrix");
                        continue;
                    }
                    assert_eq!(ranks[i], reference_rank(a, rcond), "{label}: rank {i}");
                    let two_norm = s[0]; // nalgebra's spectral norm: the largest σ
                    assert!((spectral[i] - two_norm).abs() <= u * two_norm, "{label}");
                    let fro = a.norm(); // nalgebra's Frobenius norm, from the entries
                    assert!((frobenius[i] - fro).abs() <= u * fro, "{label}: ‖A‖_F");
                    let nuc: f64 = s.iter().sum();
                    assert!((nuclear[i] - nuc).abs() <= u * k as f64 * s[0], "{label}");
                    let kappa = s[0] / s[k - 1];
                    match kind {
                        Kind::Gaussian => {
                            let rel = (cond[i] - kappa).abs() / kappa;
                            assert!(rel <= 2.0 * kappa * u, "{label}: κ {} vs {kappa}", cond[i]);
                        }
                        // σ_min is rounding noise: κ is huge (≥ 1/(16·max(m, n)·ε)) or ∞.
                        Kind::RankDeficient => {
                            assert!(cond[i] > 1.0 / u, "{label}: κ = {} not huge", cond[i]);
                        }
                    }
                }
                // The default cutoff is max(m, n)·ε relative.
                let default = ops::norms::ranks(&out, None).unwrap();
                let explicit =
                    ops::norms::ranks(&out, Some(Cutoff::Relative(default_rcond(m, n)))).unwrap();
                assert_eq!(default, explicit);
            }
        }
    }
    assert_eq!(default_rcond(7, 4), 7.0 * f64::from(f32::EPSILON));
    assert_eq!(ops::default_rcond_for::<f64>(7, 4), 7.0 * f64::EPSILON);
}

/// The default rank cutoff on exactly rank-deficient f32 matrices (integer entries, a column
/// that is the sum of two others): the noise singular value of either backend stays below
/// `max(m, n)·ε·σ₁`, so the rank is exact.
#[test]
fn default_rank_cutoff_on_exactly_singular_matrices() {
    let mut rng = Rng::new(5);
    let (count, m, n) = (20, 6, 4);
    let mut data = Vec::new();
    for _ in 0..count {
        let c: Vec<[f32; 3]> = (0..m)
            .map(|_| {
                let mut r = [0.0f32; 3];
                for x in &mut r {
                    *x = (rng.uniform() * 19.0 - 9.0).round() as f32;
                }
                r
            })
            .collect();
        for row in c {
            data.extend_from_slice(&[row[0], row[1], row[2], row[0] + row[1]]);
        }
    }
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    for (label, out) in svds(&batch, &SvdOptions::values_only()) {
        let ranks = ops::norms::ranks(&out, None).unwrap();
        let mut noise = 0.0f64;
        for (i, &r) in ranks.iter().enumerate() {
            let a = matrix(&data, i, m, n);
            assert_eq!(r, reference_rank(&a, default_rcond(m, n)), "{label} {i}");
            assert!(r <= 3, "{label} {i}: σ = {:?}", out.singular_values(i));
            let s = out.singular_values(i);
            noise = noise.max(f64::from(s[3]) / f64::from(s[0]));
        }
        eprintln!(
            "{label}: largest noise σ₄/σ₁ = {noise:.2e} = {:.3} of the default cutoff",
            noise / default_rcond(m, n)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Low-rank approximation
// ---------------------------------------------------------------------------------------

#[test]
fn low_rank_approximation_and_its_error() {
    for (m, n) in SHAPES {
        let k = m.min(n);
        let mats = generate(Kind::Gaussian, 4, m, n, 303 + (m * 31 + n) as u64);
        let data = flatten(&mats);
        let batch = MatrixBatch::row_major(&data, 4, m, n).unwrap();
        for (label, out) in svds(&batch, &SvdOptions::default()) {
            for r in 1..=k {
                let label = format!("{label} {m}×{n} rank {r}");
                let lr = ops::low_rank(&out, Cutoff::Rank(r)).unwrap();
                assert_eq!(lr.shape(), (m, n));
                assert_eq!(lr.as_slice().len(), 4 * m * n);
                let measured = lr.residual_frobenius(&batch).unwrap();
                for (i, a) in mats.iter().enumerate() {
                    assert_eq!(lr.rank(i), r);
                    let s = reference_sigma(a);
                    let tol = 2.0 * unit(m, n) * s[0];
                    // Eckart–Young: ‖A − A_r‖₂ = σ_{r+1}, ‖A − A_r‖_F = √Σ_{j>r} σⱼ².
                    let e2 = if r < k { s[r] } else { 0.0 };
                    let ef = s[r..].iter().map(|x| x * x).sum::<f64>().sqrt();
                    assert!((lr.error_spectral(i) - e2).abs() <= tol, "{label}");
                    assert!((lr.error_frobenius(i) - ef).abs() <= tol, "{label}");
                    // The stored approximation really has that error, in both norms.
                    let diff = a - widen(lr.matrix(i));
                    assert!((measured[i] - diff.norm()).abs() <= 1e-9 * s[0]);
                    assert!((measured[i] - ef).abs() <= 2.0 * tol, "{label}: measured");
                    let d2 = reference_sigma(&diff)[0];
                    assert!(
                        (d2 - e2).abs() <= 2.0 * tol,
                        "{label}: ‖A − A_r‖₂ {d2} vs {e2}"
                    );
                    // And A_r matches the f64 truncation where σ_r is separated.
                    if r == k || s[r - 1] - s[r] > 0.05 * s[0] {
                        let gap = if r == k { s[0] } else { s[r - 1] - s[r] };
                        let err = (widen(lr.matrix(i)) - reference_low_rank(a, r)).norm();
                        let bound = 4.0 * unit(m, n) * s[0] * (1.0 + s[0] / gap);
                        assert!(err <= bound, "{label}: A_r off by {err:e} > {bound:e}");
                    }
                }
            }
            // A tolerance keeps each matrix's own rank.
            let lr = ops::low_rank(&out, Cutoff::Relative(0.5)).unwrap();
            for (i, a) in mats.iter().enumerate() {
                let s = reference_sigma(a);
                if s.iter().all(|&x| (x - 0.5 * s[0]).abs() > 1e-3 * s[0]) {
                    assert_eq!(lr.rank(i), reference_rank(a, 0.5), "{label}");
                }
            }
            assert!(lr.to_batch().is_ok());
        }
    }
}
