//! The one error type of the crate.
//!
//! Every fallible entry point returns [`Result<T>`](crate::Result). Bad input is reported as a
//! value, never as a panic. Per-matrix numerical trouble (a NaN in one matrix, a matrix that did
//! not converge) is *not* an error: it is reported per matrix through
//! [`Status`](crate::Status) so that the rest of the batch is still returned.

/// Errors returned by batched-svd.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The flat data slice does not hold `count·m·n` elements.
    #[error("data length mismatch: count·m·n = {expected} elements expected, {actual} given")]
    LengthMismatch {
        /// `count·m·n`.
        expected: usize,
        /// Length of the slice that was given.
        actual: usize,
    },
    /// An empty slice of nalgebra matrices was given, with no matrix to take the shape from
    /// (zero-sized dimensions are otherwise valid, as in numpy).
    #[error("zero dimension: count = {count}, m = {m}, n = {n}")]
    ZeroDimension {
        /// Number of matrices.
        count: usize,
        /// Rows per matrix.
        m: usize,
        /// Columns per matrix.
        n: usize,
    },
    /// The matrices of a batch do not all have the same shape.
    #[error("shape mismatch: matrix {index} is {found_m}×{found_n}, expected {m}×{n}")]
    ShapeMismatch {
        /// Index of the first offending matrix.
        index: usize,
        /// Expected rows.
        m: usize,
        /// Expected columns.
        n: usize,
        /// Rows found.
        found_m: usize,
        /// Columns found.
        found_n: usize,
    },
    /// A shape that cannot describe a batch of matrices (fewer than two dimensions).
    #[error("invalid shape: {0}")]
    InvalidShape(String),
    /// `count·m·n` (or a derived buffer size) does not fit in `usize`/`u64`.
    #[error("batch too large: {0}")]
    TooLarge(String),
    /// An option has a value outside its domain (for example a negative tolerance).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// No GPU adapter was found (or the one named by `WGPU_ADAPTER_NAME` does not exist).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The device lacks a feature this operation needs.
    #[error("missing device feature: {0}")]
    MissingFeature(String),
    /// The GPU engine has no kernel for this element type in the kernel family the call
    /// takes; the CPU engine decomposes them, and `Backend::Auto` falls back to it. (Every
    /// family serves float32, float64, complex64 and complex128; no call returns it today.)
    #[error(
        "the GPU engine has no {element} kernel in the {family:?} family yet; the CPU engine \
         decomposes {element} matrices"
    )]
    NoKernel {
        /// numpy's name of the element type.
        element: &'static str,
        /// The kernel family the shape would run in.
        family: crate::tuning::KernelFamily,
    },
    /// A single matrix needs more of a device limit than the device offers.
    #[error("device limit exceeded: {limit} needs {required}, the device offers {available}")]
    LimitExceeded {
        /// Name of the `wgpu::Limits` field.
        limit: &'static str,
        /// What one matrix (the smallest possible chunk) needs.
        required: u64,
        /// What the device offers.
        available: u64,
    },
    /// The device could not allocate a buffer, or the host could not allocate the results
    /// (the message says which); nothing was computed.
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    /// The device was lost (driver reset, device removed, or destroyed).
    #[error("GPU device lost: {0}")]
    DeviceLost(String),
    /// Mapping a read-back buffer failed.
    #[error("GPU buffer map failed: {0}")]
    BufferMap(String),
    /// Waiting for the device (`Device::poll`) failed.
    #[error("GPU poll failed: {0}")]
    Poll(String),
    /// wgpu reported a validation or internal error. This is a bug in batched-svd (or the
    /// driver), never a consequence of input values; please report it.
    #[error("GPU error (please report this as a bug): {0}")]
    Gpu(String),
}

/// Shorthand for `std::result::Result<T, batched_svd::Error>`.
pub type Result<T> = std::result::Result<T, Error>;
