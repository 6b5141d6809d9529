//! The test oracle: nalgebra's SVD in f64 as the reference, the four accuracy bounds, and the
//! GPU of the test suite (skipped, or failed under `BATCHED_SVD_REQUIRE_GPU=1`, when there is
//! no adapter).

use std::sync::OnceLock;

use batched_svd::{Gpu, MatrixBatch, Real, Status, SvdOutput};

use crate::dd;
use nalgebra::DMatrix;

/// Environment variable that turns "no adapter" from a skip into a failure (set by `.ci/run`).
pub const REQUIRE_GPU_VAR: &str = "BATCHED_SVD_REQUIRE_GPU";

/// The shared GPU context, or `None` (with a printed reason) when there is no adapter and
/// `BATCHED_SVD_REQUIRE_GPU` is not set.
///
/// # Panics
/// When there is no adapter and `BATCHED_SVD_REQUIRE_GPU=1`.
pub fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    match GPU.get_or_init(|| Gpu::new().map_err(|e| e.to_string())) {
        Ok(g) => Some(g),
        Err(e) => {
            assert!(
                !required(),
                "{REQUIRE_GPU_VAR} is set but no GPU adapter is usable: {e}"
            );
            eprintln!("SKIPPED: no GPU adapter ({e}); set {REQUIRE_GPU_VAR}=1 to make this fail");
            None
        }
    }
}

/// The shared GPU context if it runs f64 kernels (`SHADER_F64`); `None`, with a printed
/// reason, when there is no adapter or it lacks the feature.
///
/// # Panics
/// Under `BATCHED_SVD_REQUIRE_GPU=1`, when there is no adapter or it lacks f64 (CI's lavapipe
/// and NVIDIA's Vulkan driver have it).
pub fn gpu_f64() -> Option<&'static Gpu> {
    let gpu = gpu()?;
    if gpu.supports_f64() {
        return Some(gpu);
    }
    let name = &gpu.adapter_info().name;
    assert!(
        !required(),
        "{REQUIRE_GPU_VAR} is set but {name} lacks SHADER_F64"
    );
    eprintln!("SKIPPED: {name} lacks SHADER_F64 (f64 kernels)");
    None
}

/// Whether `BATCHED_SVD_REQUIRE_GPU` is set (to anything but `0` or empty).
fn required() -> bool {
    std::env::var(REQUIRE_GPU_VAR).is_ok_and(|v| v != "0" && !v.is_empty())
}

/// f32 machine epsilon, 2⁻²³ (the ε of the f32 bounds).
pub const EPS: f64 = f32::EPSILON as f64;

/// The accuracy bounds of the core issue, measured for one matrix. Each field is the ratio
/// of the measured error to its bound: ≤ 1 passes.
#[derive(Debug, Clone, Copy)]
pub struct Accuracy {
    pub sigma: f64,
    pub u_orth: f64,
    pub v_orth: f64,
    pub recon: f64,
}

impl Accuracy {
    pub fn worst(&self) -> f64 {
        self.sigma.max(self.u_orth).max(self.v_orth).max(self.recon)
    }
}

/// Singular values of `a` in f64 by nalgebra (dynamic matrix: no special small-size code),
/// descending.
pub fn reference_sigma(a: &DMatrix<f64>) -> Vec<f64> {
    let mut s: Vec<f64> = a.clone().singular_values().iter().copied().collect();
    s.sort_by(|x, y| y.total_cmp(x));
    s
}

/// max |GᵀG − I| for a matrix with orthonormal columns expected.
pub fn orthogonality_error(g: &DMatrix<f64>) -> f64 {
    let gram = g.transpose() * g;
    let n = gram.nrows();
    (gram - DMatrix::<f64>::identity(n, n)).amax()
}

/// `err / bound`, with 0/0 = 0 and x/0 = ∞.
pub fn ratio(err: f64, bound: f64) -> f64 {
    if bound == 0.0 {
        if err == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        err / bound
    }
}

/// The σ error ratio: the largest `|σ − σ_ref|` against `16·max(m, n)·ε·σ₁`.
///
/// # Panics
/// If the lengths differ.
pub fn sigma_ratio(got: &[f64], reference: &[f64], big: f64, eps: f64) -> f64 {
    assert_eq!(got.len(), reference.len());
    let s1 = reference.first().copied().unwrap_or(0.0);
    let err = got
        .iter()
        .zip(reference)
        .map(|(&g, &r)| (g - r).abs())
        .fold(0.0, f64::max);
    ratio(err, 16.0 * big * eps * s1)
}

/// Checks matrix `i` of `out` against the f64 reference for `a`; returns the error ratios.
/// With vectors: U, V orthonormality (thin or full) and the reconstruction from the thin part.
///
/// ε is the element type's machine epsilon (2⁻²³, 2⁻⁵²). For f32 results the residuals are
/// evaluated in f64 (exact products of f32 entries); for f64 results in double-double
/// ([`dd`](crate::dd)), since f64 products would be as inexact as the result they check.
pub fn accuracy<T: Real>(out: &SvdOutput<T>, i: usize, a: &DMatrix<f64>) -> Accuracy {
    let eps = T::EPSILON.to_f64();
    let (m, n) = a.shape();
    let big = m.max(n) as f64;
    let reference = reference_sigma(a);
    let got: Vec<f64> = out.singular_values(i).iter().map(|x| x.to_f64()).collect();
    let mut acc = Accuracy {
        sigma: sigma_ratio(&got, &reference, big, eps),
        u_orth: 0.0,
        v_orth: 0.0,
        recon: 0.0,
    };
    if let (Some(u), Some(vt)) = (out.u(i), out.vt(i)) {
        let u = u.map(|x| x.to_f64());
        let v = vt.transpose().map(|x| x.to_f64());
        let double = T::BYTES == 8;
        let (u_err, v_err, recon_err) = if double {
            (
                dd::gram_minus_identity_max(&u),
                dd::gram_minus_identity_max(&v),
                dd::reconstruction_residual(a, &u, &got, &v),
            )
        } else {
            let recon = out.reconstruct(i).unwrap();
            (
                orthogonality_error(&u),
                orthogonality_error(&v),
                (a - recon).norm(),
            )
        };
        acc.u_orth = u_err / (16.0 * m as f64 * eps);
        acc.v_orth = v_err / (16.0 * n as f64 * eps);
        acc.recon = ratio(recon_err, 16.0 * big * eps * dd::frobenius(a));
    }
    acc
}

/// Asserts the accuracy bounds and convergence for every matrix of `out`.
pub fn assert_accurate<T: Real>(label: &str, batch: &MatrixBatch<'_, T>, out: &SvdOutput<T>) {
    let mut worst = (0.0f64, 0usize);
    for i in 0..batch.count() {
        assert_eq!(
            out.status(i),
            Status::Converged,
            "{label}: matrix {i} status {:?} info {:?}",
            out.status(i),
            out.info(i)
        );
        let a = batch.to_dmatrix_f64(i);
        let acc = accuracy(out, i, &a);
        assert!(
            acc.worst() <= 1.0,
            "{label}: matrix {i} ({}×{}) exceeds a bound: {acc:?} (ratios to the bound)\nσ = {:?}\nreference = {:?}",
            a.nrows(),
            a.ncols(),
            out.singular_values(i),
            reference_sigma(&a)
        );
        if acc.worst() > worst.0 {
            worst = (acc.worst(), i);
        }
    }
    eprintln!(
        "{label}: worst error/bound ratio {:.3} (matrix {})",
        worst.0, worst.1
    );
}

/// Singular values must be non-negative and sorted descending.
pub fn assert_sorted_non_negative<T: Real>(out: &SvdOutput<T>) {
    for i in 0..out.count() {
        let s = out.singular_values(i);
        assert!(
            s.iter().all(|x| x.to_f64() >= 0.0),
            "matrix {i}: negative σ {s:?}"
        );
        assert!(
            s.windows(2).all(|w| w[0] >= w[1]),
            "matrix {i}: not descending {s:?}"
        );
    }
}
