//! Options of a batched SVD: which vectors, the convergence tolerance, the sweep cap, sorting.

use crate::batch::MatrixBatch;
use crate::element::{Element, Real};
use crate::error::{Error, Result};
use crate::tuning::{KernelFamily, SweepPairs};

/// Which singular vectors to compute. `k = min(m, n)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Vectors {
    /// Singular values only; U and Vᵀ are empty.
    None,
    /// Thin vectors: U is `m×k`, Vᵀ is `k×n` (numpy `full_matrices=False`).
    #[default]
    Thin,
    /// Full vectors: U is `m×m`, Vᵀ is `n×n` (numpy `full_matrices=True`). The columns of U
    /// (rows of Vᵀ) beyond `k` are an orthonormal basis of the orthogonal complement.
    Full,
}

impl Vectors {
    /// Columns of U per matrix (`0`, `k` or `m`).
    #[inline]
    #[must_use]
    pub fn u_cols(self, m: usize, n: usize) -> usize {
        match self {
            Vectors::None => 0,
            Vectors::Thin => m.min(n),
            Vectors::Full => m,
        }
    }

    /// Rows of Vᵀ per matrix (`0`, `k` or `n`).
    #[inline]
    #[must_use]
    pub fn vt_rows(self, m: usize, n: usize) -> usize {
        match self {
            Vectors::None => 0,
            Vectors::Thin => m.min(n),
            Vectors::Full => n,
        }
    }

    /// Whether U and Vᵀ are computed at all.
    #[inline]
    #[must_use]
    pub fn wanted(self) -> bool {
        self != Vectors::None
    }
}

/// Sign convention of the factors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SignConvention {
    /// LAPACK and numpy: σ ≥ 0, descending; det U and det V may be −1.
    #[default]
    NonNegative,
    /// NVIDIA Warp and Unreal Chaos: det U = det V = +1 and |σ| descending, the smallest
    /// singular value carrying the sign of det A (negative for reflections and inverted
    /// elements). Square matrices only.
    Rotation,
}

/// Default number of sweeps after which a matrix that still rotates is reported
/// [`Status::NotConverged`](crate::Status::NotConverged). LAPACK's `sgesvj` uses 30; in f32
/// random matrices up to 64×64 converge in 5–10 sweeps, and graded matrices
/// (κ ≈ 10⁶) in at most 12 in our tests.
pub const DEFAULT_MAX_SWEEPS: u32 = 30;

/// Options of a batched SVD. Build with [`SvdOptions::default`] and the `with_*` methods.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SvdOptions {
    /// Which singular vectors to return. Default [`Vectors::Thin`].
    pub vectors: Vectors,
    /// Rotation threshold: a column pair `(p, q)` is rotated when
    /// `|a_pᵀa_q| > tol·‖a_p‖·‖a_q‖`, and a matrix has converged after a sweep without
    /// rotation. `None` (the default) picks [`default_tolerance`] for the shape.
    pub tolerance: Option<f32>,
    /// Sweep cap per matrix; a matrix still rotating after it is reported
    /// [`Status::NotConverged`](crate::Status::NotConverged) (its results are still
    /// returned). Default [`DEFAULT_MAX_SWEEPS`].
    pub max_sweeps: u32,
    /// Sort singular values in descending order, permuting U and V with them. Default `true`.
    /// When `false` they come in the order the Jacobi sweeps leave them.
    pub sort: bool,
    /// GPU kernel family; default [`KernelFamily::Auto`]. Ignored by the CPU path.
    pub kernel: KernelFamily,
    /// Sign convention; default [`SignConvention::NonNegative`].
    pub signs: SignConvention,
    /// QR-precondition tall matrices (default `true`): for matrices too large for one
    /// workgroup whose working matrix has at least twice as many rows as columns, the GPU
    /// path factors A = Q·R (Householder), runs the sweeps on the N×N triangle R and forms
    /// U = Q·U_R. The sweeps then cost N³ instead of M·N² per sweep; results are the same
    /// within the accuracy bounds. Ignored by the CPU path and by matrices that fit one
    /// workgroup.
    pub qr_preconditioning: bool,
    /// What the sweeps of the multi-dispatch family rotate; default [`SweepPairs::Auto`].
    /// Ignored by the CPU path and by matrices that fit one workgroup.
    pub sweep_pairs: SweepPairs,
}

impl Default for SvdOptions {
    fn default() -> Self {
        Self {
            vectors: Vectors::Thin,
            tolerance: None,
            max_sweeps: DEFAULT_MAX_SWEEPS,
            sort: true,
            kernel: KernelFamily::Auto,
            signs: SignConvention::NonNegative,
            qr_preconditioning: true,
            sweep_pairs: SweepPairs::Auto,
        }
    }
}

impl SvdOptions {
    /// Options returning singular values only.
    #[must_use]
    pub fn values_only() -> Self {
        Self::default().with_vectors(Vectors::None)
    }

    /// Sets [`SvdOptions::vectors`].
    #[must_use]
    pub fn with_vectors(mut self, vectors: Vectors) -> Self {
        self.vectors = vectors;
        self
    }

    /// Sets [`SvdOptions::tolerance`].
    #[must_use]
    pub fn with_tolerance(mut self, tol: f32) -> Self {
        self.tolerance = Some(tol);
        self
    }

    /// Sets [`SvdOptions::max_sweeps`].
    #[must_use]
    pub fn with_max_sweeps(mut self, max_sweeps: u32) -> Self {
        self.max_sweeps = max_sweeps;
        self
    }

    /// Sets [`SvdOptions::sort`].
    #[must_use]
    pub fn with_sort(mut self, sort: bool) -> Self {
        self.sort = sort;
        self
    }

    /// Sets [`SvdOptions::kernel`].
    #[must_use]
    pub fn with_kernel(mut self, kernel: KernelFamily) -> Self {
        self.kernel = kernel;
        self
    }

    /// Sets [`SvdOptions::signs`].
    #[must_use]
    pub fn with_signs(mut self, signs: SignConvention) -> Self {
        self.signs = signs;
        self
    }

    /// Sets [`SvdOptions::qr_preconditioning`].
    #[must_use]
    pub fn with_qr_preconditioning(mut self, on: bool) -> Self {
        self.qr_preconditioning = on;
        self
    }

    /// Sets [`SvdOptions::sweep_pairs`].
    #[must_use]
    pub fn with_sweep_pairs(mut self, pairs: SweepPairs) -> Self {
        self.sweep_pairs = pairs;
        self
    }

    /// Checks the option values for `m×n` matrices.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if the tolerance is not finite or not in `(0, 1)`,
    /// `max_sweeps` is zero, or the rotation sign convention is asked for non-square matrices
    /// or without vectors.
    pub fn validate_for(&self, m: usize, n: usize) -> Result<()> {
        self.validate()?;
        if self.signs == SignConvention::Rotation && (m != n || !self.vectors.wanted()) {
            return Err(Error::InvalidOption(format!(
                "the rotation sign convention needs square matrices and singular vectors \
                 ({m}×{n}, vectors {:?})",
                self.vectors
            )));
        }
        Ok(())
    }

    /// Checks the option values for `batch`: as [`SvdOptions::validate_for`] its shape, and
    /// for complex element types that the sign convention is the non-negative one (a complex
    /// SVD has no rotation convention: U and V are unitary, their determinants any unit
    /// complex number).
    ///
    /// # Errors
    /// As [`SvdOptions::validate_for`]; [`Error::InvalidOption`] for the rotation convention
    /// with a complex batch.
    pub fn validate_for_batch<T: Element>(&self, batch: &MatrixBatch<'_, T>) -> Result<()> {
        self.validate_for(batch.rows(), batch.cols())?;
        if T::IS_COMPLEX && self.signs == SignConvention::Rotation {
            return Err(Error::InvalidOption(format!(
                "the rotation sign convention is for real matrices; {} input has none",
                T::NAME
            )));
        }
        Ok(())
    }

    /// Checks the option values that do not depend on the shape.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if the tolerance is not finite or not in `(0, 1)`, or
    /// `max_sweeps` is zero.
    pub fn validate(&self) -> Result<()> {
        if let Some(tol) = self.tolerance
            && !(tol.is_finite() && tol > 0.0 && tol < 1.0)
        {
            return Err(Error::InvalidOption(format!(
                "tolerance must be in (0, 1), got {tol}"
            )));
        }
        if self.max_sweeps == 0 {
            return Err(Error::InvalidOption(
                "max_sweeps must be at least 1".to_string(),
            ));
        }
        Ok(())
    }

    /// The tolerance used for `m×n` f32 matrices: the explicit one, or [`default_tolerance`].
    #[must_use]
    pub fn effective_tolerance(&self, m: usize, n: usize) -> f32 {
        self.effective_tolerance_for::<f32>(m, n)
    }

    /// The tolerance used for `m×n` matrices of element type `T`: the explicit one, or
    /// [`default_tolerance_for`].
    #[must_use]
    pub fn effective_tolerance_for<T: Real>(&self, m: usize, n: usize) -> f32 {
        self.tolerance
            .unwrap_or_else(|| default_tolerance_for::<T>(m, n))
    }
}

/// The default rotation threshold for `m×n` matrices: `4·√max(m, n)·ε` with ε = 2⁻²³.
///
/// Why this value:
/// * LAPACK's `sgesvj` uses `√m·ε` for the same test (`|a_pᵀa_q| > tol·‖a_p‖‖a_q‖`).
/// * The cosine is computed in f32 from dot products over `m` rows, whose rounding error is
///   of order `√m·ε` (pairwise-ish partial sums); a threshold at that noise level makes a
///   converged matrix keep rotating by noise-sized angles and sweep until `max_sweeps`. The
///   factor 4 puts the threshold above that noise, measured on random, graded and repeated
///   singular value matrices (see the accuracy tests).
/// * At exit every column pair has `|cos| ≤ tol`, so ‖UᵀU − I‖max ≤ tol + O(ε) and the
///   singular values carry a relative error of order `tol` — far inside the tested bounds
///   (`16·m·ε` for orthogonality, `16·max(m, n)·ε·σ₁` for the values).
#[must_use]
pub fn default_tolerance(m: usize, n: usize) -> f32 {
    default_tolerance_for::<f32>(m, n)
}

/// The default rotation threshold for `m×n` matrices of element type `T`: `4·√max(m, n)·ε`
/// with `T`'s unit roundoff (2⁻²³ for f32, see [`default_tolerance`]; 2⁻⁵² for f64).
///
/// The argument for f64 is the f32 one with ε = 2⁻⁵²: the cosine of a pair is computed from
/// f64 dot products over `m` rows, whose rounding noise is of order `√m·ε`; four times that
/// is above the noise, so converged matrices stop rotating (random 64×64 f64 matrices converge
/// in 9–10 sweeps), and at exit `‖UᵀU − I‖max ≤ tol + O(ε)` and σ's relative error of order
/// `tol` stay far inside the tested bounds (`16·m·ε`, `16·max(m, n)·ε·σ₁`). The threshold is
/// passed to the kernels as an f32 (3.6·10⁻¹⁵ at 64 rows, well inside f32's normal range),
/// which rounds it by at most 2⁻²⁴ relative: immaterial for a threshold.
#[must_use]
pub fn default_tolerance_for<T: Real>(m: usize, n: usize) -> f32 {
    (4.0 * (m.max(n) as f64).sqrt() * T::EPSILON.to_f64()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(SvdOptions::default().validate().is_ok());
        for bad in [0.0, -1.0, 1.0, f32::NAN, f32::INFINITY] {
            assert!(
                SvdOptions::default()
                    .with_tolerance(bad)
                    .validate()
                    .is_err()
            );
        }
        assert!(SvdOptions::default().with_max_sweeps(0).validate().is_err());
    }

    #[test]
    fn shapes_of_vectors() {
        assert_eq!(Vectors::Thin.u_cols(5, 3), 3);
        assert_eq!(Vectors::Full.u_cols(5, 3), 5);
        assert_eq!(Vectors::Full.vt_rows(5, 3), 3);
        assert_eq!(Vectors::Thin.vt_rows(2, 7), 2);
        assert_eq!(Vectors::None.u_cols(2, 7), 0);
    }
}
