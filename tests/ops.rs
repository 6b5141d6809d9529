//! The derived operations (`batched_svd::ops`) against independent nalgebra f64 references:
//! truncation, rank and norms, low-rank approximation, pseudoinverse, least squares and PCA,
//! on random, rank-deficient, tall, wide and square matrices, through the CPU path and (when
//! an adapter exists, see [`common::gpu`]) the GPU path. Plus numpy's documented behaviour on
//! small hand-checked examples, and errors instead of panics on bad input.

mod common;

use batched_svd::ops::{self, Cutoff, Pca, RightHandSides, default_rcond};
use batched_svd::{Error, MatrixBatch, Status, SvdOptions, SvdOutput, Vectors};
use common::matrices::Rng;
use common::{EPS, reference_sigma};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The SVD of `batch` on the CPU and, when there is an adapter, on the GPU.
fn svds(batch: &MatrixBatch<'_>, opts: &SvdOptions) -> Vec<(&'static str, SvdOutput)> {
    let mut runs = vec![("cpu", batched_svd::cpu::svd(batch, opts).unwrap())];
    if let Some(gpu) = common::gpu() {
        runs.push(("gpu", gpu.svd(batch, opts).unwrap()));
    }
    for (label, out) in &runs {
        assert!(out.all_converged(), "{label}: SVD did not converge");
    }
    runs
}

/// Row-major f32 data of a list of f64 matrices (the f32 input the references widen again).
fn flatten(matrices: &[DMatrix<f64>]) -> Vec<f32> {
    let mut out = Vec::new();
    for a in matrices {
        for i in 0..a.nrows() {
            for j in 0..a.ncols() {
                out.push(a[(i, j)] as f32);
            }
        }
    }
    out
}

/// Matrix `b` of row-major f32 `data`, widened to f64.
fn matrix(data: &[f32], b: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| f64::from(data[b * m * n + i * n + j]))
}

/// A view of f32 values widened to f64.
fn widen(v: nalgebra::DMatrixView<'_, f32, nalgebra::Dyn, nalgebra::Dyn>) -> DMatrix<f64> {
    v.map(f64::from)
}

/// A matrix class of the tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// i.i.d. N(0, 1).
    Gaussian,
    /// Singular values 4, 2, 1, … for the first ⌈k/2⌉, exact zeros after (before the f32
    /// rounding of the entries, which leaves them at ~1e-7·σ₁).
    RankDeficient,
}

/// Rank of a [`Kind::RankDeficient`] matrix with `k = min(m, n)`.
fn deficient_rank(k: usize) -> usize {
    k.div_ceil(2)
}

/// `count` matrices of `kind`, exactly representable in f32 (rounded, then widened).
fn generate(kind: Kind, count: usize, m: usize, n: usize, seed: u64) -> Vec<DMatrix<f64>> {
    let mut rng = Rng::new(seed);
    let k = m.min(n);
    (0..count)
        .map(|_| {
            let a = match kind {
                Kind::Gaussian => rng.gaussian(m, n),
                Kind::RankDeficient => {
                    let r = deficient_rank(k);
                    let sigma: Vec<f64> = (0..k)
                        .map(|j| {
                            if j < r {
                                4.0 * 0.5f64.powi(j as i32)
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    rng.with_singular_values(m, n, &sigma)
                }
            };
            a.map(|x| f64::from(x as f32))
        })
        .collect()
}

/// Shapes: square, tall, wide, and very tall/wide.
const SHAPES: [(usize, usize); 5] = [(5, 5), (7, 4), (4, 7), (12, 3), (3, 12)];

/// The relative cutoff used for [`Kind::RankDeficient`] matrices: far above the f32 noise
/// (~1e-7) and far below the smallest real singular value (≥ 4·2⁻⁶ ≈ 0.06 of σ₁ = 4).
const DEFICIENT_RCOND: f64 = 1e-4;

/// The cutoff for a kind: the default for Gaussian matrices.
fn rcond_for(kind: Kind, m: usize, n: usize) -> f64 {
    match kind {
        Kind::Gaussian => default_rcond(m, n),
        Kind::RankDeficient => DEFICIENT_RCOND,
    }
}

/// nalgebra's f64 SVD of `a` with vectors, checked: nalgebra 0.35's `svd(true, true)` can
/// return wrong singular values for some (mostly exactly rank-deficient) inputs
/// (nalgebra issue #1172), so a reference is only used once it reconstructs `a` far below
/// f32 precision.
fn reference_svd(a: &DMatrix<f64>) -> nalgebra::SVD<f64, nalgebra::Dyn, nalgebra::Dyn> {
    let svd = a.clone().svd(true, true);
    let err = (svd.clone().recompose().unwrap() - a).norm();
    assert!(
        err <= 1e-8 * a.norm().max(f64::MIN_POSITIVE),
        "the nalgebra reference SVD is wrong (nalgebra#1172): ‖UΣVᵀ − A‖ = {err:e}"
    );
    svd
}

/// Reference pseudoinverse: nalgebra's, with the absolute threshold `rcond·σ₁` (nalgebra
/// inverts `σ > eps`, our rule).
fn reference_pinv(a: &DMatrix<f64>, rcond: f64) -> DMatrix<f64> {
    let s1 = reference_sigma(a)[0];
    reference_svd(a).pseudo_inverse(rcond * s1).unwrap()
}

/// Number of reference singular values `> rcond·σ₁`.
fn reference_rank(a: &DMatrix<f64>, rcond: f64) -> usize {
    let s = reference_sigma(a);
    a.rank(rcond * s[0])
}

/// The rank-`r` truncation of `a` in f64 (nalgebra SVD).
fn reference_low_rank(a: &DMatrix<f64>, r: usize) -> DMatrix<f64> {
    let svd = reference_svd(a);
    let mut idx: Vec<usize> = (0..svd.singular_values.len()).collect();
    idx.sort_by(|&x, &y| svd.singular_values[y].total_cmp(&svd.singular_values[x]));
    let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
    let mut out = DMatrix::zeros(a.nrows(), a.ncols());
    for &j in idx.iter().take(r) {
        out += u.column(j) * svd.singular_values[j] * vt.row(j);
    }
    out
}

/// The SVD accuracy unit for `m×n`: `16·max(m, n)·ε`.
fn unit(m: usize, n: usize) -> f64 {
    16.0 * m.max(n) as f64 * EPS
}

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
                    assert_eq!(p.shape(), (n, m));
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

// ---------------------------------------------------------------------------------------
// PCA
// ---------------------------------------------------------------------------------------

/// `count` data sets of `s` samples × `f` features with decreasing variances along a random
/// orthonormal basis, plus a mean offset.
fn pca_data(count: usize, s: usize, f: usize, seed: u64) -> Vec<DMatrix<f64>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let basis = rng.orthonormal(f, f);
            let scales: Vec<f64> = (0..f).map(|j| 6.0 * 0.6f64.powi(j as i32)).collect();
            let z = DMatrix::from_fn(s, f, |_, j| rng.normal() * scales[j]);
            let mean = DVector::from_fn(f, |j, _| 10.0 + j as f64);
            let mut x = z * basis.transpose();
            for mut row in x.row_iter_mut() {
                row += mean.transpose();
            }
            x.map(|v| f64::from(v as f32))
        })
        .collect()
}

#[test]
fn pca_matches_the_covariance_eigendecomposition() {
    for (count, s, f) in [(3, 200, 6), (1, 60, 10), (2, 5, 8)] {
        let sets = pca_data(count, s, f, 4242 + s as u64);
        let data = flatten(&sets);
        let batch = MatrixBatch::row_major(&data, count, s, f).unwrap();
        let k = s.min(f);
        let mut fits = vec![(
            "cpu",
            Pca::fit(&batch, None, batched_svd::cpu::svd).unwrap(),
        )];
        if let Some(gpu) = common::gpu() {
            fits.push(("gpu", Pca::fit(&batch, None, |b, o| gpu.svd(b, o)).unwrap()));
        }
        for &(label, ref pca) in &fits {
            let backend = label;
            let label = format!("{label} {count}×({s}×{f})");
            assert_eq!(
                (pca.count(), pca.n_samples(), pca.n_features()),
                (count, s, f)
            );
            assert_eq!(pca.n_components(), k);
            let scores = pca.transform(&batch).unwrap();
            assert_eq!(
                (scores.count(), scores.rows(), scores.cols()),
                (count, s, k)
            );
            let back = pca.inverse_transform(&scores).unwrap();
            for (i, x) in sets.iter().enumerate() {
                assert_eq!(pca.status(i), Status::Converged);
                // Centring.
                let mean = x.row_mean();
                for (j, &mj) in pca.mean(i).iter().enumerate() {
                    assert!(
                        (mj - mean[j]).abs() <= 1e-12 * (1.0 + mean[j].abs()),
                        "{label}"
                    );
                }
                let mut xc = x.clone();
                for mut row in xc.row_iter_mut() {
                    row -= &mean;
                }
                // Covariance eigen-decomposition in f64 (the independent reference).
                let cov = xc.transpose() * &xc / (s - 1) as f64;
                let eig = SymmetricEigen::new(cov.clone());
                let mut order: Vec<usize> = (0..f).collect();
                order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
                let lambda: Vec<f64> = order.iter().map(|&j| eig.eigenvalues[j].max(0.0)).collect();
                let total = cov.trace();
                assert!(
                    (pca.total_variance(i) - total).abs() <= 1e-12 * total,
                    "{label}"
                );
                let ev = pca.explained_variance(i);
                let ratio = pca.explained_variance_ratio(i);
                let tol = 2.0 * unit(s, f) * lambda[0];
                for j in 0..k {
                    assert!(
                        (ev[j] - lambda[j]).abs() <= tol,
                        "{label}: λ{j} {} vs {}",
                        ev[j],
                        lambda[j]
                    );
                    assert!(
                        (ratio[j] - lambda[j] / total).abs() <= tol / total,
                        "{label}"
                    );
                }
                if k == f {
                    assert!(
                        (ratio.iter().sum::<f64>() - 1.0).abs() <= 1e-5,
                        "{label}: Σ ratio"
                    );
                }
                // Components: unit vectors, the eigenvectors up to sign where the eigenvalue
                // is separated, with the largest-magnitude entry positive.
                let comps = widen(pca.components(i));
                assert!(common::orthogonality_error(&comps.transpose()) <= unit(s, f));
                let mut checked = 0;
                for j in 0..k {
                    let c = comps.row(j).transpose();
                    let big = c
                        .iter()
                        .copied()
                        .fold(0.0f64, |acc, v| if v.abs() > acc.abs() { v } else { acc });
                    assert!(big > 0.0, "{label}: sign convention of component {j}");
                    let gap = |o: usize| (lambda[j] - lambda[o]).abs();
                    let sep = (0..f)
                        .filter(|&o| o != j)
                        .map(gap)
                        .fold(f64::INFINITY, f64::min);
                    if sep > 0.1 * lambda[0] {
                        let e = eig.eigenvectors.column(order[j]);
                        let cos = c.dot(&e).abs() / c.norm();
                        // sin θ ≲ δ/gap with δ = 16·max(s, f)·ε·σ₁ the SVD's error and gap the
                        // distance of σⱼ (of the centred data, σ² = (s − 1)·λ) to the others.
                        let sig = |l: f64| ((s - 1) as f64 * l).sqrt();
                        let gap_sigma = (0..f)
                            .filter(|&o| o != j)
                            .map(|o| (sig(lambda[j]) - sig(lambda[o])).abs())
                            .fold(f64::INFINITY, f64::min);
                        // Plus the f32 rounding of the component's entries.
                        let theta = 2.0 * unit(s, f) * sig(lambda[0]) / gap_sigma
                            + 4.0 * (f as f64).sqrt() * EPS;
                        assert!(
                            1.0 - cos <= theta * theta,
                            "{label}: component {j} cos {cos}"
                        );
                        // Scores along it: (X − mean)·e, with the component's sign.
                        let sign = c.dot(&e).signum();
                        let want = &xc * e * sign;
                        for (row, w) in want.iter().enumerate() {
                            let got = f64::from(scores.get(i, row, j));
                            let bound = (theta + 4.0 * EPS) * xc.row(row).norm();
                            assert!((got - w).abs() <= bound, "{label}: score {got} vs {w}");
                        }
                        checked += 1;
                    }
                }
                assert!(
                    checked >= 2.min(k),
                    "{label}: only {checked} separated components"
                );
                // Round trip with all components.
                let err = (0..s)
                    .flat_map(|r| (0..f).map(move |c| (r, c)))
                    .map(|(r, c)| (f64::from(back.get(i, r, c)) - x[(r, c)]).abs())
                    .fold(0.0, f64::max);
                assert!(err <= 1e-4 * x.amax(), "{label}: round trip off by {err:e}");
            }
            // Fewer components: inverse_transform(transform(X)) = mean + the rank-p
            // truncation of the centred data.
            let p = 2;
            let fewer = if backend == "cpu" {
                Pca::fit(&batch, Some(p), batched_svd::cpu::svd).unwrap()
            } else {
                let gpu = common::gpu().unwrap();
                Pca::fit(&batch, Some(p), |b, o| gpu.svd(b, o)).unwrap()
            };
            let approx = fewer
                .inverse_transform(&fewer.transform(&batch).unwrap())
                .unwrap();
            for (i, x) in sets.iter().enumerate() {
                let mean = x.row_mean();
                let mut xc = x.clone();
                for mut row in xc.row_iter_mut() {
                    row -= &mean;
                }
                let want = reference_low_rank(&xc, p);
                let s_ref = reference_sigma(&xc);
                let gap = s_ref[p - 1] - s_ref[p];
                let bound = 8.0 * unit(s, f) * s_ref[0] * (1.0 + s_ref[0] / gap);
                let got = DMatrix::from_fn(s, f, |r, c| f64::from(approx.get(i, r, c)) - mean[c]);
                let err = (got - want).norm();
                assert!(
                    err <= bound + 1e-5 * x.norm(),
                    "{label}: rank-{p} PCA off by {err:e}"
                );
            }
        }
    }
}

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
        Err(Error::ZeroDimension { .. })
    ));

    // PCA: at least two samples; 1 ≤ n_components ≤ min(n_samples, n_features).
    let one = MatrixBatch::row_major(&data[..n], 1, 1, n).unwrap();
    invalid(
        Pca::fit(&one, None, batched_svd::cpu::svd),
        "at least 2 samples",
    );
    invalid(
        Pca::fit(&batch, Some(0), batched_svd::cpu::svd),
        "n_components",
    );
    invalid(
        Pca::fit(&batch, Some(4), batched_svd::cpu::svd),
        "n_components",
    );
    let pca = Pca::fit(&batch, Some(2), batched_svd::cpu::svd).unwrap();
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
