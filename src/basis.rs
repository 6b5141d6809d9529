//! Completing an orthonormal basis: the host-side finalize step.
//!
//! Singular vectors belonging to a zero singular value are not determined by the matrix, and
//! full U (`m×m` for a tall matrix) needs `m − k` vectors that the Jacobi sweeps never produce.
//! Both are filled here with an orthonormal basis of the orthogonal complement of the known
//! vectors, computed in f64 from a Householder QR of the known vectors:
//! with `G = Q·R` (`Q = H₀H₁…H_{r−1}`), the columns `Q·e_r, Q·e_{r+1}, …` are orthonormal and
//! orthogonal to `span(G)` to f64 rounding, so the completed matrix is orthonormal to the
//! accuracy of the known vectors. Cost: `O(rows·r·(r + missing))` per matrix.
//!
//! Written once for real and complex elements (in the host type: `f64` or `Complex<f64>`;
//! complex reflectors are `I − 2vvᴴ`, with the phase of the leading entry in place of its sign).

use nalgebra::ComplexField;

use crate::element::{Element, Real};
use crate::host::Host;
use crate::options::Vectors;

/// A column of U (or row of Vᵀ) counts as missing when its squared norm is below this: real
/// singular vectors have norm 1 ± O(ε), missing ones are written as exact zeros.
const MISSING_NORM_SQ: f64 = 0.25;

/// A strided `rows×cols` matrix inside a slice: element `(i, j)` at `i·rs + j·cs`.
struct Strided<'a, T: Element> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<T: Element> Strided<'_, T> {
    #[inline]
    fn get(&self, i: usize, j: usize) -> T::Host {
        self.data[i * self.rs + j * self.cs].to_host()
    }

    #[inline]
    fn set(&mut self, i: usize, j: usize, x: T::Host) {
        self.data[i * self.rs + j * self.cs] = T::from_host(x);
    }

    fn column_norm_sq(&self, j: usize) -> f64 {
        (0..self.rows)
            .map(|i| self.get(i, j).modulus_squared())
            .sum()
    }
}

/// Fills the missing columns of U and rows of Vᵀ of one matrix so that both are orthonormal.
///
/// `u` is `m×u_cols` row-major and `vt` is `vt_rows×n` row-major (the [`SvdOutput`] layout).
/// A vector is missing when it lies beyond `k = min(m, n)` (full output; whatever those slots
/// hold is overwritten) or is (near) zero among the first `k` (the kernel writes zeros for
/// vectors of negligible singular values). Returns the number of vectors filled.
///
/// [`SvdOutput`]: crate::SvdOutput
pub(crate) fn complete_vectors<T: Element>(
    u: &mut [T],
    vt: &mut [T],
    m: usize,
    n: usize,
    vectors: Vectors,
) -> usize {
    if !vectors.wanted() {
        return 0;
    }
    let u_cols = vectors.u_cols(m, n);
    let vt_rows = vectors.vt_rows(m, n);
    let k = m.min(n);
    let mut filled = complete_columns(
        Strided {
            data: u,
            rows: m,
            cols: u_cols,
            rs: u_cols,
            cs: 1,
        },
        k,
    );
    // The rows of Vᵀ are the columns of V: vector index i, slot j at j·n + i.
    filled += complete_columns(
        Strided {
            data: vt,
            rows: n,
            cols: vt_rows,
            rs: 1,
            cs: n,
        },
        k,
    );
    filled
}

/// Replaces every column of `a` from `known_cols` on, and every (near) zero column before it,
/// by unit vectors orthogonal to each other and to the remaining columns.
fn complete_columns<T: Element>(mut a: Strided<'_, T>, known_cols: usize) -> usize {
    let missing: Vec<usize> = (0..a.cols)
        .filter(|&j| j >= known_cols || a.column_norm_sq(j) < MISSING_NORM_SQ)
        .collect();
    if missing.is_empty() {
        return 0;
    }
    let known: Vec<usize> = (0..a.cols).filter(|j| !missing.contains(j)).collect();
    let rows = a.rows;
    // Householder QR of the known columns, in the host type. `reflectors[j]` is a unit vector
    // v with H_j = I − 2vvᴴ, zero above row j (or empty when the column was already reduced).
    let mut g: Vec<Vec<T::Host>> = known
        .iter()
        .map(|&j| (0..rows).map(|i| a.get(i, j)).collect())
        .collect();
    let mut reflectors: Vec<Vec<T::Host>> = Vec::with_capacity(known.len());
    for j in 0..g.len() {
        let norm = g[j][j..]
            .iter()
            .map(|x| x.modulus_squared())
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 {
            reflectors.push(Vec::new());
            continue;
        }
        let mut v = vec![nalgebra::zero::<T::Host>(); rows];
        v[j..].copy_from_slice(&g[j][j..]);
        // v = x + phase(x₀)‖x‖e₀ avoids cancellation (the sign of x₀ for real x).
        v[j] += g[j][j].phase().scale(norm);
        let vnorm = v.iter().map(|x| x.modulus_squared()).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x = x.unscale(vnorm));
        for col in g.iter_mut().skip(j) {
            apply_reflector(&v, col);
        }
        reflectors.push(v);
    }
    // Q·e_{r+t} for the t-th missing slot: apply H_{r−1}, …, H₀ to a standard basis vector.
    for (t, &slot) in missing.iter().enumerate() {
        let mut q = vec![nalgebra::zero::<T::Host>(); rows];
        q[known.len() + t] = nalgebra::one::<T::Host>();
        for v in reflectors.iter().rev().filter(|v| !v.is_empty()) {
            apply_reflector(v, &mut q);
        }
        for (i, &x) in q.iter().enumerate() {
            a.set(i, slot, x);
        }
    }
    missing.len()
}

/// Switches one square `n×n` decomposition (σ, U row-major, Vᵀ row-major) from the
/// non-negative to the rotation sign convention: det U = det V = +1, the last singular value
/// taking the sign of det A. Flipping the last column of U (or row of Vᵀ) together with the
/// sign of σₙ leaves U·Σ·Vᵀ unchanged.
pub(crate) fn to_rotation_convention<T: Real>(s: &mut [T], u: &mut [T], vt: &mut [T], n: usize) {
    let mut flip = |m: &mut [T], column: bool| {
        let det = determinant(m, n);
        if det < 0.0 {
            for i in 0..n {
                let at = if column {
                    i * n + (n - 1)
                } else {
                    (n - 1) * n + i
                };
                m[at] = -m[at];
            }
            s[n - 1] = -s[n - 1];
        }
    };
    flip(u, true);
    flip(vt, false);
}

/// Determinant of a row-major `n×n` matrix by LU with partial pivoting, in f64.
pub(crate) fn determinant<T: Real>(a: &[T], n: usize) -> f64 {
    let mut m: Vec<f64> = a.iter().map(|&x| x.to_f64()).collect();
    let mut det = 1.0;
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| m[i * n + k].abs().total_cmp(&m[j * n + k].abs()))
            .unwrap_or(k);
        if m[pivot * n + k] == 0.0 {
            return 0.0;
        }
        if pivot != k {
            for j in 0..n {
                m.swap(k * n + j, pivot * n + j);
            }
            det = -det;
        }
        det *= m[k * n + k];
        for i in k + 1..n {
            let f = m[i * n + k] / m[k * n + k];
            for j in k..n {
                m[i * n + j] -= f * m[k * n + j];
            }
        }
    }
    det
}

/// `x ← (I − 2vvᴴ)·x` for a unit vector v.
#[inline]
fn apply_reflector<H: Host>(v: &[H], x: &mut [H]) {
    let d = v
        .iter()
        .zip(x.iter())
        .fold(nalgebra::zero::<H>(), |acc, (&a, &b)| {
            acc + a.conjugate() * b
        });
    x.iter_mut()
        .zip(v)
        .for_each(|(xi, &vi)| *xi -= d.scale(2.0) * vi);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gram_error(a: &[f32], rows: usize, cols: usize) -> f64 {
        let mut worst: f64 = 0.0;
        for p in 0..cols {
            for q in 0..cols {
                let d: f64 = (0..rows)
                    .map(|i| f64::from(a[i * cols + p]) * f64::from(a[i * cols + q]))
                    .sum();
                let target = if p == q { 1.0 } else { 0.0 };
                worst = worst.max((d - target).abs());
            }
        }
        worst
    }

    #[test]
    fn fills_zero_and_extra_columns() {
        // 4×3 input, full U (4×4): known columns 0 and 2, column 1 zero (negligible σ),
        // column 3 beyond k = 3 holds garbage that must be replaced.
        let s = std::f32::consts::FRAC_1_SQRT_2;
        #[rustfmt::skip]
        let mut u = vec![
            s,   0.0, 0.0, 9.0,
            s,   0.0, 0.0, 9.0,
            0.0, 0.0, 1.0, 9.0,
            0.0, 0.0, 0.0, 9.0,
        ];
        let mut vt = vec![1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let filled = complete_vectors(&mut u, &mut vt, 4, 3, Vectors::Full);
        assert_eq!(filled, 2);
        assert!(gram_error(&u, 4, 4) < 1e-6, "{u:?}");
        // Known columns untouched.
        assert_eq!((u[0], u[4], u[10]), (s, s, 1.0));
    }

    #[test]
    fn zero_matrix_vectors_become_a_basis() {
        let (m, n) = (3, 5);
        let mut u = vec![0.0f32; m * m];
        let mut vt = vec![0.0f32; n * n];
        complete_vectors(&mut u, &mut vt, m, n, Vectors::Full);
        assert!(gram_error(&u, m, m) < 1e-6);
        // Vᵀ rows orthonormal ⇔ Vᵀ·V = I; check via the transpose.
        let v: Vec<f32> = (0..n * n).map(|e| vt[(e % n) * n + e / n]).collect();
        assert!(gram_error(&v, n, n) < 1e-6);
    }
}
