//! Minimum-norm least squares `min‖A·x − b‖₂` for every matrix of a batch, with one or more
//! right-hand sides per matrix, through the pseudoinverse.

use super::{default_rcond_for, finite_sigma, require_non_negative, require_same_shape};
use super::{require_sorted, require_vectors, truncate::Cutoff};
use crate::batch::MatrixBatch;
use nalgebra::ComplexField;

use crate::element::{Element, Real as _, nan};
use crate::error::{Error, Result};
use crate::output::SvdOutput;
use crate::report::{Report, Status};

/// The right-hand sides `b` of a batched least-squares problem: for each of the `count`
/// matrices `A` (`m×n`), either one vector of length `m` or `r` vectors as the columns of an
/// `m×r` matrix.
///
/// Layout (row-major, numpy C order): [`RightHandSides::vectors`] takes a `(count, m)` array
/// (`b[i]` at `i·m`), [`RightHandSides::matrices`] a `(count, m, r)` array (element
/// `(row, col)` of matrix `i` at `i·m·r + row·r + col`).
#[derive(Clone, Copy, Debug)]
pub struct RightHandSides<'a, T: Element = f32> {
    data: &'a [T],
    count: usize,
    m: usize,
    r: usize,
    vector: bool,
}

impl<'a, T: Element> RightHandSides<'a, T> {
    /// One right-hand side vector per matrix: a row-major `(count, m)` array.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `data.len() != count·m`, [`Error::TooLarge`] on overflow.
    /// Zero `count` or `m` are valid (numpy's empty arrays).
    pub fn vectors(data: &'a [T], count: usize, m: usize) -> Result<Self> {
        Self::new(data, count, m, 1, true)
    }

    /// `r` right-hand sides per matrix, the columns of an `m×r` matrix: a row-major
    /// `(count, m, r)` array.
    ///
    /// # Errors
    /// As [`RightHandSides::vectors`], with `count·m·r` elements.
    pub fn matrices(data: &'a [T], count: usize, m: usize, r: usize) -> Result<Self> {
        Self::new(data, count, m, r, false)
    }

    fn new(data: &'a [T], count: usize, m: usize, r: usize, vector: bool) -> Result<Self> {
        let expected = super::checked_len(&[count, m, r])?;
        if data.len() != expected {
            return Err(Error::LengthMismatch {
                expected,
                actual: data.len(),
            });
        }
        Ok(Self {
            data,
            count,
            m,
            r,
            vector,
        })
    }

    /// Number of matrices.
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }

    /// Rows `m` of each right-hand side.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.m
    }

    /// Right-hand sides per matrix (`1` for [`RightHandSides::vectors`]).
    #[must_use]
    pub fn cols(&self) -> usize {
        self.r
    }

    /// Whether this is the one-vector-per-matrix form (`(count, m)`).
    #[must_use]
    pub fn is_vectors(&self) -> bool {
        self.vector
    }
}

/// The least-squares solutions of a batch.
///
/// * solutions `x`: `count×n` for [`RightHandSides::vectors`] (a numpy `(count, n)` array),
///   `count×n×r` row-major for [`RightHandSides::matrices`] (`(count, n, r)`), in `T`;
/// * residuals: `count×r` sums of squared residuals `‖b − A·x‖²` per right-hand side (f64,
///   also for complex `T`);
/// * ranks: the numerical rank of each `A` at the cutoff.
///
/// Each `x` is the **minimum-norm** least-squares solution `x = A⁺·b` with
/// `A⁺ = Σ_{σⱼ > rcond·σ₁} vⱼ·σⱼ⁻¹·uⱼᴴ` — singular values `≤ rcond·σ₁` treated as zero, as
/// [`pinv`](super::pinv()) does and as LAPACK's `gelsd` (behind `numpy.linalg.lstsq`) does.
/// So for the same `rcond` it is the solution `numpy.linalg.lstsq(a, b, rcond=rcond)` returns.
///
/// **Residuals.** Unlike numpy, which returns them only when `rank = n < m` (an empty array
/// otherwise), they are computed for every matrix, in f64 from the input `A`, the f64
/// solution (before its rounding to `T`) and `b`. When `rank = n < m` they are numpy's
/// residuals; otherwise they are still `‖b − A·x‖²` of the minimum-norm solution.
///
/// **Accuracy.** Accumulated in f64 (complex: `Complex<f64>`) from the SVD (`x = V·Σ⁺·(Uᴴb)`),
/// rounded to `T`. The
/// error of `x` relative to `‖x‖` is about `κ_r·16·max(m, n)·ε` plus, when the residual is
/// not small, `κ_r²·16·max(m, n)·ε·‖b − A·x‖/(‖A‖·‖x‖)` (the usual least-squares
/// sensitivity), `κ_r = σ₁/σ_r`.
///
/// **Status.** Carried over from the SVD; a matrix whose right-hand sides hold a NaN or an
/// infinity is also reported [`Status::NonFinite`]. Non-finite matrices (or right-hand sides)
/// get NaN solutions and residuals, and rank 0 when `A` is the non-finite one.
#[derive(Clone, Debug)]
pub struct Lstsq<T: Element = f32> {
    report: Report,
    r: usize,
    vector: bool,
    rcond: f64,
    ranks: Vec<usize>,
    x: Vec<T>,
    residuals: Vec<f64>,
}

impl<T: Element> std::ops::Deref for Lstsq<T> {
    type Target = Report;

    fn deref(&self) -> &Report {
        &self.report
    }
}

/// Solves `min‖A·x − b‖₂` (minimum-norm `x`) for every matrix `A` of `a` and its right-hand
/// sides in `b`, using `svd` = the SVD of `a` (thin or full vectors, from either backend).
/// Singular values `σ ≤ rcond·σ₁` count as zero; `rcond = None` uses
/// [`default_rcond_for`]`::<T>(m, n) = max(m, n)·ε` of `T`.
///
/// # Errors
/// [`Error::InvalidOption`] if `svd` is not an SVD of a batch of `a`'s shape, has no vectors or
/// unsorted singular values, if `b` does not have `count` matrices of `m` rows, or for a
/// negative or non-finite `rcond`; [`Error::TooLarge`] if the output size overflows.
pub fn lstsq<T: Element>(
    a: &MatrixBatch<'_, T>,
    svd: &SvdOutput<T>,
    b: &RightHandSides<'_, T>,
    rcond: Option<f64>,
) -> Result<Lstsq<T>> {
    require_same_shape(a, svd)?;
    require_vectors(svd, "least squares")?;
    require_sorted(svd)?;
    check_rhs(a, b)?;
    let (count, (m, n)) = (svd.count(), svd.shape());
    let rcond = rcond.unwrap_or_else(|| default_rcond_for::<T>(m, n));
    require_non_negative("rcond", rcond)?;
    let cutoff = Cutoff::Relative(rcond);
    let r = b.r;
    let mut x = crate::factors::zeroed_vec::<T>(super::checked_len(&[count, n, r])?)?;
    let mut residuals = crate::factors::zeroed_vec::<f64>(super::checked_len(&[count, r])?)?;
    let mut ranks = Vec::with_capacity(count);
    let mut report = svd.report().clone();
    let (uc, vr) = (svd.u_cols(), svd.vt_rows());
    // Scratch in the host type: y = Σ⁺·Uᴴ·b (k×r), x (n×r), one row of A·x (r); none when x
    // is empty (k, n and r may then be anything up to usize::MAX; otherwise k·r ≤ n·r ≤
    // x.len()).
    let scratch = |rows: usize| vec![T::Host::default(); if x.is_empty() { 0 } else { rows * r }];
    let mut y = scratch(svd.k());
    let mut x64 = scratch(n);
    let mut ax = scratch(1);
    for i in 0..count {
        let bi = &b.data[i * m * r..(i + 1) * m * r];
        let xi = &mut x[i * n * r..(i + 1) * n * r];
        let res = &mut residuals[i * r..(i + 1) * r];
        if !finite_sigma(svd, i) {
            ranks.push(0);
            xi.fill(nan());
            res.fill(f64::NAN);
            continue;
        }
        let sigma = svd.singular_values(i);
        let rank = cutoff.kept(sigma);
        ranks.push(rank);
        if bi.iter().any(|v| !v.to_host().is_finite()) {
            report.info[i].status = Status::NonFinite;
            xi.fill(nan());
            res.fill(f64::NAN);
            continue;
        }
        if r == 0 {
            continue;
        }
        if rank == 0 {
            // A⁺ = 0 (also for m or n = 0): x = 0 and the residuals are ‖b_c‖², as numpy's.
            xi.fill(T::default());
            for b_row in bi.chunks_exact(r) {
                for (acc, &bv) in res.iter_mut().zip(b_row) {
                    *acc += bv.to_host().modulus_squared();
                }
            }
            continue;
        }
        let u = &svd.all_u()[i * m * uc..(i + 1) * m * uc];
        let vt = &svd.all_vt()[i * vr * n..(i + 1) * vr * n];
        // y[l, c] = (Σ_row conj(U[row, l])·b[row, c]) / σₗ for l < rank.
        let y = &mut y[..rank * r];
        y.fill(T::Host::default());
        for (u_row, b_row) in u.chunks_exact(uc).zip(bi.chunks_exact(r)) {
            for (l, y_row) in y.chunks_exact_mut(r).enumerate() {
                let ul = u_row[l].to_host().conjugate();
                for (acc, &bv) in y_row.iter_mut().zip(b_row) {
                    *acc += ul * bv.to_host();
                }
            }
        }
        for (y_row, &s) in y.chunks_exact_mut(r).zip(sigma) {
            let s = s.to_f64();
            y_row.iter_mut().for_each(|v| *v = v.unscale(s));
        }
        // x[j, c] = Σ_l V[j, l]·y[l, c], V[j, l] = conj(Vᴴ[l, j]).
        x64.fill(T::Host::default());
        for (vt_row, y_row) in vt.chunks_exact(n).zip(y.chunks_exact(r)) {
            for (&v, x_row) in vt_row.iter().zip(x64.chunks_exact_mut(r)) {
                let v = v.to_host().conjugate();
                for (acc, &yv) in x_row.iter_mut().zip(y_row) {
                    *acc += v * yv;
                }
            }
        }
        for (d, &s) in xi.iter_mut().zip(&x64) {
            *d = T::from_host(s);
        }
        // Residuals ‖b − A·x‖² per column, in f64.
        res.fill(0.0);
        let am = a.matrix_slice(i);
        let layout = a.layout();
        for (row, b_row) in bi.chunks_exact(r).enumerate() {
            ax.fill(T::Host::default());
            for (j, x_row) in x64.chunks_exact(r).enumerate() {
                let aij = am[layout.offset(m, n, row, j)].to_host();
                for (acc, &xv) in ax.iter_mut().zip(x_row) {
                    *acc += aij * xv;
                }
            }
            for ((acc, &axv), &bv) in res.iter_mut().zip(&ax).zip(b_row) {
                *acc += (bv.to_host() - axv).modulus_squared();
            }
        }
    }
    Ok(Lstsq {
        report,
        r,
        vector: b.vector,
        rcond,
        ranks,
        x,
        residuals,
    })
}

/// Fails unless `b` has `count` right-hand sides of `m` rows for the `count` `m×n` matrices of
/// `a` (checked before any SVD is computed).
pub(crate) fn check_rhs<T: Element>(
    a: &MatrixBatch<'_, T>,
    b: &RightHandSides<'_, T>,
) -> Result<()> {
    let (count, m, n) = (a.count(), a.rows(), a.cols());
    if b.count != count || b.m != m {
        return Err(Error::InvalidOption(format!(
            "the right-hand sides are {}×({}×{}) but A is {count}×({m}×{n}): b needs {count} \
             matrices of {m} rows",
            b.count, b.m, b.r
        )));
    }
    Ok(())
}

impl<T: Element> Lstsq<T> {
    /// Unknowns `n` per solution.
    #[must_use]
    pub fn unknowns(&self) -> usize {
        self.report.n
    }

    /// Right-hand sides per matrix (`r`, 1 for vectors).
    #[must_use]
    pub fn rhs_count(&self) -> usize {
        self.r
    }

    /// The numpy shape of [`Lstsq::all_solutions`]: `[count, n]` for vector right-hand sides,
    /// `[count, n, r]` otherwise.
    #[must_use]
    pub fn solution_shape(&self) -> Vec<usize> {
        if self.vector {
            vec![self.report.count, self.report.n]
        } else {
            vec![self.report.count, self.report.n, self.r]
        }
    }

    /// The relative cutoff that was applied.
    #[must_use]
    pub fn rcond(&self) -> f64 {
        self.rcond
    }

    /// Solution of matrix `i`: `n` values, or `n×r` row-major.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn solution(&self, i: usize) -> &[T] {
        let len = self.report.n * self.r;
        &self.x[i * len..(i + 1) * len]
    }

    /// All solutions, `count×n` or `count×n×r` row-major.
    #[must_use]
    pub fn all_solutions(&self) -> &[T] {
        &self.x
    }

    /// Sums of squared residuals `‖b_c − A·x_c‖²` of matrix `i`, one per right-hand side.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn residuals(&self, i: usize) -> &[f64] {
        &self.residuals[i * self.r..(i + 1) * self.r]
    }

    /// All residuals, `count×r` row-major.
    #[must_use]
    pub fn all_residuals(&self) -> &[f64] {
        &self.residuals
    }

    /// Numerical rank of matrix `i` at `rcond`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn rank(&self, i: usize) -> usize {
        self.ranks[i]
    }

    /// Ranks of all matrices.
    #[must_use]
    pub fn ranks(&self) -> &[usize] {
        &self.ranks
    }
}
