//! CPU peers for benchmarks: nalgebra's SVD in the batch's element type (f32, f64,
//! `Complex<f32>` or `Complex<f64>`), looped over a batch, on one thread or all cores.
//!
//! This is "the CPU library people use today" that the GPU path is measured against (by
//! `batched-svd bench` and `cargo bench`). It is built to be the **fastest honest CPU peer**
//! nalgebra offers for a batch, not a reference:
//!
//! * **the batch's precision**, that of the GPU path: f32 for f32 batches (the library's CPU
//!   engine computes f32 batches in f64, which is slower and answers a different question),
//!   f64 for f64 ones, nalgebra's complex SVD for complex ones;
//! * **statically sized matrices** ([`nalgebra::SMatrix`]) for the benchmark shapes
//!   ([`STATIC_SHAPES`]): they live on the stack, so a solve allocates nothing, and nalgebra
//!   uses its special closed-form 2×2 and eigen-based 3×3 paths for them. Other shapes fall
//!   back to [`nalgebra::DMatrix`] (one heap allocation per matrix and per factor). 256×16 is
//!   one of them: nalgebra's dimension arithmetic for static sizes stops at 127, so a
//!   `SMatrix<f32, 256, 16>` has no SVD;
//! * values-only solves ask nalgebra for neither U nor Vᵀ, thin solves for both (nalgebra's
//!   `U` is `m×k` and `Vᵀ` is `k×n`, the thin factors);
//! * the batch is split into contiguous ranges over scoped std threads (no work stealing is
//!   needed: every matrix of a batch costs about the same).
//!
//! Each solve is nalgebra's `SVD::try_new(a, want, want, 5·ε, cap)`: the same algorithm and
//! tolerance as `SVD::new(a, want_u, want_v)` (Golub–Kahan bidiagonalisation and implicit-shift
//! QR; `new` uses `5·ε` too), with an iteration cap so that a matrix holding NaN or ±∞ is
//! counted as failed instead of looping forever. Every factor is passed through
//! [`std::hint::black_box`] and the singular values are summed, so the optimiser cannot drop
//! any of the work; the sum is returned for checking.
//!
//! ```
//! use batched_svd::{MatrixBatch, Vectors};
//! use bench_support::{peers, rng};
//! let data = rng::gaussian_row_major(1000, 3, 3, 1);
//! let batch = MatrixBatch::row_major(&data, 1000, 3, 3)?;
//! let run = peers::nalgebra_loop(&batch, Vectors::Thin, peers::all_cores())?;
//! assert!(run.statically_sized && run.failed == 0);
//! println!("{:.0} matrices/s", run.matrices_per_second());
//! # Ok::<(), batched_svd::Error>(())
//! ```

use std::hint::black_box;
use std::ops::Range;
use std::time::Instant;

use nalgebra::{Complex, DMatrix, SMatrix, SVD};

use batched_svd::{Element, Error, Layout, MatrixBatch, Real, Result, Vectors};

/// Stack size of the worker threads. A 64×64 f32 solve keeps the matrix, U, Vᵀ and nalgebra's
/// temporaries on the stack (well under 1 MiB in release builds, more in debug builds); this
/// leaves ample room (it is virtual memory: only the pages touched are committed).
const WORKER_STACK_BYTES: usize = 32 << 20;

/// nalgebra's implicit-QR iteration cap per matrix, per unit of `m + n` (as the CPU path).
const ITERATIONS_PER_DIM: usize = 1000;

/// The element types the peer runs: the library's four, which nalgebra decomposes (its
/// singular values are of the real type, as the library's).
pub trait PeerScalar:
    Element + nalgebra::ComplexField<RealField = <Self as Element>::Real>
{
    /// Real numbers per element: 1, or 2 for complex types.
    const PARTS: usize;

    /// The element of `PARTS` consecutive values (real, or real and imaginary part).
    fn from_parts(parts: &[f32]) -> Self;
}

impl PeerScalar for f32 {
    const PARTS: usize = 1;
    fn from_parts(parts: &[f32]) -> Self {
        parts[0]
    }
}

impl PeerScalar for f64 {
    const PARTS: usize = 1;
    fn from_parts(parts: &[f32]) -> Self {
        f64::from(parts[0])
    }
}

impl PeerScalar for Complex<f32> {
    const PARTS: usize = 2;
    fn from_parts(parts: &[f32]) -> Self {
        Complex::new(parts[0], parts[1])
    }
}

impl PeerScalar for Complex<f64> {
    const PARTS: usize = 2;
    fn from_parts(parts: &[f32]) -> Self {
        Complex::new(f64::from(parts[0]), f64::from(parts[1]))
    }
}

/// `count` Gaussian `m×n` matrices of `T`, row-major: [`gaussian_row_major`]'s values (each
/// complex element from two consecutive ones), so the real types see the same matrices.
///
/// [`gaussian_row_major`]: crate::rng::gaussian_row_major
#[must_use]
pub fn gaussian_batch<T: PeerScalar>(count: usize, m: usize, n: usize, seed: u64) -> Vec<T> {
    crate::rng::gaussian_row_major(count * T::PARTS, m, n, seed)
        .chunks_exact(T::PARTS)
        .map(T::from_parts)
        .collect()
}

/// The convergence threshold `SVD::new` uses: `5·ε` of the real type.
fn nalgebra_eps<T: PeerScalar>() -> T::Real {
    T::Real::from_f64(5.0 * T::Real::EPSILON.to_f64())
}

/// One timed loop of nalgebra over a batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeerRun {
    /// Matrices decomposed.
    pub count: usize,
    /// Threads the batch was split over.
    pub threads: usize,
    /// Wall-clock seconds of the whole loop, thread start and join included (not the input
    /// generation).
    pub seconds: f64,
    /// Sum of all singular values of all matrices (in f64), for checking; failed matrices
    /// contribute nothing.
    pub sigma_sum: f64,
    /// Matrices nalgebra could not decompose (non-finite input or iteration cap reached).
    pub failed: usize,
    /// Whether the statically sized (`SMatrix`) path ran, rather than `DMatrix`.
    pub statically_sized: bool,
}

impl PeerRun {
    /// Throughput: matrices per second of wall-clock time.
    #[must_use]
    pub fn matrices_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.count as f64 / self.seconds
        } else {
            f64::INFINITY
        }
    }
}

/// The logical cores available to this process (`std::thread::available_parallelism`, 1 if
/// unknown): the thread count of the "all cores" peer.
#[must_use]
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Decomposes every matrix of `batch` with nalgebra in its element type on `threads` threads
/// (the batch split into contiguous ranges; `0` counts as `1`) and times it.
///
/// `vectors` is [`Vectors::Thin`] (U and Vᵀ computed) or [`Vectors::None`] (singular values
/// only). Matrices of a shape in [`STATIC_SHAPES`] are solved as `SMatrix<T, M, N>`, others
/// as `DMatrix<T>`; the input is copied into them from either layout (part of the timed
/// work, as it would be for a caller).
///
/// # Errors
/// [`Error::InvalidOption`] for [`Vectors::Full`] (nalgebra returns thin factors only).
///
/// # Panics
/// If the operating system cannot start a thread (as [`std::thread::scope`]'s `spawn`).
pub fn nalgebra_loop<T: PeerScalar>(
    batch: &MatrixBatch<'_, T>,
    vectors: Vectors,
    threads: usize,
) -> Result<PeerRun> {
    run(batch, vectors, threads, &mut [])
}

/// As [`nalgebra_loop`], also returning the singular values of every matrix (`count×k`, each
/// row descending; NaN rows for failed matrices). Storing them is part of the timed work.
///
/// # Errors
/// As [`nalgebra_loop`].
///
/// # Panics
/// As [`nalgebra_loop`].
pub fn nalgebra_loop_values<T: PeerScalar>(
    batch: &MatrixBatch<'_, T>,
    vectors: Vectors,
    threads: usize,
) -> Result<(PeerRun, Vec<T::Real>)> {
    let mut sigma = vec![T::Real::default(); batch.count() * batch.k()];
    let run = run(batch, vectors, threads, &mut sigma)?;
    Ok((run, sigma))
}

/// Whether `m×n` matrices are solved as statically sized `SMatrix` (see [`STATIC_SHAPES`]).
#[must_use]
pub fn is_statically_sized(m: usize, n: usize) -> bool {
    static_worker::<f32>(m, n).is_some()
}

/// What a worker hands back.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    sigma_sum: f64,
    failed: usize,
}

/// Decomposes matrices `range` of the batch; writes their σ to `sigma` unless it is empty.
type Worker<T> = fn(&MatrixBatch<'_, T>, Range<usize>, bool, &mut [<T as Element>::Real]) -> Tally;

/// The timed loop shared by [`nalgebra_loop`] and [`nalgebra_loop_values`].
fn run<T: PeerScalar>(
    batch: &MatrixBatch<'_, T>,
    vectors: Vectors,
    threads: usize,
    sigma: &mut [T::Real],
) -> Result<PeerRun> {
    if vectors == Vectors::Full {
        return Err(Error::InvalidOption(
            "the nalgebra peer computes thin vectors or singular values only, not full U and V"
                .to_string(),
        ));
    }
    let want = vectors.wanted();
    let (count, m, n, k) = (batch.count(), batch.rows(), batch.cols(), batch.k());
    let static_solver = static_worker::<T>(m, n);
    let worker: Worker<T> = static_solver.unwrap_or(solve_dynamic::<T>);
    let per_thread = count.div_ceil(threads.clamp(1, count.max(1)));
    // Every thread gets a non-empty range (5 matrices on 4 threads: 2 + 2 + 1 on 3).
    let threads = count.div_ceil(per_thread.max(1)).max(1);
    let start = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = sigma
            .chunks_mut((per_thread * k).max(1))
            .map(Some)
            .chain(std::iter::repeat_with(|| None))
            .take(threads)
            .enumerate()
            .map(|(t, part)| {
                let range = t * per_thread..((t + 1) * per_thread).min(count);
                // Always a spawned thread, even for one: the same (large) stack either way,
                // and the thread start is part of what a caller pays.
                std::thread::Builder::new()
                    .name(format!("nalgebra-peer-{t}"))
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        worker(batch, range, want, part.unwrap_or_default())
                    })
                    .expect("the operating system refused to start a worker thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    Ok(PeerRun {
        count,
        threads,
        seconds,
        sigma_sum: tallies.iter().map(|t| t.sigma_sum).sum(),
        failed: tallies.iter().map(|t| t.failed).sum(),
        statically_sized: static_solver.is_some(),
    })
}

/// Runs `solve` over `range`; `solve` gets matrix `b`'s elements and a `k`-slice for its σ and
/// says whether it succeeded.
fn drive<T: PeerScalar>(
    batch: &MatrixBatch<'_, T>,
    range: Range<usize>,
    sigma: &mut [T::Real],
    mut solve: impl FnMut(&[T], &mut [T::Real]) -> bool,
) -> Tally {
    let k = batch.k();
    let mut scratch = vec![T::Real::default(); k];
    let mut tally = Tally::default();
    for (local, b) in range.enumerate() {
        if solve(batch.matrix_slice(b), &mut scratch) {
            tally.sigma_sum += scratch.iter().map(|&x| x.to_f64()).sum::<f64>();
        } else {
            tally.failed += 1;
            scratch.fill(T::Real::nan());
        }
        if let Some(dst) = sigma.get_mut(local * k..(local + 1) * k) {
            dst.copy_from_slice(&scratch);
        }
    }
    tally
}

/// The `DMatrix<T>` worker for shapes without a static one.
fn solve_dynamic<T: PeerScalar>(
    batch: &MatrixBatch<'_, T>,
    range: Range<usize>,
    want: bool,
    sigma: &mut [T::Real],
) -> Tally {
    let (m, n) = (batch.rows(), batch.cols());
    let row_major = batch.layout() == Layout::RowMajor;
    let cap = ITERATIONS_PER_DIM * (m + n);
    drive(batch, range, sigma, |s, out| {
        let a = if row_major {
            DMatrix::from_row_slice(m, n, s)
        } else {
            DMatrix::from_column_slice(m, n, s)
        };
        match SVD::try_new(a, want, want, nalgebra_eps::<T>(), cap) {
            Some(svd) => {
                out.copy_from_slice(svd.singular_values.as_slice());
                black_box(&svd);
                true
            }
            None => false,
        }
    })
}

/// Generates [`STATIC_SHAPES`] and the dispatch from a shape to its `SMatrix` worker.
macro_rules! static_shapes {
    ($(($m:literal, $n:literal)),* $(,)?) => {
        /// The shapes `(m, n)` the peer solves as statically sized `SMatrix<T, m, n>` (stack
        /// storage, no allocation, nalgebra's special 2×2 and 3×3 paths): the benchmark shapes
        /// except 256×16, whose static SVD nalgebra does not provide. Other shapes use
        /// `DMatrix<T>`.
        pub const STATIC_SHAPES: &[(usize, usize)] = &[$(($m, $n)),*];

        /// The statically sized worker for `m×n`, if there is one.
        fn static_worker<T: PeerScalar>(m: usize, n: usize) -> Option<Worker<T>> {
            match (m, n) {
                $(($m, $n) => Some({
                    fn solve<T: PeerScalar>(
                        batch: &MatrixBatch<'_, T>,
                        range: Range<usize>,
                        want: bool,
                        sigma: &mut [T::Real],
                    ) -> Tally {
                        let row_major = batch.layout() == Layout::RowMajor;
                        let cap = ITERATIONS_PER_DIM * ($m + $n);
                        drive(batch, range, sigma, |s, out| {
                            let a = if row_major {
                                SMatrix::<T, $m, $n>::from_row_slice(s)
                            } else {
                                SMatrix::<T, $m, $n>::from_column_slice(s)
                            };
                            match SVD::try_new(a, want, want, nalgebra_eps::<T>(), cap) {
                                Some(svd) => {
                                    out.copy_from_slice(svd.singular_values.as_slice());
                                    black_box(&svd);
                                    true
                                }
                                None => false,
                            }
                        })
                    }
                    solve::<T> as Worker<T>
                }),)*
                _ => None,
            }
        }
    };
}

static_shapes!(
    (2, 2),
    (3, 3),
    (4, 4),
    (8, 8),
    (16, 16),
    (32, 32),
    (64, 64),
    (64, 8),
    (8, 64),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::gaussian_row_major;
    use batched_svd::SvdOptions;

    /// σ of the peer against the f64 CPU path, within `1e-4·σ₁` per matrix.
    fn check(count: usize, m: usize, n: usize, layout: Layout, threads: usize) {
        let data = gaussian_row_major(count, m, n, (m * 1000 + n) as u64);
        let batch = MatrixBatch::with_layout(&data, count, m, n, layout).unwrap();
        let reference = batched_svd::cpu::svd(&batch, &SvdOptions::values_only()).unwrap();
        for vectors in [Vectors::Thin, Vectors::None] {
            let (run, sigma) = nalgebra_loop_values(&batch, vectors, threads).unwrap();
            assert_eq!(run.count, count);
            assert_eq!(run.failed, 0);
            assert_eq!(run.statically_sized, STATIC_SHAPES.contains(&(m, n)));
            assert!(run.seconds > 0.0);
            let k = m.min(n);
            let mut total = 0.0;
            for i in 0..count {
                let want = reference.singular_values(i);
                let got = &sigma[i * k..(i + 1) * k];
                let tol = 1e-4 * want[0];
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= tol,
                        "{m}×{n} {layout:?} matrix {i}: σ {got:?} vs {want:?}"
                    );
                }
                total += got.iter().map(|&x| f64::from(x)).sum::<f64>();
            }
            let rel = (run.sigma_sum - total).abs() / total;
            assert!(rel < 1e-9, "σ sum {} vs {total}", run.sigma_sum);
        }
    }

    #[test]
    fn matches_the_cpu_path() {
        check(50, 2, 2, Layout::RowMajor, 1);
        check(50, 3, 3, Layout::RowMajor, 2);
        check(40, 4, 4, Layout::ColMajor, 3);
        check(20, 8, 64, Layout::RowMajor, 2);
        check(20, 64, 8, Layout::ColMajor, 1);
        check(7, 16, 16, Layout::RowMajor, 2);
        check(4, 32, 32, Layout::ColMajor, 1);
        check(3, 64, 64, Layout::RowMajor, 2);
        // Dynamic fallbacks.
        check(10, 5, 3, Layout::RowMajor, 2);
        check(3, 256, 16, Layout::ColMajor, 2);
    }

    /// The f64 and complex peers run nalgebra in their own type (its complex SVD for the
    /// complex ones): σ against the CPU engine's, within 1e-12·σ₁ for f64 and complex128 and
    /// 1e-4·σ₁ for complex64, on the static and the dynamic workers.
    #[test]
    fn f64_and_complex_match_the_cpu_path() {
        fn check<T: PeerScalar>(tol: f64, seed: u64) {
            for (count, m, n) in [(30, 3, 3), (10, 8, 8), (6, 5, 3)] {
                let data: Vec<T> = gaussian_batch(count, m, n, seed);
                let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
                let reference = batched_svd::cpu::svd(&batch, &SvdOptions::values_only()).unwrap();
                let (run, sigma) = nalgebra_loop_values(&batch, Vectors::Thin, 2).unwrap();
                assert_eq!((run.failed, run.statically_sized), (0, m == n));
                let k = m.min(n);
                for i in 0..count {
                    let want = reference.singular_values(i);
                    for (g, w) in sigma[i * k..(i + 1) * k].iter().zip(want) {
                        let (g, w) = (g.to_f64(), w.to_f64());
                        assert!(
                            (g - w).abs() <= tol * want[0].to_f64(),
                            "{} {m}×{n} matrix {i}: {g} vs {w}",
                            T::NAME
                        );
                    }
                }
            }
        }
        check::<f64>(1e-12, 7);
        check::<Complex<f64>>(1e-12, 9);
        check::<Complex<f32>>(1e-4, 9);
    }

    #[test]
    fn full_vectors_are_refused_and_threads_are_clamped() {
        let data = gaussian_row_major(3, 2, 2, 1);
        let batch = MatrixBatch::row_major(&data, 3, 2, 2).unwrap();
        assert!(nalgebra_loop(&batch, Vectors::Full, 1).is_err());
        assert_eq!(nalgebra_loop(&batch, Vectors::Thin, 0).unwrap().threads, 1);
        assert_eq!(nalgebra_loop(&batch, Vectors::Thin, 64).unwrap().threads, 3);
    }

    #[test]
    fn non_finite_matrices_fail_without_hanging() {
        let mut data = gaussian_row_major(4, 3, 3, 2);
        data[9] = f32::NAN;
        let batch = MatrixBatch::row_major(&data, 4, 3, 3).unwrap();
        let (run, sigma) = nalgebra_loop_values(&batch, Vectors::Thin, 2).unwrap();
        assert!(run.failed <= 1);
        if run.failed == 1 {
            assert!(sigma[3..6].iter().all(|x| x.is_nan()));
        }
        let mut data = gaussian_row_major(2, 5, 4, 3);
        data[0] = f32::INFINITY;
        let batch = MatrixBatch::row_major(&data, 2, 5, 4).unwrap();
        assert!(nalgebra_loop(&batch, Vectors::None, 1).is_ok());
    }
}
