//! The result of a batched SVD: singular values, U, Vᵀ and a status per matrix.

use nalgebra::{DMatrix, DMatrixView, Dyn};

use crate::options::Vectors;

/// Outcome for one matrix of the batch.
///
/// The integer values are stable (they are what `status.npy` holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    /// Converged: a full sweep found every column pair orthogonal within the tolerance.
    Converged = 0,
    /// Still rotating after `max_sweeps` sweeps. The results are returned but may not meet the
    /// accuracy bounds; [`MatrixInfo::off_diagonal`] says how far from converged it was.
    NotConverged = 1,
    /// The matrix holds a NaN or an infinity. Its singular values and vectors are all NaN;
    /// the other matrices of the batch are unaffected.
    NonFinite = 2,
}

impl Status {
    /// The stable integer code (`0`, `1`, `2`).
    #[inline]
    #[must_use]
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The status for an integer code, if it is one.
    #[inline]
    #[must_use]
    pub fn from_code(code: i32) -> Option<Self> {
        match code {
            0 => Some(Status::Converged),
            1 => Some(Status::NotConverged),
            2 => Some(Status::NonFinite),
            _ => None,
        }
    }
}

/// Convergence report for one matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatrixInfo {
    /// Outcome.
    pub status: Status,
    /// Jacobi sweeps performed, including the final sweep that found nothing to rotate.
    /// `0` for zero and non-finite matrices, and always `0` on the CPU path (nalgebra does not
    /// run Jacobi sweeps).
    pub sweeps: u32,
    /// Largest `|a_pᵀa_q| / (‖a_p‖‖a_q‖)` over the column pairs of the last sweep (the
    /// off-diagonal measure at exit; ≤ the tolerance when converged). NaN for non-finite input;
    /// `0` on the CPU path.
    pub off_diagonal: f32,
}

/// Host-side wall-clock time of the phases of one call, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Writing the input to the device (queue writes and staging).
    pub upload: f64,
    /// From submitting the kernels until their results are ready to copy back.
    pub compute: f64,
    /// Mapping the result buffers and copying them into the output, plus host finalisation.
    pub download: f64,
}

/// Work a GPU call performed, counted by the scheduler (all zero on the CPU path). These are
/// the figures that carry over from a software device to a real GPU, unlike seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkCounts {
    /// Compute dispatches recorded.
    pub dispatches: u64,
    /// Queue submissions.
    pub submissions: u64,
    /// Times the host waited for the device to read results or convergence state back.
    pub host_round_trips: u64,
    /// Bytes written to the device (input matrices and parameters).
    pub bytes_uploaded: u64,
    /// Bytes read back from the device.
    pub bytes_downloaded: u64,
    /// Chunks the batch was split into.
    pub chunks: u64,
}

/// Which engine produced an [`SvdOutput`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// The WGSL one-sided Jacobi kernels through wgpu.
    Gpu,
    /// nalgebra on the host (f64 internally).
    Cpu,
}

/// Singular values and vectors of every matrix of a batch.
///
/// With `k = min(m, n)`:
/// * singular values: `count×k`, each row non-negative and (by default) descending;
/// * U: `count×m×u_cols`, each matrix **row-major**, `u_cols` = `k` (thin) or `m` (full);
/// * Vᵀ: `count×vt_rows×n`, each matrix **row-major**, `vt_rows` = `k` (thin) or `n` (full).
///
/// These are exactly the arrays `numpy.linalg.svd(a, full_matrices=…)` returns for a
/// `(count, m, n)` array. U and V have orthonormal columns even for rank-deficient and zero
/// matrices (the basis is completed). [`SvdOutput::u`] and [`SvdOutput::vt`] give nalgebra
/// views without copying.
#[derive(Clone, Debug)]
pub struct SvdOutput {
    pub(crate) count: usize,
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) vectors: Vectors,
    pub(crate) singular_values: Vec<f32>,
    pub(crate) u: Vec<f32>,
    pub(crate) vt: Vec<f32>,
    pub(crate) info: Vec<MatrixInfo>,
    pub(crate) engine: Engine,
    pub(crate) timings: Timings,
    pub(crate) work: WorkCounts,
}

impl Default for SvdOutput {
    /// An output of no matrices, to pass to [`Gpu::svd_into`](crate::Gpu::svd_into).
    fn default() -> Self {
        Self::empty(Engine::Gpu)
    }
}

impl SvdOutput {
    /// An output with every array allocated (zero-filled) for `count` `m×n` matrices.
    pub(crate) fn allocate(
        count: usize,
        m: usize,
        n: usize,
        vectors: Vectors,
        engine: Engine,
    ) -> Self {
        let mut out = Self::empty(engine);
        out.reshape(count, m, n, vectors, engine);
        out
    }

    /// An output of no matrices, to be reshaped by a solve.
    pub(crate) fn empty(engine: Engine) -> Self {
        Self {
            count: 0,
            m: 0,
            n: 0,
            vectors: Vectors::None,
            singular_values: Vec::new(),
            u: Vec::new(),
            vt: Vec::new(),
            info: Vec::new(),
            engine,
            timings: Timings::default(),
            work: WorkCounts::default(),
        }
    }

    /// Reshapes this output for `count` `m×n` matrices, keeping the allocations where they
    /// are large enough: an output reused across calls of one shape allocates (and page-faults)
    /// nothing. The values are left for the caller to overwrite; timings and work counts are
    /// reset.
    pub(crate) fn reshape(
        &mut self,
        count: usize,
        m: usize,
        n: usize,
        vectors: Vectors,
        engine: Engine,
    ) {
        let k = m.min(n);
        self.count = count;
        self.m = m;
        self.n = n;
        self.vectors = vectors;
        self.engine = engine;
        fit(&mut self.singular_values, count * k);
        fit(&mut self.u, count * m * vectors.u_cols(m, n));
        fit(&mut self.vt, count * vectors.vt_rows(m, n) * n);
        self.info.resize(
            count,
            MatrixInfo {
                status: Status::Converged,
                sweeps: 0,
                off_diagonal: 0.0,
            },
        );
        self.timings = Timings::default();
        self.work = WorkCounts::default();
    }

    /// Number of matrices.
    #[inline]
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }

    /// `(m, n)`, the shape of each input matrix.
    #[inline]
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    /// `min(m, n)`.
    #[inline]
    #[must_use]
    pub fn k(&self) -> usize {
        self.m.min(self.n)
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
        self.vectors.u_cols(self.m, self.n)
    }

    /// Rows of each Vᵀ (`0`, `k` or `n`).
    #[inline]
    #[must_use]
    pub fn vt_rows(&self) -> usize {
        self.vectors.vt_rows(self.m, self.n)
    }

    /// The `k` singular values of matrix `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[inline]
    #[must_use]
    pub fn singular_values(&self, i: usize) -> &[f32] {
        let k = self.k();
        &self.singular_values[i * k..(i + 1) * k]
    }

    /// All singular values, `count×k`, row-major.
    #[inline]
    #[must_use]
    pub fn all_singular_values(&self) -> &[f32] {
        &self.singular_values
    }

    /// U of matrix `i` (`m×u_cols`) as an nalgebra view, or `None` for values-only output.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn u(&self, i: usize) -> Option<DMatrixView<'_, f32, Dyn, Dyn>> {
        let c = self.u_cols();
        row_major_view(&self.u, i, self.m, c)
    }

    /// Vᵀ of matrix `i` (`vt_rows×n`) as an nalgebra view, or `None` for values-only output.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn vt(&self, i: usize) -> Option<DMatrixView<'_, f32, Dyn, Dyn>> {
        row_major_view(&self.vt, i, self.vt_rows(), self.n)
    }

    /// All U matrices, `count×m×u_cols`, each row-major (numpy layout).
    #[inline]
    #[must_use]
    pub fn all_u(&self) -> &[f32] {
        &self.u
    }

    /// All Vᵀ matrices, `count×vt_rows×n`, each row-major (numpy layout).
    #[inline]
    #[must_use]
    pub fn all_vt(&self) -> &[f32] {
        &self.vt
    }

    /// `U·diag(σ)·Vᵀ` of matrix `i` (thin part), in f64, or `None` for values-only output.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn reconstruct(&self, i: usize) -> Option<DMatrix<f64>> {
        let k = self.k();
        let u = self.u(i)?;
        let vt = self.vt(i)?;
        let s = self.singular_values(i);
        Some(DMatrix::from_fn(self.m, self.n, |r, c| {
            (0..k)
                .map(|j| f64::from(u[(r, j)]) * f64::from(s[j]) * f64::from(vt[(j, c)]))
                .sum()
        }))
    }

    /// Status of matrix `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[inline]
    #[must_use]
    pub fn status(&self, i: usize) -> Status {
        self.info[i].status
    }

    /// Convergence report of matrix `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[inline]
    #[must_use]
    pub fn info(&self, i: usize) -> MatrixInfo {
        self.info[i]
    }

    /// Convergence reports of all matrices.
    #[inline]
    #[must_use]
    pub fn infos(&self) -> &[MatrixInfo] {
        &self.info
    }

    /// Number of matrices with the given status.
    #[must_use]
    pub fn count_status(&self, status: Status) -> usize {
        self.info.iter().filter(|x| x.status == status).count()
    }

    /// Whether every matrix converged.
    #[must_use]
    pub fn all_converged(&self) -> bool {
        self.info.iter().all(|x| x.status == Status::Converged)
    }

    /// Largest number of sweeps any matrix used.
    #[must_use]
    pub fn max_sweeps_used(&self) -> u32 {
        self.info.iter().map(|x| x.sweeps).max().unwrap_or(0)
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

    /// Dispatches, submissions, host round trips and bytes moved by the call.
    #[inline]
    #[must_use]
    pub fn work(&self) -> WorkCounts {
        self.work
    }
}

/// Matrix `i` of a buffer of row-major `rows×cols` matrices as an nalgebra view (`None` when
/// empty).
pub(crate) fn row_major_view(
    data: &[f32],
    i: usize,
    rows: usize,
    cols: usize,
) -> Option<DMatrixView<'_, f32, Dyn, Dyn>> {
    if cols == 0 || rows == 0 || data.is_empty() {
        return None;
    }
    let len = rows * cols;
    let s = &data[i * len..(i + 1) * len];
    Some(DMatrixView::from_slice_with_strides_generic(
        s,
        Dyn(rows),
        Dyn(cols),
        Dyn(cols),
        Dyn(1),
    ))
}

/// Resizes `v` to `len` values, in place when its allocation is large enough; otherwise a new
/// zeroed allocation (`vec!` of zeros gets pages the OS zeroes lazily, where `resize` would
/// write every value before the solve overwrites it).
fn fit(v: &mut Vec<f32>, len: usize) {
    if v.capacity() >= len {
        v.resize(len, 0.0);
    } else {
        *v = vec![0.0; len];
    }
}
