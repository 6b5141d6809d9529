//! The result of a batched SVD: singular values, U, Vᵀ and a status per matrix.

use nalgebra::DMatrix;

use crate::element::{Element, Real};
use crate::factors::{Factors, Product};
use crate::options::Vectors;
use crate::report::{Engine, Report};

/// Singular values and vectors of every matrix of a batch of element type `T` (`f32` by
/// default, or `f64`; the singular values are `T::Real`).
///
/// With `k = min(m, n)`:
/// * singular values: `count×k`, each row non-negative and (by default) descending;
/// * U: `count×m×u_cols`, each matrix **row-major**, `u_cols` = `k` (thin) or `m` (full);
/// * Vᵀ: `count×vt_rows×n`, each matrix **row-major**, `vt_rows` = `k` (thin) or `n` (full).
///
/// These are exactly the arrays `numpy.linalg.svd(a, full_matrices=…)` returns for a
/// `(count, m, n)` array. U and V have orthonormal columns even for rank-deficient and zero
/// matrices (the basis is completed). [`SvdOutput::u`] and [`SvdOutput::vt`] give one matrix
/// as an nalgebra matrix (a copy); [`SvdOutput::all_u`] and [`SvdOutput::all_vt`] the arrays
/// without copying.
///
/// For complex element types U is unitary and the second array holds **Vᴴ** (numpy's `vh`):
/// `A = U·Σ·Vᴴ`.
///
/// The output dereferences to its [`Report`]: `out.count()`, `out.shape()`, `out.status(i)`,
/// `out.infos()`, `out.engine()`, `out.timings()` and `out.work()` are the report's.
#[derive(Clone, Debug)]
pub struct SvdOutput<T: Element = f32> {
    report: Report,
    vectors: Vectors,
    singular_values: Vec<T::Real>,
    u: Vec<T>,
    vt: Vec<T>,
}

impl<T: Element> std::ops::Deref for SvdOutput<T> {
    type Target = Report;

    fn deref(&self) -> &Report {
        &self.report
    }
}

impl<T: Element> Default for SvdOutput<T> {
    /// An output of no matrices, to pass to an engine's `svd_into`.
    fn default() -> Self {
        Self::from_factors(Factors::empty(Engine::Gpu))
    }
}

impl<T: Element> SvdOutput<T> {
    /// Takes over the arrays of SVD factors (U in `first`, Vᵀ in `second`).
    pub(crate) fn from_factors(f: Factors<T>) -> Self {
        debug_assert_eq!(f.product, Product::Svd);
        Self {
            report: f.report,
            vectors: f.vectors,
            singular_values: f.sigma,
            u: f.first,
            vt: f.second,
        }
    }

    /// This output's arrays as factors for an engine to write into (allocations reused).
    pub(crate) fn into_factors(self) -> Factors<T> {
        Factors {
            report: self.report,
            product: Product::Svd,
            vectors: self.vectors,
            sigma: self.singular_values,
            first: self.u,
            second: self.vt,
        }
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

    /// Which vectors were computed.
    #[inline]
    #[must_use]
    pub fn vectors(&self) -> Vectors {
        self.vectors
    }

    /// Columns of each U (`0`, `k` or `m`).
    #[inline]
    #[must_use]
    pub fn u_cols(&self) -> usize {
        self.vectors.u_cols(self.report.m, self.report.n)
    }

    /// Rows of each Vᵀ (`0`, `k` or `n`).
    #[inline]
    #[must_use]
    pub fn vt_rows(&self) -> usize {
        self.vectors.vt_rows(self.report.m, self.report.n)
    }

    /// The `k` singular values of matrix `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[inline]
    #[must_use]
    pub fn singular_values(&self, i: usize) -> &[T::Real] {
        let k = self.report.k();
        &self.singular_values[i * k..(i + 1) * k]
    }

    /// All singular values, `count×k`, row-major.
    #[inline]
    #[must_use]
    pub fn all_singular_values(&self) -> &[T::Real] {
        &self.singular_values
    }

    /// U of matrix `i` (`m×u_cols`) as an nalgebra matrix (a copy; see
    /// [`SvdOutput::all_u`] for the zero-copy array), or `None` for values-only output.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn u(&self, i: usize) -> Option<DMatrix<T>> {
        let c = self.u_cols();
        row_major_matrix(&self.u, i, self.report.m, c)
    }

    /// Vᵀ of matrix `i` (`vt_rows×n`; Vᴴ for complex elements) as an nalgebra matrix (a
    /// copy; see [`SvdOutput::all_vt`]), or `None` for values-only output.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn vt(&self, i: usize) -> Option<DMatrix<T>> {
        row_major_matrix(&self.vt, i, self.vt_rows(), self.report.n)
    }

    /// All U matrices, `count×m×u_cols`, each row-major (numpy layout).
    #[inline]
    #[must_use]
    pub fn all_u(&self) -> &[T] {
        &self.u
    }

    /// All Vᵀ matrices, `count×vt_rows×n`, each row-major (numpy layout).
    #[inline]
    #[must_use]
    pub fn all_vt(&self) -> &[T] {
        &self.vt
    }

    /// The report and the three arrays, taken over without copying (for a caller that hands
    /// the memory on, e.g. to numpy arrays). Layouts as [`SvdOutput::all_singular_values`],
    /// [`SvdOutput::all_u`] and [`SvdOutput::all_vt`]; U and Vᵀ are empty for values-only
    /// output. A vector's capacity may exceed its length when the output was reused.
    #[must_use]
    pub fn into_parts(self) -> SvdParts<T> {
        SvdParts {
            report: self.report,
            vectors: self.vectors,
            singular_values: self.singular_values,
            u: self.u,
            vt: self.vt,
        }
    }
}

/// The arrays of an [`SvdOutput`], owned ([`SvdOutput::into_parts`]).
#[derive(Clone, Debug)]
pub struct SvdParts<T: Element = f32> {
    /// Shape, per-matrix status, engine, timings and work.
    pub report: Report,
    /// Which vectors were computed.
    pub vectors: Vectors,
    /// `count×k` singular values, row-major.
    pub singular_values: Vec<T::Real>,
    /// `count×m×u_cols`, each matrix row-major (empty without vectors).
    pub u: Vec<T>,
    /// `count×vt_rows×n`, each matrix row-major (empty without vectors).
    pub vt: Vec<T>,
}

impl<T: Real> SvdOutput<T> {
    /// `U·diag(σ)·Vᵀ` of matrix `i` (thin part), in f64, or `None` for values-only output.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn reconstruct(&self, i: usize) -> Option<DMatrix<f64>> {
        let k = self.report.k();
        let u = self.u(i)?;
        let vt = self.vt(i)?;
        let s = self.singular_values(i);
        Some(DMatrix::from_fn(self.report.m, self.report.n, |r, c| {
            (0..k)
                .map(|j| u[(r, j)].to_f64() * s[j].to_f64() * vt[(j, c)].to_f64())
                .sum()
        }))
    }
}

/// Matrix `i` of a buffer of row-major `rows×cols` matrices as an nalgebra matrix (a
/// column-major copy), `None` when empty.
///
/// A copy, not a view: a view of row-major storage has a row stride, and nalgebra 0.35's
/// products with such views (`gemv`, `axpy`, and every product of complex matrices) write past
/// the end of their buffers (dimforge/nalgebra#1616; regression test
/// `nalgebra_issue_1616_strided_views_in_products`). The flat arrays (`all_u`, …) are the
/// zero-copy access.
///
/// # Panics
/// If the buffer is too short for matrix `i`.
pub(crate) fn row_major_matrix<T: nalgebra::Scalar>(
    data: &[T],
    i: usize,
    rows: usize,
    cols: usize,
) -> Option<DMatrix<T>> {
    if cols == 0 || rows == 0 || data.is_empty() {
        return None;
    }
    let len = rows * cols;
    Some(DMatrix::from_row_slice(
        rows,
        cols,
        &data[i * len..(i + 1) * len],
    ))
}
