//! Low-rank approximation: `A_k = Σ_{j<k} σⱼ·uⱼ·vⱼᴴ` (`vⱼᵀ` for real matrices), the best rank-`k` approximation in the
//! spectral and Frobenius norms (Eckart–Young–Mirsky), and its error.

use nalgebra::{ComplexField, DMatrix};

use super::truncate::{Cutoff, Truncated, truncate};
use super::{finite_sigma, require_vectors, row_major_matrix};
use crate::batch::MatrixBatch;
use crate::element::{Element, Real as _};
use crate::error::Result;
use crate::output::SvdOutput;
use crate::report::Report;

/// The low-rank approximations of every matrix of a batch, with their errors.
///
/// * approximations: `count×m×n` of `T`, each matrix **row-major** (a numpy `(count, m, n)`
///   array), accumulated in f64 (complex: `Complex<f64>`) from the SVD's triplets;
/// * ranks: the number of triplets `rᵢ` each approximation keeps (see [`Cutoff`]);
/// * errors (f64) from the singular values the approximation drops:
///   `‖A − A_r‖₂ = σ_{r+1}` and `‖A − A_r‖_F = √(Σ_{j>r} σⱼ²)` (0 when `r = k`).
///
/// Accuracy: each element of `A_r` is within the SVD's reconstruction error
/// (`‖A − UΣVᴴ‖_F ≤ 16·max(m, n)·ε·‖A‖_F`, ε of `T`'s real type) plus one rounding to `T` of the
/// Eckart–Young optimum, and the predicted errors are within `16·max(m, n)·ε·σ₁` (spectral)
/// of the exact ones. [`LowRank::residual_frobenius`] measures `‖A − A_r‖_F` directly instead.
/// Matrices whose singular values are not all finite get NaN everywhere.
#[derive(Clone, Debug)]
pub struct LowRank<T: Element = f32> {
    report: Report,
    ranks: Vec<usize>,
    data: Vec<T>,
    error_spectral: Vec<f64>,
    error_frobenius: Vec<f64>,
}

impl<T: Element> std::ops::Deref for LowRank<T> {
    type Target = Report;

    fn deref(&self) -> &Report {
        &self.report
    }
}

/// The approximation of every matrix of `out` that keeps the triplets selected by `cutoff`:
/// [`Cutoff::Rank`]`(k)` gives the rank-`k` approximation `A_k`; a tolerance keeps each
/// matrix's triplets above it (a denoised matrix).
///
/// # Errors
/// [`Error::InvalidOption`](crate::Error::InvalidOption) for an invalid cutoff, a values-only
/// SVD or unsorted singular values; [`Error::TooLarge`](crate::Error::TooLarge) if the output
/// does not fit in memory addressing.
pub fn low_rank<T: Element>(out: &SvdOutput<T>, cutoff: Cutoff) -> Result<LowRank<T>> {
    require_vectors(out, "a low-rank approximation")?;
    let t = truncate(out, cutoff)?;
    let (count, (m, n)) = (out.count(), out.shape());
    let len = super::checked_len(&[count, m, n])?;
    let mut data = crate::factors::zeroed_vec::<T>(len)?;
    // With no element there is no chunk to write (and m·n may overflow: a batch of no
    // matrices of any size, found by fuzzing).
    let per_matrix = if len == 0 { 1 } else { m * n };
    for (i, dst) in data.chunks_exact_mut(per_matrix).enumerate() {
        t.reconstruct_into(i, |r, c, x| dst[r * n + c] = T::from_host(x));
    }
    let (error_spectral, error_frobenius) = (0..count).map(|i| dropped_errors(out, &t, i)).unzip();
    Ok(LowRank {
        report: out.report().clone(),
        ranks: t.ranks().to_vec(),
        data,
        error_spectral,
        error_frobenius,
    })
}

/// `(σ_{r+1}, √Σ_{j>r} σⱼ²)` of matrix `i` for the rank its truncation kept.
fn dropped_errors<T: Element>(out: &SvdOutput<T>, t: &Truncated<T>, i: usize) -> (f64, f64) {
    if !finite_sigma(out, i) {
        return (f64::NAN, f64::NAN);
    }
    let dropped = &out.singular_values(i)[t.rank(i)..];
    let spectral = dropped.first().map_or(0.0, |&s| s.to_f64());
    let frobenius = dropped
        .iter()
        .map(|&s| s.to_f64() * s.to_f64())
        .sum::<f64>()
        .sqrt();
    (spectral, frobenius)
}

impl<T: Element> LowRank<T> {
    /// Rank (number of kept triplets) of approximation `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn rank(&self, i: usize) -> usize {
        self.ranks[i]
    }

    /// Ranks of all approximations.
    #[must_use]
    pub fn ranks(&self) -> &[usize] {
        &self.ranks
    }

    /// Approximation `i` (`m×n`) as an nalgebra matrix (a copy of the row-major data).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn matrix(&self, i: usize) -> DMatrix<T> {
        row_major_matrix(&self.data, i, self.report.m, self.report.n)
    }

    /// All approximations, `count×m×n`, each row-major.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The approximations as a row-major [`MatrixBatch`] (a copy), e.g. to decompose again.
    ///
    /// # Errors
    /// None in practice (the shape is valid by construction).
    pub fn to_batch(&self) -> Result<MatrixBatch<'static, T>> {
        MatrixBatch::from_vec(
            self.data.clone(),
            self.report.count,
            self.report.m,
            self.report.n,
            crate::batch::Layout::RowMajor,
        )
    }

    /// `‖A − A_r‖₂ = σ_{r+1}` of matrix `i` (0 when nothing was dropped), from the singular
    /// values.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn error_spectral(&self, i: usize) -> f64 {
        self.error_spectral[i]
    }

    /// `‖A − A_r‖_F = √(Σ_{j>r} σⱼ²)` of matrix `i`, from the singular values.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn error_frobenius(&self, i: usize) -> f64 {
        self.error_frobenius[i]
    }

    /// [`LowRank::error_spectral`] of every matrix.
    #[must_use]
    pub fn all_errors_spectral(&self) -> &[f64] {
        &self.error_spectral
    }

    /// [`LowRank::error_frobenius`] of every matrix.
    #[must_use]
    pub fn all_errors_frobenius(&self) -> &[f64] {
        &self.error_frobenius
    }

    /// `‖A − A_r‖_F` of every matrix measured directly against the original `batch`, in f64
    /// from the stored approximation (so it includes the rounding of `A_r` to `T`, about
    /// `ε·‖A‖_F/√(mn)` per element).
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) if `batch` does not have the
    /// shape of the approximations.
    pub fn residual_frobenius(&self, batch: &MatrixBatch<'_, T>) -> Result<Vec<f64>> {
        let (count, (m, n)) = (self.report.count, self.report.shape());
        if batch.count() != count || batch.rows() != m || batch.cols() != n {
            return Err(crate::Error::InvalidOption(format!(
                "the batch is {}×({}×{}) but the approximations are {}×({}×{})",
                batch.count(),
                batch.rows(),
                batch.cols(),
                count,
                m,
                n
            )));
        }
        Ok((0..count)
            .map(|b| {
                let approx = &self.data[b * m * n..(b + 1) * m * n];
                let mut sum = 0.0f64;
                for i in 0..m {
                    for j in 0..n {
                        let d = batch.get(b, i, j).to_host() - approx[i * n + j].to_host();
                        sum += d.modulus_squared();
                    }
                }
                sum.sqrt()
            })
            .collect())
    }
}
