//! The derived operations on complex matrices (complex64, complex128): pseudoinverse, least
//! squares, truncation and low-rank approximation, norms and ranks. The references are built
//! from known factors — `A = U·diag(σ)·Vᴴ` with random unitary U and V in f64, so
//! `A⁺ = V·diag(σ)⁺·Uᴴ` and `A_k = U_k·diag(σ_k)·V_kᴴ` are known independently of any SVD —
//! and the bounds are the ones the operations document (`κ·16·max(m, n)·ε` for `A⁺`).

use batched_svd::cpu::Cpu;
use batched_svd::ops::{self, Cutoff, RightHandSides};
use batched_svd::{Element, MatrixBatch, Real, Status, SvdOptions};
use bench_support::complex::{self as cx, C64, batch_row_major, to_dmatrix_c64, widen};
use bench_support::rng::Rng;
use nalgebra::{Complex, DMatrix, DVector};

/// `A = U·diag(σ)·Vᴴ` with U (`m×k`) and V (`n×k`) random with orthonormal columns.
struct Known {
    a: DMatrix<C64>,
    u: DMatrix<C64>,
    sigma: Vec<f64>,
    v: DMatrix<C64>,
}

impl Known {
    fn new(rng: &mut Rng, m: usize, n: usize, sigma: &[f64]) -> Self {
        let u = cx::unitary_columns(rng, m, sigma.len());
        let v = cx::unitary_columns(rng, n, sigma.len());
        let a = &u * diag(sigma) * v.adjoint();
        Self {
            a,
            u,
            sigma: sigma.to_vec(),
            v,
        }
    }

    /// `Σ_{j<r} vⱼ·σⱼ⁻¹·uⱼᴴ` over the first `r` (the non-zero) singular values.
    fn pinv(&self, r: usize) -> DMatrix<C64> {
        let inv: Vec<f64> = self.sigma[..r].iter().map(|s| 1.0 / s).collect();
        self.v.columns(0, r) * diag(&inv) * self.u.columns(0, r).adjoint()
    }

    /// `Σ_{j<r} uⱼ·σⱼ·vⱼᴴ`.
    fn truncated(&self, r: usize) -> DMatrix<C64> {
        self.u.columns(0, r) * diag(&self.sigma[..r]) * self.v.columns(0, r).adjoint()
    }
}

fn diag(s: &[f64]) -> DMatrix<C64> {
    DMatrix::from_diagonal(&DVector::from_iterator(
        s.len(),
        s.iter().map(|&x| C64::new(x, 0.0)),
    ))
}

fn eps<R: Real>() -> f64 {
    R::EPSILON.to_f64()
}

/// Singular value lists with condition `cond`, the last `zeros` of them zero.
fn spectrum(k: usize, cond: f64, zeros: usize) -> Vec<f64> {
    let live = k - zeros;
    (0..k)
        .map(|i| {
            if i >= live {
                0.0
            } else {
                cond.powf(-(i as f64) / (live.max(2) - 1) as f64)
            }
        })
        .collect()
}

const SHAPES: [(usize, usize); 5] = [(2, 2), (3, 3), (8, 8), (9, 5), (4, 11)];

fn pinv_matches_v_sigma_plus_u_conjugate_transposed<R: Real>()
where
    Complex<R>: Element<Real = R>,
{
    let mut rng = Rng::new(31);
    let conds: &[f64] = if R::EPSILON.to_f64() < 1e-10 {
        &[1.0, 1e3, 1e8]
    } else {
        &[1.0, 1e2, 1e4]
    };
    for (m, n) in SHAPES {
        let k = m.min(n);
        for &cond in conds {
            for zeros in [0, k / 2] {
                let known: Vec<Known> = (0..3)
                    .map(|_| Known::new(&mut rng, m, n, &spectrum(k, cond, zeros)))
                    .collect();
                let a: Vec<DMatrix<C64>> = known.iter().map(|k| k.a.clone()).collect();
                let data = batch_row_major::<R>(&a);
                let batch = MatrixBatch::row_major(&data, a.len(), m, n).unwrap();
                let svd = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
                // A cutoff far above the rounding of the zero singular values and far below
                // the smallest live one.
                let rcond = 1.0 / (cond * 1e2).min(1e-2 / eps::<R>());
                let p = ops::pinv(&svd, Some(rcond)).unwrap();
                assert_eq!(p.matrix_shape(), (n, m));
                for (i, kn) in known.iter().enumerate() {
                    let live = k - zeros;
                    assert_eq!(p.rank(i), live, "{m}×{n} κ {cond:e}: rank");
                    let reference = kn.pinv(live);
                    let got = widen(&p.matrix(i));
                    let err = (&got - &reference).norm() / reference.norm();
                    let bound = cond * 16.0 * m.max(n) as f64 * eps::<R>();
                    assert!(
                        err <= bound,
                        "{} {m}×{n} κ {cond:e} zeros {zeros}: ‖A⁺ − A⁺_ref‖/‖A⁺_ref‖ = {err:e} \
                         > {bound:e}",
                        Complex::<R>::NAME
                    );
                }
            }
        }
    }
}

#[test]
fn complex64_pinv_matches_v_sigma_plus_u_conjugate_transposed() {
    pinv_matches_v_sigma_plus_u_conjugate_transposed::<f32>();
}

#[test]
fn complex128_pinv_matches_v_sigma_plus_u_conjugate_transposed() {
    pinv_matches_v_sigma_plus_u_conjugate_transposed::<f64>();
}

fn lstsq_gives_the_minimum_norm_solution<R: Real>()
where
    Complex<R>: Element<Real = R>,
{
    let mut rng = Rng::new(47);
    let cond = 10.0;
    for (m, n) in SHAPES {
        let k = m.min(n);
        for zeros in [0, k / 2] {
            let known: Vec<Known> = (0..2)
                .map(|_| Known::new(&mut rng, m, n, &spectrum(k, cond, zeros)))
                .collect();
            let a: Vec<DMatrix<C64>> = known.iter().map(|k| k.a.clone()).collect();
            let data = batch_row_major::<R>(&a);
            let batch = MatrixBatch::row_major(&data, a.len(), m, n).unwrap();
            let r = 3;
            let b: Vec<DMatrix<C64>> = (0..2).map(|_| cx::gaussian(&mut rng, m, r)).collect();
            let b_data = batch_row_major::<R>(&b);
            let rhs = RightHandSides::matrices(&b_data, 2, m, r).unwrap();
            let svd = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
            let x = ops::lstsq(&batch, &svd, &rhs, Some(1e-3)).unwrap();
            assert_eq!(x.solution_shape(), vec![2, n, r]);
            for (i, kn) in known.iter().enumerate() {
                let live = k - zeros;
                assert_eq!(x.rank(i), live);
                // The rounded b is the one solved for.
                let bi = DMatrix::from_fn(m, r, |row, c| {
                    let z = b_data[i * m * r + row * r + c];
                    C64::new(z.re.to_f64(), z.im.to_f64())
                });
                let x_ref = kn.pinv(live) * &bi;
                let got = DMatrix::from_fn(n, r, |row, c| {
                    let z = x.solution(i)[row * r + c];
                    C64::new(z.re.to_f64(), z.im.to_f64())
                });
                // κ·16·max(m, n)·ε plus the least-squares term κ²·16·max(m, n)·ε·‖r‖/(‖A‖‖x‖),
                // with ‖r‖ ≤ ‖b‖: at κ = 10, 16·max(m, n)·ε·(κ + κ²·‖b‖/(σ₁‖x‖)).
                let scale = 16.0 * m.max(n) as f64 * eps::<R>();
                let bound = scale * (cond + cond * cond * bi.norm() / x_ref.norm());
                let err = (&got - &x_ref).norm() / x_ref.norm();
                assert!(
                    err <= bound,
                    "{} {m}×{n} zeros {zeros}: ‖x − x_ref‖/‖x_ref‖ = {err:e} > {bound:e}",
                    Complex::<R>::NAME
                );
                // The residuals are those of the minimum (insensitive to x to first order).
                let a_stored = to_dmatrix_c64(&batch, i);
                for c in 0..r {
                    let res_ref = (bi.column(c) - &a_stored * x_ref.column(c)).norm_squared();
                    let got = x.residuals(i)[c];
                    let tol = 4.0 * scale * bi.column(c).norm_squared() * cond;
                    assert!(
                        (got - res_ref).abs() <= tol,
                        "{m}×{n}: residual {got:e} vs {res_ref:e}"
                    );
                }
            }
        }
    }
}

#[test]
fn complex64_lstsq_gives_the_minimum_norm_solution() {
    lstsq_gives_the_minimum_norm_solution::<f32>();
}

#[test]
fn complex128_lstsq_gives_the_minimum_norm_solution() {
    lstsq_gives_the_minimum_norm_solution::<f64>();
}

fn low_rank_is_the_eckart_young_optimum<R: Real>()
where
    Complex<R>: Element<Real = R>,
{
    let mut rng = Rng::new(53);
    for (m, n) in [(6, 6), (9, 5), (4, 11), (12, 12)] {
        let k = m.min(n);
        // Well separated: 4, 3, 2, 1, 0.5, 0.25, …
        let sigma: Vec<f64> = (0..k)
            .map(|i| {
                if i < 4 {
                    4.0 - i as f64
                } else {
                    0.5f64.powi(i as i32 - 3)
                }
            })
            .collect();
        let known = Known::new(&mut rng, m, n, &sigma);
        let data = batch_row_major::<R>(std::slice::from_ref(&known.a));
        let batch = MatrixBatch::row_major(&data, 1, m, n).unwrap();
        let svd = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
        let tol = 16.0 * m.max(n) as f64 * eps::<R>() * sigma[0];
        for r in 1..k {
            let lr = ops::low_rank(&svd, Cutoff::Rank(r)).unwrap();
            assert_eq!(lr.rank(0), r);
            // A_r against U_r·Σ_r·V_rᴴ: the gap σ_r − σ_{r+1} ≥ σ_r/2 keeps the subspaces
            // determined to about tol/gap.
            let gap = sigma[r - 1] - sigma[r];
            let err = (widen(&lr.matrix(0)) - known.truncated(r)).norm();
            let bound = 4.0 * tol * (sigma[0] / gap);
            assert!(
                err <= bound,
                "{m}×{n} r {r}: ‖A_r − A_r,ref‖_F = {err:e} > {bound:e}"
            );
            let dropped: f64 = sigma[r..].iter().map(|s| s * s).sum::<f64>().sqrt();
            assert!((lr.error_frobenius(0) - dropped).abs() <= tol * k as f64);
            assert!((lr.error_spectral(0) - sigma[r]).abs() <= tol);
            let measured = lr.residual_frobenius(&batch).unwrap()[0];
            assert!(
                (measured - dropped).abs() <= 2.0 * tol * k as f64,
                "{m}×{n} r {r}: measured {measured:e} vs {dropped:e}"
            );
            // The truncated factors give back A_r: U_r·diag(σ_r)·(Vᴴ)_r.
            let t = ops::truncate(&svd, Cutoff::Rank(r)).unwrap();
            let s: Vec<f64> = t.singular_values(0).iter().map(|x| x.to_f64()).collect();
            let product = widen(&t.u(0).unwrap()) * diag(&s) * widen(&t.vt(0).unwrap());
            let err = (product - widen(&lr.matrix(0))).norm();
            assert!(
                err <= tol * k as f64,
                "{m}×{n} r {r}: truncate vs low_rank {err:e}"
            );
        }
    }
}

#[test]
fn complex64_low_rank_is_the_eckart_young_optimum() {
    low_rank_is_the_eckart_young_optimum::<f32>();
}

#[test]
fn complex128_low_rank_is_the_eckart_young_optimum() {
    low_rank_is_the_eckart_young_optimum::<f64>();
}

#[test]
fn complex_norms_and_ranks_match_the_known_spectrum() {
    let mut rng = Rng::new(61);
    let (m, n) = (7, 5);
    let spectra = [spectrum(5, 1e3, 0), spectrum(5, 10.0, 2), vec![0.0; 5]];
    let known: Vec<Known> = spectra
        .iter()
        .map(|s| Known::new(&mut rng, m, n, s))
        .collect();
    let a: Vec<DMatrix<C64>> = known.iter().map(|k| k.a.clone()).collect();
    let data = batch_row_major::<f64>(&a);
    let batch = MatrixBatch::row_major(&data, 3, m, n).unwrap();
    let svd = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
    let tol = 16.0 * 7.0 * f64::EPSILON;
    assert_eq!(
        ops::norms::ranks(&svd, Some(Cutoff::Relative(1e-8))).unwrap(),
        vec![5, 3, 0]
    );
    let fro = ops::norms::frobenius_norms(&svd);
    let nuc = ops::norms::nuclear_norms(&svd);
    let spec = ops::norms::spectral_norms(&svd);
    let cond = ops::norms::condition_numbers(&svd);
    for (i, s) in spectra.iter().enumerate() {
        // The Frobenius norm from σ against Σ|aᵢⱼ|² of the stored matrix.
        let direct = to_dmatrix_c64(&batch, i).norm();
        assert!((fro[i] - direct).abs() <= tol * direct.max(f64::MIN_POSITIVE));
        let sum: f64 = s.iter().sum();
        assert!((nuc[i] - sum).abs() <= tol * 5.0 * s[0].max(f64::MIN_POSITIVE));
        assert!((spec[i] - s[0]).abs() <= tol * s[0].max(f64::MIN_POSITIVE));
    }
    assert!((cond[0] / 1e3 - 1.0).abs() <= 1e3 * tol);
    assert!(cond[1] > 1e10 && cond[2] == f64::INFINITY);
}

#[test]
fn real_data_stored_as_complex_gives_the_real_pseudoinverse() {
    let mut rng = Rng::new(67);
    let (m, n) = (6, 4);
    let a = DMatrix::from_fn(m, n, |_, _| rng.normal());
    let real: Vec<f64> = (0..m)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| a[(i, j)])
        .collect();
    let complex: Vec<Complex<f64>> = real.iter().map(|&x| Complex::new(x, 0.0)).collect();
    let pr = ops::pinv(
        &Cpu::new()
            .svd(
                &MatrixBatch::row_major(&real, 1, m, n).unwrap(),
                &SvdOptions::default(),
            )
            .unwrap(),
        None,
    )
    .unwrap();
    let pc = ops::pinv(
        &Cpu::new()
            .svd(
                &MatrixBatch::row_major(&complex, 1, m, n).unwrap(),
                &SvdOptions::default(),
            )
            .unwrap(),
        None,
    )
    .unwrap();
    let scale = pr.matrix(0).norm();
    for (r, c) in pr.as_slice().iter().zip(pc.as_slice()) {
        assert!((r - c.re).abs() <= 1e-13 * scale && c.im.abs() <= 1e-13 * scale);
    }
}

#[test]
fn a_non_finite_complex_matrix_or_right_hand_side_is_isolated() {
    let mut rng = Rng::new(71);
    let (m, n) = (5, 3);
    let a: Vec<DMatrix<C64>> = (0..3).map(|_| cx::gaussian(&mut rng, m, n)).collect();
    let mut data = batch_row_major::<f32>(&a);
    data[m * n + 2].im = f32::NAN; // matrix 1
    let batch = MatrixBatch::row_major(&data, 3, m, n).unwrap();
    let svd = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
    let p = ops::pinv(&svd, None).unwrap();
    assert_eq!(p.ranks(), &[3, 0, 3]);
    assert!(p.matrix(1).iter().all(|z| z.re.is_nan() && z.im.is_nan()));
    assert!(
        p.matrix(0)
            .iter()
            .chain(p.matrix(2).iter())
            .all(|z| z.re.is_finite())
    );
    let mut b = batch_row_major::<f32>(&[cx::gaussian(&mut rng, 3, m)]);
    b[2 * m].re = f32::INFINITY; // right-hand side of matrix 2
    let rhs = RightHandSides::vectors(&b, 3, m).unwrap();
    let x = ops::lstsq(&batch, &svd, &rhs, None).unwrap();
    assert_eq!(x.status(0), Status::Converged);
    assert_eq!(x.status(1), Status::NonFinite);
    assert_eq!(x.status(2), Status::NonFinite);
    assert!(
        x.solution(0)
            .iter()
            .all(|z| z.re.is_finite() && z.im.is_finite())
    );
    assert!(x.residuals(0)[0].is_finite() && x.residuals(2)[0].is_nan());
}

#[test]
fn complex_pca_matches_the_hermitian_covariance() {
    let mut rng = Rng::new(79);
    let (s, f) = (40, 5);
    // Scores with variances 9, 4, 1, 0.25, 0.0625 along random orthonormal complex directions,
    // plus a complex mean.
    let w = cx::unitary_columns(&mut rng, f, f).adjoint();
    let scales = [3.0, 2.0, 1.0, 0.5, 0.25];
    let z = DMatrix::from_fn(s, f, |_, j| {
        C64::new(rng.normal(), rng.normal()) * (scales[j] * std::f64::consts::FRAC_1_SQRT_2)
    });
    let mean = DVector::from_fn(f, |j, _| C64::new(j as f64, -0.5));
    let x = z * &w + DMatrix::from_fn(s, f, |_, j| mean[j]);
    let data = batch_row_major::<f64>(std::slice::from_ref(&x));
    let batch = MatrixBatch::row_major(&data, 1, s, f).unwrap();
    let pca = ops::Pca::fit(&batch, None, &batched_svd::Solver::cpu()).unwrap();

    // Means and the covariance C = X_cᴴ·X_c/(s − 1), independently of the SVD.
    let xs = to_dmatrix_c64(&batch, 0);
    let direct_mean: Vec<C64> = (0..f).map(|j| xs.column(j).sum() / s as f64).collect();
    for (got, want) in pca.mean(0).iter().zip(&direct_mean) {
        assert!((got - want).norm() <= 1e-13 * (1.0 + want.norm()));
    }
    let xc = DMatrix::from_fn(s, f, |i, j| xs[(i, j)] - direct_mean[j]);
    let cov = xc.adjoint() * &xc / C64::new((s - 1) as f64, 0.0);
    let eig = cov.clone().symmetric_eigen();
    let mut order: Vec<usize> = (0..f).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let tol = 1e-12;
    let ev = pca.explained_variance(0);
    let total: f64 = eig.eigenvalues.iter().sum();
    assert!((pca.total_variance(0) - total).abs() <= tol * total);
    for (c, &e) in order.iter().enumerate() {
        let lambda = eig.eigenvalues[e];
        assert!(
            (ev[c] - lambda).abs() <= tol * total,
            "variance {c}: {} vs {lambda}",
            ev[c]
        );
        assert!((pca.explained_variance_ratio(0)[c] - lambda / total).abs() <= tol);
        // Row c of Vᴴ is v_cᴴ, v_c the eigenvector up to a phase: |⟨v_c, e⟩| = 1.
        let comp = widen(&pca.components(0)).row(c).adjoint();
        let overlap = comp.dotc(&eig.eigenvectors.column(e)).norm();
        assert!(
            (overlap - 1.0).abs() <= 1e-10,
            "component {c}: overlap {overlap}"
        );
        // The phase convention: the entry of largest modulus is real and positive.
        let big =
            comp.iter().copied().fold(
                C64::new(0.0, 0.0),
                |a, b| {
                    if b.norm() > a.norm() { b } else { a }
                },
            );
        assert!(
            big.re > 0.0 && big.im.abs() <= 1e-15 * big.re,
            "component {c}: {big}"
        );
    }
    // transform then inverse_transform with every component gives the data back.
    let scores = pca.transform(&batch).unwrap();
    let back = pca.inverse_transform(&scores).unwrap();
    let back = to_dmatrix_c64(&back, 0);
    assert!((back - &xs).norm() <= 1e-13 * xs.norm());
    // The scores are X_c·(Vᴴ)ᴴ: their covariance is diagonal with the explained variances.
    let zs = to_dmatrix_c64(&scores, 0);
    let zcov = zs.adjoint() * &zs / C64::new((s - 1) as f64, 0.0);
    for i in 0..f {
        for j in 0..f {
            let want = if i == j { ev[i] } else { 0.0 };
            assert!((zcov[(i, j)] - C64::new(want, 0.0)).norm() <= tol * total);
        }
    }
}

#[test]
fn real_data_stored_as_complex_gives_the_real_pca() {
    let mut rng = Rng::new(83);
    let (s, f) = (12, 4);
    let real: Vec<f32> = (0..s * f)
        .map(|i| rng.normal() as f32 + (i % f) as f32)
        .collect();
    let complex: Vec<Complex<f32>> = real.iter().map(|&x| Complex::new(x, 0.0)).collect();
    let solver = batched_svd::Solver::cpu();
    let pr = ops::Pca::fit(
        &MatrixBatch::row_major(&real, 1, s, f).unwrap(),
        None,
        &solver,
    )
    .unwrap();
    let pc = ops::Pca::fit(
        &MatrixBatch::row_major(&complex, 1, s, f).unwrap(),
        None,
        &solver,
    )
    .unwrap();
    for (r, c) in pr.mean(0).iter().zip(pc.mean(0)) {
        assert!((r - c.re).abs() <= 1e-12 && c.im == 0.0);
    }
    // Same components (same signs), up to the f32 SVD's error.
    for (r, c) in pr.all_components().iter().zip(pc.all_components()) {
        assert!((r - c.re).abs() <= 1e-4 && c.im.abs() <= 1e-4, "{r} vs {c}");
    }
    for (r, c) in pr
        .explained_variance(0)
        .iter()
        .zip(pc.explained_variance(0))
    {
        assert!((r - c).abs() <= 1e-4 * pr.total_variance(0));
    }
}
