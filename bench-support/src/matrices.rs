//! The matrix classes of the accuracy tests (random, rank-deficient, graded, Hilbert, Kahan,
//! extreme scales, …), drawn from [`Rng`](crate::rng::Rng).

use nalgebra::DMatrix;

use crate::rng::Rng;

/// The matrix classes of the accuracy tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// i.i.d. N(0, 1) entries.
    Gaussian,
    /// Rank ⌈k/2⌉ (product of Gaussian factors).
    RankDeficient,
    /// All zeros.
    Zero,
    /// Ones on the main diagonal.
    Identity,
    /// Random diagonal (signed) entries.
    Diagonal,
    /// Singular values {3, 3, 3, 1, 1, …}: repeated clusters.
    Repeated,
    /// Singular values logarithmically spaced from 1 to 1e-6 (κ = 10⁶).
    Graded,
    /// Columns scaled from 1 to 1e-6 (badly scaled, graded columns).
    GradedColumns,
    /// Hilbert matrix 1/(i + j + 1) (κ grows very fast; f32 resolves ~7 digits).
    Hilbert,
    /// Kahan's matrix: upper triangular, diag(1, s, s², …)·(I − c·strict upper ones).
    Kahan,
    /// Gaussian scaled by 1e-30.
    Tiny,
    /// Gaussian scaled by 1e30.
    Huge,
}

impl Class {
    pub const ALL: [Class; 12] = [
        Class::Gaussian,
        Class::RankDeficient,
        Class::Zero,
        Class::Identity,
        Class::Diagonal,
        Class::Repeated,
        Class::Graded,
        Class::GradedColumns,
        Class::Hilbert,
        Class::Kahan,
        Class::Tiny,
        Class::Huge,
    ];
}

/// One `m×n` matrix of `class` in f64 (the exact values that will be rounded to f32).
pub fn matrix(class: Class, m: usize, n: usize, rng: &mut Rng) -> DMatrix<f64> {
    let k = m.min(n);
    match class {
        Class::Gaussian => rng.gaussian(m, n),
        Class::RankDeficient => {
            let r = k.div_ceil(2);
            rng.gaussian(m, r) * rng.gaussian(r, n)
        }
        Class::Zero => DMatrix::zeros(m, n),
        Class::Identity => DMatrix::identity(m, n),
        Class::Diagonal => {
            DMatrix::from_fn(m, n, |i, j| if i == j { 4.0 * rng.normal() } else { 0.0 })
        }
        Class::Repeated => {
            let s: Vec<f64> = (0..k).map(|i| if i < k / 2 { 3.0 } else { 1.0 }).collect();
            rng.with_singular_values(m, n, &s)
        }
        Class::Graded => {
            let s: Vec<f64> = (0..k)
                .map(|i| 10f64.powf(-6.0 * i as f64 / (k.max(2) - 1) as f64))
                .collect();
            rng.with_singular_values(m, n, &s)
        }
        Class::GradedColumns => {
            let g = rng.gaussian(m, n);
            DMatrix::from_fn(m, n, |i, j| {
                g[(i, j)] * 10f64.powf(-6.0 * j as f64 / (n.max(2) - 1) as f64)
            })
        }
        Class::Hilbert => DMatrix::from_fn(m, n, |i, j| 1.0 / (i + j + 1) as f64),
        Class::Kahan => {
            let theta: f64 = 1.2;
            let (s, c) = theta.sin_cos();
            DMatrix::from_fn(m, n, |i, j| {
                let d = s.powi(i as i32);
                match i.cmp(&j) {
                    std::cmp::Ordering::Equal => d,
                    std::cmp::Ordering::Less => -c * d,
                    std::cmp::Ordering::Greater => 0.0,
                }
            })
        }
        Class::Tiny => rng.gaussian(m, n) * 1e-30,
        Class::Huge => rng.gaussian(m, n) * 1e30,
    }
}

/// `count` matrices of `class`, flattened row-major (numpy C order) in f32.
pub fn batch_row_major(class: Class, count: usize, m: usize, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(count * m * n);
    for _ in 0..count {
        let a = matrix(class, m, n, &mut rng);
        for i in 0..m {
            for j in 0..n {
                out.push(a[(i, j)] as f32);
            }
        }
    }
    out
}

/// Converts a row-major batch to column-major.
pub fn to_col_major(data: &[f32], count: usize, m: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for b in 0..count {
        for i in 0..m {
            for j in 0..n {
                out[b * m * n + i + j * m] = data[b * m * n + i * n + j];
            }
        }
    }
    out
}
