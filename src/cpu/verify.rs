//! Checks that a computed SVD is one: Σσ² = ‖A‖²_F, A = UΣVᵀ, UᵀU = I and VᵀV = I to f64
//! accuracy. A result that fails is recomputed by the Jacobi solver (see `cpu/mod.rs`).
//!
//! The products are checked with probe vectors (Freivalds' method) at `O(mn)` flops per probe
//! instead of the `O(mnk)` of forming them: `‖A·x − U·Σ·Vᵀ·x‖ ≤ tol·‖A‖_F·‖x‖` and
//! `‖Gᵀ·G·z − z‖ ≤ tol·‖z‖` (G = U, V) for two fixed pseudo-random ±1 vectors. A wrong
//! singular value or vector changes these products by far more than the tolerance except for
//! probes orthogonal to the error, which two independent ±1 vectors are with negligible
//! likelihood. Forming the products exactly measured as costly as faer's SVD itself for
//! 64×64 and 256×16 (`docs/cpu-engine.md`).

use super::jacobi::Svd64;

/// Relative residual above which a result is rejected: a correct f64 SVD has residuals near
/// 1e-15; a wrong one (a missed singular value, a lost vector) of order 1.
const TOLERANCE: f64 = 1e-9;

/// Whether `f` is an SVD of the `m×n` matrix `a` (column-major, contiguous).
pub(crate) fn verified(m: usize, n: usize, a: &[f64], f: &Svd64) -> bool {
    let at = |i: usize, j: usize| a[j * m + i];
    let k = m.min(n);
    // Scaled sums: the checks compare magnitudes near ‖A‖, whatever its exponent.
    let scale = f.sigma.first().copied().unwrap_or(0.0);
    if !f.sigma.iter().all(|s| s.is_finite() && *s >= 0.0) || f.sigma.len() != k {
        return false;
    }
    if scale == 0.0 {
        return (0..n).all(|j| (0..m).all(|i| at(i, j) == 0.0));
    }
    let norm_sq: f64 = (0..n)
        .flat_map(|j| (0..m).map(move |i| (i, j)))
        .map(|(i, j)| (at(i, j) / scale).powi(2))
        .sum();
    let sum_sq: f64 = f.sigma.iter().map(|s| (s / scale).powi(2)).sum();
    if (sum_sq - norm_sq).abs() > TOLERANCE * norm_sq {
        return false;
    }
    if !f.vectors {
        return true;
    }
    probes(m, n, &at, f, scale, norm_sq.sqrt())
}

/// The two probes.
fn probes(
    m: usize,
    n: usize,
    at: &impl Fn(usize, usize) -> f64,
    f: &Svd64,
    scale: f64,
    norm: f64,
) -> bool {
    let k = f.sigma.len();
    // Columns of U and V for zero singular values are completed by the caller.
    let live = f.sigma.iter().take_while(|&&s| s > 0.0).count();
    for seed in [0x9E37_79B9_7F4A_7C15u64, 0xD1B5_4A32_D192_ED03] {
        let x = signs(n, seed);
        // A·x and U·(Σ·(Vᵀ·x)).
        let mut ax = vec![0.0f64; m];
        for (j, &xj) in x.iter().enumerate() {
            for (i, acc) in ax.iter_mut().enumerate() {
                *acc += at(i, j) / scale * xj;
            }
        }
        let mut usvx = vec![0.0f64; m];
        for l in 0..k {
            let vl = &f.v[l * n..(l + 1) * n];
            let c = f.sigma[l] / scale * vl.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>();
            for (acc, &u) in usvx.iter_mut().zip(&f.u[l * m..(l + 1) * m]) {
                *acc += c * u;
            }
        }
        let r: f64 = ax
            .iter()
            .zip(&usvx)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        if r > TOLERANCE * norm * (n as f64).sqrt() {
            return false;
        }
        // Uᵀ·(U·z) = z and Vᵀ·(V·z) = z on the live columns.
        let z = signs(live, seed ^ 1);
        for (g, rows) in [(&f.u, m), (&f.v, n)] {
            let mut gz = vec![0.0f64; rows];
            for (l, &zl) in z.iter().enumerate() {
                for (acc, &x) in gz.iter_mut().zip(&g[l * rows..(l + 1) * rows]) {
                    *acc += zl * x;
                }
            }
            let err: f64 = z
                .iter()
                .enumerate()
                .map(|(l, &zl)| {
                    let back: f64 = g[l * rows..(l + 1) * rows]
                        .iter()
                        .zip(&gz)
                        .map(|(a, b)| a * b)
                        .sum();
                    (back - zl).powi(2)
                })
                .sum::<f64>()
                .sqrt();
            if err > TOLERANCE * (live as f64).sqrt() {
                return false;
            }
        }
    }
    true
}

/// `len` pseudo-random ±1 values (SplitMix64 signs), fixed by `seed`.
fn signs(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            if (z ^ (z >> 31)) & 1 == 0 { 1.0 } else { -1.0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag_svd(s: &[f64]) -> Svd64 {
        let k = s.len();
        let mut u = vec![0.0; k * k];
        for i in 0..k {
            u[i * k + i] = 1.0;
        }
        Svd64 {
            sigma: s.to_vec(),
            v: u.clone(),
            u,
            vectors: true,
            sweeps: 0,
        }
    }

    fn diagonal(s: &[f64]) -> Vec<f64> {
        let n = s.len();
        let mut a = vec![0.0; n * n];
        for (i, &x) in s.iter().enumerate() {
            a[i * n + i] = x;
        }
        a
    }

    #[test]
    fn accepts_a_true_svd_and_rejects_a_wrong_one() {
        let a = diagonal(&[3.0, 2.0]);
        assert!(verified(2, 2, &a, &diag_svd(&[3.0, 2.0])));
        // Σσ² right, but the vectors belong to other values: caught by the residual.
        assert!(!verified(2, 2, &a, &diag_svd(&[2.0, 3.0])));
        assert!(!verified(2, 2, &a, &diag_svd(&[3.0, 1.0])));
    }

    #[test]
    fn probes_catch_a_swapped_vector_and_a_lost_one() {
        let n = 200;
        let s: Vec<f64> = (0..n).map(|i| (n - i) as f64).collect();
        let a = diagonal(&s);
        assert!(verified(n, n, &a, &diag_svd(&s)));
        let mut bad = diag_svd(&s);
        bad.u.swap(0, 1); // u₀ = e₁ and u₁ = e₀: still orthonormal, but A ≠ UΣVᵀ
        bad.u.swap(n, n + 1);
        assert!(!verified(n, n, &a, &bad));
        let mut lost = diag_svd(&s);
        lost.v[5 * n + 5] = 0.0; // v₅ = 0: V is not orthonormal
        assert!(!verified(n, n, &a, &lost));
    }
}
