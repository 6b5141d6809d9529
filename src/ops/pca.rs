//! Principal component analysis of every data matrix of a batch.
//!
//! Each matrix of the batch is one data set: `n_samples` rows (observations) of `n_features`
//! columns (variables). A single data set is a batch of one. PCA centres each column (the
//! feature means), takes the SVD of the centred matrix `X_c = U·Σ·Vᵀ`, and reads off:
//! * the components: the rows of `Vᵀ` (unit vectors in feature space), largest variance first;
//! * the explained variance of component `j`: `σⱼ²/(n_samples − 1)` (unbiased);
//! * its ratio: the explained variance over the total variance
//!   `Σ_features var(column) = ‖X_c‖_F²/(n_samples − 1)`;
//! * `transform(X) = (X − mean)·Vᵀ_pᵀ` (the scores, `n×p`) and
//!   `inverse_transform(Z) = Z·Vᵀ_p + mean`.
//!
//! **Complex data** (complex64, complex128) follows the same definitions with conjugate
//! transposes: `X_c = U·Σ·Vᴴ`, the components are the rows of `Vᴴ` (row `c` is `v_cᴴ`, with
//! `v_c` the eigenvector of the covariance `X_cᴴ·X_c/(n_samples − 1)`), the means are complex
//! ([`Element::Wide`](crate::Element::Wide), `Complex<f64>`), the variances real
//! (`Σ|x − mean|²/(n_samples − 1)`), `transform(X) = (X − mean)·(Vᴴ_p)ᴴ` and
//! `inverse_transform(Z) = Z·Vᴴ_p + mean`.
//!
//! These are the definitions of scikit-learn's `PCA` (`explained_variance_`,
//! `explained_variance_ratio_`, `components_`, `transform`, `inverse_transform`, without
//! whitening). Component signs are made deterministic as in scikit-learn ≥ 1.5: each component
//! is flipped so that its entry of largest magnitude is positive (the first such entry on a
//! tie), so both backends give the same signs. A complex component is multiplied by the
//! unit phase that makes that entry real and positive (for real data, the same flip).
//!
//! Precision: means, total variances, scores and reconstructions are accumulated in f64
//! (complex: `Complex<f64>`) from the data; the centred matrix is rounded to the element type
//! for the SVD (one rounding per element),
//! so the explained variances carry the SVD's error: `|σⱼ² − σ̂ⱼ²| ≲ 2·σ₁·σⱼ·16·max(n_samples,
//! n_features)·ε` (ε of the real type) divided by `n_samples − 1`, and components belonging to nearly
//! equal variances are determined only up to a rotation within their span (as with any PCA).

use nalgebra::{ComplexField, DMatrix};

use super::{finite_sigma, require_sorted, require_vectors, row_major_matrix};
use crate::batch::{Layout, MatrixBatch};
use crate::element::{Element, Real as _, nan};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::options::SvdOptions;
use crate::output::SvdOutput;
use crate::report::Report;

/// A batch of data matrices with each column centred, ready for the SVD.
///
/// [`Centered::batch`] is `count×n_samples×n_features`, row-major `T` (each element is
/// `x − mean` computed in f64 — `Complex<f64>` for complex `T` — and rounded once); the means
/// are [`Element::Wide`] (f64 or `Complex<f64>`), the total variances f64.
#[derive(Clone, Debug)]
pub struct Centered<T: Element = f32> {
    batch: MatrixBatch<'static, T>,
    means: Vec<T::Host>,
    total_variance: Vec<f64>,
}

/// Centres every column of every data matrix of `data` (`count×n_samples×n_features`, either
/// layout).
///
/// # Errors
/// [`Error::InvalidOption`] if there are fewer than two samples (rows) per matrix, since the
/// variance needs `n_samples − 1 > 0`.
pub fn center<T: Element>(data: &MatrixBatch<'_, T>) -> Result<Centered<T>> {
    let (count, s, f) = (data.count(), data.rows(), data.cols());
    if s < 2 {
        return Err(Error::InvalidOption(format!(
            "PCA needs at least 2 samples (rows) per data matrix, got {s}"
        )));
    }
    let layout = data.layout();
    let mut centred = crate::factors::zeroed_vec::<T>(super::checked_len(&[count, s, f])?)?;
    let mut means = vec![T::Host::default(); count * f];
    let mut total_variance = Vec::with_capacity(count);
    for b in 0..count {
        let x = data.matrix_slice(b);
        let at = |i: usize, j: usize| x[layout.offset(s, f, i, j)].to_host();
        let mean = &mut means[b * f..(b + 1) * f];
        for (j, mj) in mean.iter_mut().enumerate() {
            *mj = (0..s)
                .fold(T::Host::default(), |acc, i| acc + at(i, j))
                .unscale(s as f64);
        }
        let dst = &mut centred[b * s * f..(b + 1) * s * f];
        let mut sum_sq = 0.0f64;
        for (i, row) in dst.chunks_exact_mut(f.max(1)).enumerate() {
            for (j, (d, &mj)) in row.iter_mut().zip(mean.iter()).enumerate() {
                let c = at(i, j) - mj;
                sum_sq += c.modulus_squared();
                *d = T::from_host(c);
            }
        }
        total_variance.push(sum_sq / (s - 1) as f64);
    }
    Ok(Centered {
        batch: MatrixBatch::from_vec(centred, count, s, f, Layout::RowMajor)?,
        means,
        total_variance,
    })
}

impl<T: Element> Centered<T> {
    /// The centred data, `count×n_samples×n_features`, row-major: decompose this.
    #[must_use]
    pub fn batch(&self) -> &MatrixBatch<'static, T> {
        &self.batch
    }

    /// The `n_features` column means of data matrix `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn mean(&self, i: usize) -> &[T::Wide] {
        let f = self.batch.cols();
        T::wide_slice(&self.means[i * f..(i + 1) * f])
    }

    /// Total variance of data matrix `i`: `Σⱼ var(column j) = ‖X_c‖_F²/(n_samples − 1)`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn total_variance(&self, i: usize) -> f64 {
        self.total_variance[i]
    }
}

/// A fitted PCA of every data matrix of a batch (see the [module documentation](self)).
///
/// With `p` = [`Pca::n_components`] and `f` = `n_features`:
/// * means: `count×f` ([`Element::Wide`]: f64, or `Complex<f64>` for complex data);
/// * components: `count×p×f` of `T`, each matrix **row-major** (component `c` of data set `i`
///   is row `c` of [`Pca::components`]`(i)`, like scikit-learn's `components_`), unit vectors;
/// * singular values: `count×p` (the real type, of the centred data);
/// * explained variance and its ratio: `count×p` (f64).
///
/// Data sets whose centred matrix is not finite get NaN everywhere.
#[derive(Clone, Debug)]
pub struct Pca<T: Element = f32> {
    report: Report,
    n_components: usize,
    means: Vec<T::Host>,
    components: Vec<T>,
    singular_values: Vec<T::Real>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    total_variance: Vec<f64>,
}

impl<T: Element> std::ops::Deref for Pca<T> {
    type Target = Report;

    /// The report of the SVD of the centred data: `shape()` is `(n_samples, n_features)`.
    fn deref(&self) -> &Report {
        &self.report
    }
}

impl<T: Element> Pca<T> {
    /// Fits a PCA to every data matrix of `data` (`count×n_samples×n_features`): centres it,
    /// decomposes the centred batch with `solver` (thin vectors, sorted), and keeps
    /// `n_components` components (`None`: all `min(n_samples, n_features)`).
    ///
    /// ```
    /// use batched_svd::{MatrixBatch, Solver, ops::Pca};
    /// // One data set of 5 samples × 2 features, close to the line y = 2x.
    /// let data = [0.0f32, 0.2, 1.0, 1.8, 2.0, 4.1, 3.0, 6.0, 4.0, 7.9];
    /// let batch = MatrixBatch::row_major(&data, 1, 5, 2)?;
    /// let pca = Pca::fit(&batch, None, &Solver::cpu())?; // or Solver::auto()
    /// let ratio = pca.explained_variance_ratio(0); // numpy/scikit-learn: 0.99964, 0.00036
    /// assert!((ratio[0] - 0.999643).abs() < 1e-5 && (ratio[1] - 0.000357).abs() < 1e-5);
    /// let c = pca.components(0); // first row ≈ (1, 2)/√5, largest entry positive
    /// assert!((c[(0, 0)] - 0.453845).abs() < 1e-5 && (c[(0, 1)] - 0.891081).abs() < 1e-5);
    /// let scores = pca.transform(&batch)?; // 1×5×2
    /// let back = pca.inverse_transform(&scores)?; // ≈ the data
    /// assert!((back.get(0, 2, 1) - 4.1).abs() < 1e-5);
    /// # Ok::<(), batched_svd::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`center`], [`Solver::svd`](crate::Solver::svd) and [`Pca::from_svd`].
    pub fn fit(
        data: &MatrixBatch<'_, T>,
        n_components: Option<usize>,
        solver: &crate::Solver,
    ) -> Result<Self> {
        let centered = center(data)?;
        let out = solver.svd(centered.batch(), &SvdOptions::default())?;
        Self::from_svd(&centered, &out, n_components)
    }

    /// Builds the PCA from a centred batch and its SVD (thin or full vectors, sorted), keeping
    /// `n_components` components (`None`: all `min(n_samples, n_features)`).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if `svd` is not an SVD of `centered.batch()`'s shape, has no
    /// vectors or unsorted singular values, or `n_components` is 0 or above
    /// `min(n_samples, n_features)`.
    pub fn from_svd(
        centered: &Centered<T>,
        svd: &SvdOutput<T>,
        n_components: Option<usize>,
    ) -> Result<Self> {
        super::require_same_shape(centered.batch(), svd)?;
        require_vectors(svd, "PCA")?;
        require_sorted(svd)?;
        let (count, (s, f), k) = (svd.count(), svd.shape(), svd.k());
        let p = n_components.unwrap_or(k);
        if p == 0 || p > k {
            return Err(Error::InvalidOption(format!(
                "n_components must be between 1 and min(n_samples, n_features) = {k}, got {p}"
            )));
        }
        let vr = svd.vt_rows();
        let mut components = vec![T::default(); count * p * f];
        let mut singular_values = vec![T::Real::default(); count * p];
        let mut explained_variance = vec![0.0f64; count * p];
        let mut explained_variance_ratio = vec![0.0f64; count * p];
        let dof = (s - 1) as f64;
        for i in 0..count {
            let comp = &mut components[i * p * f..(i + 1) * p * f];
            let sv = &mut singular_values[i * p..(i + 1) * p];
            let ev = &mut explained_variance[i * p..(i + 1) * p];
            let ratio = &mut explained_variance_ratio[i * p..(i + 1) * p];
            if !finite_sigma(svd, i) {
                comp.fill(nan());
                sv.fill(T::Real::nan());
                ev.fill(f64::NAN);
                ratio.fill(f64::NAN);
                continue;
            }
            let vt = &svd.all_vt()[i * vr * f..(i + 1) * vr * f];
            comp.copy_from_slice(&vt[..p * f]);
            for row in comp.chunks_exact_mut(f) {
                normalize_phase(row);
            }
            sv.copy_from_slice(&svd.singular_values(i)[..p]);
            let total = centered.total_variance(i);
            for ((e, q), &sigma) in ev.iter_mut().zip(ratio.iter_mut()).zip(sv.iter()) {
                let sigma = sigma.to_f64();
                *e = sigma * sigma / dof;
                *q = if total > 0.0 { *e / total } else { 0.0 };
            }
        }
        Ok(Self {
            report: svd.report().clone(),
            n_components: p,
            means: centered.means.clone(),
            components,
            singular_values,
            explained_variance,
            explained_variance_ratio,
            total_variance: centered.total_variance.clone(),
        })
    }

    /// Projects the samples of every data matrix of `data` (`count×rows×n_features`, any
    /// number of rows, either layout) onto the components of the matching fitted data set:
    /// `Z = (X − mean)·Vᵀ_pᵀ` (complex: `(X − mean)·(Vᴴ_p)ᴴ`). Returns the scores,
    /// `count×rows×p`, row-major (computed in f64 or `Complex<f64>`, rounded to `T`).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if `data` does not have `count` matrices of `n_features`
    /// columns.
    pub fn transform(&self, data: &MatrixBatch<'_, T>) -> Result<MatrixBatch<'static, T>> {
        let (f, p) = (self.report.n, self.n_components);
        if data.count() != self.report.count || data.cols() != f {
            return Err(Error::InvalidOption(format!(
                "transform: expected {} data matrices of {f} features, got {} of {}",
                self.report.count,
                data.count(),
                data.cols()
            )));
        }
        let rows = data.rows();
        let layout = data.layout();
        let mut out =
            crate::factors::zeroed_vec::<T>(super::checked_len(&[self.report.count, rows, p])?)?;
        // (None for no data sets: `f` may then be anything up to usize::MAX.)
        let mut centred = vec![T::Host::default(); if self.report.count == 0 { 0 } else { f }];
        for b in 0..self.report.count {
            let x = data.matrix_slice(b);
            let mean = self.host_mean(b);
            let comp = &self.components[b * p * f..(b + 1) * p * f];
            for (i, z_row) in out[b * rows * p..(b + 1) * rows * p]
                .chunks_exact_mut(p)
                .enumerate()
            {
                for (j, (c, &mj)) in centred.iter_mut().zip(mean).enumerate() {
                    *c = x[layout.offset(rows, f, i, j)].to_host() - mj;
                }
                for (z, comp_row) in z_row.iter_mut().zip(comp.chunks_exact(f)) {
                    let dot = centred
                        .iter()
                        .zip(comp_row)
                        .fold(T::Host::default(), |acc, (&c, &v)| {
                            acc + c * v.to_host().conjugate()
                        });
                    *z = T::from_host(dot);
                }
            }
        }
        MatrixBatch::from_vec(out, self.report.count, rows, p, Layout::RowMajor)
    }

    /// Maps scores back to feature space: `X̂ = Z·Vᵀ_p + mean` (complex: `Z·Vᴴ_p + mean`) for
    /// every data set, with `Z` of shape `count×rows×p` (either layout). Returns
    /// `count×rows×n_features`, row-major (computed in f64 or `Complex<f64>`, rounded to `T`). With all components this undoes
    /// [`Pca::transform`] up to rounding; with fewer it is the best rank-`p` approximation of
    /// the centred data, plus the means.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if `scores` does not have `count` matrices of `p` columns.
    pub fn inverse_transform(
        &self,
        scores: &MatrixBatch<'_, T>,
    ) -> Result<MatrixBatch<'static, T>> {
        let (f, p) = (self.report.n, self.n_components);
        if scores.count() != self.report.count || scores.cols() != p {
            return Err(Error::InvalidOption(format!(
                "inverse_transform: expected {} score matrices of {p} columns, got {} of {}",
                self.report.count,
                scores.count(),
                scores.cols()
            )));
        }
        let rows = scores.rows();
        let layout = scores.layout();
        let mut out =
            crate::factors::zeroed_vec::<T>(super::checked_len(&[self.report.count, rows, f])?)?;
        let mut acc = vec![T::Host::default(); if self.report.count == 0 { 0 } else { f }];
        for b in 0..self.report.count {
            let z = scores.matrix_slice(b);
            let comp = &self.components[b * p * f..(b + 1) * p * f];
            for (i, x_row) in out[b * rows * f..(b + 1) * rows * f]
                .chunks_exact_mut(f)
                .enumerate()
            {
                acc.copy_from_slice(self.host_mean(b));
                for (c, comp_row) in comp.chunks_exact(f).enumerate() {
                    let zc = z[layout.offset(rows, p, i, c)].to_host();
                    for (a, &v) in acc.iter_mut().zip(comp_row) {
                        *a += zc * v.to_host();
                    }
                }
                for (d, &a) in x_row.iter_mut().zip(&acc) {
                    *d = T::from_host(a);
                }
            }
        }
        MatrixBatch::from_vec(out, self.report.count, rows, f, Layout::RowMajor)
    }

    /// Samples (rows) per fitted data matrix.
    #[must_use]
    pub fn n_samples(&self) -> usize {
        self.report.m
    }

    /// Features (columns) per data matrix.
    #[must_use]
    pub fn n_features(&self) -> usize {
        self.report.n
    }

    /// Components kept (`p`).
    #[must_use]
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// The feature means of data set `i` (`n_features` values).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn mean(&self, i: usize) -> &[T::Wide] {
        T::wide_slice(self.host_mean(i))
    }

    fn host_mean(&self, i: usize) -> &[T::Host] {
        &self.means[i * self.report.n..(i + 1) * self.report.n]
    }

    /// The components of data set `i`: `p×n_features`, one unit vector per row.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn components(&self, i: usize) -> DMatrix<T> {
        row_major_matrix(&self.components, i, self.n_components, self.report.n)
    }

    /// All components, `count×p×n_features`, each row-major.
    #[must_use]
    pub fn all_components(&self) -> &[T] {
        &self.components
    }

    /// The `p` singular values of the centred data set `i`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn singular_values(&self, i: usize) -> &[T::Real] {
        &self.singular_values[i * self.n_components..(i + 1) * self.n_components]
    }

    /// The variance along each kept component of data set `i`: `σⱼ²/(n_samples − 1)`.
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn explained_variance(&self, i: usize) -> &[f64] {
        &self.explained_variance[i * self.n_components..(i + 1) * self.n_components]
    }

    /// The fraction of the total variance along each kept component of data set `i` (sums to
    /// 1 up to rounding when all components are kept; 0 for constant data).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn explained_variance_ratio(&self, i: usize) -> &[f64] {
        &self.explained_variance_ratio[i * self.n_components..(i + 1) * self.n_components]
    }

    /// Total variance of data set `i` (sum of the column variances, from the data in f64).
    ///
    /// # Panics
    /// If `i >= count`.
    #[must_use]
    pub fn total_variance(&self, i: usize) -> f64 {
        self.total_variance[i]
    }
}

/// Multiplies `v` by the unit phase that makes its entry of largest magnitude (the first on a
/// tie) real and positive: for real `v`, flips it when that entry is negative (exactly).
fn normalize_phase<T: Element>(v: &mut [T]) {
    let mut best = 0.0f64;
    let mut phase = None;
    for &x in v.iter() {
        let x = x.to_host();
        if x.modulus() > best {
            best = x.modulus();
            phase = Some(x.phase());
        }
    }
    let one = T::Host::from_real(1.0);
    if let Some(phase) = phase.filter(|&p| p != one) {
        let turn = phase.conjugate();
        v.iter_mut()
            .for_each(|x| *x = T::from_host(x.to_host() * turn));
    }
}
