//! Batched polar decomposition `A = R·S` of square matrices.
//!
//! `R` is the proper rotation (orthogonal, det R = +1) closest to `A` in the Frobenius norm and
//! `S = Rᵀ·A` is symmetric. Both come from the SVD in the rotation sign convention,
//! `A = U·Σ·Vᵀ` with det U = det V = +1: `R = U·Vᵀ` and `S = V·Σ·Vᵀ`. When det A < 0 (a
//! reflection, an inverted element) the last singular value is negative, so `S` is symmetric
//! but indefinite — the decomposition physics codes (corotated elasticity, MPM, shape
//! matching) want, as opposed to the orthogonal-polar factor with det = −1.
//!
//! 2×2 and 3×3 run entirely in the dedicated GPU kernel; other sizes compute the SVD on the
//! GPU and the products on the host in f64.

use nalgebra::{DMatrixView, Dyn};

use crate::batch::MatrixBatch;
use crate::error::{Error, Result};
use crate::options::{SignConvention, SvdOptions, Vectors};
use crate::output::{Engine, MatrixInfo, Status, SvdOutput, Timings, WorkCounts, row_major_view};

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
/// (16·n·ε relative to ‖A‖, ε = 2⁻²³).
#[derive(Clone, Debug)]
pub struct PolarOutput {
    count: usize,
    n: usize,
    r: Vec<f32>,
    s: Vec<f32>,
    /// The singular values the solve produced on the way (kept so that a reused output
    /// reuses this allocation too; not part of the result).
    sigma: Vec<f32>,
    info: Vec<MatrixInfo>,
    engine: Engine,
    timings: Timings,
    work: WorkCounts,
}

impl Default for PolarOutput {
    /// An output of no matrices, to pass to [`Gpu::polar_into`](crate::Gpu::polar_into).
    fn default() -> Self {
        Self::from_kernel_output(SvdOutput::default(), false)
    }
}

impl PolarOutput {
    /// Number of matrices.
    #[inline]
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }

    /// `n`, the size of each matrix.
    #[inline]
    #[must_use]
    pub fn n(&self) -> usize {
        self.n
    }

    /// R of matrix `i` as an nalgebra view.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn r(&self, i: usize) -> DMatrixView<'_, f32, Dyn, Dyn> {
        row_major_view(&self.r, i, self.n, self.n).expect("R is never empty")
    }

    /// S of matrix `i` as an nalgebra view, or `None` when only R was computed.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn s(&self, i: usize) -> Option<DMatrixView<'_, f32, Dyn, Dyn>> {
        row_major_view(&self.s, i, self.n, self.n)
    }

    /// All R, `count×n×n`, each row-major.
    #[inline]
    #[must_use]
    pub fn all_r(&self) -> &[f32] {
        &self.r
    }

    /// All S, `count×n×n`, each row-major (empty when only R was computed).
    #[inline]
    #[must_use]
    pub fn all_s(&self) -> &[f32] {
        &self.s
    }

    /// Status of matrix `i` (NaN input gives NaN factors and [`Status::NonFinite`]).
    ///
    /// # Panics
    /// If `i >= count`.
    #[inline]
    #[must_use]
    pub fn status(&self, i: usize) -> Status {
        self.info[i].status
    }

    /// Convergence reports of all matrices.
    #[inline]
    #[must_use]
    pub fn infos(&self) -> &[MatrixInfo] {
        &self.info
    }

    /// Which engine computed this output.
    #[inline]
    #[must_use]
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Host-side timings of the call.
    #[inline]
    #[must_use]
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Dispatches, submissions, host round trips and bytes moved (GPU only).
    #[inline]
    #[must_use]
    pub fn work(&self) -> WorkCounts {
        self.work
    }

    /// Takes R and S directly from a dedicated-kernel output (R in the U slot, S in Vᵀ).
    pub(crate) fn from_kernel_output(out: SvdOutput, rotation_only: bool) -> Self {
        let mut s = out.vt;
        if rotation_only {
            s.clear(); // keeps the allocation for a later call that wants S
        }
        Self {
            count: out.count,
            n: out.n,
            r: out.u,
            s,
            sigma: out.singular_values,
            info: out.info,
            engine: out.engine,
            timings: out.timings,
            work: out.work,
        }
    }

    /// The inverse of [`PolarOutput::from_kernel_output`]: this output's allocations as an
    /// SVD output for the dedicated kernel to write into.
    pub(crate) fn into_kernel_output(self) -> SvdOutput {
        SvdOutput {
            count: self.count,
            m: self.n,
            n: self.n,
            vectors: crate::Vectors::Full,
            singular_values: self.sigma,
            u: self.r,
            vt: self.s,
            info: self.info,
            engine: self.engine,
            timings: self.timings,
            work: self.work,
        }
    }

    /// Forms R = U·Vᵀ and S = V·Σ·Vᵀ in f64 from an SVD in the rotation convention.
    pub(crate) fn from_svd(out: SvdOutput, rotation_only: bool) -> Self {
        let (count, n) = (out.count, out.n);
        let mut r = vec![0.0f32; count * n * n];
        let mut s = if rotation_only {
            Vec::new()
        } else {
            vec![0.0f32; count * n * n]
        };
        for b in 0..count {
            let u = &out.u[b * n * n..(b + 1) * n * n];
            let vt = &out.vt[b * n * n..(b + 1) * n * n];
            let sigma = &out.singular_values[b * n..(b + 1) * n];
            for i in 0..n {
                for j in 0..n {
                    // R(i, j) = Σ_k U(i, k)·Vᵀ(k, j); S(i, j) = Σ_k V(i, k)·σ_k·Vᵀ(k, j).
                    let (mut rij, mut sij) = (0.0f64, 0.0f64);
                    for k in 0..n {
                        let vt_kj = f64::from(vt[k * n + j]);
                        rij += f64::from(u[i * n + k]) * vt_kj;
                        sij += f64::from(vt[k * n + i]) * f64::from(sigma[k]) * vt_kj;
                    }
                    r[b * n * n + i * n + j] = rij as f32;
                    if !rotation_only {
                        s[b * n * n + i * n + j] = sij as f32;
                    }
                }
            }
        }
        Self {
            count,
            n,
            r,
            s,
            sigma: out.singular_values,
            info: out.info,
            engine: out.engine,
            timings: out.timings,
            work: out.work,
        }
    }
}

/// The SVD options a polar decomposition needs, after checking the batch is square.
pub(crate) fn svd_options(batch: &MatrixBatch<'_>) -> Result<SvdOptions> {
    if batch.rows() != batch.cols() {
        return Err(Error::InvalidOption(format!(
            "the polar decomposition needs square matrices, not {}×{}",
            batch.rows(),
            batch.cols()
        )));
    }
    Ok(SvdOptions::default()
        .with_vectors(Vectors::Full)
        .with_signs(SignConvention::Rotation))
}

/// Polar decomposition of every matrix of `batch` on the CPU (nalgebra SVD in f64).
///
/// # Errors
/// [`Error::InvalidOption`] for non-square matrices.
pub fn polar_cpu(batch: &MatrixBatch<'_>, opts: &PolarOptions) -> Result<PolarOutput> {
    let out = crate::cpu::svd(batch, &svd_options(batch)?)?;
    Ok(PolarOutput::from_svd(out, opts.rotation_only))
}
