//! Batched operations derived from the SVD: truncation, rank and norms, low-rank
//! approximation, the pseudoinverse, least squares and PCA.
//!
//! Every operation works on an [`SvdOutput`] from either backend ([`Gpu::svd`](crate::Gpu::svd)
//! or [`cpu::svd`](crate::cpu::svd)) — plus, where the operation needs it, the input
//! [`MatrixBatch`] — and runs on the host, matrix by matrix:
//!
//! | module | what | result |
//! | --- | --- | --- |
//! | [`truncate`](mod@truncate) | top-`K` triplets, or the triplets above a relative or absolute tolerance | [`Truncated`] |
//! | [`norms`] | numerical rank, spectral, Frobenius and nuclear norms, 2-norm condition number | `Vec<usize>` / `Vec<f64>` |
//! | [`lowrank`] | the rank-`k` approximation `A_k` and its errors `‖A − A_k‖_F`, `‖A − A_k‖₂` | [`LowRank`] |
//! | [`pinv`](mod@pinv) | the pseudoinverse `A⁺ = V·Σ⁺·Uᴴ` (`Uᵀ` for real matrices) | [`Pinv`] |
//! | [`lstsq`](mod@lstsq) | minimum-norm least squares `min‖A·x − b‖₂` for batched right-hand sides | [`Lstsq`] |
//! | [`pca`] | principal component analysis of a batch of data matrices | [`Pca`] |
//!
//! ## Conventions
//!
//! * **Layouts.** Every array is stored like [`SvdOutput`]'s: matrices one after another, each
//!   **row-major** (numpy C order), so a result is exactly the numpy array of the shape given
//!   in its documentation.
//! * **Element types.** Every operation takes the element types of the SVD: f32, f64,
//!   `Complex<f32>` and `Complex<f64>`. For complex matrices the transposes are conjugate
//!   transposes (`A⁺ = V·Σ⁺·Uᴴ`, `x = V·Σ⁺·Uᴴ·b`, `A_k = U_k·Σ_k·V_kᴴ`, PCA's projections), the
//!   singular values, norms, residuals and variances are real.
//! * **Precision.** The singular values and vectors have the precision of the element type
//!   (that is what the SVD produces); everything computed from them — products such as
//!   `V·Σ⁺·Uᴴ`, sums of squares, residuals, means — is accumulated in f64 (`Complex<f64>` for
//!   complex types) and rounded to the element type only when stored as an array of it. Scalar
//!   results (norms, errors, residuals, variances) are returned in f64. The accuracy of a
//!   result is therefore that of the SVD it is built on (see [`Gpu::svd`](crate::Gpu::svd):
//!   `|σᵢ − σ̂ᵢ| ≤ 16·max(m, n)·ε·σ₁` with ε of the real type, 2⁻²³ or 2⁻⁵²), propagated
//!   through the operation; each function documents what that means for its result.
//! * **Cutoffs.** A singular value counts as zero when it is `≤` the threshold (`σ ≤ rcond·σ₁`
//!   for [`pinv`](pinv::pinv) and [`lstsq`](lstsq::lstsq), as `numpy.linalg.pinv` and LAPACK's
//!   `gelsd` decide it). The default relative cutoff is [`default_rcond_for`]`::<T>(m, n)` =
//!   `max(m, n)·ε` of the element type, the Array API standard's default for `pinv` and
//!   `matrix_rank`.
//! * **Sorting.** The operations need the singular values in descending order, the default
//!   ([`SvdOptions::sort`](crate::SvdOptions::sort)); an unsorted output is refused with
//!   [`Error::InvalidOption`].
//! * **Per-matrix status.** The status of each matrix is carried over from the SVD. A matrix
//!   whose singular values are not all finite (non-finite input, or a CPU-path failure) gets
//!   rank 0 and NaN in every array result, like the SVD itself; the rest of the batch is
//!   unaffected.
//! * **Errors.** Shapes that do not fit together, missing singular vectors, unsorted singular
//!   values and option values outside their domain are [`Error`] values, never panics.
//!
//! ## Example
//!
//! ```
//! use batched_svd::{MatrixBatch, SvdOptions, ops};
//! // Two 3×2 matrices, row-major; the second has rank 1.
//! let data = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
//! let batch = MatrixBatch::row_major(&data, 2, 3, 2)?;
//! let svd = batched_svd::cpu::svd(&batch, &SvdOptions::default())?; // or gpu.svd(...)
//! assert_eq!(ops::norms::ranks(&svd, None)?, vec![2, 1]);
//! let pinv = ops::pinv(&svd, None)?; // (2, 2, 3): A⁺ of each matrix
//! assert_eq!(pinv.ranks(), &[2, 1]);
//! let b = [1.0f32, 1.0, 1.0, 1.0, 2.0, 3.0]; // one right-hand side per matrix: (2, 3)
//! let rhs = ops::RightHandSides::vectors(&b, 2, 3)?;
//! let x = ops::lstsq(&batch, &svd, &rhs, None)?; // (2, 2)
//! assert!((x.solution(1)[0] - 0.2).abs() < 1e-5 && (x.solution(1)[1] - 0.4).abs() < 1e-5);
//! # Ok::<(), batched_svd::Error>(())
//! ```

pub mod lowrank;
pub mod lstsq;
pub mod norms;
pub mod pca;
pub mod pinv;
pub mod truncate;

pub use lowrank::{LowRank, low_rank};
pub use lstsq::{Lstsq, RightHandSides, lstsq};
pub use pca::{Centered, Pca, center};
pub use pinv::{Pinv, pinv};
pub use truncate::{Cutoff, Truncated, truncate};

use nalgebra::DMatrix;

use crate::batch::MatrixBatch;
use crate::element::{Element, Real};
use crate::error::{Error, Result};
use crate::output::SvdOutput;

/// The default relative cutoff for `m×n` f32 matrices: `max(m, n)·ε` with ε = 2⁻²³
/// (`f32::EPSILON`).
///
/// A singular value `σ ≤ default_rcond(m, n)·σ₁` is at the level of the rounding noise of an
/// f32 SVD (whose tested error bound is `16·max(m, n)·ε·σ₁`) and counts as zero.
///
/// This is the default of the Array API standard for `linalg.pinv` (`rtol`) and
/// `linalg.matrix_rank`, i.e. of `numpy.linalg.pinv(a, rtol=None)` and
/// `numpy.linalg.matrix_rank(a)` for a float32 `a`. numpy's *own* defaults differ:
/// `numpy.linalg.pinv(a)` (neither `rcond` nor `rtol` given) uses `rcond = 1e-15`, and
/// `numpy.linalg.lstsq(a, b)` uses `max(M, N)·ε_f64` (ε of float64 even for float32 input,
/// since it computes in double precision) — both far below f32 rounding, so on f32 data they
/// would invert noise. Pass the same `rcond` explicitly to compare with numpy.
///
/// The derived operations use [`default_rcond_for`] with the batch's element type.
#[must_use]
pub fn default_rcond(m: usize, n: usize) -> f64 {
    default_rcond_for::<f32>(m, n)
}

/// The default relative cutoff for `m×n` matrices of `T`: `max(m, n)·ε` of `T`'s real type
/// (2⁻²³ for f32 and complex64 as [`default_rcond`], 2⁻⁵² for f64 and complex128 — then
/// numpy's own `lstsq` default, and the Array API's `pinv`/`matrix_rank` default for float64
/// and complex128).
#[must_use]
pub fn default_rcond_for<T: Element>(m: usize, n: usize) -> f64 {
    m.max(n) as f64 * T::Real::EPSILON.to_f64()
}

/// Fails unless `out` holds singular vectors.
pub(crate) fn require_vectors<T: Element>(out: &SvdOutput<T>, what: &str) -> Result<()> {
    if out.vectors().wanted() {
        Ok(())
    } else {
        Err(Error::InvalidOption(format!(
            "{what} needs singular vectors, but the SVD was computed with Vectors::None"
        )))
    }
}

/// Fails unless the singular values of every matrix with finite values are descending.
pub(crate) fn require_sorted<T: Element>(out: &SvdOutput<T>) -> Result<()> {
    for i in 0..out.count() {
        let s = out.singular_values(i);
        if s.iter().all(|x| x.is_finite()) && s.windows(2).any(|w| w[0] < w[1]) {
            return Err(Error::InvalidOption(format!(
                "the singular values of matrix {i} are not in descending order; compute the \
                 SVD with SvdOptions::sort = true (the default)"
            )));
        }
    }
    Ok(())
}

/// Fails unless `batch` has the shape (count, m, n) the SVD output was computed for.
pub(crate) fn require_same_shape<T: Element>(
    batch: &MatrixBatch<'_, T>,
    out: &SvdOutput<T>,
) -> Result<()> {
    let (m, n) = out.shape();
    if batch.count() != out.count() || batch.rows() != m || batch.cols() != n {
        return Err(Error::InvalidOption(format!(
            "the batch is {}×({}×{}) but the SVD output is for {}×({m}×{n}) matrices",
            batch.count(),
            batch.rows(),
            batch.cols(),
            out.count()
        )));
    }
    Ok(())
}

/// Whether every singular value of matrix `i` is finite (otherwise its results are NaN).
pub(crate) fn finite_sigma<T: Element>(out: &SvdOutput<T>, i: usize) -> bool {
    out.singular_values(i).iter().all(|x| x.is_finite())
}

/// `rows×cols` matrix `i` of a flat array of row-major matrices, as an nalgebra matrix (a
/// copy: see [`row_major_matrix`](crate::output) for why not a view).
///
/// # Panics
/// If the array is too short for matrix `i`.
pub(crate) fn row_major_matrix<T: Element>(
    data: &[T],
    i: usize,
    rows: usize,
    cols: usize,
) -> DMatrix<T> {
    crate::output::row_major_matrix(data, i, rows, cols)
        .unwrap_or_else(|| DMatrix::from_element(rows, cols, T::default()))
}

/// `count·a·b` (and `·c`), or [`Error::TooLarge`].
pub(crate) fn checked_len(dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::TooLarge(format!("an array of shape {dims:?} overflows usize")))
}

/// Fails unless `x` is finite and non-negative.
pub(crate) fn require_non_negative(name: &str, x: f64) -> Result<()> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidOption(format!(
            "{name} must be finite and non-negative, got {x}"
        )))
    }
}
