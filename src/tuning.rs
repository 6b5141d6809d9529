//! Knobs for benchmarks, tests and tuning: which GPU kernel family a solve uses and what the
//! multi-dispatch sweeps rotate.
//!
//! The defaults ([`KernelFamily::Auto`], [`SweepPairs::Auto`]) are the library's policy and
//! the right choice for every caller who is not measuring the kernels themselves: every family
//! computes the same decomposition to the same accuracy bounds, and forcing one that does not
//! suit the shape is slower, or refused with
//! [`Error::InvalidOption`](crate::Error::InvalidOption). They are public so that the bench,
//! the tests and a user comparing families on their own GPU can pin one
//! ([`SvdOptions::with_kernel`](crate::SvdOptions::with_kernel),
//! [`SvdOptions::with_sweep_pairs`](crate::SvdOptions::with_sweep_pairs)).

/// Which GPU kernel family runs the solve. [`KernelFamily::Auto`] (the default) picks by shape
/// and device; forcing a family is for benchmarks and tests. All families compute the same
/// decomposition to the same accuracy bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KernelFamily {
    /// Chosen by shape and device (see the README's design section).
    #[default]
    Auto,
    /// One invocation per matrix, every element in a register (tiny matrices on GPUs; up to
    /// 16×16 on CPU devices such as lavapipe).
    PerInvocation,
    /// One workgroup per matrix, W and V in workgroup memory, all sweeps in one dispatch.
    Workgroup,
    /// W and V in global memory, one dispatch per round of every sweep (large matrices).
    MultiDispatch,
    /// The dedicated 2×2 / 3×3 kernel (closed-form 2×2, fixed-order 3×3 Jacobi, one
    /// invocation per matrix); square 2×2 and 3×3 only.
    Small,
}

/// What the sweeps of the multi-dispatch kernel family (matrices too large for one workgroup)
/// rotate. Both orders stop on the same test and meet the same accuracy bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SweepPairs {
    /// Block pairs on GPUs, column pairs on CPU devices such as lavapipe (where every
    /// workgroup barrier is a coroutine switch and the blocked kernel measured 3–5× slower),
    /// and wherever [`SweepPairs::Blocks`] falls back to column pairs.
    #[default]
    Auto,
    /// Pairs of single columns: one dispatch per round of N−1 rounds, each column pair
    /// reduced by one workgroup (GPUs) or one invocation (CPU devices).
    Columns,
    /// Pairs of 16-column blocks: per round, a 32×32 Gram matrix per block pair diagonalised
    /// in workgroup memory, then applied to both blocks and to V as a small matrix product.
    /// For complex elements G is Hermitian and the transform unitary. Needs 256 invocations
    /// per workgroup and the workgroup memory of two 32×33 element arrays (8.8 KB for
    /// float32, 17 KB for float64 and complex64, 35 KB for complex128: more than lavapipe's
    /// and Apple GPUs' 32 KiB), at least 64 columns, and at most 16 384 swept rows; otherwise
    /// column pairs are used.
    Blocks,
}
