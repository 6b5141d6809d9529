//! The GPU path: a context (device, queue, cached pipelines) and the batched SVD on it.

mod buffers;
mod context;
mod disk_cache;
mod encode;
mod errors;
mod finalize;
mod kernel;
mod pipelines;
mod plan;
mod readback;
mod scheduler;
mod select;
mod small_code;
mod source;
mod sweeps;
mod unrolled;

use std::sync::{Arc, Mutex};

pub(crate) use context::no_gpu_device_node;
pub use context::{AdapterSummary, list_adapters};
pub use disk_cache::CACHE_DIR_VAR;
pub use encode::{MatrixLayout, PolarTargets, Precision, SmallBatch, SvdTargets};
pub use plan::{DEFAULT_MAX_CHUNK_BYTES, PlanLimits};

use crate::batch::MatrixBatch;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::factors::Product;
use crate::options::SvdOptions;
use crate::output::SvdOutput;
use crate::polar::{PolarOptions, PolarOutput};

struct Shared {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    pipelines: pipelines::PipelineCache,
    /// Buffer sets reused across calls.
    buffers: buffers::BufferPool,
    /// Compiled pipelines persisted across processes, where the device supports it.
    disk_cache: Option<disk_cache::DiskCache>,
    /// A 16-byte storage buffer bound where a zero-copy caller passes no buffer.
    dummy: std::sync::OnceLock<wgpu::Buffer>,
    /// Set by the device-lost callback, for devices the library created itself.
    lost: Option<Arc<Mutex<Option<String>>>>,
}

/// A GPU context: a wgpu device and queue plus the pipelines compiled for them.
///
/// Create it once and reuse it: pipelines are compiled on first use of each kernel and shape
/// and cached here. Cloning is cheap (the context is reference-counted) and a `Gpu` can be
/// shared between threads.
///
/// ```no_run
/// use batched_svd::{Gpu, MatrixBatch, SvdOptions};
/// let gpu = Gpu::new()?;
/// let data = vec![3.0f32, 1.0, 1.0, 3.0]; // one 2×2 matrix, row-major
/// let batch = MatrixBatch::row_major(&data, 1, 2, 2)?;
/// let out = gpu.svd(&batch, &SvdOptions::default())?;
/// assert!((out.singular_values(0)[0] - 4.0).abs() < 1e-5);
/// # Ok::<(), batched_svd::Error>(())
/// ```
#[derive(Clone)]
pub struct Gpu {
    shared: Arc<Shared>,
    plan_limits: PlanLimits,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.shared.info.name)
            .field("backend", &self.shared.info.backend)
            .field("plan_limits", &self.plan_limits)
            .finish()
    }
}

impl Gpu {
    /// A context on the best adapter, blocking until it is ready.
    ///
    /// Compiled pipelines are persisted across processes where the backend supports pipeline
    /// caches (Vulkan), in `$BATCHED_SVD_CACHE_DIR` (`off` disables), else
    /// `$XDG_CACHE_HOME/batched-svd` or `~/.cache/batched-svd`.
    ///
    /// The adapter is the one named by `WGPU_ADAPTER_NAME` if that is set; otherwise the
    /// best-ranked adapter with compute shaders (discrete before integrated before software;
    /// Vulkan, Metal or DX12 before GL) among the backends allowed by `WGPU_BACKEND`
    /// (e.g. `vulkan`, `gl`; all by default). The device gets the adapter's full limits.
    ///
    /// # Errors
    /// [`Error::NoAdapter`] if there is no usable adapter or the device request fails.
    pub fn new() -> Result<Self> {
        pollster::block_on(Self::new_async())
    }

    /// As [`Gpu::new`], as a future.
    ///
    /// # Errors
    /// As [`Gpu::new`].
    pub async fn new_async() -> Result<Self> {
        let adapter = Self::pick_adapter().await?;
        Self::on_adapter(&adapter).await
    }

    /// The adapter [`Gpu::new`] picks, without creating a device (cheaper: the engine
    /// interface looks at the adapter's type before deciding whether it needs a device).
    pub(crate) async fn pick_adapter() -> Result<wgpu::Adapter> {
        let instance = context::instance();
        context::select_adapter(&instance).await
    }

    /// A context with a device of our own on `adapter`.
    pub(crate) async fn on_adapter(adapter: &wgpu::Adapter) -> Result<Self> {
        let info = adapter.get_info();
        let (device, queue, lost) = context::request_device(adapter).await?;
        Ok(Self::build(device, queue, info, Some(lost)))
    }

    /// A context on the caller's own device and queue (for example a game engine's).
    ///
    /// The library never takes ownership of the device: it only creates its own buffers and
    /// pipelines on it, catches its own errors with error scopes (the caller's
    /// uncaptured-error handler and device-lost callback are left alone), and works within
    /// the device's limits, whatever they are. If the caller enabled
    /// `Features::PIPELINE_CACHE`, compiled pipelines are persisted as for [`Gpu::new`].
    #[must_use]
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let info = device.adapter_info();
        Self::build(device, queue, info, None)
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        lost: Option<Arc<Mutex<Option<String>>>>,
    ) -> Self {
        let plan_limits = PlanLimits::from_device_limits(&device.limits());
        let disk_cache = disk_cache::dir_from_env()
            .and_then(|dir| disk_cache::DiskCache::open(&device, &info, &dir));
        Self {
            shared: Arc::new(Shared {
                device,
                queue,
                info,
                pipelines: pipelines::PipelineCache::default(),
                buffers: buffers::BufferPool::default(),
                disk_cache,
                dummy: std::sync::OnceLock::new(),
                lost,
            }),
            plan_limits,
        }
    }

    /// The same context planning chunks with `limits`, each field capped at the device's own.
    /// Lower limits split batches into more, smaller chunks (less memory at once).
    #[must_use]
    pub fn with_plan_limits(&self, limits: PlanLimits) -> Self {
        let device = PlanLimits::from_device_limits(&self.shared.device.limits());
        Self {
            shared: Arc::clone(&self.shared),
            plan_limits: limits.min(PlanLimits {
                max_chunk_bytes: u64::MAX,
                ..device
            }),
        }
    }

    /// The limits chunks are planned with.
    #[inline]
    #[must_use]
    pub fn plan_limits(&self) -> PlanLimits {
        self.plan_limits
    }

    /// Singular value decomposition of every matrix of `batch`, blocking until done.
    ///
    /// Returns σ (descending unless `opts.sort` is off), U and Vᵀ as [`SvdOutput`] describes,
    /// and a [`Status`](crate::Status) per matrix. A matrix holding NaN or ±∞ gets NaN
    /// outputs and [`Status::NonFinite`](crate::Status::NonFinite) without affecting the
    /// others.
    ///
    /// Accuracy (tested against nalgebra in f64 on random, rank-deficient, graded κ ≤ 10⁶,
    /// Hilbert, Kahan, repeated-σ and extreme-scale matrices), with ε = 2⁻²³ (f32, complex64)
    /// or 2⁻⁵² (f64, complex128):
    /// `|σᵢ − σ̂ᵢ| ≤ 16·max(m, n)·ε·σ₁`, `‖UᴴU − I‖max ≤ 16·m·ε`, `‖VᴴV − I‖max ≤ 16·n·ε`,
    /// `‖A − UΣVᴴ‖F ≤ 16·max(m, n)·ε·‖A‖F`. For complex elements the second factor is Vᴴ.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options; [`Error::LimitExceeded`] if one matrix does
    /// not fit the device; [`Error::MissingFeature`] for f64 or complex128 without
    /// `SHADER_F64`; [`Error::OutOfMemory`], [`Error::DeviceLost`],
    /// [`Error::BufferMap`], [`Error::Poll`] for device failures.
    pub fn svd<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
    ) -> Result<SvdOutput<T>> {
        pollster::block_on(self.svd_async(batch, opts))
    }

    /// As [`Gpu::svd`], as a future. On native backends waiting for the GPU blocks the thread
    /// that polls the future (wgpu's `Device::poll`).
    ///
    /// # Errors
    /// As [`Gpu::svd`].
    pub async fn svd_async<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
    ) -> Result<SvdOutput<T>> {
        let mut out = SvdOutput::default();
        self.svd_into_async(batch, opts, &mut out).await?;
        Ok(out)
    }

    /// As [`Gpu::svd`], writing into `out` (from an earlier call, or [`SvdOutput::default`])
    /// instead of a new output: its vectors are resized for this batch and keep their
    /// allocations, so calls of one shape in a loop (a simulation's frames, say) allocate no
    /// output memory. For 2²⁰ 3×3 matrices that saves about 100 MiB of fresh pages per call,
    /// whose first-touch faults cost about as much as the copy itself.
    ///
    /// # Errors
    /// As [`Gpu::svd`]. After an error the contents of `out` are unspecified (its shape may
    /// already be the new one).
    pub fn svd_into<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        out: &mut SvdOutput<T>,
    ) -> Result<()> {
        pollster::block_on(self.svd_into_async(batch, opts, out))
    }

    /// As [`Gpu::svd_into`], as a future.
    ///
    /// # Errors
    /// As [`Gpu::svd`].
    pub async fn svd_into_async<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        out: &mut SvdOutput<T>,
    ) -> Result<()> {
        let mut f = std::mem::take(out).into_factors();
        let result = scheduler::run(self, batch, opts, Product::Svd, &mut f).await;
        *out = SvdOutput::from_factors(f);
        result
    }

    /// Polar decomposition `A = R·S` of every square matrix of `batch` (see
    /// [`PolarOutput`]), blocking until done. 2×2 and 3×3 matrices run entirely in the
    /// dedicated kernel; larger ones take the SVD from the GPU and form R and S on the host
    /// in f64.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for non-square matrices; device errors as for [`Gpu::svd`].
    pub fn polar<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
    ) -> Result<PolarOutput<T>> {
        let mut out = PolarOutput::default();
        self.polar_into(batch, opts, &mut out)?;
        Ok(out)
    }

    /// As [`Gpu::polar`], as a future.
    ///
    /// # Errors
    /// As [`Gpu::polar`].
    pub async fn polar_async<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
    ) -> Result<PolarOutput<T>> {
        let mut out = PolarOutput::default();
        self.polar_into_async(batch, opts, &mut out).await?;
        Ok(out)
    }

    /// As [`Gpu::polar`], writing into `out` (from an earlier call, or
    /// [`PolarOutput::default`]) and reusing its allocations, as [`Gpu::svd_into`] does for
    /// the SVD.
    ///
    /// # Errors
    /// As [`Gpu::polar`]. After an error the contents of `out` are unspecified.
    pub fn polar_into<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
        out: &mut PolarOutput<T>,
    ) -> Result<()> {
        pollster::block_on(self.polar_into_async(batch, opts, out))
    }

    /// As [`Gpu::polar_into`], as a future.
    ///
    /// # Errors
    /// As [`Gpu::polar`].
    pub async fn polar_into_async<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
        out: &mut PolarOutput<T>,
    ) -> Result<()> {
        let svd_opts = crate::polar::svd_options(batch, opts)?;
        let mut f = std::mem::take(out).into_factors();
        let n = batch.rows();
        let result = if (n == 2 || n == 3) && !T::IS_COMPLEX {
            // The dedicated kernel forms R and S itself (real types); otherwise W = U·Vᴴ and
            // P = V·Σ·Vᴴ are formed on the host from the SVD.
            let product = Product::Polar {
                with_s: !opts.rotation_only,
            };
            scheduler::run(self, batch, &svd_opts, product, &mut f).await
        } else {
            let r = scheduler::run(self, batch, &svd_opts, Product::Svd, &mut f).await;
            if r.is_ok() {
                f.svd_to_polar(!opts.rotation_only);
            }
            r
        };
        f.product = Product::Polar {
            with_s: !opts.rotation_only,
        };
        *out = PolarOutput::from_factors(f);
        result
    }

    /// The wgpu device.
    #[inline]
    #[must_use]
    pub fn device(&self) -> &wgpu::Device {
        &self.shared.device
    }

    /// The wgpu queue.
    #[inline]
    #[must_use]
    pub fn queue(&self) -> &wgpu::Queue {
        &self.shared.queue
    }

    /// The adapter the device runs on.
    #[inline]
    #[must_use]
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.shared.info
    }

    /// Whether the device runs f64 kernels (`wgpu::Features::SHADER_F64`, requested when the
    /// adapter offers it; a caller's device has it only if the caller asked for it). Without
    /// it, f64 batches give [`Error::MissingFeature`].
    #[inline]
    #[must_use]
    pub fn supports_f64(&self) -> bool {
        self.shared
            .device
            .features()
            .contains(wgpu::Features::SHADER_F64)
    }

    /// Number of pipelines compiled so far on this context: one per distinct kernel (shape,
    /// layout, vector mode, element type, family), however many threads first use it at once.
    /// The cache keeps every one for the context's lifetime (no eviction).
    #[must_use]
    pub fn compiled_pipelines(&self) -> usize {
        self.shared.pipelines.len()
    }

    fn pipelines(&self) -> &pipelines::PipelineCache {
        &self.shared.pipelines
    }

    /// Whether results are read straight from the output buffers: on CPU and integrated
    /// adapters (memory shared with the host) with `MAPPABLE_PRIMARY_BUFFERS`, mapping saves
    /// a device-side copy into a staging buffer; on discrete GPUs it would be slower.
    fn reads_directly(&self) -> bool {
        self.device()
            .features()
            .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS)
            && matches!(
                self.shared.info.device_type,
                wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
            )
    }

    fn dummy_storage(&self) -> &wgpu::Buffer {
        self.shared.dummy.get_or_init(|| {
            self.shared.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("batched-svd unused binding"),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        })
    }

    fn buffer_pool(&self) -> &buffers::BufferPool {
        &self.shared.buffers
    }

    /// Device memory held for reuse by later calls (buffer sets of recent shapes), bytes.
    /// Bounded by 8 sets and 1 GiB; repeated calls of one shape do not grow it.
    #[must_use]
    pub fn pooled_bytes(&self) -> u64 {
        self.shared.buffers.bytes()
    }

    fn disk_cache(&self) -> Option<&disk_cache::DiskCache> {
        self.shared.disk_cache.as_ref()
    }

    /// Whether compiled pipelines are persisted on disk (the device supports pipeline caches
    /// and [`CACHE_DIR_VAR`] does not disable them).
    #[must_use]
    pub fn has_pipeline_cache(&self) -> bool {
        self.shared.disk_cache.is_some()
    }

    fn lost_message(&self) -> Option<String> {
        self.shared
            .lost
            .as_ref()
            .and_then(|l| l.lock().ok().and_then(|g| g.clone()))
    }

    /// [`Error::DeviceLost`] if the device is known to be lost.
    fn check_lost(&self) -> Result<()> {
        match self.lost_message() {
            Some(msg) => Err(Error::DeviceLost(msg)),
            None => Ok(()),
        }
    }

    /// `err`, unless the device was lost, which is then the better explanation.
    ///
    /// wgpu reports a loss through the device-lost callback, which may run only at the next
    /// poll: for errors a lost device causes, the device is polled once (without waiting) and
    /// the flag read again. A caller's own device ([`Gpu::from_device`]) keeps the caller's
    /// callback, so there a loss is recognised from wgpu's error text ("lost", "destroyed",
    /// one of our resources "is invalid", a wait on a submission that did not succeed).
    fn lost_or(&self, err: Error) -> Error {
        let device_error = matches!(
            err,
            Error::Gpu(_) | Error::BufferMap(_) | Error::Poll(_) | Error::OutOfMemory(_)
        );
        if !device_error {
            return err;
        }
        if self.lost_message().is_none() {
            let _ = self.device().poll(wgpu::PollType::Poll);
        }
        if let Some(msg) = self.lost_message() {
            return Error::DeviceLost(msg);
        }
        if self.shared.lost.is_none() {
            // Operations on a lost device are not validated any more (WebGPU reports a loss
            // only through the callback), so what surfaces is a later use of a resource the
            // lost device left invalid; on a healthy device a failed creation is caught by the
            // creating call's error scope instead.
            let text = err.to_string();
            if ["lost", "destroyed", "is invalid", "successful submission"]
                .iter()
                .any(|w| text.contains(w))
            {
                return Error::DeviceLost(format!("the device was destroyed or lost ({text})"));
            }
        }
        err
    }
}
