//! The library's errors as the Python exceptions numpy users expect.

use batched_svd::Error;
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

/// `numpy.linalg.LinAlgError(message)` (a `RuntimeError` if numpy cannot be imported, which
/// cannot happen once an array reached us).
pub fn linalg_error(py: Python<'_>, message: String) -> PyErr {
    match py
        .import("numpy.linalg")
        .and_then(|m| m.getattr("LinAlgError"))
    {
        Ok(class) => match class.call1((message.clone(),)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        },
        Err(_) => PyRuntimeError::new_err(message),
    }
}

/// The exception for a library error: `ValueError` for option values and shapes that do not
/// fit together, `numpy.linalg.LinAlgError` for shapes that are not batches of matrices,
/// `MemoryError` when the device runs out of memory, `TypeError` for an element type the
/// chosen engine has no kernel for (none today; kept for element types added later),
/// `RuntimeError` for everything the device or the driver reports (no adapter, a lost
/// device, a missing feature, an internal error).
pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::InvalidShape(_) => linalg_error(py, message),
        Error::InvalidOption(_)
        | Error::LengthMismatch { .. }
        | Error::ShapeMismatch { .. }
        | Error::ZeroDimension { .. }
        | Error::TooLarge(_) => PyValueError::new_err(message),
        Error::OutOfMemory(_) => PyMemoryError::new_err(message),
        Error::NoKernel { .. } => PyTypeError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// A `TypeError` for an array the module cannot take (the Python layer converts every
/// supported input before calling, so this names what slipped through).
pub fn unsupported(what: &str, a: &Bound<'_, PyAny>) -> PyErr {
    let dtype = a
        .getattr("dtype")
        .and_then(|d| d.str().map(|s| s.to_string()))
        .unwrap_or_else(|_| "unknown".to_string());
    PyTypeError::new_err(format!(
        "{what}: expected a C-contiguous, aligned, native-endian float32 or float64 numpy \
         array, got dtype {dtype}"
    ))
}
