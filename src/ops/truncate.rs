//! Truncation: keep the top-`K` singular triplets of each matrix, or the triplets whose
//! singular value exceeds a tolerance.

use nalgebra::DMatrix;

use super::{finite_sigma, require_non_negative, require_sorted, row_major_matrix};
use nalgebra::ComplexField;

use crate::element::{Element, Real, nan};
use crate::error::{Error, Result};
use crate::output::SvdOutput;
use crate::report::Report;

/// Which singular triplets `(σⱼ, uⱼ, vⱼ)` of a matrix to keep. `k = min(m, n)`; `σ₁` is the
/// largest singular value of the matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cutoff {
    /// The `K` largest triplets (`K ≥ 1`; a `K` above `k` keeps all `k`). Every matrix keeps
    /// exactly `min(K, k)` triplets, whatever their values (a zero singular value inside the
    /// top `K` is kept as a zero).
    Rank(usize),
    /// The triplets with `σⱼ > rtol·σ₁` (`rtol` finite and `≥ 0`); a zero matrix keeps none.
    /// `Relative(0.0)` keeps every non-zero singular value.
    Relative(f64),
    /// The triplets with `σⱼ > atol` (`atol` finite and `≥ 0`).
    Absolute(f64),
}

impl Cutoff {
    /// Checks the parameter.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for `Rank(0)` and for a negative or non-finite tolerance.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Cutoff::Rank(0) => Err(Error::InvalidOption(
                "the truncation rank must be at least 1".to_string(),
            )),
            Cutoff::Rank(_) => Ok(()),
            Cutoff::Relative(rtol) => require_non_negative("the relative tolerance", rtol),
            Cutoff::Absolute(atol) => require_non_negative("the absolute tolerance", atol),
        }
    }

    /// The number of triplets a truncated output has room for per matrix, for matrices with
    /// `k = min(m, n)` singular values: `min(K, k)` for [`Cutoff::Rank`], `k` otherwise.
    #[must_use]
    pub fn width(&self, k: usize) -> usize {
        match *self {
            Cutoff::Rank(r) => r.min(k),
            Cutoff::Relative(_) | Cutoff::Absolute(_) => k,
        }
    }

    /// How many of the descending singular values `sigma` this cutoff keeps (`0` if any of
    /// them is not finite). The comparison is made in f64.
    #[must_use]
    pub fn kept<T: Real>(&self, sigma: &[T]) -> usize {
        if sigma.iter().any(|x| !x.is_finite()) {
            return 0;
        }
        let above = |threshold: f64| sigma.iter().filter(|&&s| s.to_f64() > threshold).count();
        match *self {
            Cutoff::Rank(r) => r.min(sigma.len()),
            Cutoff::Relative(rtol) => {
                let s1 = sigma.first().map_or(0.0, |&s| s.to_f64());
                above(rtol * s1)
            }
            Cutoff::Absolute(atol) => above(atol),
        }
    }
}

/// The singular triplets of every matrix of a batch after truncation.
///
/// With `w` = [`Truncated::width`] (`min(K, k)` for [`Cutoff::Rank`], `k = min(m, n)` for the
/// tolerances) and `rᵢ` = [`Truncated::rank`]`(i)` ≤ `w` the number of triplets matrix `i`
/// kept:
/// * singular values: `count×w`, row-major;
/// * U: `count×m×w`, each matrix **row-major** (a numpy `(count, m, w)` array);
/// * Vᵀ (Vᴴ for complex `T`): `count×w×n`, each matrix **row-major** (`(count, w, n)`).
///
/// Triplets `rᵢ..w` of matrix `i` (dropped by a tolerance) are **zero** — σ, the U column
/// and the Vᵀ row — so `U·diag(σ)·Vᵀ` of the stored arrays is the truncated matrix `A_r` for
/// every matrix, whatever its rank. Matrices whose singular values are not all finite have
/// rank 0 and NaN everywhere. The values are the SVD's values, copied: truncation adds no
/// rounding. U and Vᵀ are empty when the SVD was computed without vectors.
#[derive(Clone, Debug)]
pub struct Truncated<T: Element = f32> {
    report: Report,
    width: usize,
    vectors: bool,
    cutoff: Cutoff,
    ranks: Vec<usize>,
    singular_values: Vec<T::Real>,
    u: Vec<T>,
    vt: Vec<T>,
}

impl<T: Element> std::ops::Deref for Truncated<T> {
    type Target = Report;

    fn deref(&self) -> &Report {
        &self.report
    }
}

/// Truncates every matrix of `out` by `cutoff`.
///
/// Works on thin and full outputs (only the leading `w` columns of U and rows of Vᵀ are used)
/// and on values-only outputs (then only the singular values are truncated).
///
/// # Errors
/// [`Error::InvalidOption`] for an invalid `cutoff` (see [`Cutoff::validate`]) or singular
/// values not sorted in descending order.
pub fn truncate<T: Element>(out: &SvdOutput<T>, cutoff: Cutoff) -> Result<Truncated<T>> {
    cutoff.validate()?;
    require_sorted(out)?;
    let (count, (m, n), k) = (out.count(), out.shape(), out.k());
    let width = cutoff.width(k);
    let vectors = out.vectors().wanted();
    let (uc, vr) = (out.u_cols(), out.vt_rows());
    let mut t = Truncated {
        report: out.report().clone(),
        width,
        vectors,
        cutoff,
        ranks: Vec::with_capacity(count),
        singular_values: vec![T::Real::default(); count * width],
        u: vec![T::default(); if vectors { count * m * width } else { 0 }],
        vt: vec![T::default(); if vectors { count * width * n } else { 0 }],
    };
    for i in 0..count {
        let sigma = out.singular_values(i);
        let s_dst = &mut t.singular_values[i * width..(i + 1) * width];
        if !finite_sigma(out, i) {
            t.ranks.push(0);
            s_dst.fill(T::Real::nan());
            if vectors {
                t.u[i * m * width..(i + 1) * m * width].fill(nan());
                t.vt[i * width * n..(i + 1) * width * n].fill(nan());
            }
            continue;
        }
        let r = cutoff.kept(sigma).min(width);
        t.ranks.push(r);
        s_dst[..r].copy_from_slice(&sigma[..r]);
        if vectors && r > 0 {
            let u_src = &out.all_u()[i * m * uc..(i + 1) * m * uc];
            let u_dst = &mut t.u[i * m * width..(i + 1) * m * width];
            for (dst, src) in u_dst.chunks_exact_mut(width).zip(u_src.chunks_exact(uc)) {
                dst[..r].copy_from_slice(&src[..r]);
            }
            let vt_src = &out.all_vt()[i * vr * n..(i + 1) * vr * n];
            t.vt[i * width * n..i * width * n + r * n].copy_from_slice(&vt_src[..r * n]);
        }
    }
    Ok(t)
}

impl<T: Element> Truncated<T> {
    /// Triplets stored per matrix (`w`): `min(K, k)` for [`Cutoff::Rank`], `k` otherwise.
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// The cutoff this truncation applied.
    #[must_use]
    pub fn cutoff(&self) -> Cutoff {
        self.cutoff
    }

    /// Whether U and Vᵀ are present.
    #[must_use]
    pub fn has_vectors(&self) -> bool {
        self.vectors
    }

    /// Number of triplets matrix `i` kept (`≤ width`; 0 for non-finite matrices).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn rank(&self, i: usize) -> usize {
        self.ranks[i]
    }

    /// [`Truncated::rank`] of every matrix.
    #[must_use]
    pub fn ranks(&self) -> &[usize] {
        &self.ranks
    }

    /// The `w` stored singular values of matrix `i` (the dropped ones are 0).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn singular_values(&self, i: usize) -> &[T::Real] {
        &self.singular_values[i * self.width..(i + 1) * self.width]
    }

    /// All stored singular values, `count×w`, row-major.
    #[must_use]
    pub fn all_singular_values(&self) -> &[T::Real] {
        &self.singular_values
    }

    /// U of matrix `i` (`m×w`) as an nalgebra matrix (a copy), or `None` without vectors.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn u(&self, i: usize) -> Option<DMatrix<T>> {
        self.vectors
            .then(|| row_major_matrix(&self.u, i, self.report.m, self.width))
    }

    /// Vᵀ (Vᴴ for complex `T`) of matrix `i` (`w×n`) as an nalgebra matrix (a copy), or `None`
    /// without vectors.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn vt(&self, i: usize) -> Option<DMatrix<T>> {
        self.vectors
            .then(|| row_major_matrix(&self.vt, i, self.width, self.report.n))
    }

    /// All U, `count×m×w`, each row-major (empty without vectors).
    #[must_use]
    pub fn all_u(&self) -> &[T] {
        &self.u
    }

    /// All Vᵀ (Vᴴ), `count×w×n`, each row-major (empty without vectors).
    #[must_use]
    pub fn all_vt(&self) -> &[T] {
        &self.vt
    }

    /// Calls `put(row, col, value)` for every element of `A_r` of matrix `i` (sums in the
    /// host type: f64, or `Complex<f64>` for complex `T`).
    pub(crate) fn reconstruct_into(&self, i: usize, mut put: impl FnMut(usize, usize, T::Host)) {
        let (m, n, w) = (self.report.m, self.report.n, self.width);
        let s = self.singular_values(i);
        let u = &self.u[i * m * w..(i + 1) * m * w];
        let vt = &self.vt[i * w * n..(i + 1) * w * n];
        // Finite matrices sum over their kept triplets only; non-finite ones over all
        // (NaN) triplets, so that their result is NaN.
        let r = if finite_sigma_slice(s) {
            self.ranks[i]
        } else {
            w
        };
        if w == 0 {
            // No triplet (m or n is 0, or a rank-0 cutoff): A_r is the m×n zero matrix.
            (0..m * n).for_each(|e| put(e / n, e % n, T::Host::default()));
            return;
        }
        let mut row = vec![T::Host::default(); n];
        for (ri, u_row) in u.chunks_exact(w).enumerate() {
            row.fill(T::Host::default());
            for j in 0..r {
                let coef = u_row[j].to_host().scale(s[j].to_f64());
                for (acc, &v) in row.iter_mut().zip(&vt[j * n..(j + 1) * n]) {
                    *acc += coef * v.to_host();
                }
            }
            for (c, &x) in row.iter().enumerate() {
                put(ri, c, x);
            }
        }
    }
}

impl<T: Real> Truncated<T> {
    /// The truncated matrix `A_r = Σ_{j<r} σⱼ·uⱼ·vⱼᵀ` of matrix `i` (`m×n`), accumulated in
    /// f64 from the stored triplets, or `None` without vectors.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn reconstruct(&self, i: usize) -> Option<DMatrix<f64>> {
        if !self.vectors {
            return None;
        }
        let mut a = DMatrix::zeros(self.report.m, self.report.n);
        self.reconstruct_into(i, |r, c, x| a[(r, c)] = x);
        Some(a)
    }
}

/// Whether every value is finite.
fn finite_sigma_slice<T: Real>(s: &[T]) -> bool {
    s.iter().all(|x| x.is_finite())
}
