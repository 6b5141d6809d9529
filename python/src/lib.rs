//! `batched_svd._native`: the extension module behind the Python package `batched_svd`.
//!
//! The pure-Python package (`python/batched_svd/`) does what numpy users expect of an API —
//! array-likes, dtype rules, numpy's exceptions, warnings, named tuples — and hands this module
//! arrays that are already checked: C-contiguous, aligned, native-endian float32 or float64 of
//! shape `(…, p, q)`, with a flag saying whether each matrix is that `p×q` block row-major, or
//! its transpose (a `q×p` matrix stored column-major, which is how a Fortran-ordered or
//! axis-swapped input arrives without a copy).
//!
//! Every computing method of [`engine::Engine`] reads the input in place, allocates the numpy
//! outputs, releases the GIL (`Python::detach`) for the whole computation — upload, kernels,
//! download and the copy into the numpy arrays — and returns the arrays and a dictionary of
//! per-matrix information. See [`run`] for how a batch is split into calls.

mod engine;
mod error;
mod run;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The adapters wgpu finds (backends allowed by `WGPU_BACKEND`), in its enumeration order:
/// one dictionary per adapter with `index`, `name`, `backend`, `device_type`, `driver` and
/// `compute` (whether it runs compute shaders). `index` is what `Solver(adapter=index)` takes.
#[pyfunction]
fn adapters(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let found = py.detach(|| pollster::block_on(batched_svd::list_adapters()));
    found
        .iter()
        .enumerate()
        .map(|(index, a)| {
            let d = PyDict::new(py);
            d.set_item("index", index)?;
            d.set_item("name", &a.name)?;
            d.set_item("backend", format!("{:?}", a.backend).to_lowercase())?;
            d.set_item("device_type", format!("{:?}", a.device_type))?;
            d.set_item("driver", &a.driver)?;
            d.set_item("compute", a.compute)?;
            Ok(d)
        })
        .collect()
}

/// The module: the `Engine` class, `adapters()`, and the library's version.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Engine>()?;
    m.add_function(wrap_pyfunction!(adapters, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_MAX_SWEEPS", batched_svd::DEFAULT_MAX_SWEEPS)?;
    Ok(())
}
