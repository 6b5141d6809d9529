//! The matrix classes of the accuracy tests (random, rank-deficient, graded, Hilbert, Kahan,
//! extreme scales, …), drawn from [`Rng`](crate::rng::Rng).

use batched_svd::Real;
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
    /// Singular values logarithmically spaced from 1 to 1e-12 (κ = 10¹², for f64).
    GradedE12,
    /// Columns scaled from 1 to 1e-12 (for f64).
    GradedColumnsE12,
    /// Gaussian scaled by 1e-300 (for f64: entries near the bottom of the normal range).
    TinyE300,
    /// Gaussian scaled by 1e300 (for f64: entries near the top of the range).
    HugeE300,
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

    /// The classes of the f64 tests: those of f32, with the grading taken to κ = 10¹² and the
    /// scales to 10^±300.
    pub const ALL_F64: [Class; 16] = [
        Class::Gaussian,
        Class::RankDeficient,
        Class::Zero,
        Class::Identity,
        Class::Diagonal,
        Class::Repeated,
        Class::Graded,
        Class::GradedColumns,
        Class::GradedE12,
        Class::GradedColumnsE12,
        Class::Hilbert,
        Class::Kahan,
        Class::Tiny,
        Class::Huge,
        Class::TinyE300,
        Class::HugeE300,
    ];
}

/// Values logarithmically spaced from 1 down to 10^-`decades`.
fn log_spaced(k: usize, decades: f64) -> impl Iterator<Item = f64> {
    (0..k).map(move |i| 10f64.powf(-decades * i as f64 / (k.max(2) - 1) as f64))
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
        Class::Graded | Class::GradedE12 => {
            let decades = if class == Class::Graded { 6.0 } else { 12.0 };
            let s: Vec<f64> = log_spaced(k, decades).collect();
            rng.with_singular_values(m, n, &s)
        }
        Class::GradedColumns | Class::GradedColumnsE12 => {
            let decades = if class == Class::GradedColumns {
                6.0
            } else {
                12.0
            };
            let scales: Vec<f64> = log_spaced(n, decades).collect();
            let g = rng.gaussian(m, n);
            DMatrix::from_fn(m, n, |i, j| g[(i, j)] * scales[j])
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
        Class::TinyE300 => rng.gaussian(m, n) * 1e-300,
        Class::HugeE300 => rng.gaussian(m, n) * 1e300,
    }
}

/// `count` matrices of `class`, flattened row-major (numpy C order) in f32.
pub fn batch_row_major(class: Class, count: usize, m: usize, n: usize, seed: u64) -> Vec<f32> {
    batch_row_major_as(class, count, m, n, seed)
}

/// `count` matrices of `class`, flattened row-major, rounded to `T` (the same f64 matrices as
/// [`batch_row_major`] for the same seed).
pub fn batch_row_major_as<T: Real>(
    class: Class,
    count: usize,
    m: usize,
    n: usize,
    seed: u64,
) -> Vec<T> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(count * m * n);
    for _ in 0..count {
        let a = matrix(class, m, n, &mut rng);
        for i in 0..m {
            for j in 0..n {
                out.push(T::from_f64(a[(i, j)]));
            }
        }
    }
    out
}

/// Converts a row-major batch to column-major.
pub fn to_col_major<T: Copy + Default>(data: &[T], count: usize, m: usize, n: usize) -> Vec<T> {
    let mut out = vec![T::default(); data.len()];
    for b in 0..count {
        for i in 0..m {
            for j in 0..n {
                out[b * m * n + i + j * m] = data[b * m * n + i * n + j];
            }
        }
    }
    out
}
