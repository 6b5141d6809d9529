//! The test oracle: nalgebra's SVD in f64 as the reference, the four accuracy bounds, and the
//! GPU of the test suite (skipped, or failed under `BATCHED_SVD_REQUIRE_GPU=1`, when there is
//! no adapter).

use std::sync::OnceLock;

use batched_svd::{Gpu, MatrixBatch, Status, SvdOutput};
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
            let required = std::env::var(REQUIRE_GPU_VAR).is_ok_and(|v| v != "0" && !v.is_empty());
            assert!(
                !required,
                "{REQUIRE_GPU_VAR} is set but no GPU adapter is usable: {e}"
            );
            eprintln!("SKIPPED: no GPU adapter ({e}); set {REQUIRE_GPU_VAR}=1 to make this fail");
            None
        }
    }
}

/// f32 unit roundoff.
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

/// Checks matrix `i` of `out` against the f64 reference for `a`; returns the error ratios.
/// With vectors: U, V orthonormality (thin or full) and the reconstruction from the thin part.
pub fn accuracy(out: &SvdOutput, i: usize, a: &DMatrix<f64>) -> Accuracy {
    let (m, n) = a.shape();
    let big = m.max(n) as f64;
    let reference = reference_sigma(a);
    let s1 = reference[0];
    let got = out.singular_values(i);
    assert_eq!(got.len(), reference.len());
    let sigma_err = got
        .iter()
        .zip(&reference)
        .map(|(&g, &r)| (f64::from(g) - r).abs())
        .fold(0.0, f64::max);
    let sigma_bound = 16.0 * big * EPS * s1;
    let mut acc = Accuracy {
        sigma: if s1 == 0.0 {
            if sigma_err == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            sigma_err / sigma_bound
        },
        u_orth: 0.0,
        v_orth: 0.0,
        recon: 0.0,
    };
    if let (Some(u), Some(vt)) = (out.u(i), out.vt(i)) {
        let u = u.map(f64::from);
        let v = vt.transpose().map(f64::from);
        acc.u_orth = orthogonality_error(&u) / (16.0 * m as f64 * EPS);
        acc.v_orth = orthogonality_error(&v) / (16.0 * n as f64 * EPS);
        let recon = out.reconstruct(i).unwrap();
        let norm = a.norm();
        let err = (a - recon).norm();
        acc.recon = if norm == 0.0 {
            if err == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            err / (16.0 * big * EPS * norm)
        };
    }
    acc
}

/// Asserts the accuracy bounds and convergence for every matrix of `out`.
pub fn assert_accurate(label: &str, batch: &MatrixBatch<'_>, out: &SvdOutput) {
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
pub fn assert_sorted_non_negative(out: &SvdOutput) {
    for i in 0..out.count() {
        let s = out.singular_values(i);
        assert!(s.iter().all(|&x| x >= 0.0), "matrix {i}: negative σ {s:?}");
        assert!(
            s.windows(2).all(|w| w[0] >= w[1]),
            "matrix {i}: not descending {s:?}"
        );
    }
}
