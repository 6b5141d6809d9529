//! Checks that a computed SVD meets the documented bounds of the output type with room to
//! spare: Σσ² = ‖A‖²_F, A = UΣVᴴ, UᴴU = I and VᴴV = I, each within a quarter of its bound
//! (16·max(m, n)·ε·‖A‖_F for the reconstruction, 16·m·ε and 16·n·ε for the orthogonality,
//! ε of the output type). A result that fails is recomputed by the Jacobi solver (see
//! `cpu/mod.rs`).
//!
//! The bar is the output type's, not "wrong or right": nalgebra's SVD, in f64, returns for
//! some very rectangular matrices a reconstruction error up to 23× the f64 bound (5×40 and
//! 8×29 Gaussian matrices, a few in a hundred; found by the property tests), which a fixed
//! 1e-9 accepted. For f32 outputs the bar is far above any f64 solver's error, so only a wrong
//! result falls back.
//!
//! The products are checked with probe vectors (Freivalds' method) at `O(mn)` flops per probe
//! instead of the `O(mnk)` of forming them: `‖A·x − U·Σ·Vᵀ·x‖ ≤ tol·‖A‖_F` and
//! `‖Gᵀ·G·z − z‖ ≤ tol` (G = U, V) for two fixed pseudo-random ±1 vectors, whose
//! `E[‖E·x‖²] = ‖E‖²_F` makes them estimates of the Frobenius norms of the errors. An error
//! at the bound, four times the tolerance, passes only for probes nearly orthogonal to it,
//! which two independent ±1 vectors are with small likelihood. Forming the products exactly
//! measured as costly as faer's SVD itself for 64×64 and 256×16 (`docs/cpu-engine.md`).
//!
//! Written once for the host types: for `f64` the conjugations are identities and every
//! operation the real one.

use nalgebra::ComplexField;

use super::jacobi::Svd64;
use crate::host::Host;

/// The fraction of each documented bound a verified result must meet.
const FRACTION_OF_BOUND: f64 = 0.25;

/// Whether `f` is an SVD of the `m×n` matrix `a` (column-major, contiguous) within a quarter
/// of the bounds for an output type of machine epsilon `eps`.
pub(crate) fn verified<H: Host>(m: usize, n: usize, a: &[H], f: &Svd64<H>, eps: f64) -> bool {
    let tol = Tolerances {
        recon: FRACTION_OF_BOUND * 16.0 * m.max(n) as f64 * eps,
        u: FRACTION_OF_BOUND * 16.0 * m as f64 * eps,
        v: FRACTION_OF_BOUND * 16.0 * n as f64 * eps,
    };
    let k = m.min(n);
    // Scaled sums: the checks compare magnitudes near ‖A‖, whatever its exponent.
    let scale = f.sigma.first().copied().unwrap_or(0.0);
    if !f.sigma.iter().all(|s| s.is_finite() && *s >= 0.0) || f.sigma.len() != k {
        return false;
    }
    if scale == 0.0 {
        return a.iter().all(|&x| x == nalgebra::zero::<H>());
    }
    let norm_sq: f64 = a.iter().map(|x| x.unscale(scale).modulus_squared()).sum();
    let sum_sq: f64 = f.sigma.iter().map(|s| (s / scale).powi(2)).sum();
    // Σσ² − ‖A‖² = 2·‖A‖·(Σσ²)^½-error to first order.
    if (sum_sq - norm_sq).abs() > 2.0 * tol.recon * norm_sq {
        return false;
    }
    if !f.vectors {
        return true;
    }
    let check = Check {
        m,
        n,
        a,
        f,
        scale,
        norm: norm_sq.sqrt(),
        // Columns of U and V for zero singular values are completed by the caller.
        live: f.sigma.iter().take_while(|&&s| s > 0.0).count(),
        tol,
    };
    if eps < f64::from(f32::EPSILON) / 2.0 {
        check.formed()
    } else {
        check.probes()
    }
}

/// Relative tolerances of the three checks.
struct Tolerances {
    /// ‖A − UΣVᴴ‖_F / ‖A‖_F.
    recon: f64,
    /// ‖UᴴU − I‖.
    u: f64,
    /// ‖VᴴV − I‖.
    v: f64,
}

/// A result with vectors to check against its matrix.
struct Check<'a, H> {
    m: usize,
    n: usize,
    /// The matrix, column-major.
    a: &'a [H],
    f: &'a Svd64<H>,
    /// σ₁: the products are formed for A/σ₁.
    scale: f64,
    /// ‖A‖_F / σ₁.
    norm: f64,
    /// Columns with σ > 0 (the ones whose orthonormality is checked).
    live: usize,
    tol: Tolerances,
}

impl<H: Host> Check<'_, H> {
    /// The checks with the products formed (`O(mnk)`), for f64 outputs, whose bar is near
    /// what the solvers reach: a probe estimate can miss an error several times its tolerance
    /// (measured: a 5×40 result at 1.6× the bound passed two probes), formed products cannot.
    /// ‖A − UΣVᴴ‖_F as the bound measures it, and the largest entry of UᴴU − I and VᴴV − I on
    /// the live columns (upper triangles: the Gram matrices are Hermitian). Plain loops over
    /// the column-major slices with one column of scratch: for the small matrices the engine
    /// mostly checks, nalgebra's owned products, adjoints and identities were allocations that
    /// cost a third of a complex128 8×8 solve.
    fn formed(&self) -> bool {
        let (m, n, f, live) = (self.m, self.n, self.f, self.live);
        let k = f.sigma.len();
        // Column j of A/σ₁ − U·(Σ/σ₁)·Vᴴ: a_j − Σ_l u_l·(σ_l/σ₁)·conj(v_jl).
        let mut column = vec![nalgebra::zero::<H>(); m];
        let mut r2 = 0.0f64;
        for (j, a_j) in self.a.chunks_exact(m).enumerate() {
            for (r, &x) in column.iter_mut().zip(a_j) {
                *r = x.unscale(self.scale);
            }
            for (l, u_l) in f.u.chunks_exact(m).take(k).enumerate() {
                let c = f.v[l * n + j].conjugate().scale(f.sigma[l] / self.scale);
                for (r, &u) in column.iter_mut().zip(u_l) {
                    *r -= u * c;
                }
            }
            r2 += column.iter().map(|x| x.modulus_squared()).sum::<f64>();
        }
        if r2.sqrt() > self.tol.recon * self.norm {
            return false;
        }
        [(&f.u, m, self.tol.u), (&f.v, n, self.tol.v)]
            .iter()
            .all(|&(g, rows, tol)| {
                (0..live).all(|p| {
                    let g_p = &g[p * rows..(p + 1) * rows];
                    (p..live).all(|q| {
                        let g_q = &g[q * rows..(q + 1) * rows];
                        let dot = g_p
                            .iter()
                            .zip(g_q)
                            .fold(nalgebra::zero::<H>(), |acc, (x, &y)| {
                                acc + x.conjugate() * y
                            });
                        let delta = if p == q { 1.0 } else { 0.0 };
                        (dot - H::from_real(delta)).modulus() <= tol
                    })
                })
            })
    }

    /// The two probes.
    fn probes(&self) -> bool {
        let (m, n, f, scale) = (self.m, self.n, self.f, self.scale);
        let k = f.sigma.len();
        for seed in [0x9E37_79B9_7F4A_7C15u64, 0xD1B5_4A32_D192_ED03] {
            let x = signs(n, seed);
            // A·x and U·(Σ·(Vᴴ·x)).
            let mut ax = vec![nalgebra::zero::<H>(); m];
            for (col, &xj) in self.a.chunks_exact(m).zip(&x) {
                for (acc, &aij) in ax.iter_mut().zip(col) {
                    *acc += aij.unscale(scale).scale(xj);
                }
            }
            let mut usvx = vec![nalgebra::zero::<H>(); m];
            for l in 0..k {
                let vl = &f.v[l * n..(l + 1) * n];
                let vx = vl
                    .iter()
                    .zip(&x)
                    .fold(nalgebra::zero::<H>(), |acc, (a, &b)| {
                        acc + a.conjugate().scale(b)
                    });
                let c = vx.scale(f.sigma[l] / scale);
                for (acc, &u) in usvx.iter_mut().zip(&f.u[l * m..(l + 1) * m]) {
                    *acc += c * u;
                }
            }
            let r: f64 = ax
                .iter()
                .zip(&usvx)
                .map(|(&a, &b)| (a - b).modulus_squared())
                .sum::<f64>()
                .sqrt();
            if r > self.tol.recon * self.norm {
                return false;
            }
            // Uᴴ·(U·z) = z and Vᴴ·(V·z) = z on the live columns.
            let z = signs(self.live, seed ^ 1);
            for (g, rows, tol) in [(&f.u, m, self.tol.u), (&f.v, n, self.tol.v)] {
                let mut gz = vec![nalgebra::zero::<H>(); rows];
                for (l, &zl) in z.iter().enumerate() {
                    for (acc, &x) in gz.iter_mut().zip(&g[l * rows..(l + 1) * rows]) {
                        *acc += x.scale(zl);
                    }
                }
                let err: f64 = z
                    .iter()
                    .enumerate()
                    .map(|(l, &zl)| {
                        let back = g[l * rows..(l + 1) * rows]
                            .iter()
                            .zip(&gz)
                            .fold(nalgebra::zero::<H>(), |acc, (a, &b)| {
                                acc + a.conjugate() * b
                            });
                        (back - H::from_real(zl)).modulus_squared()
                    })
                    .sum::<f64>()
                    .sqrt();
                if err > tol {
                    return false;
                }
            }
        }
        true
    }
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
        assert!(verified(2, 2, &a, &diag_svd(&[3.0, 2.0]), f64::EPSILON));
        // Σσ² right, but the vectors belong to other values: caught by the residual.
        assert!(!verified(2, 2, &a, &diag_svd(&[2.0, 3.0]), f64::EPSILON));
        assert!(!verified(2, 2, &a, &diag_svd(&[3.0, 1.0]), f64::EPSILON));
    }

    #[test]
    fn probes_catch_a_swapped_vector_and_a_lost_one() {
        let n = 200;
        let s: Vec<f64> = (0..n).map(|i| (n - i) as f64).collect();
        let a = diagonal(&s);
        assert!(verified(n, n, &a, &diag_svd(&s), f64::EPSILON));
        let mut bad = diag_svd(&s);
        bad.u.swap(0, 1); // u₀ = e₁ and u₁ = e₀: still orthonormal, but A ≠ UΣVᵀ
        bad.u.swap(n, n + 1);
        assert!(!verified(n, n, &a, &bad, f32::EPSILON.into()));
        let mut lost = diag_svd(&s);
        lost.v[5 * n + 5] = 0.0; // v₅ = 0: V is not orthonormal
        assert!(!verified(n, n, &a, &lost, f32::EPSILON.into()));
    }

    /// The formed products (f64 bars): a shrunk vector, a pair of U's columns that is not
    /// orthogonal, and, for complex, V where Vᴴ belongs (the conjugate of the phase).
    #[test]
    fn formed_checks_catch_a_shrunk_vector_a_skew_pair_and_a_conjugated_phase() {
        use nalgebra::Complex;
        let s = [3.0, 2.0, 1.0];
        let a = diagonal(&s);
        assert!(verified(3, 3, &a, &diag_svd(&s), f64::EPSILON));
        let mut shrunk = diag_svd(&s);
        shrunk.v[2 * 3 + 2] = 1.0 - 1e-12;
        assert!(!verified(3, 3, &a, &shrunk, f64::EPSILON));
        let mut skew = diag_svd(&s);
        skew.u[3] = 1e-12; // u₁ = e₁ + 10⁻¹²·e₀
        assert!(!verified(3, 3, &a, &skew, f64::EPSILON));
        // A = diag(3i, 2) = U·Σ·Vᴴ with U = I and V = diag(−i, 1), not V = diag(i, 1).
        let (z, one) = (Complex::new(0.0, 0.0), Complex::new(1.0, 0.0));
        let a = [Complex::new(0.0, 3.0), z, z, Complex::new(2.0, 0.0)];
        let svd = |v0: Complex<f64>| Svd64 {
            sigma: vec![3.0, 2.0],
            u: vec![one, z, z, one],
            v: vec![v0, z, z, one],
            vectors: true,
            sweeps: 0,
        };
        assert!(verified(
            2,
            2,
            &a,
            &svd(Complex::new(0.0, -1.0)),
            f64::EPSILON
        ));
        assert!(!verified(
            2,
            2,
            &a,
            &svd(Complex::new(0.0, 1.0)),
            f64::EPSILON
        ));
    }

    #[test]
    fn an_error_within_f32_bounds_fails_the_f64_bar() {
        let s = [3.0, 2.0];
        let a = diagonal(&s);
        let mut off = diag_svd(&s);
        off.sigma[1] += 1e-9; // 3e-10 relative: far inside f32's bound, far outside f64's
        assert!(verified(2, 2, &a, &off, f32::EPSILON.into()));
        assert!(!verified(2, 2, &a, &off, f64::EPSILON));
    }
}
