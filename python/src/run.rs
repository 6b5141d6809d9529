//! The computations, with the GIL released.
//!
//! `svd` and `polar` decompose the whole batch in one library call and hand the library's
//! output vectors over (`SvdOutput::into_parts`): the engine writes each result once, into
//! memory that then becomes the numpy array's (`PyArray::from_vec`, no copy), so a call needs
//! its input and the arrays it returns and nothing more.
//!
//! `pinv` and `lstsq` return arrays derived from an SVD that is not returned: they run in
//! slices of about [`SLICE_BYTES`] of input and output, each one `Solver::svd_into` call into
//! an output reused from slice to slice, and copy the derived result into the numpy arrays
//! (allocated by the caller, which holds the GIL). The slices bound the intermediate SVD's
//! memory to one slice's; the matrices of a slice are independent of the others, so results
//! do not depend on where the slices fall.
//!
//! Matrices whose status is not `Converged` get NaN outputs: the library already gives NaN
//! for non-finite input, and a matrix that did not converge within `max_sweeps` has its
//! outputs replaced by NaN here. Every other matrix is unaffected.

use batched_svd::ops::{self, RightHandSides};
use batched_svd::{
    Complex, Element, EngineChoice, Layout, MatrixBatch, PolarOptions, Real, Report, Solver,
    Status, SvdOptions, SvdOutput, Timings, Vectors, WorkCounts,
};

/// Bytes of input and output per library call of `pinv` and `lstsq` (a slice of the batch, at
/// least one matrix).
pub const SLICE_BYTES: usize = 16 << 20;

/// What can go wrong inside a computation.
#[derive(Debug)]
pub enum RunError {
    /// The library's error, as it is.
    Library(batched_svd::Error),
    /// An output of unexpected size (a bug of this module or the library).
    Internal(String),
}

impl From<batched_svd::Error> for RunError {
    fn from(e: batched_svd::Error) -> Self {
        RunError::Library(e)
    }
}

/// The batch: numpy's leading dimensions, the matrix shape and the element layout.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The batch dimensions.
    pub lead: Vec<usize>,
    /// Number of matrices (the product of `lead`).
    pub count: usize,
    /// Rows of each matrix.
    pub m: usize,
    /// Columns of each matrix.
    pub n: usize,
    /// Layout of each matrix in the input.
    pub layout: Layout,
}

impl Shape {
    /// `lead + dims`.
    pub fn with(&self, dims: &[usize]) -> Vec<usize> {
        self.lead.iter().chain(dims).copied().collect()
    }

    /// `min(m, n)`.
    pub fn k(&self) -> usize {
        self.m.min(self.n)
    }

    /// Matrices per library call for `bytes` of input and output per matrix.
    fn slice_len(&self, bytes: usize) -> usize {
        SLICE_BYTES
            .checked_div(bytes)
            .map_or(self.count.max(1), |n| n.max(1))
    }

    /// The slices `[c0, c1)` of the batch, at least one (empty for an empty batch, so that the
    /// library is still asked and reports its engine choice).
    fn slices(&self, bytes: usize) -> impl Iterator<Item = (usize, usize)> {
        let step = self.slice_len(bytes);
        let count = self.count;
        let n_slices = count.div_ceil(step).max(1);
        (0..n_slices).map(move |s| (s * step, ((s + 1) * step).min(count)))
    }

    /// Matrices `[c0, c1)` of `data` as a library batch.
    fn batch<'a, T: Element>(
        &self,
        data: &'a [T],
        c0: usize,
        c1: usize,
    ) -> Result<MatrixBatch<'a, T>, RunError> {
        let mn = self.m * self.n;
        let part = data
            .get(c0 * mn..c1 * mn)
            .ok_or_else(|| RunError::Internal(format!("input shorter than {c1} matrices")))?;
        Ok(MatrixBatch::with_layout(
            part,
            c1 - c0,
            self.m,
            self.n,
            self.layout,
        )?)
    }
}

/// Per-matrix information, written into numpy arrays of the batch shape.
pub struct InfoSlices<'a> {
    /// `Status` codes (0 converged, 1 not converged, 2 non-finite).
    pub status: &'a mut [i8],
    /// Sweeps per matrix.
    pub sweeps: &'a mut [u32],
    /// Off-diagonal measure at exit.
    pub off_diagonal: &'a mut [f32],
}

/// What a whole computation reports besides its arrays.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// The engine of the first library call (every call of one computation has the same shape,
    /// so the same engine).
    pub engine: Option<EngineChoice>,
    /// The adapter's name when the GPU engine ran.
    pub adapter: Option<String>,
    /// Timings summed over the calls.
    pub timings: Timings,
    /// Work counts summed over the calls.
    pub work: WorkCounts,
    /// Library calls made.
    pub calls: usize,
    /// Matrices with non-finite input.
    pub non_finite: usize,
    /// Matrices that did not converge.
    pub not_converged: usize,
}

impl Summary {
    /// Records one call's report for matrices `c0..`, writes their information, and returns
    /// the indices (within the call) of the matrices that are not `Converged`.
    fn record(
        &mut self,
        solver: &Solver,
        report: &Report,
        c0: usize,
        info: &mut InfoSlices<'_>,
    ) -> Result<Vec<usize>, RunError> {
        if self.engine.is_none() {
            self.engine = Some(report.engine().clone());
            if report.engine().kind == batched_svd::Engine::Gpu {
                self.adapter = solver.gpu().map(|g| g.adapter_info().name.clone());
            }
        }
        let t = report.timings();
        self.timings.upload += t.upload;
        self.timings.compute += t.compute;
        self.timings.download += t.download;
        let w = report.work();
        self.work.dispatches += w.dispatches;
        self.work.submissions += w.submissions;
        self.work.host_round_trips += w.host_round_trips;
        self.work.bytes_uploaded += w.bytes_uploaded;
        self.work.bytes_downloaded += w.bytes_downloaded;
        self.work.chunks += w.chunks;
        self.calls += 1;
        let infos = report.infos();
        let end = c0 + infos.len();
        let (Some(status), Some(sweeps), Some(off)) = (
            info.status.get_mut(c0..end),
            info.sweeps.get_mut(c0..end),
            info.off_diagonal.get_mut(c0..end),
        ) else {
            return Err(RunError::Internal(format!(
                "information for {end} matrices, arrays for {}",
                info.status.len()
            )));
        };
        let mut bad = Vec::new();
        for (i, x) in infos.iter().enumerate() {
            status[i] = x.status.code() as i8;
            sweeps[i] = x.sweeps;
            off[i] = x.off_diagonal;
            match x.status {
                Status::Converged => {}
                Status::NotConverged => {
                    self.not_converged += 1;
                    bad.push(i);
                }
                Status::NonFinite => {
                    self.non_finite += 1;
                    bad.push(i);
                }
            }
        }
        Ok(bad)
    }
}

/// Copies `src` into `dst[at·len..]` (`len` elements per matrix, `src.len()` in all).
fn put<T: Copy>(dst: &mut [T], at: usize, len: usize, src: &[T]) -> Result<(), RunError> {
    let start = at * len;
    let total = dst.len();
    dst.get_mut(start..start + src.len())
        .ok_or_else(|| {
            RunError::Internal(format!(
                "an output of {} elements does not fit at {start} in {total}",
                src.len()
            ))
        })?
        .copy_from_slice(src);
    Ok(())
}

/// Sets matrix `i` (`len` elements each) of `dst` to NaN.
fn nan<T: Nan>(dst: &mut [T], i: usize, len: usize) {
    if let Some(x) = dst.get_mut(i * len..(i + 1) * len) {
        x.fill(T::NAN);
    }
}

/// NaN (in every part), for the outputs of matrices that did not converge.
pub trait Nan: Copy {
    /// Not a number.
    const NAN: Self;
}

impl Nan for f32 {
    const NAN: Self = f32::NAN;
}

impl Nan for f64 {
    const NAN: Self = f64::NAN;
}

impl Nan for Complex<f32> {
    const NAN: Self = Complex::new(f32::NAN, f32::NAN);
}

impl Nan for Complex<f64> {
    const NAN: Self = Complex::new(f64::NAN, f64::NAN);
}

/// An element type the package computes in (float32, float64, complex64, complex128): numpy
/// arrays of it and of its real type exist.
pub trait Value: Element<Real: Nan + numpy::Element> + Nan + numpy::Element {}

impl<T: Element<Real: Nan + numpy::Element> + Nan + numpy::Element> Value for T {}

/// The output arrays of an SVD, owned: σ `(…, k)` (real), U `(…, m, u_cols)` and Vᵀ (Vᴴ for
/// complex) `(…, vt_rows, n)` (empty without vectors), C order.
pub struct SvdVecs<T: Element> {
    /// σ.
    pub s: Vec<T::Real>,
    /// U.
    pub u: Vec<T>,
    /// Vᵀ.
    pub vt: Vec<T>,
}

/// Checks that `v` holds `count` matrices of `len` elements.
fn expect_len<T>(v: &[T], count: usize, len: usize, what: &str) -> Result<(), RunError> {
    if v.len() == count * len {
        Ok(())
    } else {
        Err(RunError::Internal(format!(
            "{what}: {} elements for {count} matrices of {len}",
            v.len()
        )))
    }
}

/// The SVD of every matrix of `data`, in one library call whose output vectors are returned.
///
/// # Errors
/// The library's errors.
pub fn svd<T: Value>(
    solver: &Solver,
    data: &[T],
    shape: &Shape,
    opts: &SvdOptions,
    info: &mut InfoSlices<'_>,
) -> Result<(Summary, SvdVecs<T>), RunError> {
    opts.validate_for(shape.m, shape.n)?;
    let (m, n, k, count) = (shape.m, shape.n, shape.k(), shape.count);
    let (uc, vr) = (opts.vectors.u_cols(m, n), opts.vectors.vt_rows(m, n));
    let lib = solver.svd(&shape.batch(data, 0, count)?, opts)?;
    let mut summary = Summary::default();
    let bad = summary.record(solver, &lib, 0, info)?;
    let parts = lib.into_parts();
    let mut out = SvdVecs {
        s: parts.singular_values,
        u: parts.u,
        vt: parts.vt,
    };
    expect_len(&out.s, count, k, "σ")?;
    expect_len(&out.u, count, m * uc, "U")?;
    expect_len(&out.vt, count, vr * n, "Vᵀ")?;
    for i in bad {
        nan(&mut out.s, i, k);
        nan(&mut out.u, i, m * uc);
        nan(&mut out.vt, i, vr * n);
    }
    Ok((summary, out))
}

/// The polar decomposition `A = R·S` of every square matrix of `data`, in one library call:
/// R and S `(…, n, n)` (S empty for `rotation_only`), C order.
///
/// # Errors
/// The library's errors (non-square matrices among them).
pub fn polar<T: Value>(
    solver: &Solver,
    data: &[T],
    shape: &Shape,
    rotation_only: bool,
    info: &mut InfoSlices<'_>,
) -> Result<(Summary, Vec<T>, Vec<T>), RunError> {
    let n = shape.n;
    let opts = if rotation_only {
        PolarOptions::rotation_only()
    } else {
        PolarOptions::default()
    };
    let lib = solver.polar(&shape.batch(data, 0, shape.count)?, &opts)?;
    let mut summary = Summary::default();
    let bad = summary.record(solver, &lib, 0, info)?;
    let (_, mut r, mut s) = lib.into_parts();
    expect_len(&r, shape.count, n * n, "R")?;
    expect_len(&s, shape.count, if rotation_only { 0 } else { n * n }, "S")?;
    for i in bad {
        nan(&mut r, i, n * n);
        nan(&mut s, i, n * n);
    }
    Ok((summary, r, s))
}

/// The pseudoinverse `(…, n, m)` of every matrix of `data`, inverting `σ > rcond·σ₁`.
///
/// # Errors
/// The library's errors (a negative or non-finite `rcond` among them).
pub fn pinv<T: Value>(
    solver: &Solver,
    data: &[T],
    shape: &Shape,
    opts: &SvdOptions,
    rcond: f64,
    pinv: &mut [T],
    info: &mut InfoSlices<'_>,
) -> Result<Summary, RunError> {
    ops::pinv::validate_rcond(rcond)?;
    let opts = opts.clone().with_vectors(Vectors::Thin);
    opts.validate_for(shape.m, shape.n)?;
    let (m, n, k) = (shape.m, shape.n, shape.k());
    let per = (3 * m * n + k * (m + n + 1)) * T::BYTES;
    let mut summary = Summary::default();
    let mut lib = SvdOutput::default();
    for (c0, c1) in shape.slices(per) {
        let batch = shape.batch(data, c0, c1)?;
        solver.svd_into(&batch, &opts, &mut lib)?;
        let p = ops::pinv(&lib, Some(rcond))?;
        put(pinv, c0, n * m, p.as_slice())?;
        for i in summary.record(solver, &p, c0, info)? {
            nan(pinv, c0 + i, n * m);
        }
    }
    Ok(summary)
}

/// The right-hand sides of a least-squares problem: `(…, m)` (one vector per matrix) or
/// `(…, m, r)`.
pub struct Rhs<'a, T> {
    /// The values, C order.
    pub data: &'a [T],
    /// Right-hand sides per matrix.
    pub r: usize,
    /// Whether `data` is `(…, m)`.
    pub vectors: bool,
}

/// The output arrays of least squares: x `(…, n)` or `(…, n, r)`, residuals `(…, r)` and
/// σ `(…, k)` (both real), ranks `(…)`.
pub struct LstsqArrays<'a, T: Element> {
    /// The solutions.
    pub x: &'a mut [T],
    /// `‖b − A·x‖²` per right-hand side.
    pub residuals: &'a mut [T::Real],
    /// The numerical rank of each matrix at `rcond`.
    pub rank: &'a mut [i64],
    /// The singular values of each matrix.
    pub s: &'a mut [T::Real],
}

/// Minimum-norm least squares for every matrix of `data` and its right-hand sides,
/// singular values `σ ≤ rcond·σ₁` treated as zero.
///
/// # Errors
/// The library's errors.
#[allow(clippy::too_many_arguments)]
pub fn lstsq<T: Value>(
    solver: &Solver,
    data: &[T],
    shape: &Shape,
    rhs: &Rhs<'_, T>,
    opts: &SvdOptions,
    rcond: f64,
    out: LstsqArrays<'_, T>,
    info: &mut InfoSlices<'_>,
) -> Result<Summary, RunError> {
    ops::pinv::validate_rcond(rcond)?;
    let opts = opts.clone().with_vectors(Vectors::Thin);
    opts.validate_for(shape.m, shape.n)?;
    let (m, n, k, r) = (shape.m, shape.n, shape.k(), rhs.r);
    let per = (m * n + k * (m + n + 1) + m * r + n * r + r) * T::BYTES;
    let mut summary = Summary::default();
    let mut lib = SvdOutput::default();
    let mut residuals = Vec::new();
    for (c0, c1) in shape.slices(per) {
        let batch = shape.batch(data, c0, c1)?;
        let part = rhs
            .data
            .get(c0 * m * r..c1 * m * r)
            .ok_or_else(|| RunError::Internal("right-hand sides too short".into()))?;
        let b = if rhs.vectors {
            RightHandSides::vectors(part, c1 - c0, m)?
        } else {
            RightHandSides::matrices(part, c1 - c0, m, r)?
        };
        solver.svd_into(&batch, &opts, &mut lib)?;
        let x = ops::lstsq(&batch, &lib, &b, Some(rcond))?;
        put(out.x, c0, n * r, x.all_solutions())?;
        residuals.clear();
        residuals.extend(x.all_residuals().iter().map(|&v| T::Real::from_f64(v)));
        put(out.residuals, c0, r, &residuals)?;
        let ranks: Vec<i64> = x
            .ranks()
            .iter()
            .map(|&v| i64::try_from(v).unwrap_or(i64::MAX))
            .collect();
        put(out.rank, c0, 1, &ranks)?;
        put(out.s, c0, k, lib.all_singular_values())?;
        // σ follows the SVD's status; x and the residuals the solve's (which adds non-finite
        // right-hand sides).
        for (i, info) in lib.infos().iter().enumerate() {
            if info.status != Status::Converged {
                nan(out.s, c0 + i, k);
            }
        }
        for i in summary.record(solver, &x, c0, info)? {
            nan(out.x, c0 + i, n * r);
            nan(out.residuals, c0 + i, r);
        }
    }
    Ok(summary)
}
