//! # batched-svd
//!
//! The singular value decomposition `A = U·Σ·Vᵀ` of every matrix of a batch of same-shaped
//! real f32 matrices, on the GPU through [wgpu] (WGSL compute shaders running parallel
//! one-sided Jacobi sweeps) or on the CPU (f64 Jacobi, [nalgebra] and faer by shape, every
//! result verified), behind one engine interface, [`Solver`], whose [`Backend::Auto`] picks
//! the engine per call and reports which one ran and why ([`Report::engine`]).
//!
//! ## The decomposition
//!
//! For `A` of shape `m×n` and `k = min(m, n)`:
//! * `σ₁ ≥ σ₂ ≥ … ≥ σ_k ≥ 0` are the singular values;
//! * `U` (`m×k` thin, `m×m` full) and `V` (`n×k` thin, `n×n` full) have orthonormal columns,
//!   and `A = Σᵢ σᵢ·uᵢ·vᵢᵀ`.
//!
//! Singular vectors are unique only up to sign (and up to rotation within repeated singular
//! values); for zero singular values and for the extra columns of full U/V the library returns
//! an orthonormal completion.
//!
//! ## Method
//!
//! One-sided (Hestenes) Jacobi: column pairs of `W = A` (or `Aᵀ` when `A` is wide) are
//! rotated until all columns are mutually orthogonal; then `σⱼ = ‖wⱼ‖`, `uⱼ = wⱼ/σⱼ`, and V
//! is the product of the rotations. It never forms `AᵀA`, so small singular values keep
//! their accuracy relative to `σ₁`. Each matrix is first scaled by a power of two (exact) so
//! that any finite f32 input works. See [`Gpu::svd`] for the tested accuracy bounds.
//!
//! ## Layouts
//!
//! Two layout enums, one per purpose: [`Layout`] orders the elements of host batches
//! ([`MatrixBatch`]: row-major as numpy, column-major as nalgebra and LAPACK);
//! [`MatrixLayout`] describes the caller's GPU buffers in the zero-copy API
//! ([`Gpu::encode_svd`], [`Gpu::encode_polar`]: packed row- or column-major, WGSL's padded
//! `mat3x3<f32>`, or structure of arrays). Host outputs are always row-major (numpy's arrays).
//!
//! ## Example
//!
//! ```no_run
//! use batched_svd::{Backend, MatrixBatch, Solver, SvdOptions, Vectors};
//! let solver = Solver::new(Backend::Auto)?;               // or Backend::Gpu, Backend::Cpu
//! let data: Vec<f32> = (0..1000 * 4 * 3).map(|i| (i as f32).sin()).collect();
//! let batch = MatrixBatch::row_major(&data, 1000, 4, 3)?; // 1000 matrices, 4×3, numpy order
//! let out = solver.svd(&batch, &SvdOptions::default().with_vectors(Vectors::Thin))?;
//! println!("σ of matrix 7: {:?}, status {:?}", out.singular_values(7), out.status(7));
//! println!("computed on {}", out.engine()); // the engine and the reason
//! let reference = Solver::cpu().svd(&batch, &SvdOptions::default())?; // the CPU engine
//! # Ok::<(), batched_svd::Error>(())
//! ```
//!
//! [wgpu]: https://docs.rs/wgpu
//! [nalgebra]: https://docs.rs/nalgebra

#![warn(missing_docs)]

mod basis;
mod batch;
pub mod cpu;
mod element;
pub mod engine;
mod error;
mod factors;
mod gpu;
mod host;
pub mod ops;
mod options;
mod output;
mod polar;
mod report;
pub mod tuning;
pub mod wgsl;

pub use batch::{Layout, MatrixBatch};
pub use cpu::Cpu;
pub use element::{Element, Real};
pub use engine::{Backend, Solver};
pub use error::{Error, Result};
pub use gpu::{
    AdapterSummary, CACHE_DIR_VAR, DEFAULT_MAX_CHUNK_BYTES, Gpu, MatrixLayout, PlanLimits,
    PolarTargets, Precision, SmallBatch, SvdTargets, list_adapters,
};
pub use ops::{Cutoff, LowRank, Lstsq, Pca, Pinv, RightHandSides, Truncated};
pub use options::{
    DEFAULT_MAX_SWEEPS, SignConvention, SvdOptions, Vectors, default_tolerance,
    default_tolerance_for,
};
pub use output::{SvdOutput, SvdParts};
pub use polar::{PolarOptions, PolarOutput};
pub use report::{Engine, EngineChoice, MatrixInfo, Reason, Report, Status, Timings, WorkCounts};

/// The complex element type (`num_complex::Complex`, as nalgebra re-exports it): `Complex<f32>`
/// is numpy's complex64, `Complex<f64>` its complex128.
pub use nalgebra::Complex;
/// Re-export of the wgpu version this crate is built against, so callers sharing a device
/// use the same types.
pub use wgpu;
