//! Numerical rank, matrix norms and condition numbers from the singular values.
//!
//! All of them read only the singular values (any [`Vectors`](crate::Vectors) mode works) and
//! return one f64 per matrix (or one `usize` for the rank), in batch order. A matrix whose
//! singular values are not all finite (non-finite input) gives NaN (rank 0).
//!
//! Accuracy: the SVD's singular values carry an absolute error of at most
//! `δ = 16·max(m, n)·ε·σ₁` (ε of the real type: 2⁻²³ for f32 and complex64; the tested bound of [`Gpu::svd`](crate::Gpu::svd) and
//! the CPU path), so
//! * the spectral norm σ₁ has a relative error `≤ 16·max(m, n)·ε`;
//! * the Frobenius norm `√Σσᵢ²` and the nuclear norm `Σσᵢ` have relative errors
//!   `≤ 16·max(m, n)·ε·√k` and `≤ 16·max(m, n)·ε·k` (in practice near the first);
//! * the condition number `σ₁/σ_k` has a relative error of about `κ·16·max(m, n)·ε`: it is
//!   meaningful for `κ` well below `1/(16·max(m, n)·ε) ≈ 5·10⁵/max(m, n)`, and a larger
//!   computed value only says that the matrix is that ill-conditioned *at least* to f32
//!   precision;
//! * the rank is exact whenever no singular value lies within `δ` of the threshold.
//!
//! The sums are accumulated in f64.

use super::{default_rcond_for, finite_sigma, truncate::Cutoff};
use crate::element::{Element, Real as _};
use crate::error::Result;
use crate::output::SvdOutput;

/// The numerical rank of every matrix: the number of singular values above the cutoff.
///
/// `cutoff` is usually [`Cutoff::Relative`]`(rtol)` (σ > rtol·σ₁) or [`Cutoff::Absolute`]
/// (σ > atol); `None` means `Relative(`[`default_rcond_for`]`::<T>(m, n))`, i.e.
/// σ > max(m, n)·ε·σ₁ — the default of `numpy.linalg.matrix_rank`. A zero matrix has rank 0.
/// ([`Cutoff::Rank`]`(K)` is accepted and gives `min(K, k)`.)
///
/// # Errors
/// [`Error::InvalidOption`](crate::Error::InvalidOption) for an invalid cutoff or unsorted
/// singular values.
pub fn ranks<T: Element>(out: &SvdOutput<T>, cutoff: Option<Cutoff>) -> Result<Vec<usize>> {
    let (m, n) = out.shape();
    let cutoff = cutoff.unwrap_or(Cutoff::Relative(default_rcond_for::<T>(m, n)));
    cutoff.validate()?;
    super::require_sorted(out)?;
    Ok((0..out.count())
        .map(|i| cutoff.kept(out.singular_values(i)))
        .collect())
}

/// The spectral norm `‖A‖₂ = σ₁` of every matrix.
#[must_use]
pub fn spectral_norms<T: Element>(out: &SvdOutput<T>) -> Vec<f64> {
    per_matrix(out, |s| s.iter().copied().fold(0.0, f64::max))
}

/// The Frobenius norm `‖A‖_F = √(Σᵢ σᵢ²)` of every matrix (sum in f64).
#[must_use]
pub fn frobenius_norms<T: Element>(out: &SvdOutput<T>) -> Vec<f64> {
    per_matrix(out, |s| s.iter().map(|x| x * x).sum::<f64>().sqrt())
}

/// The nuclear norm `‖A‖_* = Σᵢ σᵢ` of every matrix (sum in f64).
#[must_use]
pub fn nuclear_norms<T: Element>(out: &SvdOutput<T>) -> Vec<f64> {
    per_matrix(out, |s| s.iter().sum())
}

/// The 2-norm condition number `κ₂(A) = σ_max/σ_min` of every matrix, over its
/// `k = min(m, n)` singular values (as `numpy.linalg.cond(a)`): `+∞` when `σ_min = 0`
/// (including the zero matrix, where numpy also gives `inf`). See the module documentation
/// for its accuracy.
#[must_use]
pub fn condition_numbers<T: Element>(out: &SvdOutput<T>) -> Vec<f64> {
    per_matrix(out, |s| {
        let max = s.iter().copied().fold(0.0, f64::max);
        let min = s.iter().copied().fold(f64::INFINITY, f64::min);
        if min == 0.0 { f64::INFINITY } else { max / min }
    })
}

/// Applies `f` to the f64 singular values of each matrix; NaN for non-finite ones.
fn per_matrix<T: Element>(out: &SvdOutput<T>, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut s64 = Vec::with_capacity(out.k());
    (0..out.count())
        .map(|i| {
            if !finite_sigma(out, i) {
                return f64::NAN;
            }
            s64.clear();
            s64.extend(out.singular_values(i).iter().map(|&x| x.to_f64()));
            f(&s64)
        })
        .collect()
}
