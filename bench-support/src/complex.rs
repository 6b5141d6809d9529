//! Complex matrices for the tests: generators (Gaussian, Haar-like unitary, LATMS-style
//! `U·diag·Vᴴ`) and the oracle — nalgebra's complex SVD in f64 as the σ reference, and the
//! four bounds with `‖UᴴU − I‖` and `‖VᴴV − I‖`.
//!
//! The residuals go through the real embedding `X + iY ↦ [[X, −Y], [Y, X]]`, which maps
//! products to products and conjugate transposes to transposes: `UᴴU − I` becomes the
//! embedding of itself, and `‖emb(A) − emb(U)·diag(σ, σ)·emb(V)ᵀ‖_F = √2‖A − UΣVᴴ‖_F`
//! against `‖emb(A)‖_F = √2‖A‖_F`. So the real oracle's double-double residuals
//! ([`dd`](crate::dd)) check complex128 results, and f64 ones complex64 results.

use batched_svd::{Element, MatrixBatch, Real, Status, SvdOutput};
use nalgebra::{Complex, DMatrix};

use crate::dd;
use crate::oracle::{Accuracy, ratio, sigma_ratio};
use crate::rng::Rng;

/// `Complex<f64>`.
pub type C64 = Complex<f64>;

/// An `m×n` matrix of independent standard complex normal entries (real and imaginary parts
/// N(0, ½)).
pub fn gaussian(rng: &mut Rng, m: usize, n: usize) -> DMatrix<C64> {
    let h = std::f64::consts::FRAC_1_SQRT_2;
    DMatrix::from_fn(m, n, |_, _| C64::new(h * rng.normal(), h * rng.normal()))
}

/// A random `m×k` matrix with orthonormal columns (Q of a complex Gaussian matrix).
pub fn unitary_columns(rng: &mut Rng, m: usize, k: usize) -> DMatrix<C64> {
    let q = gaussian(rng, m, k).qr().q();
    q.columns(0, k).into_owned()
}

/// `U·diag(sigma)·Vᴴ` with random unitary columns U (`m×k`) and V (`n×k`), k = sigma.len():
/// LATMS's construction.
pub fn with_singular_values(rng: &mut Rng, m: usize, n: usize, sigma: &[f64]) -> DMatrix<C64> {
    let k = sigma.len();
    let u = unitary_columns(rng, m, k);
    let v = unitary_columns(rng, n, k);
    let s = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
        k,
        sigma.iter().map(|&x| C64::new(x, 0.0)),
    ));
    u * s * v.adjoint()
}

/// LATMS's singular value modes for `k` values and condition `cond`: 1 (one large, the rest
/// 1/cond), 2 (one small), 3 (geometric), 4 (arithmetic), 5 (random in log scale).
pub fn latms_sigma(rng: &mut Rng, mode: u32, k: usize, cond: f64) -> Vec<f64> {
    let last = k.saturating_sub(1).max(1) as f64;
    (0..k)
        .map(|i| match mode {
            1 => {
                if i == 0 {
                    1.0
                } else {
                    1.0 / cond
                }
            }
            2 => {
                if i + 1 == k {
                    1.0 / cond
                } else {
                    1.0
                }
            }
            3 => cond.powf(-(i as f64) / last),
            4 => 1.0 - (i as f64 / last) * (1.0 - 1.0 / cond),
            _ => cond.powf(-rng.uniform()),
        })
        .collect()
}

/// The real embedding `[[Re, −Im], [Im, Re]]` of the first `cols` columns of `a`.
pub fn embed(a: &DMatrix<C64>, cols: usize) -> DMatrix<f64> {
    let m = a.nrows();
    DMatrix::from_fn(2 * m, 2 * cols, |i, j| {
        let z = a[(i % m, j % cols)];
        match (i < m, j < cols) {
            (true, true) | (false, false) => z.re,
            (true, false) => -z.im,
            (false, true) => z.im,
        }
    })
}

/// Singular values of `a` by nalgebra's complex SVD in f64, descending.
pub fn reference_sigma(a: &DMatrix<C64>) -> Vec<f64> {
    let mut s: Vec<f64> = a.clone().singular_values().iter().copied().collect();
    s.sort_by(|x, y| y.total_cmp(x));
    s
}

/// Matrix `b` of a complex batch in `Complex<f64>` (exact).
pub fn to_dmatrix_c64<R: Real>(batch: &MatrixBatch<'_, Complex<R>>, b: usize) -> DMatrix<C64>
where
    Complex<R>: Element<Real = R>,
{
    DMatrix::from_fn(batch.rows(), batch.cols(), |i, j| {
        let z = batch.get(b, i, j);
        C64::new(z.re.to_f64(), z.im.to_f64())
    })
}

/// A complex matrix in `Complex<f64>` (exact).
pub fn widen<R: Real>(m: &DMatrix<Complex<R>>) -> DMatrix<C64> {
    m.map(|z| C64::new(z.re.to_f64(), z.im.to_f64()))
}

/// The four error ratios (≤ 1 passes) of matrix `i` of a complex output against `a`, with ε
/// the real type's: σ against nalgebra's complex SVD, `‖UᴴU − I‖` and `‖VᴴV − I‖` (largest
/// entry modulus, bounded by √2 times the largest part), and the reconstruction from the thin
/// part, residuals in double-double through the real embedding.
pub fn accuracy<R: Real>(out: &SvdOutput<Complex<R>>, i: usize, a: &DMatrix<C64>) -> Accuracy
where
    Complex<R>: Element<Real = R>,
{
    let eps = R::EPSILON.to_f64();
    let (m, n) = a.shape();
    let k = m.min(n);
    let big = m.max(n) as f64;
    let reference = reference_sigma(a);
    let got: Vec<f64> = out.singular_values(i).iter().map(|x| x.to_f64()).collect();
    let mut acc = Accuracy {
        sigma: sigma_ratio(&got, &reference, big, eps),
        u_orth: 0.0,
        v_orth: 0.0,
        recon: 0.0,
    };
    if let (Some(u), Some(vh)) = (out.u(i), out.vt(i)) {
        let u = widen(&u);
        let v = widen(&vh).adjoint();
        let sqrt2 = std::f64::consts::SQRT_2;
        acc.u_orth =
            sqrt2 * dd::gram_minus_identity_max(&embed(&u, u.ncols())) / (16.0 * m as f64 * eps);
        acc.v_orth =
            sqrt2 * dd::gram_minus_identity_max(&embed(&v, v.ncols())) / (16.0 * n as f64 * eps);
        let sigma2: Vec<f64> = got.iter().chain(&got).copied().collect();
        let residual =
            dd::reconstruction_residual(&embed(a, n), &embed(&u, k), &sigma2, &embed(&v, k));
        acc.recon = ratio(residual, 16.0 * big * eps * dd::frobenius(&embed(a, n)));
    }
    acc
}

/// Asserts convergence and the four bounds for every matrix of a complex output; returns the
/// worst ratio.
pub fn assert_accurate<R: Real>(
    label: &str,
    batch: &MatrixBatch<'_, Complex<R>>,
    out: &SvdOutput<Complex<R>>,
) -> f64
where
    Complex<R>: Element<Real = R>,
{
    let mut worst = 0.0f64;
    for i in 0..batch.count() {
        assert_eq!(out.status(i), Status::Converged, "{label}: matrix {i}");
        let a = to_dmatrix_c64(batch, i);
        let acc = accuracy(out, i, &a);
        assert!(
            acc.worst() <= 1.0,
            "{label}: matrix {i} ({}×{}) exceeds a bound: {acc:?}\nσ = {:?}\nreference = {:?}",
            a.nrows(),
            a.ncols(),
            out.singular_values(i),
            reference_sigma(&a)
        );
        worst = worst.max(acc.worst());
    }
    worst
}

/// A row-major batch of `Complex<R>` from complex f64 matrices (rounded per part).
pub fn batch_row_major<R: Real>(matrices: &[DMatrix<C64>]) -> Vec<Complex<R>> {
    matrices
        .iter()
        .flat_map(|a| {
            (0..a.nrows()).flat_map(move |i| {
                (0..a.ncols()).map(move |j| {
                    let z = a[(i, j)];
                    Complex::new(R::from_f64(z.re), R::from_f64(z.im))
                })
            })
        })
        .collect()
}
