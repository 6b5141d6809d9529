//! What every result carries besides its arrays: the batch's shape, a status per matrix, which
//! engine ran and why, and what the call cost.
//!
//! [`Report`] is shared by every output type ([`SvdOutput`](crate::SvdOutput),
//! [`PolarOutput`](crate::PolarOutput) and the results of [`ops`](crate::ops)); each of them
//! dereferences to its report, so `out.status(i)`, `out.engine()` or `out.timings()` read the
//! same way on all of them.

use std::fmt;

/// Outcome for one matrix of the batch.
///
/// The integer values are stable (they are what `status.npy` holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    /// Converged: a full sweep found every column pair orthogonal within the tolerance (GPU
    /// engine), or the decomposition passed its checks (CPU engine).
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
    /// `0` for zero and non-finite matrices; on the CPU engine the sweeps of its Jacobi solver
    /// for small matrices, `0` where it used a bidiagonalising SVD.
    pub sweeps: u32,
    /// Largest `|a_pᵀa_q| / (‖a_p‖‖a_q‖)` over the column pairs of the last sweep (the
    /// off-diagonal measure at exit; ≤ the tolerance when converged). NaN for non-finite input;
    /// `0` on the CPU engine.
    pub off_diagonal: f32,
}

impl MatrixInfo {
    /// A converged matrix that needed no sweeps.
    pub(crate) const CONVERGED: Self = Self {
        status: Status::Converged,
        sweeps: 0,
        off_diagonal: 0.0,
    };
}

/// Host-side wall-clock time of the phases of one call, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Writing the input to the device (queue writes and staging). 0 on the CPU engine.
    pub upload: f64,
    /// From submitting the kernels until their results are ready to copy back (GPU), or the
    /// decomposition itself (CPU).
    pub compute: f64,
    /// Mapping the result buffers and copying them into the output, plus host finalisation.
    pub download: f64,
}

/// Work a GPU call performed, counted by the scheduler (all zero on the CPU engine). These are
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

/// The two engines: which one computed a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// The WGSL one-sided Jacobi kernels through wgpu ([`Gpu`](crate::Gpu)).
    Gpu,
    /// The host ([`cpu`](crate::cpu)): f64 one-sided Jacobi for small matrices, faer's SVD for
    /// larger ones, every result verified.
    Cpu,
}

impl Engine {
    /// `"gpu"` or `"cpu"`, as the command-line tool and `report.json` spell it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Engine::Gpu => "gpu",
            Engine::Cpu => "cpu",
        }
    }
}

/// Why an engine ran: the caller's request, or the rule of [`Backend::Auto`](crate::Backend).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The caller asked for this engine ([`Backend::Gpu`](crate::Backend::Gpu),
    /// [`Backend::Cpu`](crate::Backend::Cpu), or an engine called directly).
    Requested,
    /// Auto on a hardware GPU: the GPU serves every shape that fits it.
    HardwareGpu,
    /// Auto on a software adapter (wgpu device type `Cpu`), where the GPU engine is the faster
    /// one for this shape (see [`engine::software_adapter_prefers_gpu`](crate::engine)).
    SoftwareAdapterGpuFaster,
    /// Auto on a software adapter, where the CPU engine is the faster one for this shape.
    SoftwareAdapterCpuFaster,
    /// Auto on a machine without any GPU device node, where every adapter is a software one
    /// and the CPU engine is the faster one for this shape (decided without loading the
    /// drivers; see the [engine module](crate::engine)).
    NoGpuDevice,
    /// Auto without a usable GPU adapter; the message says what failed.
    NoAdapter(String),
    /// Auto: a matrix exceeds a device limit; the message names it.
    ExceedsDevice(String),
    /// Auto: the device lacks a feature this call needs; the message names it.
    MissingFeature(String),
    /// Auto: the GPU engine has no kernel for this element type in the family the call takes
    /// (complex input with the dedicated 2×2/3×3 family forced, for now); the message names
    /// it.
    NoKernel(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Requested => f.write_str("requested"),
            Reason::HardwareGpu => f.write_str("hardware GPU"),
            Reason::SoftwareAdapterGpuFaster => {
                f.write_str("software adapter: the GPU engine is faster for this shape")
            }
            Reason::SoftwareAdapterCpuFaster => {
                f.write_str("software adapter: the CPU engine is faster for this shape")
            }
            Reason::NoGpuDevice => f.write_str(
                "no GPU device on this machine (any adapter is a software one): the CPU engine \
                 is faster for this shape",
            ),
            Reason::NoAdapter(why) => write!(f, "no adapter: {why}"),
            Reason::ExceedsDevice(why) => write!(f, "a matrix exceeds a device limit: {why}"),
            Reason::MissingFeature(why) => write!(f, "the device lacks a feature: {why}"),
            Reason::NoKernel(why) => write!(f, "no GPU kernel: {why}"),
        }
    }
}

impl Reason {
    /// Whether this is a fallback from the GPU that [`Backend::Auto`](crate::Backend::Auto)
    /// took (no adapter, a device limit or a missing feature), as opposed to a choice.
    #[must_use]
    pub fn is_fallback(&self) -> bool {
        matches!(
            self,
            Reason::NoAdapter(_)
                | Reason::ExceedsDevice(_)
                | Reason::MissingFeature(_)
                | Reason::NoKernel(_)
        )
    }
}

/// The engine that computed a result, and why it was that one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineChoice {
    /// The engine that ran.
    pub kind: Engine,
    /// Why.
    pub reason: Reason,
}

impl EngineChoice {
    /// `kind`, because the caller asked for it.
    #[must_use]
    pub(crate) fn requested(kind: Engine) -> Self {
        Self {
            kind,
            reason: Reason::Requested,
        }
    }
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind.name(), self.reason)
    }
}

/// The facts every result shares: `count` matrices of `m×n`, a [`MatrixInfo`] per matrix,
/// the engine that ran and why, host timings and counted work.
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) count: usize,
    /// numpy's leading dimensions of the batch (their product is `count`).
    pub(crate) batch_shape: Vec<usize>,
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) info: Vec<MatrixInfo>,
    pub(crate) engine: EngineChoice,
    pub(crate) timings: Timings,
    pub(crate) work: WorkCounts,
}

impl Report {
    /// A report of no matrices.
    pub(crate) fn empty(engine: Engine) -> Self {
        Self {
            count: 0,
            batch_shape: vec![0],
            m: 0,
            n: 0,
            info: Vec::new(),
            engine: EngineChoice::requested(engine),
            timings: Timings::default(),
            work: WorkCounts::default(),
        }
    }

    /// Reshapes for `count` `m×n` matrices; timings and work counts are reset. Keeps the
    /// infos' allocation and leaves their values for the engine to overwrite (every engine
    /// writes every matrix's info): clearing them first would write 16 bytes per matrix per
    /// call for nothing (2²⁰ 2×2 matrices on lavapipe: 30 → 26 M matrices/s).
    pub(crate) fn reshape(&mut self, batch_shape: &[usize], m: usize, n: usize, engine: Engine) {
        let count = batch_shape.iter().product();
        self.count = count;
        self.batch_shape.clear();
        self.batch_shape.extend_from_slice(batch_shape);
        self.m = m;
        self.n = n;
        self.info.resize(count, MatrixInfo::CONVERGED);
        self.engine = EngineChoice::requested(engine);
        self.timings = Timings::default();
        self.work = WorkCounts::default();
    }

    /// Number of matrices.
    #[inline]
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }

    /// numpy's leading dimensions of the batch, as given to
    /// [`MatrixBatch::from_shape`](crate::MatrixBatch::from_shape) (empty for one `(m, n)`
    /// matrix), else `[count]`. numpy shapes the outputs with them: σ `(…, k)`, U
    /// `(…, m, k|m)`, Vᵀ `(…, k|n, n)`, statuses `(…)`.
    #[inline]
    #[must_use]
    pub fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    /// `(m, n)`, the shape of each input matrix.
    #[inline]
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    /// `min(m, n)`: singular values per matrix.
    #[inline]
    #[must_use]
    pub fn k(&self) -> usize {
        self.m.min(self.n)
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

    /// Which engine computed this result, and why.
    #[inline]
    #[must_use]
    pub fn engine(&self) -> &EngineChoice {
        &self.engine
    }

    /// Host-side timings of the call.
    #[inline]
    #[must_use]
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Dispatches, submissions, host round trips and bytes moved by the call (GPU only).
    #[inline]
    #[must_use]
    pub fn work(&self) -> WorkCounts {
        self.work
    }
}
