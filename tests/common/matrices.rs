//! Deterministic matrix generators for tests, benchmarks and examples.
//!
//! Shared by `tests/`, `benches/` and `examples/` through `#[path]`, so every consumer draws the
//! same matrices for the same seed. No external RNG crate: SplitMix64 and Box–Muller suffice.
#![allow(dead_code)]

use nalgebra::DMatrix;

/// SplitMix64: small, fast, and good enough for test matrices.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn gaussian(&mut self, m: usize, n: usize) -> DMatrix<f64> {
        DMatrix::from_fn(m, n, |_, _| self.normal())
    }

    /// A random `m×k` matrix with orthonormal columns (Q of a Gaussian matrix).
    pub fn orthonormal(&mut self, m: usize, k: usize) -> DMatrix<f64> {
        let q = self.gaussian(m, k).qr().q();
        q.columns(0, k).into_owned()
    }

    /// `U·diag(sigma)·Vᵀ` with random orthonormal U (`m×k`) and V (`n×k`), k = sigma.len().
    pub fn with_singular_values(&mut self, m: usize, n: usize, sigma: &[f64]) -> DMatrix<f64> {
        let k = sigma.len();
        let u = self.orthonormal(m, k);
        let v = self.orthonormal(n, k);
        u * DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(sigma)) * v.transpose()
    }
}

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

/// `count` Gaussian matrices, flattened row-major in f32 (fast path for large batches).
pub fn gaussian_row_major(count: usize, m: usize, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..count * m * n).map(|_| rng.normal() as f32).collect()
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
