//! The CPU engine: every matrix decomposed on the host in f64, verified, and rounded to the
//! output type, with the batch split over the available cores.
//!
//! Per matrix, by its shape ([`solver_for`], the one policy of this engine, measured on two
//! cores in `docs/cpu-engine.md`):
//! * **one-sided Jacobi** (`jacobi.rs`) up to 4×4: no per-matrix allocation, and faster than
//!   any bidiagonalising SVD's set-up there;
//! * **nalgebra's SVD** (`nalgebra_svd.rs`, Golub–Kahan and implicit QR) for mid sizes up to
//!   2048 elements (16384 values-only, square-ish);
//! * **faer's SVD** (`faer_svd.rs`, bidiagonalisation and divide and conquer, near LAPACK's
//!   speed) beyond. A batch runs one matrix per thread; a batch of fewer matrices than threads
//!   lets faer parallelise inside each matrix.
//!
//! Each matrix is scaled by a power of two first (exact), so any finite input works. Every
//! nalgebra and faer result is checked (`verify.rs`: Σσ² = ‖A‖²_F, and A = UΣVᵀ with
//! orthonormal U and V by probe vectors, each within a quarter of the output type's bound)
//! and recomputed by the Jacobi solver when it fails; a
//! matrix that no solver decomposes is reported [`Status::NotConverged`] with NaN outputs.
//! Zero singular values and full U/V get an orthonormal completion, and the rotation sign
//! convention is applied after the fact (determinants in f64).
//!
//! Differences from the GPU engine: [`SvdOptions::tolerance`] and [`SvdOptions::max_sweeps`]
//! do not apply (the solvers iterate to f64 precision), [`SvdOptions::sort`] is ignored
//! (values always descend), and the off-diagonal measure is 0.
//!
//! The tests hold this engine to the same bounds as the GPU engine, against nalgebra's SVD in
//! f64 on dynamically sized matrices (for the mid sizes the same code as the engine's, which
//! the verification then also guards).

pub(crate) mod faer_svd;
pub(crate) mod jacobi;
pub(crate) mod jacobi_complex;
mod nalgebra_svd;
mod verify;

use std::time::Instant;

use nalgebra::ComplexField;

use crate::basis::{complete_vectors, to_rotation_convention};
use crate::batch::MatrixBatch;
use crate::element::{Element, Real};
use crate::error::Result;
use crate::factors::{Factors, Product};
use crate::host::Host;
use crate::options::{SignConvention, SvdOptions, Vectors};
use crate::output::SvdOutput;
use crate::polar::{PolarOptions, PolarOutput};
use crate::report::{Engine, MatrixInfo, Status};

/// Largest `max(m, n)` the Jacobi solver takes.
const JACOBI_MAX_DIM: usize = 4;
/// Largest `m·n` nalgebra's SVD takes with vectors (about 45×45).
const NALGEBRA_MAX_ELEMENTS: usize = 2048;
/// Largest `m·n` nalgebra's SVD takes for values only, square-ish matrices (`max ≤ 2·min`);
/// tall and wide ones past [`NALGEBRA_MAX_ELEMENTS`] go to faer, which runs a QR first.
const NALGEBRA_MAX_ELEMENTS_VALUES: usize = 16384;

/// The solvers of the CPU engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solver {
    /// One-sided Jacobi in f64.
    Jacobi,
    /// nalgebra's Golub–Kahan SVD in f64, verified.
    Nalgebra,
    /// faer's divide-and-conquer SVD in f64, verified.
    Faer,
}

/// The solver the CPU engine uses for `m×n` matrices, real or complex: the one policy of
/// this engine.
///
/// Measured per matrix on one core of the 2-core development machine (Gaussian matrices, f64,
/// thin vectors / values only, µs; `docs/cpu-engine.md`):
///
/// | shape | Jacobi | nalgebra | faer |
/// | --- | --- | --- | --- |
/// | 2×2 | 0.22 | 0.8 | 1.3 |
/// | 4×4 | 1.5 | 1.8 | 3.1 |
/// | 8×8 | 8.8 | 6.1 / 5.0 | 10.5 / 7.6 |
/// | 32×32 | | 126 / 72 | 158 / 109 |
/// | 48×48 | | 333 / 168 | 345 / 219 |
/// | 64×64 | | 739 / 317 | 624 / 394 |
/// | 128×128 | | 7137 / 1566 | 2818 / 2013 |
/// | 64×8 | | 13.6 / 8.9 | 17.9 / 12.3 |
/// | 256×16 | | 123 / 70 | 92 / 66 |
#[must_use]
pub fn solver_for(m: usize, n: usize, vectors: Vectors) -> Solver {
    let (big, small) = (m.max(n), m.min(n));
    if big <= JACOBI_MAX_DIM {
        Solver::Jacobi
    } else if m * n <= NALGEBRA_MAX_ELEMENTS
        || (!vectors.wanted() && big <= 2 * small && m * n <= NALGEBRA_MAX_ELEMENTS_VALUES)
    {
        Solver::Nalgebra
    } else {
        Solver::Faer
    }
}

/// The CPU engine, on a fixed number of threads. Cheap to create and to copy.
///
/// ```
/// use batched_svd::{MatrixBatch, SvdOptions, cpu::Cpu};
/// let data = [3.0f32, 0.0, 0.0, 4.0]; // one 2×2 matrix
/// let batch = MatrixBatch::row_major(&data, 1, 2, 2)?;
/// let out = Cpu::new().svd(&batch, &SvdOptions::default())?;
/// assert_eq!(out.singular_values(0), &[4.0, 3.0]);
/// # Ok::<(), batched_svd::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu {
    threads: usize,
}

impl Default for Cpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Cpu {
    /// The engine on all available cores.
    #[must_use]
    pub fn new() -> Self {
        Self::with_threads(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// The engine on at most `threads` threads (`0` and `1` run on the calling thread).
    #[must_use]
    pub fn with_threads(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
        }
    }

    /// Threads a call may use.
    #[must_use]
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Decomposes every matrix of `batch`; outputs as [`SvdOutput`] describes, accuracy as the
    /// GPU engine's (see [`Gpu::svd`](crate::Gpu::svd)), in practice within a few ε of the f32
    /// rounding of the exact result.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for invalid options. Numerical
    /// trouble is reported per matrix, not as an error.
    pub fn svd<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
    ) -> Result<SvdOutput<T>> {
        let mut out = SvdOutput::default();
        self.svd_into(batch, opts, &mut out)?;
        Ok(out)
    }

    /// As [`Cpu::svd`], writing into `out` and reusing its allocations.
    ///
    /// # Errors
    /// As [`Cpu::svd`].
    pub fn svd_into<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        out: &mut SvdOutput<T>,
    ) -> Result<()> {
        let mut f = std::mem::take(out).into_factors();
        let result = self.run(batch, opts, Product::Svd, &mut f);
        *out = SvdOutput::from_factors(f);
        result
    }

    /// Polar decomposition `A = R·S` of every square matrix of `batch` (see [`PolarOutput`]).
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for non-square matrices.
    pub fn polar<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
    ) -> Result<PolarOutput<T>> {
        let mut out = PolarOutput::default();
        self.polar_into(batch, opts, &mut out)?;
        Ok(out)
    }

    /// As [`Cpu::polar`], writing into `out` and reusing its allocations.
    ///
    /// # Errors
    /// As [`Cpu::polar`].
    pub fn polar_into<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &PolarOptions,
        out: &mut PolarOutput<T>,
    ) -> Result<()> {
        let svd_opts = crate::polar::svd_options(batch, opts)?;
        let mut f = std::mem::take(out).into_factors();
        let result = self.run(batch, &svd_opts, Product::Svd, &mut f);
        if result.is_ok() {
            f.svd_to_polar(!opts.rotation_only);
        } else {
            f.product = Product::Polar { with_s: true };
        }
        *out = PolarOutput::from_factors(f);
        result
    }

    /// Computes the SVD factors of `batch` into `f`.
    fn run<T: Element>(
        &self,
        batch: &MatrixBatch<'_, T>,
        opts: &SvdOptions,
        product: Product,
        f: &mut Factors<T>,
    ) -> Result<()> {
        opts.validate_for_batch(batch)?;
        if batch.is_empty() {
            f.fill_empty(batch, opts.vectors, product, Engine::Cpu)?;
            return Ok(());
        }
        let start = Instant::now();
        let (count, m, n) = (batch.count(), batch.rows(), batch.cols());
        f.reshape(
            batch.batch_shape(),
            (m, n),
            opts.vectors,
            product,
            Engine::Cpu,
        )?;
        let threads = self.threads.min(count).max(1);
        // Fewer matrices than threads: faer parallelises inside each matrix instead.
        let inner = if count < self.threads {
            self.threads
        } else {
            1
        };
        let per_thread = count.div_ceil(threads);
        let k = f.k();
        let (first, second) = (m * f.u_cols(), f.vt_rows() * n);
        let vectors = f.vectors;
        let Factors {
            report,
            sigma,
            first: u,
            second: vt,
            ..
        } = f;
        let mut s_parts = sigma.chunks_mut((per_thread * k).max(1));
        let mut u_parts = u.chunks_mut((per_thread * first).max(1));
        let mut vt_parts = vt.chunks_mut((per_thread * second).max(1));
        std::thread::scope(|scope| {
            for (t, info) in report.info.chunks_mut(per_thread).enumerate() {
                let part = Part {
                    first: t * per_thread,
                    sigma: s_parts.next().unwrap_or_default(),
                    u: u_parts.next().unwrap_or_default(),
                    vt: vt_parts.next().unwrap_or_default(),
                    info,
                };
                let job = Job {
                    batch,
                    opts,
                    vectors,
                    inner,
                };
                if threads <= 1 {
                    job.solve(part);
                } else {
                    scope.spawn(move || job.solve(part));
                }
            }
        });
        report.timings.compute = start.elapsed().as_secs_f64();
        Ok(())
    }
}

/// What every thread of a call shares.
struct Job<'a, T: Element> {
    batch: &'a MatrixBatch<'a, T>,
    opts: &'a SvdOptions,
    vectors: Vectors,
    /// Threads faer may use inside one matrix.
    inner: usize,
}

/// The matrices `first..first + info.len()` and their output slices.
struct Part<'a, T: Element> {
    first: usize,
    sigma: &'a mut [T::Real],
    u: &'a mut [T],
    vt: &'a mut [T],
    info: &'a mut [MatrixInfo],
}

impl<T: Element> Clone for Job<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Element> Copy for Job<'_, T> {}

impl<T: Element> Job<'_, T> {
    /// Decomposes the matrices of `part` into its slices.
    fn solve(&self, part: Part<'_, T>) {
        let (m, n) = (self.batch.rows(), self.batch.cols());
        let k = m.min(n);
        let (uc, vr) = (self.vectors.u_cols(m, n), self.vectors.vt_rows(m, n));
        let want = self.vectors.wanted();
        let solver = solver_for(m, n, self.vectors);
        let layout = self.batch.layout();
        let mut a64 = vec![nalgebra::zero::<T::Host>(); m * n];
        let mut jacobi_ws = jacobi::Workspace::<T::Host>::default();
        let mut faer_ws = None;
        let mut result = jacobi::Svd64::<T::Host>::default();
        for (local, info) in part.info.iter_mut().enumerate() {
            let b = part.first + local;
            let s = &mut part.sigma[local * k..(local + 1) * k];
            let (u, vt) = if want {
                (
                    &mut part.u[local * m * uc..(local + 1) * m * uc],
                    &mut part.vt[local * vr * n..(local + 1) * vr * n],
                )
            } else {
                (&mut [][..], &mut [][..])
            };
            let a = self.batch.matrix_slice(b);
            let status = if a.iter().all(|x| x.to_host().is_finite()) {
                // Column-major in the host type, scaled by 2^-e so that the largest part is
                // near 1.
                let mut largest = 0.0f64;
                for j in 0..n {
                    for i in 0..m {
                        let x = a[layout.offset(m, n, i, j)].to_host();
                        largest = largest.max(x.largest_part());
                        a64[j * m + i] = x;
                    }
                }
                let e = jacobi::exponent(largest);
                if e != 0 {
                    a64.iter_mut().for_each(|x| *x = x.ldexp(-e));
                }
                let checked = |r: Option<()>, out: &jacobi::Svd64<T::Host>| {
                    r.is_some()
                        && verify::verified(m, n, &a64, out, <T::Real as Real>::EPSILON.to_f64())
                };
                let solved = match solver {
                    Solver::Jacobi => false,
                    Solver::Nalgebra => checked(
                        nalgebra_svd::svd_nalgebra(m, n, &a64, want, &mut result),
                        &result,
                    ),
                    Solver::Faer => checked(
                        T::Host::faer_svd(m, n, &a64, want, self.inner, &mut faer_ws, &mut result),
                        &result,
                    ),
                } || T::Host::jacobi_svd(
                    m,
                    n,
                    &a64,
                    want,
                    &mut jacobi_ws,
                    &mut result,
                )
                .is_some();
                if solved {
                    result
                        .sigma
                        .iter_mut()
                        .for_each(|x| *x = jacobi::ldexp(*x, e));
                    Status::Converged
                } else {
                    Status::NotConverged
                }
            } else {
                Status::NonFinite
            };
            if status != Status::Converged {
                s.fill(T::Real::nan());
                u.fill(crate::element::nan());
                vt.fill(crate::element::nan());
                *info = MatrixInfo {
                    status,
                    sweeps: 0,
                    off_diagonal: if status == Status::NonFinite {
                        f32::NAN
                    } else {
                        0.0
                    },
                };
                continue;
            }
            for (dst, &src) in s.iter_mut().zip(&result.sigma) {
                *dst = T::Real::from_f64(src);
            }
            if want {
                write_vectors(&result, m, n, uc, u, vt);
                complete_vectors(u, vt, m, n, self.vectors);
                if self.opts.signs == SignConvention::Rotation {
                    // Real types only: `Cpu::run` refuses the convention for complex ones.
                    if let Some((s, u, vt)) = T::real_slices(s, u, vt) {
                        to_rotation_convention(s, u, vt, n);
                    }
                }
            }
            *info = MatrixInfo {
                status: Status::Converged,
                sweeps: result.sweeps,
                off_diagonal: 0.0,
            };
        }
    }
}

/// Rounds U (`m×k` column-major) into the row-major `m×uc` slice and Vᴴ (from V, `n×k`
/// column-major) into the row-major `vr×n` slice; the slots beyond `k` (full vectors) are
/// zeroed for the basis completion.
fn write_vectors<T: Element>(
    f: &jacobi::Svd64<T::Host>,
    m: usize,
    n: usize,
    uc: usize,
    u: &mut [T],
    vt: &mut [T],
) {
    let k = m.min(n);
    u.fill(T::default());
    vt.fill(T::default());
    for j in 0..k {
        let col = &f.u[j * m..(j + 1) * m];
        for (i, &x) in col.iter().enumerate() {
            u[i * uc + j] = T::from_host(x);
        }
        let vrow = &f.v[j * n..(j + 1) * n];
        for (c, &x) in vrow.iter().enumerate() {
            vt[j * n + c] = T::from_host(x.conjugate());
        }
    }
}

/// Decomposes every matrix of `batch` with the CPU engine on all cores ([`Cpu::svd`]).
///
/// # Errors
/// As [`Cpu::svd`].
pub fn svd<T: Element>(batch: &MatrixBatch<'_, T>, opts: &SvdOptions) -> Result<SvdOutput<T>> {
    Cpu::new().svd(batch, opts)
}

/// As [`svd`], on at most `threads` threads (`1` runs on the calling thread).
///
/// # Errors
/// As [`Cpu::svd`].
pub fn svd_with_threads<T: Element>(
    batch: &MatrixBatch<'_, T>,
    opts: &SvdOptions,
    threads: usize,
) -> Result<SvdOutput<T>> {
    Cpu::with_threads(threads).svd(batch, opts)
}

/// Polar decomposition of every matrix of `batch` with the CPU engine on all cores
/// ([`Cpu::polar`]).
///
/// # Errors
/// As [`Cpu::polar`].
pub fn polar<T: Element>(
    batch: &MatrixBatch<'_, T>,
    opts: &PolarOptions,
) -> Result<PolarOutput<T>> {
    Cpu::new().polar(batch, opts)
}
