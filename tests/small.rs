//! The dedicated 2×2 / 3×3 kernels: accuracy on the matrix classes physics code meets, both
//! sign conventions, and the polar decomposition, in f32 and f64 (ε of the type; residuals in
//! double-double).

mod common;

use batched_svd::tuning::KernelFamily;
use batched_svd::{
    Gpu, MatrixBatch, PolarOptions, PolarOutput, Real, SignConvention, Status, SvdOptions,
    SvdOutput,
};
use common::dd;
use common::matrices::Rng;
use nalgebra::DMatrix;

/// The classes of the graphics/physics issue.
const CLASSES: [&str; 7] = [
    "random",
    "rotation",
    "reflection",
    "near-identity",
    "nearly-singular",
    "exactly-singular",
    "inverted",
];

fn rotation(rng: &mut Rng, n: usize) -> DMatrix<f64> {
    let mut q = rng.orthonormal(n, n);
    if q.determinant() < 0.0 {
        q.column_mut(0).neg_mut();
    }
    q
}

fn class_matrix(class: &str, n: usize, rng: &mut Rng) -> DMatrix<f64> {
    let diag = |d: &[f64]| DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(d));
    let stretch: Vec<f64> = (0..n).map(|i| 1.5 - 0.4 * i as f64).collect();
    match class {
        "random" => rng.gaussian(n, n),
        "rotation" => rotation(rng, n),
        "reflection" => {
            let mut r = rotation(rng, n);
            r.column_mut(n - 1).neg_mut();
            r
        }
        "near-identity" => DMatrix::identity(n, n) + rng.gaussian(n, n) * 1e-6,
        "nearly-singular" => {
            let mut s = stretch.clone();
            s[n - 1] = 1e-5;
            rotation(rng, n) * diag(&s) * rotation(rng, n).transpose()
        }
        "exactly-singular" => {
            // A repeated column: rank n−1 exactly, also after rounding to f32.
            let mut a = rng.gaussian(n, n);
            let c0 = a.column(0).into_owned();
            a.set_column(n - 1, &c0);
            a
        }
        "inverted" => {
            let mut s = stretch.clone();
            s[n - 1] = -s[n - 1];
            rotation(rng, n) * diag(&s) * rotation(rng, n).transpose()
        }
        _ => unreachable!(),
    }
}

/// `per` matrices of every class, row-major, rounded to `T`, plus their classes.
fn batch<T: Real>(n: usize, per: usize, seed: u64) -> (Vec<T>, Vec<&'static str>) {
    let mut rng = Rng::new(seed);
    let mut data = Vec::new();
    let mut classes = Vec::new();
    for &class in &CLASSES {
        for _ in 0..per {
            let a = class_matrix(class, n, &mut rng);
            data.extend((0..n * n).map(|e| T::from_f64(a[(e / n, e % n)])));
            classes.push(class);
        }
    }
    (data, classes)
}

fn det<T: Real>(m: &nalgebra::DMatrix<T>) -> f64 {
    m.map(|x| x.to_f64()).determinant()
}

fn wide<T: Real>(m: &DMatrix<T>) -> DMatrix<f64> {
    m.map(|x| x.to_f64())
}

/// Checks the core bounds (with |σ| for the rotation convention) and the sign rules.
fn check<T: Real>(
    label: &str,
    batch: &MatrixBatch<'_, T>,
    out: &SvdOutput<T>,
    classes: &[&str],
    signs: SignConvention,
) {
    let n = batch.rows();
    let eps = T::EPSILON.to_f64();
    assert_eq!(classes.len(), batch.count());
    for (i, class) in classes.iter().enumerate() {
        let a = batch.to_dmatrix_f64(i);
        assert_eq!(out.status(i), Status::Converged, "{label} {class}");
        let mut reference = common::reference_sigma(&a);
        let s1 = reference[0];
        let mut got: Vec<f64> = out
            .singular_values(i)
            .iter()
            .map(|&x| x.to_f64().abs())
            .collect();
        got.sort_by(|x, y| y.total_cmp(x));
        reference.truncate(n);
        let sigma_err = got
            .iter()
            .zip(&reference)
            .map(|(g, r)| (g - r).abs())
            .fold(0.0, f64::max);
        let bound = 16.0 * n as f64 * eps;
        assert!(
            sigma_err <= bound * s1,
            "{label} {}: σ {:?} vs {reference:?}",
            class,
            out.singular_values(i)
        );
        let (u, vt) = (out.u(i).unwrap(), out.vt(i).unwrap());
        let (uw, vw) = (wide(&u.clone_owned()), wide(&vt.transpose()));
        let ue = dd::gram_minus_identity_max(&uw);
        let ve = dd::gram_minus_identity_max(&vw);
        assert!(
            ue <= bound && ve <= bound,
            "{label} {}: orthogonality {ue:e} {ve:e}",
            class
        );
        let signed: Vec<f64> = out.singular_values(i).iter().map(|x| x.to_f64()).collect();
        let recon = dd::reconstruction_residual(&a, &uw, &signed, &vw);
        assert!(
            recon <= bound * a.norm(),
            "{label} {}: reconstruction {recon:e}",
            class
        );
        let s: Vec<f64> = signed;
        match signs {
            SignConvention::NonNegative => {
                assert!(
                    s.iter().all(|&x| x >= 0.0) && s.windows(2).all(|w| w[0] >= w[1]),
                    "{label}: {s:?}"
                );
            }
            SignConvention::Rotation => {
                assert!(
                    (det(&u) - 1.0).abs() < 1e-5,
                    "{label} {}: det U = {}",
                    class,
                    det(&u)
                );
                assert!(
                    (det(&vt) - 1.0).abs() < 1e-5,
                    "{label} {}: det V = {}",
                    class,
                    det(&vt)
                );
                let det_a = a.determinant();
                if det_a.abs() > 1e-3 * s1.powi(n as i32) {
                    assert_eq!(
                        s[n - 1] < 0.0,
                        det_a < 0.0,
                        "{label} {}: σ {s:?}, det A {det_a}",
                        class
                    );
                }
                assert!(s[..n - 1].iter().all(|&x| x >= 0.0));
                assert!(
                    s.windows(2).all(|w| w[0].abs() >= w[1].abs()),
                    "{label}: {s:?}"
                );
            }
        }
    }
}

#[test]
fn dedicated_kernels_meet_the_bounds_in_both_conventions() {
    check_kernels::<f32>(common::gpu());
}

#[test]
fn dedicated_kernels_meet_the_bounds_in_both_conventions_in_f64() {
    check_kernels::<f64>(common::gpu_f64());
}

fn check_kernels<T: Real>(gpu: Option<&Gpu>) {
    let ty = T::NAME;
    for n in [2, 3] {
        let (data, classes) = batch::<T>(n, 40, 60 + n as u64);
        let batch = MatrixBatch::row_major(&data, classes.len(), n, n).unwrap();
        for signs in [SignConvention::NonNegative, SignConvention::Rotation] {
            let opts = SvdOptions::default().with_signs(signs);
            let cpu = batched_svd::cpu::svd(&batch, &opts).unwrap();
            check(
                &format!("cpu {ty} {n}×{n} {signs:?}"),
                &batch,
                &cpu,
                &classes,
                signs,
            );
            let Some(gpu) = gpu else { continue };
            let out = gpu
                .svd(&batch, &opts.clone().with_kernel(KernelFamily::Small))
                .unwrap();
            assert_eq!(out.work().dispatches, 1);
            check(
                &format!("gpu {ty} {n}×{n} {signs:?}"),
                &batch,
                &out,
                &classes,
                signs,
            );
            // Auto picks the dedicated kernel for these shapes: same results.
            let auto = gpu.svd(&batch, &opts).unwrap();
            assert_eq!(auto.all_singular_values(), out.all_singular_values());
            // The general kernels with the host-side sign fix agree.
            let general = gpu
                .svd(
                    &batch,
                    &opts.clone().with_kernel(KernelFamily::PerInvocation),
                )
                .unwrap();
            check(
                &format!("gpu general {ty} {n}×{n} {signs:?}"),
                &batch,
                &general,
                &classes,
                signs,
            );
        }
    }
}

#[test]
fn rotation_convention_for_larger_square_matrices() {
    let Some(gpu) = common::gpu() else { return };
    let mut rng = Rng::new(70);
    let n = 5;
    let mut data = Vec::new();
    for k in 0..20 {
        let mut a = rng.gaussian(n, n);
        if k % 2 == 0 {
            a.row_mut(0).neg_mut(); // flip det sign for half of them
        }
        data.extend((0..n * n).map(|e| a[(e / n, e % n)] as f32));
    }
    let batch = MatrixBatch::row_major(&data, 20, n, n).unwrap();
    let opts = SvdOptions::default().with_signs(SignConvention::Rotation);
    let out = gpu.svd(&batch, &opts).unwrap();
    check(
        "gpu 5×5 rotation",
        &batch,
        &out,
        &["random"; 20],
        SignConvention::Rotation,
    );
    // Non-square matrices have no rotation convention.
    let wide = MatrixBatch::row_major(&data[..2 * 3], 1, 2, 3).unwrap();
    assert!(matches!(
        gpu.svd(&wide, &opts),
        Err(batched_svd::Error::InvalidOption(_))
    ));
}

fn check_polar<T: Real>(
    label: &str,
    batch: &MatrixBatch<'_, T>,
    out: &PolarOutput<T>,
    with_s: bool,
) {
    let n = batch.rows();
    let bound = 16.0 * n as f64 * T::EPSILON.to_f64();
    for i in 0..batch.count() {
        let a = batch.to_dmatrix_f64(i);
        let r = out.r(i).map(|x| x.to_f64());
        assert!(
            dd::gram_minus_identity_max(&r) <= bound,
            "{label} {i}: R not orthogonal"
        );
        assert!(
            (r.determinant() - 1.0).abs() < 1e-5,
            "{label} {i}: det R {}",
            r.determinant()
        );
        // R is the closest proper rotation: compare with U·diag(1,…,det)·Vᵀ from nalgebra f64.
        let svd = a.clone().svd(true, true);
        let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
        let mut d = DMatrix::<f64>::identity(n, n);
        d[(n - 1, n - 1)] = (u.determinant() * vt.determinant()).signum();
        let reference = &u * d * &vt;
        // The closest rotation is unique when σₙ₋₁ + sign(det A)·σₙ > 0 (a pure reflection,
        // σ = 1, 1 with det −1, has a whole family of them); its sensitivity grows as that
        // sum shrinks.
        let s = &svd.singular_values;
        let gap = s[n - 2] + a.determinant().signum() * s[n - 1];
        if gap > 1e-3 * s[0] {
            let err = (&r - reference).amax();
            assert!(err < 1e-5 * s[0] / gap, "{label} {i}: R off by {err:e}");
        }
        if with_s {
            let sm = out.s(i).unwrap().map(|x| x.to_f64());
            assert!(
                (sm.clone() - sm.transpose()).amax() <= bound * s[0],
                "{label} {i}: S not symmetric"
            );
            let recon = (&a - &r * &sm).norm();
            assert!(
                recon <= bound * a.norm(),
                "{label} {i}: A − R·S = {recon:e}"
            );
        } else {
            assert!(out.s(i).is_none());
        }
    }
}

#[test]
fn polar_decomposition() {
    check_polar_types::<f32>(common::gpu());
}

#[test]
fn polar_decomposition_in_f64() {
    check_polar_types::<f64>(common::gpu_f64());
}

fn check_polar_types<T: Real>(gpu: Option<&Gpu>) {
    let ty = T::NAME;
    for n in [2, 3, 4] {
        let (data, classes) = batch::<T>(n, 20, 80 + n as u64);
        let batch = MatrixBatch::row_major(&data, classes.len(), n, n).unwrap();
        let cpu = batched_svd::cpu::polar(&batch, &PolarOptions::default()).unwrap();
        check_polar(&format!("cpu {ty} {n}×{n}"), &batch, &cpu, true);
        let Some(gpu) = gpu else { continue };
        let out = gpu.polar(&batch, &PolarOptions::default()).unwrap();
        check_polar(&format!("gpu {ty} {n}×{n}"), &batch, &out, true);
        let r_only = gpu.polar(&batch, &PolarOptions::rotation_only()).unwrap();
        check_polar(&format!("gpu {ty} {n}×{n} R only"), &batch, &r_only, false);
        assert_eq!(r_only.all_r(), out.all_r());
        if n <= 3 {
            // 2×2 and 3×3 run in the dedicated kernel, R and S formed on the device.
            assert_eq!(out.work().dispatches, 1, "{ty} {n}×{n}");
        }
    }
}

#[test]
fn non_finite_small_matrices_are_isolated() {
    check_non_finite::<f32>(common::gpu());
}

#[test]
fn non_finite_small_matrices_are_isolated_in_f64() {
    check_non_finite::<f64>(common::gpu_f64());
}

fn check_non_finite<T: Real>(gpu: Option<&Gpu>) {
    let Some(gpu) = gpu else { return };
    let mut data: Vec<T> = (0..4 * 9)
        .map(|i| T::from_f64((f64::from(i) * 0.37).sin()))
        .collect();
    data[9 + 4] = T::nan();
    data[27] = T::from_f64(f64::INFINITY);
    let batch = MatrixBatch::row_major(&data, 4, 3, 3).unwrap();
    let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    let statuses: Vec<Status> = (0..4).map(|i| out.status(i)).collect();
    assert_eq!(
        statuses,
        [
            Status::Converged,
            Status::NonFinite,
            Status::Converged,
            Status::NonFinite
        ]
    );
    assert!(out.singular_values(1).iter().all(|x| x.to_f64().is_nan()));
    assert!(out.u(3).unwrap().iter().all(|x| x.to_f64().is_nan()));
    let polar = gpu.polar(&batch, &PolarOptions::default()).unwrap();
    assert_eq!(polar.status(1), Status::NonFinite);
    assert!(polar.r(1).iter().all(|x| x.to_f64().is_nan()));
    assert_eq!(polar.status(0), Status::Converged);
}
