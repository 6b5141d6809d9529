//! PCA (`batched_svd::ops::Pca`) against the eigendecomposition of the covariance, on both
//! engines.

#![allow(unused_imports)]

mod common;

use batched_svd::ops::{self, Cutoff, Pca, RightHandSides, default_rcond};
use batched_svd::{Backend, Error, MatrixBatch, Solver, Status, SvdOptions, SvdOutput, Vectors};
use common::matrices::Rng;
use common::ops::*;
use common::{EPS, reference_sigma};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

// ---------------------------------------------------------------------------------------
// PCA
// ---------------------------------------------------------------------------------------

/// `count` data sets of `s` samples × `f` features with decreasing variances along a random
/// orthonormal basis, plus a mean offset.
fn pca_data(count: usize, s: usize, f: usize, seed: u64) -> Vec<DMatrix<f64>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let basis = rng.orthonormal(f, f);
            let scales: Vec<f64> = (0..f).map(|j| 6.0 * 0.6f64.powi(j as i32)).collect();
            let z = DMatrix::from_fn(s, f, |_, j| rng.normal() * scales[j]);
            let mean = DVector::from_fn(f, |j, _| 10.0 + j as f64);
            let mut x = z * basis.transpose();
            for mut row in x.row_iter_mut() {
                row += mean.transpose();
            }
            x.map(|v| f64::from(v as f32))
        })
        .collect()
}

#[test]
fn pca_matches_the_covariance_eigendecomposition() {
    for (count, s, f) in [(3, 200, 6), (1, 60, 10), (2, 5, 8)] {
        let sets = pca_data(count, s, f, 4242 + s as u64);
        let data = flatten(&sets);
        let batch = MatrixBatch::row_major(&data, count, s, f).unwrap();
        let k = s.min(f);
        let mut fits = vec![("cpu", Pca::fit(&batch, None, &Solver::cpu()).unwrap())];
        if let Some(gpu) = common::gpu() {
            fits.push((
                "gpu",
                Pca::fit(&batch, None, &Solver::with_gpu(gpu.clone(), Backend::Gpu)).unwrap(),
            ));
        }
        for &(label, ref pca) in &fits {
            let backend = label;
            let label = format!("{label} {count}×({s}×{f})");
            assert_eq!(
                (pca.count(), pca.n_samples(), pca.n_features()),
                (count, s, f)
            );
            assert_eq!(pca.n_components(), k);
            let scores = pca.transform(&batch).unwrap();
            assert_eq!(
                (scores.count(), scores.rows(), scores.cols()),
                (count, s, k)
            );
            let back = pca.inverse_transform(&scores).unwrap();
            for (i, x) in sets.iter().enumerate() {
                assert_eq!(pca.status(i), Status::Converged);
                // Centring.
                let mean = x.row_mean();
                for (j, &mj) in pca.mean(i).iter().enumerate() {
                    assert!(
                        (mj - mean[j]).abs() <= 1e-12 * (1.0 + mean[j].abs()),
                        "{label}"
                    );
                }
                let mut xc = x.clone();
                for mut row in xc.row_iter_mut() {
                    row -= &mean;
                }
                // Covariance eigen-decomposition in f64 (the independent reference).
                let cov = xc.transpose() * &xc / (s - 1) as f64;
                let eig = SymmetricEigen::new(cov.clone());
                let mut order: Vec<usize> = (0..f).collect();
                order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
                let lambda: Vec<f64> = order.iter().map(|&j| eig.eigenvalues[j].max(0.0)).collect();
                let total = cov.trace();
                assert!(
                    (pca.total_variance(i) - total).abs() <= 1e-12 * total,
                    "{label}"
                );
                let ev = pca.explained_variance(i);
                let ratio = pca.explained_variance_ratio(i);
                let tol = 2.0 * unit(s, f) * lambda[0];
                for j in 0..k {
                    assert!(
                        (ev[j] - lambda[j]).abs() <= tol,
                        "{label}: λ{j} {} vs {}",
                        ev[j],
                        lambda[j]
                    );
                    assert!(
                        (ratio[j] - lambda[j] / total).abs() <= tol / total,
                        "{label}"
                    );
                }
                if k == f {
                    assert!(
                        (ratio.iter().sum::<f64>() - 1.0).abs() <= 1e-5,
                        "{label}: Σ ratio"
                    );
                }
                // Components: unit vectors, the eigenvectors up to sign where the eigenvalue
                // is separated, with the largest-magnitude entry positive.
                let comps = widen(pca.components(i));
                assert!(common::orthogonality_error(&comps.transpose()) <= unit(s, f));
                let mut checked = 0;
                for j in 0..k {
                    let c = comps.row(j).transpose();
                    let big = c
                        .iter()
                        .copied()
                        .fold(0.0f64, |acc, v| if v.abs() > acc.abs() { v } else { acc });
                    assert!(big > 0.0, "{label}: sign convention of component {j}");
                    let gap = |o: usize| (lambda[j] - lambda[o]).abs();
                    let sep = (0..f)
                        .filter(|&o| o != j)
                        .map(gap)
                        .fold(f64::INFINITY, f64::min);
                    if sep > 0.1 * lambda[0] {
                        let e = eig.eigenvectors.column(order[j]);
                        let cos = c.dot(&e).abs() / c.norm();
                        // sin θ ≲ δ/gap with δ = 16·max(s, f)·ε·σ₁ the SVD's error and gap the
                        // distance of σⱼ (of the centred data, σ² = (s − 1)·λ) to the others.
                        let sig = |l: f64| ((s - 1) as f64 * l).sqrt();
                        let gap_sigma = (0..f)
                            .filter(|&o| o != j)
                            .map(|o| (sig(lambda[j]) - sig(lambda[o])).abs())
                            .fold(f64::INFINITY, f64::min);
                        // Plus the f32 rounding of the component's entries.
                        let theta = 2.0 * unit(s, f) * sig(lambda[0]) / gap_sigma
                            + 4.0 * (f as f64).sqrt() * EPS;
                        assert!(
                            1.0 - cos <= theta * theta,
                            "{label}: component {j} cos {cos}"
                        );
                        // Scores along it: (X − mean)·e, with the component's sign.
                        let sign = c.dot(&e).signum();
                        let want = &xc * e * sign;
                        for (row, w) in want.iter().enumerate() {
                            let got = f64::from(scores.get(i, row, j));
                            let bound = (theta + 4.0 * EPS) * xc.row(row).norm();
                            assert!((got - w).abs() <= bound, "{label}: score {got} vs {w}");
                        }
                        checked += 1;
                    }
                }
                assert!(
                    checked >= 2.min(k),
                    "{label}: only {checked} separated components"
                );
                // Round trip with all components.
                let err = (0..s)
                    .flat_map(|r| (0..f).map(move |c| (r, c)))
                    .map(|(r, c)| (f64::from(back.get(i, r, c)) - x[(r, c)]).abs())
                    .fold(0.0, f64::max);
                assert!(err <= 1e-4 * x.amax(), "{label}: round trip off by {err:e}");
            }
            // Fewer components: inverse_transform(transform(X)) = mean + the rank-p
            // truncation of the centred data.
            let p = 2;
            let fewer = if backend == "cpu" {
                Pca::fit(&batch, Some(p), &Solver::cpu()).unwrap()
            } else {
                let gpu = common::gpu().unwrap();
                Pca::fit(
                    &batch,
                    Some(p),
                    &Solver::with_gpu(gpu.clone(), Backend::Gpu),
                )
                .unwrap()
            };
            let approx = fewer
                .inverse_transform(&fewer.transform(&batch).unwrap())
                .unwrap();
            for (i, x) in sets.iter().enumerate() {
                let mean = x.row_mean();
                let mut xc = x.clone();
                for mut row in xc.row_iter_mut() {
                    row -= &mean;
                }
                let want = reference_low_rank(&xc, p);
                let s_ref = reference_sigma(&xc);
                let gap = s_ref[p - 1] - s_ref[p];
                let bound = 8.0 * unit(s, f) * s_ref[0] * (1.0 + s_ref[0] / gap);
                let got = DMatrix::from_fn(s, f, |r, c| f64::from(approx.get(i, r, c)) - mean[c]);
                let err = (got - want).norm();
                assert!(
                    err <= bound + 1e-5 * x.norm(),
                    "{label}: rank-{p} PCA off by {err:e}"
                );
            }
        }
    }
}
