//! Batched polar decomposition `A = R·S` of square matrices.
//!
//! `R` is the proper rotation (orthogonal, det R = +1) closest to `A` in the Frobenius norm and
//! `S = Rᵀ·A` is symmetric. Both come from the SVD in the rotation sign convention,
//! `A = U·Σ·Vᵀ` with det U = det V = +1: `R = U·Vᵀ` and `S = V·Σ·Vᵀ`. When det A < 0 (a
//! reflection, an inverted element) the last singular value is negative, so `S` is symmetric
//! but indefinite — the decomposition physics codes (corotated elasticity, MPM, shape
//! matching) want, as opposed to the orthogonal-polar factor with det = −1.
//!
//! For complex matrices (`Complex<f32>`, `Complex<f64>`) the decomposition is `A = W·P` with
//! `W = U·Vᴴ` unitary and `P = V·Σ·Vᴴ` Hermitian positive semi-definite, held in the same
//! fields (`r` is W, `s` is P); [`PolarOptions::rotation_only`] is for real matrices only.
//!
//! Computing it is the engines' job ([`Gpu::polar`](crate::Gpu::polar),
//! [`cpu::polar`](crate::cpu::polar), [`Solver::polar`](crate::Solver::polar)); this module
//! holds the options and the output. On the GPU, real 2×2 and 3×3 run entirely in the
//! dedicated kernel; other sizes, and complex matrices of every size, take the SVD from the GPU
//! and form the products on the host in f64.

use nalgebra::DMatrix;

use crate::batch::MatrixBatch;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::factors::{Factors, Product};
use crate::options::{SignConvention, SvdOptions, Vectors};
use crate::output::row_major_matrix;
use crate::report::{Engine, Report};

/// Options of a batched polar decomposition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolarOptions {
    /// Compute R only (skip S): less to write and read back.
    pub rotation_only: bool,
}

impl PolarOptions {
    /// Options computing R only.
    #[must_use]
    pub fn rotation_only() -> Self {
        Self {
            rotation_only: true,
        }
    }
}

/// `R` and `S` of every matrix of a batch of `n×n` matrices.
///
/// `R` is `count×n×n` and `S` is `count×n×n` (empty when only R was asked for), each matrix
/// row-major (numpy layout). Accuracy: `R` is orthogonal and `A ≈ R·S` to the SVD's bounds
/// (16·n·ε relative to ‖A‖, ε the element type's unit roundoff).
///
/// The output dereferences to its [`Report`] (count, shape, statuses, engine, timings, work).
#[derive(Clone, Debug)]
pub struct PolarOutput<T: Element = f32> {
    report: Report,
    r: Vec<T>,
    s: Vec<T>,
    /// The singular values the solve produced on the way (kept so that a reused output
    /// reuses this allocation too; not part of the result).
    sigma: Vec<T::Real>,
}

impl<T: Element> std::ops::Deref for PolarOutput<T> {
    type Target = Report;

    fn deref(&self) -> &Report {
        &self.report
    }
}

impl<T: Element> Default for PolarOutput<T> {
    /// An output of no matrices, to pass to an engine's `polar_into`.
    fn default() -> Self {
        Self {
            report: Report::empty(Engine::Gpu),
            r: Vec::new(),
            s: Vec::new(),
            sigma: Vec::new(),
        }
    }
}

impl<T: Element> PolarOutput<T> {
    /// `n`, the size of each matrix.
    #[inline]
    #[must_use]
    pub fn n(&self) -> usize {
        self.report.n
    }

    /// Records which engine computed this output and why.
    pub(crate) fn set_engine(&mut self, choice: crate::report::EngineChoice) {
        self.report.engine = choice;
    }

    /// The report: shape, statuses, engine, timings, work.
    #[inline]
    #[must_use]
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// R of matrix `i` as an nalgebra matrix (a copy).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn r(&self, i: usize) -> DMatrix<T> {
        let n = self.n();
        row_major_matrix(&self.r, i, n, n).expect("R is never empty")
    }

    /// S of matrix `i` as an nalgebra matrix (a copy), or `None` when only R was computed.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn s(&self, i: usize) -> Option<DMatrix<T>> {
        let n = self.n();
        row_major_matrix(&self.s, i, n, n)
    }

    /// All R, `count×n×n`, each row-major.
    #[inline]
    #[must_use]
    pub fn all_r(&self) -> &[T] {
        &self.r
    }

    /// All S, `count×n×n`, each row-major (empty when only R was computed).
    #[inline]
    #[must_use]
    pub fn all_s(&self) -> &[T] {
        &self.s
    }

    /// The report, R and S, taken over without copying (layouts as [`PolarOutput::all_r`]
    /// and [`PolarOutput::all_s`]; S empty when only R was computed).
    #[must_use]
    pub fn into_parts(self) -> (Report, Vec<T>, Vec<T>) {
        (self.report, self.r, self.s)
    }

    /// Takes over the arrays of polar factors (R in `first`, S in `second`).
    pub(crate) fn from_factors(f: Factors<T>) -> Self {
        debug_assert!(matches!(f.product, Product::Polar { .. }));
        Self {
            report: f.report,
            r: f.first,
            s: f.second,
            sigma: f.sigma,
        }
    }

    /// This output's arrays as factors for an engine to write into (allocations reused).
    pub(crate) fn into_factors(self) -> Factors<T> {
        Factors {
            report: self.report,
            product: Product::Polar { with_s: true },
            vectors: Vectors::Full,
            sigma: self.sigma,
            first: self.r,
            second: self.s,
        }
    }
}

/// The SVD options a polar decomposition needs, after checking the batch is square (and, for
/// complex batches, that R and S are both asked for).
pub(crate) fn svd_options<T: Element>(
    batch: &MatrixBatch<'_, T>,
    opts: &PolarOptions,
) -> Result<SvdOptions> {
    if batch.rows() != batch.cols() {
        return Err(Error::InvalidOption(format!(
            "the polar decomposition needs square matrices, not {}×{}",
            batch.rows(),
            batch.cols()
        )));
    }
    let svd = SvdOptions::default().with_vectors(Vectors::Full);
    if !T::IS_COMPLEX {
        return Ok(svd.with_signs(SignConvention::Rotation));
    }
    if opts.rotation_only {
        return Err(Error::InvalidOption(format!(
            "rotation_only is for real matrices (R a rotation); {} input has no rotation \
             factor, ask for W and P",
            T::NAME
        )));
    }
    // W = U·Vᴴ is the unitary factor whatever the phases of U's and V's columns.
    Ok(svd)
}
