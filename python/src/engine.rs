//! `Engine`: one library [`Solver`] (device, compiled pipelines and buffer pools kept across
//! calls) and the computing methods the Python package calls.

use batched_svd::wgpu;
use batched_svd::{Backend, Complex, Gpu, Layout, Solver, SvdOptions, Vectors};
use numpy::{
    IxDyn, PyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::error::{to_py, unsupported};
use crate::run::{self, InfoSlices, LstsqArrays, Rhs, RunError, Shape, Summary, Value};

/// Soft cap per device buffer (as the command-line tool's): with two buffer sets in flight the
/// device holds about 10 × 4 MiB beyond the arrays; on a software adapter that is host memory
/// the process also holds the arrays in.
const CHUNK_BYTES: u64 = 4 << 20;

/// Batches of at most this much work (`count·m·n·min(m, n)`) run on one CPU thread for the
/// `auto` and `cpu` backends: a GPU submission costs about 100 µs on Mesa lavapipe (real GPUs
/// are of the same order) and splitting a batch over threads 100 µs and more, while one thread
/// decomposes such a batch in 5–110 µs (measured on lavapipe with 2 cores: one 3×3 matrix in
/// 5.5 µs against 113 µs on the GPU engine; 128 3×3, 32 4×4, 8 8×8 or one 16×16 in 35–90 µs
/// against 105–380 µs). Larger batches take the library's choice.
const SMALL_WORK: usize = 4096;

/// One engine of the library: a `batched_svd::Solver` for a backend (`"auto"`, `"gpu"` or
/// `"cpu"`), optionally on a chosen adapter. Thread-safe: calls from several Python threads run
/// concurrently (the GIL is released during each).
#[pyclass(frozen, module = "batched_svd._native")]
pub struct Engine {
    solver: Solver,
    /// The CPU engine on one thread, for small batches ([`SMALL_WORK`]); `None` for the
    /// `gpu` backend.
    one_thread: Option<Solver>,
    /// `"auto"`, `"gpu"` or `"cpu"`.
    backend: &'static str,
}

/// The adapter `Solver(adapter=…)` names: an index into `adapters()` or a case-insensitive
/// substring of its name.
enum AdapterChoice {
    Index(usize),
    Name(String),
}

impl AdapterChoice {
    fn from_py(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(name) = value.extract::<String>() {
            return Ok(AdapterChoice::Name(name));
        }
        if value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(PyTypeError::new_err(
                "adapter must be an index into adapters() or a name, not a bool",
            ));
        }
        match value.extract::<i64>() {
            Ok(i) => usize::try_from(i).map(AdapterChoice::Index).map_err(|_| {
                PyValueError::new_err(format!("adapter index must be non-negative, got {i}"))
            }),
            Err(_) => Err(PyTypeError::new_err(format!(
                "adapter must be an index into adapters() or a name, not {}",
                value.get_type().name()?
            ))),
        }
    }
}

/// Features the library's own devices ask for (`batched_svd`'s `request_device`): pipeline
/// caches and f64 kernels where offered; on adapters sharing memory with the host, mappable
/// storage buffers.
fn wanted_features(info: &wgpu::AdapterInfo) -> wgpu::Features {
    let mut features = wgpu::Features::PIPELINE_CACHE | wgpu::Features::SHADER_F64;
    if matches!(
        info.device_type,
        wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
    ) {
        features |= wgpu::Features::MAPPABLE_PRIMARY_BUFFERS;
    }
    features
}

/// Why no GPU context came from an `adapter=` choice.
enum AdapterError {
    /// Adapters exist but none is the one asked for: a bad argument (`ValueError`).
    NoSuchAdapter(String),
    /// No adapter at all, or its device could not be opened (`RuntimeError`).
    Unavailable(String),
}

impl AdapterError {
    fn into_py(self) -> PyErr {
        match self {
            AdapterError::NoSuchAdapter(why) => PyValueError::new_err(format!("adapter: {why}")),
            AdapterError::Unavailable(why) => {
                PyRuntimeError::new_err(format!("no GPU adapter: {why}"))
            }
        }
    }
}

/// A GPU context on the chosen adapter, with the adapter's full limits (as `Gpu::new` does for
/// the adapter it picks).
fn gpu_on(choice: &AdapterChoice) -> Result<Gpu, AdapterError> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let names: Vec<String> = adapters
        .iter()
        .map(|a| {
            let info = a.get_info();
            format!("{} ({:?})", info.name, info.backend)
        })
        .collect();
    let listing = || {
        if names.is_empty() {
            "no adapter was found".to_string()
        } else {
            format!(
                "the adapters found are {}",
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("[{i}] {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let missing = |why: String| {
        if names.is_empty() {
            AdapterError::Unavailable(why)
        } else {
            AdapterError::NoSuchAdapter(why)
        }
    };
    let adapter = match choice {
        AdapterChoice::Index(i) => adapters
            .get(*i)
            .ok_or_else(|| missing(format!("index {i} is out of range: {}", listing())))?,
        AdapterChoice::Name(name) => {
            let needle = name.to_lowercase();
            adapters
                .iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&needle))
                .ok_or_else(|| {
                    missing(format!("no adapter name contains '{name}': {}", listing()))
                })?
        }
    };
    let info = adapter.get_info();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("batched-svd (Python)"),
        required_features: adapter.features() & wanted_features(&info),
        required_limits: adapter.limits(),
        ..Default::default()
    }))
    .map_err(|e| {
        AdapterError::Unavailable(format!("request_device on '{}' failed: {e}", info.name))
    })?;
    Ok(Gpu::from_device(device, queue))
}

/// The batch shape of an input array `(…, p, q)`: `p×q` row-major matrices, or with
/// `transposed` the `q×p` matrices whose transposes the array holds (column-major).
fn shape_of(dims: &[usize], transposed: bool) -> PyResult<Shape> {
    let [lead @ .., p, q] = dims else {
        return Err(PyValueError::new_err(format!(
            "an array of matrices needs at least 2 dimensions, got {}",
            dims.len()
        )));
    };
    let (m, n, layout) = if transposed {
        (*q, *p, Layout::ColMajor)
    } else {
        (*p, *q, Layout::RowMajor)
    };
    Ok(Shape {
        lead: lead.to_vec(),
        count: lead.iter().product(),
        m,
        n,
        layout,
    })
}

/// A zeroed numpy array (`calloc`: pages that are never written cost nothing).
fn zeros<'py, T: numpy::Element>(py: Python<'py>, shape: &[usize]) -> Bound<'py, PyArrayDyn<T>> {
    PyArray::zeros(py, IxDyn(shape), false)
}

/// The numpy array of `shape` (C order) over `data`'s memory, which it takes over: no copy.
fn owned<'py, T: numpy::Element>(
    py: Python<'py>,
    data: Vec<T>,
    shape: &[usize],
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    PyArray::from_vec(py, data).reshape(shape.to_vec())
}

/// The per-matrix information arrays of a batch.
struct InfoArrays<'py> {
    status: Bound<'py, PyArrayDyn<i8>>,
    sweeps: Bound<'py, PyArrayDyn<u32>>,
    off_diagonal: Bound<'py, PyArrayDyn<f32>>,
}

impl<'py> InfoArrays<'py> {
    fn new(py: Python<'py>, shape: &Shape) -> Self {
        Self {
            status: zeros(py, &shape.lead),
            sweeps: zeros(py, &shape.lead),
            off_diagonal: zeros(py, &shape.lead),
        }
    }

    /// The dictionary the Python layer turns into an `Info`.
    fn into_dict(
        self,
        py: Python<'py>,
        summary: &Summary,
        reason: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("status", self.status)?;
        d.set_item("sweeps", self.sweeps)?;
        d.set_item("off_diagonal", self.off_diagonal)?;
        match &summary.engine {
            Some(choice) => {
                d.set_item("engine", choice.kind.name())?;
                match reason {
                    Some(why) => d.set_item("reason", why)?,
                    None => d.set_item("reason", choice.reason.to_string())?,
                }
                d.set_item("fallback", choice.reason.is_fallback())?;
            }
            None => {
                d.set_item("engine", py.None())?;
                d.set_item("reason", py.None())?;
                d.set_item("fallback", false)?;
            }
        }
        d.set_item("adapter", summary.adapter.as_deref())?;
        let t = &summary.timings;
        let timings = PyDict::new(py);
        timings.set_item("upload", t.upload)?;
        timings.set_item("compute", t.compute)?;
        timings.set_item("download", t.download)?;
        d.set_item("timings", timings)?;
        let w = &summary.work;
        let work = PyDict::new(py);
        work.set_item("dispatches", w.dispatches)?;
        work.set_item("submissions", w.submissions)?;
        work.set_item("host_round_trips", w.host_round_trips)?;
        work.set_item("bytes_uploaded", w.bytes_uploaded)?;
        work.set_item("bytes_downloaded", w.bytes_downloaded)?;
        work.set_item("chunks", w.chunks)?;
        work.set_item("calls", summary.calls)?;
        d.set_item("work", work)?;
        d.set_item("non_finite", summary.non_finite)?;
        d.set_item("not_converged", summary.not_converged)?;
        Ok(d)
    }
}

/// Runs `f` with the GIL released on the info arrays' slices.
fn with_info<'py, R: Send>(
    py: Python<'py>,
    info: &InfoArrays<'py>,
    f: impl FnOnce(&mut InfoSlices<'_>) -> Result<R, RunError> + Send,
) -> PyResult<R> {
    let mut status = info.status.readwrite();
    let mut sweeps = info.sweeps.readwrite();
    let mut off = info.off_diagonal.readwrite();
    let mut slices = InfoSlices {
        status: slice_mut(&mut status)?,
        sweeps: slice_mut(&mut sweeps)?,
        off_diagonal: slice_mut(&mut off)?,
    };
    py.detach(|| f(&mut slices)).map_err(|e| match e {
        RunError::Library(e) => to_py(py, e),
        RunError::Internal(why) => PyRuntimeError::new_err(format!(
            "internal error of batched_svd (please report it): {why}"
        )),
    })
}

/// The mutable slice of a freshly allocated (C-contiguous) array.
fn slice_mut<'a, 'py, T: numpy::Element>(
    a: &'a mut numpy::PyReadwriteArrayDyn<'py, T>,
) -> PyResult<&'a mut [T]> {
    a.as_slice_mut()
        .map_err(|e| PyRuntimeError::new_err(format!("output array: {e}")))
}

/// The input's slice, read in place.
fn slice<'a, 'py, T: numpy::Element>(a: &'a PyReadonlyArrayDyn<'py, T>) -> PyResult<&'a [T]> {
    a.as_slice().map_err(|e| {
        PyValueError::new_err(format!(
            "the input must be C-contiguous here (the package copies other layouts): {e}"
        ))
    })
}

/// SVD options from the Python arguments.
fn svd_options(vectors: Vectors, tol: Option<f64>, max_sweeps: Option<u32>) -> SvdOptions {
    let mut opts = SvdOptions::default().with_vectors(vectors);
    if let Some(tol) = tol {
        opts = opts.with_tolerance(tol as f32);
    }
    if let Some(sweeps) = max_sweeps {
        opts = opts.with_max_sweeps(sweeps);
    }
    opts
}

/// Calls `$body` with `$t` bound to the element type of `$a` (float32, float64, complex64 or
/// complex128) and `$arr` to the input read in place; any other dtype is [`unsupported`].
macro_rules! by_dtype {
    ($a:expr, $what:expr, |$arr:ident: $t:ident| $body:expr) => {{
        if let Ok(x) = $a.cast::<PyArrayDyn<f32>>() {
            type $t = f32;
            let $arr = x.readonly();
            $body
        } else if let Ok(x) = $a.cast::<PyArrayDyn<f64>>() {
            type $t = f64;
            let $arr = x.readonly();
            $body
        } else if let Ok(x) = $a.cast::<PyArrayDyn<Complex<f32>>>() {
            type $t = Complex<f32>;
            let $arr = x.readonly();
            $body
        } else if let Ok(x) = $a.cast::<PyArrayDyn<Complex<f64>>>() {
            type $t = Complex<f64>;
            let $arr = x.readonly();
            $body
        } else {
            Err(unsupported($what, $a))
        }
    }};
}

#[pymethods]
impl Engine {
    /// An engine for `backend` (`"auto"`, `"gpu"` or `"cpu"`), on `adapter` (an index into
    /// `adapters()` or a case-insensitive substring of an adapter's name; `None`: the library's
    /// choice, which honours `WGPU_ADAPTER_NAME` and `WGPU_BACKEND`). `"gpu"` and a given
    /// adapter create the device now; `"auto"` on the default adapter creates it on the first
    /// call that runs on the GPU.
    #[new]
    #[pyo3(signature = (backend = "auto", adapter = None, max_chunk_bytes = CHUNK_BYTES))]
    fn new(
        py: Python<'_>,
        backend: &str,
        adapter: Option<&Bound<'_, PyAny>>,
        max_chunk_bytes: u64,
    ) -> PyResult<Self> {
        let parsed: Backend = backend.parse().map_err(|_| {
            PyValueError::new_err(format!(
                "backend must be 'auto', 'gpu' or 'cpu', not {backend:?}"
            ))
        })?;
        let choice = adapter.map(AdapterChoice::from_py).transpose()?;
        let solver = match (choice, parsed) {
            (Some(_), Backend::Cpu) => {
                return Err(PyValueError::new_err(
                    "adapter= names a GPU adapter; it needs backend 'gpu' or 'auto', not 'cpu'",
                ));
            }
            (Some(choice), _) => {
                let gpu = py
                    .detach(|| gpu_on(&choice))
                    .map_err(AdapterError::into_py)?;
                Solver::with_gpu(gpu, parsed)
            }
            (None, _) => py
                .detach(|| Solver::new(parsed))
                .map_err(|e| to_py(py, e))?,
        };
        Ok(Self {
            solver: solver.with_max_chunk_bytes(max_chunk_bytes),
            one_thread: (parsed != Backend::Gpu)
                .then(|| Solver::cpu().with_cpu(batched_svd::Cpu::with_threads(1))),
            backend: parsed.name(),
        })
    }

    /// The backend this engine was made for.
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend
    }

    /// The adapter the GPU engine runs (or would run) on, as a dictionary (`name`, `backend`,
    /// `device_type`, `driver`), or `None` for the CPU backend or when there is none. Looks
    /// the adapter up if that was not done yet; creates no device.
    fn adapter_info<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        if self.backend == "cpu" {
            return Ok(None);
        }
        let Ok(info) = py.detach(|| self.solver.adapter_info()) else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("name", &info.name)?;
        d.set_item("backend", format!("{:?}", info.backend).to_lowercase())?;
        d.set_item("device_type", format!("{:?}", info.device_type))?;
        d.set_item(
            "driver",
            format!("{} {}", info.driver, info.driver_info).trim(),
        )?;
        Ok(Some(d))
    }

    /// The engine (`"gpu"` or `"cpu"`) and the reason a call on `m×n` matrices of `dtype`
    /// (numpy's name) runs there, creating the GPU device now when that is the GPU (so that
    /// it can be warmed up).
    #[pyo3(signature = (m, n, compute_uv = true, dtype = "float32"))]
    fn prepare(
        &self,
        py: Python<'_>,
        m: usize,
        n: usize,
        compute_uv: bool,
        dtype: &str,
    ) -> PyResult<(&'static str, String)> {
        let vectors = if compute_uv {
            Vectors::Thin
        } else {
            Vectors::None
        };
        let solver = &self.solver;
        let choice = py
            .detach(|| match dtype {
                "float32" => solver.prepare::<f32>(m, n, vectors),
                "float64" => solver.prepare::<f64>(m, n, vectors),
                "complex64" => solver.prepare::<Complex<f32>>(m, n, vectors),
                "complex128" => solver.prepare::<Complex<f64>>(m, n, vectors),
                _ => Err(batched_svd::Error::InvalidOption(format!(
                    "dtype must be float32, float64, complex64 or complex128, not {dtype}"
                ))),
            })
            .map_err(|e| to_py(py, e))?;
        Ok((choice.kind.name(), choice.reason.to_string()))
    }

    /// The SVD of every matrix of `a` (C-contiguous float32/float64 `(…, p, q)`; the matrices
    /// are `p×q`, or `q×p` stored column-major when `transposed`). `vectors` is `"none"`,
    /// `"thin"` or `"full"`. Returns `(s, u, vh, info)`, `u` and `vh` `None` without vectors.
    #[pyo3(signature = (a, transposed, vectors, tol = None, max_sweeps = None))]
    fn svd<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        transposed: bool,
        vectors: &str,
        tol: Option<f64>,
        max_sweeps: Option<u32>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let vectors = match vectors {
            "none" => Vectors::None,
            "thin" => Vectors::Thin,
            "full" => Vectors::Full,
            other => {
                return Err(PyValueError::new_err(format!(
                    "vectors must be 'none', 'thin' or 'full', not {other:?}"
                )));
            }
        };
        let opts = svd_options(vectors, tol, max_sweeps);
        by_dtype!(a, "svd", |arr: T| self
            .svd_t::<T>(py, &arr, transposed, &opts))
    }

    /// The polar decomposition `A = R·S` of every square matrix of `a` (as for `svd`).
    /// Returns `(r, s, info)`, `s` `None` for `rotation_only`.
    fn polar<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        transposed: bool,
        rotation_only: bool,
    ) -> PyResult<Bound<'py, PyTuple>> {
        by_dtype!(a, "polar", |arr: T| self.polar_t::<T>(
            py,
            &arr,
            transposed,
            rotation_only
        ))
    }

    /// The pseudoinverse `(…, n, m)` of every matrix of `a` (as for `svd`), inverting the
    /// singular values `σ > rcond·σ₁`. Returns `(pinv, info)`.
    #[pyo3(signature = (a, transposed, rcond, tol = None, max_sweeps = None))]
    fn pinv<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        transposed: bool,
        rcond: f64,
        tol: Option<f64>,
        max_sweeps: Option<u32>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let opts = svd_options(Vectors::Thin, tol, max_sweeps);
        by_dtype!(a, "pinv", |arr: T| self
            .pinv_t::<T>(py, &arr, transposed, rcond, &opts))
    }

    /// Minimum-norm least squares for every matrix of `a` (as for `svd`) and the right-hand
    /// sides `b` (C-contiguous, same dtype, `(…, m)` when `b_vectors`, else `(…, m, r)`).
    /// Returns `(x, residuals, rank, s, info)`: x `(…, n)` or `(…, n, r)`, residuals `(…, r)`
    /// (`(…, 1)` for vectors), rank `(…)` int64, s `(…, k)`.
    #[pyo3(signature = (a, transposed, b, b_vectors, rcond, tol = None, max_sweeps = None))]
    #[allow(clippy::too_many_arguments)]
    fn lstsq<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        transposed: bool,
        b: &Bound<'py, PyAny>,
        b_vectors: bool,
        rcond: f64,
        tol: Option<f64>,
        max_sweeps: Option<u32>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let opts = svd_options(Vectors::Thin, tol, max_sweeps);
        by_dtype!(a, "lstsq", |arr: T| {
            let b = b
                .cast::<PyArrayDyn<T>>()
                .map_err(|_| unsupported("lstsq: b must have the dtype of a, and", b))?;
            self.lstsq_t::<T>(py, &arr, transposed, &b.readonly(), b_vectors, rcond, &opts)
        })
    }

    fn __repr__(&self) -> String {
        format!("Engine(backend={:?})", self.backend)
    }
}

impl Engine {
    /// The solver for a batch: one CPU thread for small batches (auto and cpu backends),
    /// else the library's; and whether it is the small-batch one.
    fn pick(&self, shape: &Shape) -> (&Solver, bool) {
        let work = shape
            .count
            .saturating_mul(shape.m)
            .saturating_mul(shape.n)
            .saturating_mul(shape.k());
        match &self.one_thread {
            Some(one) if work <= SMALL_WORK => (one, true),
            _ => (&self.solver, false),
        }
    }

    /// The reason reported for a small batch under `auto` (the library's own otherwise).
    fn note(&self, small: bool) -> Option<&'static str> {
        (small && self.backend == "auto").then_some(
            "small batch: one CPU thread is faster than a GPU submission for this much work",
        )
    }

    fn svd_t<'py, T: Value>(
        &self,
        py: Python<'py>,
        a: &PyReadonlyArrayDyn<'py, T>,
        transposed: bool,
        opts: &SvdOptions,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let shape = shape_of(a.shape(), transposed)?;
        let data = slice(a)?;
        let (m, n, k) = (shape.m, shape.n, shape.k());
        let vectors = opts.vectors;
        let info = InfoArrays::new(py, &shape);
        let (solver, small) = self.pick(&shape);
        let (summary, out) = with_info(py, &info, |slices| {
            run::svd(solver, data, &shape, opts, slices)
        })?;
        let s = owned(py, out.s, &shape.with(&[k]))?;
        let u = owned(py, out.u, &shape.with(&[m, vectors.u_cols(m, n)]))?;
        let vh = owned(py, out.vt, &shape.with(&[vectors.vt_rows(m, n), n]))?;
        let info = info.into_dict(py, &summary, self.note(small))?;
        if vectors.wanted() {
            PyTuple::new(
                py,
                [s.into_any(), u.into_any(), vh.into_any(), info.into_any()],
            )
        } else {
            PyTuple::new(
                py,
                [
                    s.into_any(),
                    py.None().into_bound(py),
                    py.None().into_bound(py),
                    info.into_any(),
                ],
            )
        }
    }

    fn polar_t<'py, T: Value>(
        &self,
        py: Python<'py>,
        a: &PyReadonlyArrayDyn<'py, T>,
        transposed: bool,
        rotation_only: bool,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let shape = shape_of(a.shape(), transposed)?;
        let data = slice(a)?;
        let n = shape.n;
        let info = InfoArrays::new(py, &shape);
        let (solver, small) = self.pick(&shape);
        let (summary, r, s) = with_info(py, &info, |slices| {
            run::polar(solver, data, &shape, rotation_only, slices)
        })?;
        let r = owned(py, r, &shape.with(&[n, n]))?;
        let s = if rotation_only {
            py.None().into_bound(py)
        } else {
            owned(py, s, &shape.with(&[n, n]))?.into_any()
        };
        let info = info.into_dict(py, &summary, self.note(small))?;
        PyTuple::new(py, [r.into_any(), s, info.into_any()])
    }

    fn pinv_t<'py, T: Value>(
        &self,
        py: Python<'py>,
        a: &PyReadonlyArrayDyn<'py, T>,
        transposed: bool,
        rcond: f64,
        opts: &SvdOptions,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let shape = shape_of(a.shape(), transposed)?;
        let data = slice(a)?;
        let p = zeros::<T>(py, &shape.with(&[shape.n, shape.m]));
        let info = InfoArrays::new(py, &shape);
        let (solver, small) = self.pick(&shape);
        let summary = {
            let mut p_rw = p.readwrite();
            let p_sl = slice_mut(&mut p_rw)?;
            with_info(py, &info, |slices| {
                run::pinv(solver, data, &shape, opts, rcond, p_sl, slices)
            })?
        };
        let info = info.into_dict(py, &summary, self.note(small))?;
        PyTuple::new(py, [p.into_any(), info.into_any()])
    }

    #[allow(clippy::too_many_arguments)]
    fn lstsq_t<'py, T: Value>(
        &self,
        py: Python<'py>,
        a: &PyReadonlyArrayDyn<'py, T>,
        transposed: bool,
        b: &PyReadonlyArrayDyn<'py, T>,
        b_vectors: bool,
        rcond: f64,
        opts: &SvdOptions,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let shape = shape_of(a.shape(), transposed)?;
        let data = slice(a)?;
        let (m, n, k) = (shape.m, shape.n, shape.k());
        let b_shape = b.shape();
        let r = match (b_vectors, b_shape.strip_prefix(&shape.lead[..])) {
            (true, Some([rows])) if *rows == m => 1,
            (false, Some([rows, r])) if *rows == m => *r,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "b has shape {b_shape:?}; for a of shape {:?} it must be {:?} or {:?}",
                    shape.with(&[m, n]),
                    shape.with(&[m]),
                    shape
                        .with(&[m, 0])
                        .iter()
                        .take(shape.lead.len() + 1)
                        .collect::<Vec<_>>()
                )));
            }
        };
        let rhs = Rhs {
            data: slice(b)?,
            r,
            vectors: b_vectors,
        };
        let x = if b_vectors {
            zeros::<T>(py, &shape.with(&[n]))
        } else {
            zeros::<T>(py, &shape.with(&[n, r]))
        };
        let residuals = zeros::<T::Real>(py, &shape.with(&[r]));
        let rank = zeros::<i64>(py, &shape.lead);
        let s = zeros::<T::Real>(py, &shape.with(&[k]));
        let info = InfoArrays::new(py, &shape);
        let (solver, small) = self.pick(&shape);
        let summary = {
            let (mut x_rw, mut res_rw, mut rank_rw, mut s_rw) = (
                x.readwrite(),
                residuals.readwrite(),
                rank.readwrite(),
                s.readwrite(),
            );
            let out = LstsqArrays {
                x: slice_mut(&mut x_rw)?,
                residuals: slice_mut(&mut res_rw)?,
                rank: slice_mut(&mut rank_rw)?,
                s: slice_mut(&mut s_rw)?,
            };
            let rhs = &rhs;
            with_info(py, &info, |slices| {
                run::lstsq(solver, data, &shape, rhs, opts, rcond, out, slices)
            })?
        };
        let info = info.into_dict(py, &summary, self.note(small))?;
        PyTuple::new(
            py,
            [
                x.into_any(),
                residuals.into_any(),
                rank.into_any(),
                s.into_any(),
                info.into_any(),
            ],
        )
    }
}
