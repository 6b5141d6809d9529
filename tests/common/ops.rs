//! Helpers of the derived-operation tests (`tests/ops_*.rs`): the SVDs of a batch on both
//! engines, matrix classes, and nalgebra f64 references for each operation.
#![allow(dead_code)]

use batched_svd::ops::default_rcond;
use batched_svd::{MatrixBatch, SvdOptions, SvdOutput};
use nalgebra::DMatrix;

use super::matrices::Rng;
use super::{EPS, gpu, reference_sigma};

/// The SVD of `batch` on the CPU and, when there is an adapter, on the GPU.
pub fn svds(batch: &MatrixBatch<'_>, opts: &SvdOptions) -> Vec<(&'static str, SvdOutput)> {
    let mut runs = vec![("cpu", batched_svd::cpu::svd(batch, opts).unwrap())];
    if let Some(gpu) = gpu() {
        runs.push(("gpu", gpu.svd(batch, opts).unwrap()));
    }
    for (label, out) in &runs {
        assert!(out.all_converged(), "{label}: SVD did not converge");
    }
    runs
}

/// Row-major f32 data of a list of f64 matrices (the f32 input the references widen again).
pub fn flatten(matrices: &[DMatrix<f64>]) -> Vec<f32> {
    let mut out = Vec::new();
    for a in matrices {
        for i in 0..a.nrows() {
            for j in 0..a.ncols() {
                out.push(a[(i, j)] as f32);
            }
        }
    }
    out
}

/// Matrix `b` of row-major f32 `data`, widened to f64.
pub fn matrix(data: &[f32], b: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| f64::from(data[b * m * n + i * n + j]))
}

/// A view of f32 values widened to f64.
pub fn widen(v: DMatrix<f32>) -> DMatrix<f64> {
    v.map(f64::from)
}

/// A matrix class of the tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// i.i.d. N(0, 1).
    Gaussian,
    /// Singular values 4, 2, 1, … for the first ⌈k/2⌉, exact zeros after (before the f32
    /// rounding of the entries, which leaves them at ~1e-7·σ₁).
    RankDeficient,
}

/// Rank of a [`Kind::RankDeficient`] matrix with `k = min(m, n)`.
pub fn deficient_rank(k: usize) -> usize {
    k.div_ceil(2)
}

/// `count` matrices of `kind`, exactly representable in f32 (rounded, then widened).
pub fn generate(kind: Kind, count: usize, m: usize, n: usize, seed: u64) -> Vec<DMatrix<f64>> {
    let mut rng = Rng::new(seed);
    let k = m.min(n);
    (0..count)
        .map(|_| {
            let a = match kind {
                Kind::Gaussian => rng.gaussian(m, n),
                Kind::RankDeficient => {
                    let r = deficient_rank(k);
                    let sigma: Vec<f64> = (0..k)
                        .map(|j| {
                            if j < r {
                                4.0 * 0.5f64.powi(j as i32)
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    rng.with_singular_values(m, n, &sigma)
                }
            };
            a.map(|x| f64::from(x as f32))
        })
        .collect()
}

/// Shapes: square, tall, wide, and very tall/wide.
pub const SHAPES: [(usize, usize); 5] = [(5, 5), (7, 4), (4, 7), (12, 3), (3, 12)];

/// The relative cutoff used for [`Kind::RankDeficient`] matrices: far above the f32 noise
/// (~1e-7) and far below the smallest real singular value (≥ 4·2⁻⁶ ≈ 0.06 of σ₁ = 4).
pub const DEFICIENT_RCOND: f64 = 1e-4;

/// The cutoff for a kind: the default for Gaussian matrices.
pub fn rcond_for(kind: Kind, m: usize, n: usize) -> f64 {
    match kind {
        Kind::Gaussian => default_rcond(m, n),
        Kind::RankDeficient => DEFICIENT_RCOND,
    }
}

/// nalgebra's f64 SVD of `a` with vectors, checked: nalgebra 0.35's `svd(true, true)` can
/// return wrong singular values for some (mostly exactly rank-deficient) inputs
/// (nalgebra issue #1172), so a reference is only used once it reconstructs `a` far below
/// f32 precision.
pub fn reference_svd(a: &DMatrix<f64>) -> nalgebra::SVD<f64, nalgebra::Dyn, nalgebra::Dyn> {
    let svd = a.clone().svd(true, true);
    let err = (svd.clone().recompose().unwrap() - a).norm();
    assert!(
        err <= 1e-8 * a.norm().max(f64::MIN_POSITIVE),
        "the nalgebra reference SVD is wrong (nalgebra#1172): ‖UΣVᵀ − A‖ = {err:e}"
    );
    svd
}

/// Reference pseudoinverse: nalgebra's, with the absolute threshold `rcond·σ₁` (nalgebra
/// inverts `σ > eps`, our rule).
pub fn reference_pinv(a: &DMatrix<f64>, rcond: f64) -> DMatrix<f64> {
    let s1 = reference_sigma(a)[0];
    reference_svd(a).pseudo_inverse(rcond * s1).unwrap()
}

/// Number of reference singular values `> rcond·σ₁`.
pub fn reference_rank(a: &DMatrix<f64>, rcond: f64) -> usize {
    let s = reference_sigma(a);
    a.rank(rcond * s[0])
}

/// The rank-`r` truncation of `a` in f64 (nalgebra SVD).
pub fn reference_low_rank(a: &DMatrix<f64>, r: usize) -> DMatrix<f64> {
    let svd = reference_svd(a);
    let mut idx: Vec<usize> = (0..svd.singular_values.len()).collect();
    idx.sort_by(|&x, &y| svd.singular_values[y].total_cmp(&svd.singular_values[x]));
    let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
    let mut out = DMatrix::zeros(a.nrows(), a.ncols());
    for &j in idx.iter().take(r) {
        out += u.column(j) * svd.singular_values[j] * vt.row(j);
    }
    out
}

/// The SVD accuracy unit for `m×n`: `16·max(m, n)·ε`.
pub fn unit(m: usize, n: usize) -> f64 {
    16.0 * m.max(n) as f64 * EPS
}
