//! The engine interface: [`Solver`], one type for every caller (the command-line tool, the
//! examples, [`ops::Pca`](crate::ops::Pca), the Python package), and the one place where an
//! engine is chosen and a fallback taken.
//!
//! A [`Solver`] is built for a [`Backend`]: [`Backend::Gpu`] and [`Backend::Cpu`] always use
//! that engine; [`Backend::Auto`] (the default) decides per call by the rule below, and every
//! result says which engine ran and why ([`Report::engine`](crate::Report::engine)).
//!
//! ## The rule of `Auto`
//!
//! 1. No usable adapter: the CPU engine ([`Reason::NoAdapter`]).
//! 2. A hardware GPU (any wgpu device type but `Cpu`): the GPU engine for every shape
//!    ([`Reason::HardwareGpu`]).
//! 3. A software adapter (device type `Cpu`: Mesa's lavapipe and llvmpipe, WARP,
//!    SwiftShader), which runs the kernels on the same cores as the CPU engine: the engine
//!    that is faster for the shape, by [`software_adapter_prefers_gpu`], a fixed rule derived
//!    from `batched-svd bench` (no run-time racing, so results never depend on timing).
//! 4. The GPU chosen but a matrix exceeds a device limit: the CPU engine
//!    ([`Reason::ExceedsDevice`]); f64 on a device without `SHADER_F64` (Metal, some
//!    integrated GPUs): the CPU engine ([`Reason::MissingFeature`]).
//!
//! The adapter is looked up on the first call that needs it and the device created on the
//! first call that runs on it, so an `Auto` solver whose calls all go to the CPU never pays
//! for a device. Looking the adapter up loads the drivers (about 40 ms for Mesa's lavapipe,
//! which links LLVM: as much as a whole 1000×32×32 solve), so it is skipped when it cannot
//! change the answer: on a machine without any GPU device node (Linux: no `/dev/dri` render
//! node, no `/dev/nvidia*`, no `/dev/dxg`) every adapter wgpu can find is a software one, and a
//! shape the software rule gives the CPU goes straight to the CPU engine
//! ([`Reason::NoGpuDevice`]).

use std::sync::{Arc, OnceLock};

use crate::batch::MatrixBatch;
use crate::cpu::Cpu;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, Cutoff, LowRank, Lstsq, Pca, Pinv, RightHandSides, Truncated};
use crate::options::{SvdOptions, Vectors};
use crate::output::SvdOutput;
use crate::polar::{PolarOptions, PolarOutput};
use crate::report::{Engine, EngineChoice, Reason};

/// Which engine a [`Solver`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Decided per call (see the [module documentation](self)).
    #[default]
    Auto,
    /// The GPU engine only; no adapter is an error.
    Gpu,
    /// The CPU engine only.
    Cpu,
}

impl Backend {
    /// `"auto"`, `"gpu"` or `"cpu"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Gpu => "gpu",
            Backend::Cpu => "cpu",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;

    /// Parses `auto`, `gpu` or `cpu`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Backend::Auto),
            "gpu" => Ok(Backend::Gpu),
            "cpu" => Ok(Backend::Cpu),
            _ => Err(Error::InvalidOption(format!(
                "backend must be auto, gpu or cpu, not '{s}'"
            ))),
        }
    }
}

/// Whether, on a software adapter, the GPU engine is faster than the CPU engine for a batch
/// of `m×n` matrices of element type `T` (singular vectors or not): the rule of
/// [`Backend::Auto`] there.
///
/// Derived from `batched-svd bench` on Mesa lavapipe (22.3, LLVM 15) with 2 cores, the
/// `gpu` and `cpu` rows of each case in one run (`docs/bench-lavapipe.txt`,
/// `docs/bench-complex-lavapipe.txt`): the kernels that keep a whole matrix in one
/// invocation's registers (each SIMD lane a matrix: the dedicated 2×2/3×3 kernel and the
/// per-invocation family, up to 512 real values of W and V, a complex element two) win, 1.4×
/// at 16×16 to 3× at 3×3; every kernel that keeps W and V in memory is 10–100× slower than the
/// CPU engine there (barriers are coroutine switches, per-lane accesses gathers), which
/// covers 32×32 and up, and the tall and wide shapes.
#[must_use]
pub fn software_adapter_prefers_gpu<T: Element>(m: usize, n: usize, _vectors: Vectors) -> bool {
    let (big, small) = (m.max(n), m.min(n));
    let parts = if T::IS_COMPLEX { 2 } else { 1 };
    big <= SOFTWARE_GPU_MAX_DIM && parts * small * (big + small) <= SOFTWARE_GPU_MAX_VALUES
}

/// Largest `max(m, n)` sent to the GPU engine on a software adapter.
const SOFTWARE_GPU_MAX_DIM: usize = 16;
/// Largest number of real values of W and V (`N·(M + N)`, twice that for complex) sent to
/// the GPU engine on a software adapter: the per-invocation family's cap on CPU devices.
const SOFTWARE_GPU_MAX_VALUES: usize = 512;

/// The engine interface: SVD, polar decomposition and the derived operations on the engine
/// chosen by a [`Backend`], with the same signatures and output types whichever engine runs.
///
/// Cloning is cheap (the GPU context, once created, is shared), and a `Solver` can be used
/// from several threads at once.
///
/// ```no_run
/// use batched_svd::{Backend, MatrixBatch, Solver, SvdOptions};
/// let solver = Solver::new(Backend::Auto)?;
/// let data = vec![3.0f32, 1.0, 1.0, 3.0]; // one 2×2 matrix, row-major
/// let batch = MatrixBatch::row_major(&data, 1, 2, 2)?;
/// let out = solver.svd(&batch, &SvdOptions::default())?;
/// println!("σ = {:?} on {}", out.singular_values(0), out.engine());
/// # Ok::<(), batched_svd::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Solver {
    backend: Backend,
    cpu: Cpu,
    gpu: Arc<GpuSlot>,
}

/// The GPU side of a solver, found and created on first use.
#[derive(Default)]
struct GpuSlot {
    /// The soft cap per device buffer for a context this slot creates (`None`: the default).
    max_chunk_bytes: Option<u64>,
    /// The adapter's type, or why there is none.
    adapter: OnceLock<std::result::Result<(wgpu::Adapter, wgpu::AdapterInfo), String>>,
    /// The context, or why it could not be created.
    gpu: OnceLock<std::result::Result<Gpu, String>>,
}

impl std::fmt::Debug for GpuSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let adapter = match self.adapter.get() {
            None => "not looked up".to_string(),
            Some(Ok((_, info))) => format!("{} ({:?})", info.name, info.device_type),
            Some(Err(e)) => format!("none: {e}"),
        };
        f.debug_struct("GpuSlot")
            .field("adapter", &adapter)
            .field("device", &self.gpu.get().map(|g| g.is_ok()))
            .finish()
    }
}

impl GpuSlot {
    /// A slot holding the caller's context.
    fn with(gpu: Gpu) -> Self {
        let slot = Self::default();
        let _ = slot.gpu.set(Ok(gpu));
        slot
    }

    /// The adapter's info, looking the adapter up on first use.
    fn adapter_info(&self) -> std::result::Result<wgpu::AdapterInfo, String> {
        if let Some(Ok(gpu)) = self.gpu.get() {
            return Ok(gpu.adapter_info().clone());
        }
        self.adapter
            .get_or_init(|| {
                pollster::block_on(Gpu::pick_adapter())
                    .map(|a| {
                        let info = a.get_info();
                        (a, info)
                    })
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map(|(_, info)| info.clone())
            .map_err(Clone::clone)
    }

    /// The context, created on first use.
    fn gpu(&self) -> std::result::Result<&Gpu, String> {
        self.gpu
            .get_or_init(|| match self.adapter_info() {
                Ok(_) => {
                    let Some(Ok((adapter, _))) = self.adapter.get() else {
                        return Err("the adapter was not kept".to_string());
                    };
                    let gpu =
                        pollster::block_on(Gpu::on_adapter(adapter)).map_err(|e| e.to_string())?;
                    Ok(match self.max_chunk_bytes {
                        Some(bytes) => limit_chunks(&gpu, bytes),
                        None => gpu,
                    })
                }
                Err(e) => Err(e),
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// `gpu` with chunks capped at `bytes` per device buffer.
fn limit_chunks(gpu: &Gpu, bytes: u64) -> Gpu {
    gpu.with_plan_limits(crate::PlanLimits {
        max_chunk_bytes: bytes,
        ..gpu.plan_limits()
    })
}

impl Default for Solver {
    /// [`Backend::Auto`].
    fn default() -> Self {
        Self::auto()
    }
}

impl Solver {
    /// A solver for `backend`. [`Backend::Gpu`] creates the GPU context now; the others
    /// create nothing until a call needs it.
    ///
    /// # Errors
    /// [`Error::NoAdapter`] for [`Backend::Gpu`] without a usable adapter.
    pub fn new(backend: Backend) -> Result<Self> {
        let solver = Self {
            backend,
            cpu: Cpu::new(),
            gpu: Arc::default(),
        };
        if backend == Backend::Gpu {
            solver.gpu.gpu().map_err(Error::NoAdapter)?;
        }
        Ok(solver)
    }

    /// [`Backend::Auto`] on the best adapter, if any.
    #[must_use]
    pub fn auto() -> Self {
        Self {
            backend: Backend::Auto,
            cpu: Cpu::new(),
            gpu: Arc::default(),
        }
    }

    /// [`Backend::Cpu`].
    #[must_use]
    pub fn cpu() -> Self {
        Self {
            backend: Backend::Cpu,
            cpu: Cpu::new(),
            gpu: Arc::default(),
        }
    }

    /// A solver on the caller's GPU context (for example one made with
    /// [`Gpu::from_device`]): [`Backend::Gpu`] always uses it, [`Backend::Auto`] decides by
    /// its adapter, [`Backend::Cpu`] never touches it.
    #[must_use]
    pub fn with_gpu(gpu: Gpu, backend: Backend) -> Self {
        Self {
            backend,
            cpu: Cpu::new(),
            gpu: Arc::new(GpuSlot::with(gpu)),
        }
    }

    /// The same solver with the CPU engine on `cpu` (for example [`Cpu::with_threads`]).
    #[must_use]
    pub fn with_cpu(mut self, cpu: Cpu) -> Self {
        self.cpu = cpu;
        self
    }

    /// The same solver with GPU chunks capped at `bytes` per device buffer (see
    /// [`PlanLimits`](crate::PlanLimits)): less device memory at once (on a software adapter
    /// that is host memory), more chunks.
    #[must_use]
    pub fn with_max_chunk_bytes(mut self, bytes: u64) -> Self {
        let slot = match self.gpu.gpu.get() {
            Some(Ok(gpu)) => GpuSlot::with(limit_chunks(gpu, bytes)),
            _ => GpuSlot::default(),
        };
        self.gpu = Arc::new(GpuSlot {
            max_chunk_bytes: Some(bytes),
            ..slot
        });
        self
    }

    /// The engine a call on `m×n` matrices of `T` will run on, as [`Solver::choose`] says, with the
    /// GPU context created now when that is the GPU (so that a caller can time or warm it up
    /// separately). For `Auto`, a device that cannot be created gives the CPU engine and
    /// [`Reason::NoAdapter`].
    ///
    /// # Errors
    /// [`Error::NoAdapter`] for [`Backend::Gpu`] when the device cannot be created.
    pub fn prepare<T: Element>(
        &self,
        m: usize,
        n: usize,
        vectors: Vectors,
    ) -> Result<EngineChoice> {
        let choice = self.choose::<T>(m, n, vectors);
        if choice.kind != Engine::Gpu {
            return Ok(choice);
        }
        match self.gpu.gpu() {
            Ok(_) => Ok(choice),
            Err(why) if self.backend == Backend::Auto => Ok(EngineChoice {
                kind: Engine::Cpu,
                reason: Reason::NoAdapter(why),
            }),
            Err(why) => Err(Error::NoAdapter(why)),
        }
    }

    /// The backend this solver was built for.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The CPU engine.
    #[must_use]
    pub fn cpu_engine(&self) -> Cpu {
        self.cpu
    }

    /// The GPU context, if one has been created (by [`Solver::new`] with
    /// [`Backend::Gpu`], [`Solver::with_gpu`], or a call that ran on the GPU).
    #[must_use]
    pub fn gpu(&self) -> Option<&Gpu> {
        self.gpu.gpu.get().and_then(|g| g.as_ref().ok())
    }

    /// The adapter the GPU engine runs on (looked up now if it was not yet), or why there is
    /// none. Does not create a device.
    ///
    /// # Errors
    /// [`Error::NoAdapter`] when there is no usable adapter.
    pub fn adapter_info(&self) -> Result<wgpu::AdapterInfo> {
        self.gpu.adapter_info().map_err(Error::NoAdapter)
    }

    /// The engine a call on `m×n` matrices of `T` would run on, and why (before any device
    /// limit is checked, or whether the GPU engine has a kernel for the shape: a call that
    /// finds none runs on the CPU with [`Reason::NoKernel`]). Looks the adapter up on first
    /// use; creates no device.
    #[must_use]
    pub fn choose<T: Element>(&self, m: usize, n: usize, vectors: Vectors) -> EngineChoice {
        let (kind, reason) = match self.backend {
            Backend::Cpu => (Engine::Cpu, Reason::Requested),
            Backend::Gpu => (Engine::Gpu, Reason::Requested),
            Backend::Auto
                if self.gpu.adapter.get().is_none()
                    && self.gpu.gpu.get().is_none()
                    && !software_adapter_prefers_gpu::<T>(m, n, vectors)
                    && crate::gpu::no_gpu_device_node() =>
            {
                (Engine::Cpu, Reason::NoGpuDevice)
            }
            Backend::Auto => match self.gpu.adapter_info() {
                Err(why) => (Engine::Cpu, Reason::NoAdapter(why)),
                Ok(info) if info.device_type != wgpu::DeviceType::Cpu => {
                    (Engine::Gpu, Reason::HardwareGpu)
                }
                Ok(_) if software_adapter_prefers_gpu::<T>(m, n, vectors) => {
                    (Engine::Gpu, Reason::SoftwareAdapterGpuFaster)
                }
                Ok(_) => (Engine::Cpu, Reason::SoftwareAdapterCpuFaster),
            },
        };
        EngineChoice { kind, reason }
    }

    /// Runs `on_gpu` or `on_cpu` as [`Solver::choose`] decides, falling back to the CPU for
    /// `Auto` when the device cannot be created or a matrix exceeds it, and records the
    /// choice in the result's report.
    fn dispatch<T, E: Element>(
        &self,
        batch: &MatrixBatch<'_, E>,
        vectors: Vectors,
        out: &mut T,
        on_gpu: impl FnOnce(&Gpu, &mut T) -> Result<()>,
        on_cpu: impl FnOnce(&Cpu, &mut T) -> Result<()>,
        set: impl Fn(&mut T, EngineChoice),
    ) -> Result<()> {
        let auto = self.backend == Backend::Auto;
        let mut choice = self.choose::<E>(batch.rows(), batch.cols(), vectors);
        if choice.kind == Engine::Gpu {
            let gpu = match self.gpu.gpu() {
                Ok(gpu) => Some(gpu),
                Err(why) if auto => {
                    choice = EngineChoice {
                        kind: Engine::Cpu,
                        reason: Reason::NoAdapter(why),
                    };
                    None
                }
                Err(why) => return Err(Error::NoAdapter(why)),
            };
            if let Some(gpu) = gpu {
                match on_gpu(gpu, out) {
                    Ok(()) => {
                        set(out, choice);
                        return Ok(());
                    }
                    Err(e @ (Error::LimitExceeded { .. } | Error::TooLarge(_))) if auto => {
                        choice = EngineChoice {
                            kind: Engine::Cpu,
                            reason: Reason::ExceedsDevice(e.to_string()),
                        };
                    }
                    Err(Error::MissingFeature(why)) if auto => {
                        choice = EngineChoice {
                            kind: Engine::Cpu,
                            reason: Reason::MissingFeature(why),
                        };
                    }
                    Err(e @ Error::NoKernel { .. }) if auto => {
                        choice = EngineChoice {
                            kind: Engine::Cpu,
                            reason: Reason::NoKernel(e.to_string()),
                        };
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        on_cpu(&self.cpu, out)?;
        set(out, choice);
        Ok(())
    }

    /// The SVD of every matrix of `batch` (see [`SvdOutput`]; accuracy as in
    /// [`Gpu::svd`]).
    ///
    /// # Errors
    /// As the engine's: [`Error::InvalidOption`] for bad options; for [`Backend::Gpu`],
    /// [`Error::NoAdapter`] and the device errors of [`Gpu::svd`]. `Auto` falls back to the
    /// CPU instead of failing for a missing adapter or a matrix beyond the device's limits.
    pub fn svd<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
    ) -> Result<SvdOutput<T>> {
        let mut out = SvdOutput::default();
        self.svd_into(batch, opts, &mut out)?;
        Ok(out)
    }

    /// As [`Solver::svd`], writing into `out` and reusing its allocations.
    ///
    /// # Errors
    /// As [`Solver::svd`].
    pub fn svd_into<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        out: &mut SvdOutput<T>,
    ) -> Result<()> {
        opts.validate_for_batch(batch)?;
        self.dispatch(
            batch,
            opts.vectors,
            out,
            |gpu, out| gpu.svd_into(batch, opts, out),
            |cpu, out| cpu.svd_into(batch, opts, out),
            SvdOutput::set_engine,
        )
    }

    /// The polar decomposition of every square matrix of `batch` (see [`PolarOutput`]).
    ///
    /// # Errors
    /// As [`Solver::svd`]; [`Error::InvalidOption`] for non-square matrices.
    pub fn polar<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
    ) -> Result<PolarOutput<T>> {
        let mut out = PolarOutput::default();
        self.polar_into(batch, opts, &mut out)?;
        Ok(out)
    }

    /// As [`Solver::polar`], writing into `out` and reusing its allocations.
    ///
    /// # Errors
    /// As [`Solver::polar`].
    pub fn polar_into<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
        out: &mut PolarOutput<T>,
    ) -> Result<()> {
        crate::polar::svd_options(batch, opts)?;
        self.dispatch(
            batch,
            Vectors::Full,
            out,
            |gpu, out| gpu.polar_into(batch, opts, out),
            |cpu, out| cpu.polar_into(batch, opts, out),
            PolarOutput::set_engine,
        )
    }

    /// The SVD of `batch` truncated by `cutoff` ([`ops::truncate`]).
    ///
    /// # Errors
    /// As [`Solver::svd`] and [`ops::truncate`].
    pub fn truncated_svd<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        cutoff: Cutoff,
    ) -> Result<Truncated<T>> {
        ops::truncate(&self.svd(batch, opts)?, cutoff)
    }

    /// The low-rank approximation of every matrix of `batch` ([`ops::low_rank`]), from a
    /// thin SVD with `opts`' tolerance and sweep cap.
    ///
    /// # Errors
    /// As [`Solver::svd`] and [`ops::low_rank`].
    pub fn low_rank<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        cutoff: Cutoff,
    ) -> Result<LowRank<T>> {
        ops::low_rank(&self.svd(batch, &thin(opts))?, cutoff)
    }

    /// The pseudoinverse of every matrix of `batch` ([`ops::pinv`]), from a thin SVD with
    /// `opts`' tolerance and sweep cap.
    ///
    /// # Errors
    /// As [`Solver::svd`] and [`ops::pinv`].
    pub fn pinv<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        rcond: Option<f64>,
    ) -> Result<Pinv<T>> {
        if let Some(rcond) = rcond {
            ops::pinv::validate_rcond(rcond)?;
        }
        ops::pinv(&self.svd(batch, &thin(opts))?, rcond)
    }

    /// Minimum-norm least squares for every matrix of `batch` and its right-hand sides
    /// ([`ops::lstsq`]), from a thin SVD with `opts`' tolerance and sweep cap.
    ///
    /// # Errors
    /// As [`Solver::svd`] and [`ops::lstsq`].
    pub fn lstsq<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        rhs: &RightHandSides<'_, T>,
        opts: &SvdOptions,
        rcond: Option<f64>,
    ) -> Result<Lstsq<T>> {
        if let Some(rcond) = rcond {
            ops::pinv::validate_rcond(rcond)?;
        }
        ops::lstsq::check_rhs(batch, rhs)?;
        ops::lstsq(batch, &self.svd(batch, &thin(opts))?, rhs, rcond)
    }

    /// A PCA of every data matrix of `data` ([`Pca::fit`]).
    ///
    /// # Errors
    /// As [`Pca::fit`].
    pub fn pca<T: Element>(
        &self,
        data: &MatrixBatch<'_, T>,
        n_components: Option<usize>,
    ) -> Result<Pca<T>> {
        Pca::fit(data, n_components, self)
    }
}

/// `opts` with thin vectors (what the derived operations need).
fn thin(opts: &SvdOptions) -> SvdOptions {
    opts.clone().with_vectors(Vectors::Thin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_rule() {
        for (m, n) in [(2, 2), (3, 3), (4, 4), (8, 8), (8, 3), (16, 16), (16, 8)] {
            assert!(
                software_adapter_prefers_gpu::<f32>(m, n, Vectors::Thin),
                "{m}×{n}"
            );
            assert!(
                software_adapter_prefers_gpu::<f64>(m, n, Vectors::Thin),
                "{m}×{n}"
            );
        }
        for (m, n) in [(17, 16), (32, 32), (64, 8), (8, 64), (256, 16), (512, 512)] {
            assert!(
                !software_adapter_prefers_gpu::<f32>(m, n, Vectors::Thin),
                "{m}×{n}"
            );
        }
        // Complex: the same registers hold half as many elements.
        type C32 = nalgebra::Complex<f32>;
        for (m, n) in [(2, 2), (3, 3), (4, 4), (8, 8), (11, 5), (16, 8)] {
            assert!(
                software_adapter_prefers_gpu::<C32>(m, n, Vectors::Thin),
                "{m}×{n}"
            );
        }
        for (m, n) in [(12, 12), (16, 16), (16, 12), (32, 32)] {
            assert!(
                !software_adapter_prefers_gpu::<C32>(m, n, Vectors::Thin),
                "{m}×{n}"
            );
        }
    }

    #[test]
    fn backend_names_round_trip() {
        for b in [Backend::Auto, Backend::Gpu, Backend::Cpu] {
            assert_eq!(b.name().parse::<Backend>().unwrap(), b);
        }
        assert!("tpu".parse::<Backend>().is_err());
    }

    #[test]
    fn cpu_backend_reports_requested() {
        let s = Solver::cpu();
        let c = s.choose::<f32>(64, 64, Vectors::Thin);
        assert_eq!((c.kind, c.reason), (Engine::Cpu, Reason::Requested));
        assert!(s.gpu().is_none());
    }
}
