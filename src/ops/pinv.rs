//! The Moore–Penrose pseudoinverse `A⁺ = V·Σ⁺·Uᴴ` of every matrix of a batch (`Uᴴ = Uᵀ` for
//! real matrices).

use nalgebra::{ComplexField, DMatrix};

use super::{
    default_rcond_for, finite_sigma, require_non_negative, require_sorted, require_vectors,
};
use super::{row_major_matrix, truncate::Cutoff};
use crate::element::{Element, Real as _, nan};
use crate::error::Result;
use crate::output::SvdOutput;
use crate::report::Report;

/// The pseudoinverses of every matrix of a batch of `m×n` matrices.
///
/// * pseudoinverses: `count×n×m` of `T`, each matrix **row-major** — exactly the array
///   `numpy.linalg.pinv(a, rtol=rcond)` returns for a `(count, m, n)` array `a`;
/// * ranks: how many singular values of each matrix were inverted (`σ > rcond·σ₁`).
///
/// **Cutoff.** `A⁺ = Σ_{σⱼ > rcond·σ₁} vⱼ·σⱼ⁻¹·uⱼᴴ`: singular values `≤ rcond·σ₁` are treated
/// as zero (their triplets are left out), exactly numpy's rule (`s > rcond·max(s)` are
/// inverted). The default `rcond` is [`default_rcond_for`]`::<T>(m, n) = max(m, n)·ε` of `T`
/// (the Array API standard's default, `numpy.linalg.pinv(a, rtol=None)`); note that
/// `numpy.linalg.pinv(a)` without `rcond`/`rtol` uses `1e-15`.
///
/// **Accuracy.** Accumulated in f64 (complex: `Complex<f64>`) from the SVD and rounded to `T`. Relative to `‖A⁺‖₂ =
/// 1/σ_r` (σ_r the smallest kept singular value), the error is about `κ_r·16·max(m, n)·ε`
/// with `κ_r = σ₁/σ_r` (the pseudoinverse is that sensitive to the input itself), provided no
/// singular value lies within the SVD's error `16·max(m, n)·ε·σ₁` of the cutoff — otherwise
/// the rank, and with it `A⁺`, is not determined at the precision of `T` (ε = 2⁻²³ for f32,
/// 2⁻⁵² for f64; the same for complex64 and complex128).
///
/// Matrices whose singular values are not all finite get rank 0 and a NaN pseudoinverse.
#[derive(Clone, Debug)]
pub struct Pinv<T: Element = f32> {
    report: Report,
    rcond: f64,
    ranks: Vec<usize>,
    data: Vec<T>,
}

impl<T: Element> std::ops::Deref for Pinv<T> {
    type Target = Report;

    fn deref(&self) -> &Report {
        &self.report
    }
}

/// The pseudoinverse of every matrix of `out` (thin or full vectors), inverting the singular
/// values `σ > rcond·σ₁`; `rcond = None` uses [`default_rcond_for`]`::<T>(m, n)`.
///
/// # Errors
/// [`Error::InvalidOption`](crate::Error::InvalidOption) for a negative or non-finite
/// `rcond`, a values-only SVD or unsorted singular values;
/// [`Error::TooLarge`](crate::Error::TooLarge) if the output size overflows.
pub fn pinv<T: Element>(out: &SvdOutput<T>, rcond: Option<f64>) -> Result<Pinv<T>> {
    require_vectors(out, "the pseudoinverse")?;
    require_sorted(out)?;
    let (count, (m, n), k) = (out.count(), out.shape(), out.k());
    let rcond = rcond.unwrap_or_else(|| default_rcond_for::<T>(m, n));
    require_non_negative("rcond", rcond)?;
    let cutoff = Cutoff::Relative(rcond);
    let len = super::checked_len(&[count, n, m])?;
    let mut data = crate::factors::zeroed_vec::<T>(len)?;
    let mut ranks = Vec::with_capacity(count);
    let (uc, vr) = (out.u_cols(), out.vt_rows());
    // Scratch: row j of A⁺ (length m), and row j of V scaled: V[j, l]/σₗ = conj(Vᴴ[l, j])/σₗ. None for an
    // empty output, whose m and k may be anything up to usize::MAX (found by fuzzing: a
    // batch of no matrices of 3·10¹⁸ × 3·10¹⁸ panicked with a capacity overflow here).
    let scratch =
        |len_needed: usize| vec![T::Host::default(); if len == 0 { 0 } else { len_needed }];
    let mut row = scratch(m);
    let mut scaled = scratch(k);
    if len == 0 {
        // m, n or count is 0: nothing to invert, numerical rank 0 (numpy's (…, n, m) shape).
        ranks.resize(count, 0);
    }
    // (n·m is only formed for a non-empty output, where it cannot overflow.)
    let per_matrix = if len == 0 { 1 } else { n * m };
    for (i, dst) in data.chunks_exact_mut(per_matrix).enumerate() {
        if !finite_sigma(out, i) {
            ranks.push(0);
            dst.fill(nan());
            continue;
        }
        let sigma = out.singular_values(i);
        let r = cutoff.kept(sigma);
        ranks.push(r);
        let u = &out.all_u()[i * m * uc..(i + 1) * m * uc];
        let vt = &out.all_vt()[i * vr * n..(i + 1) * vr * n];
        // A⁺[j, c] = Σ_{l<r} conj(Vᴴ[l, j])/σₗ · conj(U[c, l])
        for (j, dst_row) in dst.chunks_exact_mut(m).enumerate() {
            for (l, s) in scaled[..r].iter_mut().enumerate() {
                *s = vt[l * n + j]
                    .to_host()
                    .conjugate()
                    .unscale(sigma[l].to_f64());
            }
            for (acc, u_row) in row.iter_mut().zip(u.chunks_exact(uc)) {
                *acc = scaled[..r]
                    .iter()
                    .zip(u_row)
                    .fold(T::Host::default(), |acc, (&a, &b)| {
                        acc + a * b.to_host().conjugate()
                    });
            }
            for (d, &x) in dst_row.iter_mut().zip(&row) {
                *d = T::from_host(x);
            }
        }
    }
    Ok(Pinv {
        report: out.report().clone(),
        rcond,
        ranks,
        data,
    })
}

/// Validates an `rcond` (exposed for the command-line tool and callers that check options
/// early).
///
/// # Errors
/// [`Error::InvalidOption`](crate::Error::InvalidOption) unless `rcond` is finite and `≥ 0`.
pub fn validate_rcond(rcond: f64) -> Result<()> {
    require_non_negative("rcond", rcond)
}

impl<T: Element> Pinv<T> {
    /// `(n, m)`: the shape of each pseudoinverse, the transpose of the input's
    /// ([`Report::shape`]).
    #[must_use]
    pub fn matrix_shape(&self) -> (usize, usize) {
        let (m, n) = self.report.shape();
        (n, m)
    }

    /// The relative cutoff that was applied.
    #[must_use]
    pub fn rcond(&self) -> f64 {
        self.rcond
    }

    /// Number of singular values inverted for matrix `i` (its numerical rank at `rcond`).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn rank(&self, i: usize) -> usize {
        self.ranks[i]
    }

    /// [`Pinv::rank`] of every matrix.
    #[must_use]
    pub fn ranks(&self) -> &[usize] {
        &self.ranks
    }

    /// Pseudoinverse `i` (`n×m`) as an nalgebra matrix (a copy of the row-major data).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn matrix(&self, i: usize) -> DMatrix<T> {
        row_major_matrix(&self.data, i, self.report.n, self.report.m)
    }

    /// All pseudoinverses, `count×n×m`, each row-major.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
}
