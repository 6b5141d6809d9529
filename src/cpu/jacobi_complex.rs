//! One-sided Jacobi SVD of complex matrices in `Complex<f64>`: the CPU engine's solver for
//! small complex matrices and its fallback when nalgebra's complex SVD fails its checks.
//!
//! The rotation is LAPACK's `zgesvj`'s (Drmač, "A global convergence proof for cyclic Jacobi
//! methods with block rotations", and LAWN 169/170): for columns `w_p`, `w_q` with
//! `g = w_pᴴw_q`, a pair rotates when `|g| > tol·‖w_p‖‖w_q‖`; with `ω = g/|g|` the real
//! Hestenes rotation of the pair (`‖w_p‖², |g|, ‖w_q‖²`) gives `c`, `s`, and
//!
//! ```text
//! w_p ← c·w_p + s·conj(ω)·w_q,    w_q ← c·w_q − s·ω·w_p,
//! ```
//!
//! a unitary transform that makes the pair orthogonal; V gets the same one. Then `σⱼ = ‖wⱼ‖`,
//! `uⱼ = wⱼ/σⱼ`. Wide matrices are decomposed through `Aᴴ`. Underflow-prone pairs are handled
//! as in the real solver (`jacobi.rs`): each column scaled by its own power of two, and columns
//! of entries below 2⁻⁹⁶⁰ (the matrix's largest near 1) set to zero.

use nalgebra::{Complex, ComplexField};

use super::jacobi::{self, Svd64};
use crate::host::Host;

/// Sweep cap, as the real solver's.
const MAX_SWEEPS: u32 = 60;

/// Squared column norms below this take the scaled computation (as in `jacobi.rs`).
const SMALL: f64 = 1.5e-241; // 2⁻⁸⁰⁰

/// Columns whose parts are all below this are zero for the sweeps (as in `jacobi.rs`).
const NEGLIGIBLE: f64 = 1.0e-289; // about 2⁻⁹⁶⁰

type C64 = Complex<f64>;

/// Scratch memory, reused across the matrices of one thread.
pub(crate) type Workspace = jacobi::Workspace<C64>;

/// Decomposes the `m×n` complex matrix `a` (column-major, finite) into `out` (σ descending,
/// U `m×k` and V `n×k` column-major, zero columns of U for zero σ); `None` if the sweeps do
/// not converge within [`MAX_SWEEPS`].
pub(crate) fn svd(
    m: usize,
    n: usize,
    a: &[C64],
    want_vectors: bool,
    ws: &mut Workspace,
    out: &mut Svd64<C64>,
) -> Option<()> {
    let transposed = m < n;
    let (rows, cols) = if transposed { (n, m) } else { (m, n) };
    ws.w.clear();
    ws.w.resize(rows * cols, C64::default());
    for j in 0..cols {
        for i in 0..rows {
            // W = Aᴴ for a wide A.
            ws.w[j * rows + i] = if transposed {
                a[i * m + j].conj()
            } else {
                a[j * m + i]
            };
        }
    }
    let largest = ws.w.iter().fold(0.0f64, |l, z| l.max(z.largest_part()));
    let e = jacobi::exponent(largest);
    if e != 0 {
        ws.w.iter_mut().for_each(|z| *z = z.ldexp(-e));
    }
    ws.v.clear();
    if want_vectors {
        ws.v.resize(cols * cols, C64::default());
        for j in 0..cols {
            ws.v[j * cols + j] = C64::new(1.0, 0.0);
        }
    }
    let tol = 4.0 * (rows as f64).sqrt() * f64::EPSILON;
    let sweeps = sweep(&mut ws.w, rows, cols, &mut ws.v, tol)?;

    ws.finish(rows, cols, transposed, e, sweeps, want_vectors, out);
    Some(())
}

/// Cyclic sweeps over the column pairs of `w`, accumulating the transforms into `v` (or not,
/// when empty). Returns the sweeps used, including the last one that rotated nothing.
fn sweep(w: &mut [C64], rows: usize, cols: usize, v: &mut [C64], tol: f64) -> Option<u32> {
    for s in 1..=MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..cols {
            for q in p + 1..cols {
                let (wp, wq) = two_columns(w, rows, p, q);
                let Some((t, omega)) = pair_rotation(wp, wq, tol) else {
                    continue;
                };
                if t == 0.0 {
                    continue;
                }
                rotated = true;
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = c * t;
                rotate(wp, wq, c, sn, omega);
                if !v.is_empty() {
                    let (vp, vq) = two_columns(v, cols, p, q);
                    rotate(vp, vq, c, sn, omega);
                }
            }
        }
        if !rotated {
            return Some(s);
        }
    }
    None
}

/// The tangent `t` and phase `ω` of the rotation of a pair, or `None` when the pair is
/// orthogonal within `tol` or a column is zero. With `α = ‖w_p‖²`, `β = ‖w_q‖²`,
/// `ζ = (α − β)/(2|g|)` and `t = sign(ζ)/(|ζ| + √(1 + ζ²))`.
fn pair_rotation(wp: &mut [C64], wq: &mut [C64], tol: f64) -> Option<(f64, C64)> {
    let alpha: f64 = wp.iter().map(|z| z.norm_sqr()).sum();
    let beta: f64 = wq.iter().map(|z| z.norm_sqr()).sum();
    if alpha >= SMALL && beta >= SMALL {
        let g = dot(wp, wq);
        let modulus = g.norm();
        if modulus <= tol * (alpha.sqrt() * beta.sqrt()) {
            return None;
        }
        let t = jacobi::rotation_tangent((alpha - beta) / (2.0 * modulus));
        return Some((t, g.unscale(modulus)));
    }
    // Squares and products with each column scaled by its own power of two.
    let largest = |x: &[C64]| x.iter().fold(0.0f64, |l, z| l.max(z.largest_part()));
    let (lp, lq) = (largest(wp), largest(wq));
    for (column, l) in [(&mut *wp, lp), (&mut *wq, lq)] {
        if l < NEGLIGIBLE {
            column.fill(C64::default());
        }
    }
    if lp < NEGLIGIBLE || lq < NEGLIGIBLE {
        return None;
    }
    let (ep, eq) = (jacobi::exponent(lp), jacobi::exponent(lq));
    let (mut a, mut b, mut g) = (0.0f64, 0.0f64, C64::default());
    for (&x, &y) in wp.iter().zip(wq.iter()) {
        let (x, y) = (x.ldexp(-ep), y.ldexp(-eq));
        a += x.norm_sqr();
        b += y.norm_sqr();
        g += x.conj() * y;
    }
    let modulus = g.norm();
    if modulus <= tol * (a.sqrt() * b.sqrt()) {
        return None;
    }
    // α = a·4^ep, β = b·4^eq, |g_true| = |g|·2^(ep+eq), d = ep − eq:
    // ζ = (a·2^d − b·2^(−d))/(2|g|).
    let d = ep - eq;
    let t = if d > 500 {
        // ζ ≈ a·2^d/(2|g|): t = 1/(2ζ).
        jacobi::ldexp(modulus / a, -d)
    } else if d < -500 {
        // ζ ≈ −b·2^(−d)/(2|g|).
        -jacobi::ldexp(modulus / b, d)
    } else {
        jacobi::rotation_tangent((jacobi::ldexp(a, d) - jacobi::ldexp(b, -d)) / (2.0 * modulus))
    };
    Some((t, g.unscale(modulus)))
}

/// Columns `p < q` of a column-major matrix with `rows` rows, both mutable.
#[inline]
fn two_columns(a: &mut [C64], rows: usize, p: usize, q: usize) -> (&mut [C64], &mut [C64]) {
    let (left, right) = a.split_at_mut(q * rows);
    (&mut left[p * rows..(p + 1) * rows], &mut right[..rows])
}

/// `(x, y) ← (c·x + s·conj(ω)·y, c·y − s·ω·x)` element-wise.
#[inline]
fn rotate(x: &mut [C64], y: &mut [C64], c: f64, s: f64, omega: C64) {
    let (sw_conj, sw) = (omega.conj().scale(s), omega.scale(s));
    for (a, b) in x.iter_mut().zip(y.iter_mut()) {
        let (xa, yb) = (*a, *b);
        *a = xa.scale(c) + sw_conj * yb;
        *b = yb.scale(c) - sw * xa;
    }
}

/// `xᴴy`.
#[inline]
fn dot(x: &[C64], y: &[C64]) -> C64 {
    x.iter().zip(y).map(|(a, b)| a.conj() * b).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    fn reconstruct(m: usize, n: usize, out: &Svd64<C64>) -> DMatrix<C64> {
        let k = m.min(n);
        let u = DMatrix::from_column_slice(m, k, &out.u);
        let v = DMatrix::from_column_slice(n, k, &out.v);
        let s = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
            k,
            out.sigma.iter().map(|&x| C64::new(x, 0.0)),
        ));
        u * s * v.adjoint()
    }

    #[test]
    fn decomposes_tall_and_wide_complex_matrices() {
        for (m, n) in [(3, 2), (2, 3), (4, 4), (1, 3), (5, 1)] {
            let a = DMatrix::from_fn(m, n, |i, j| {
                C64::new(
                    (i * 7 + j * 3) as f64 % 5.0 - 2.0,
                    (i + 2 * j) as f64 % 3.0 - 1.0,
                )
            });
            let mut out = Svd64::default();
            svd(
                m,
                n,
                a.as_slice(),
                true,
                &mut Workspace::default(),
                &mut out,
            )
            .unwrap();
            let r = reconstruct(m, n, &out);
            assert!((r - &a).norm() <= 1e-13 * a.norm(), "{m}x{n}");
            let reference = a.clone().svd(false, false).singular_values;
            for (s, r) in out.sigma.iter().zip(reference.iter()) {
                assert!((s - r).abs() <= 1e-13 * reference[0], "{m}x{n}: {s} vs {r}");
            }
            let k = m.min(n);
            let u = DMatrix::from_column_slice(m, k, &out.u);
            let v = DMatrix::from_column_slice(n, k, &out.v);
            let live = out.sigma.iter().filter(|&&s| s > 0.0).count();
            for g in [
                u.columns(0, live).into_owned(),
                v.columns(0, live).into_owned(),
            ] {
                let e = g.adjoint() * &g - DMatrix::<C64>::identity(live, live);
                assert!(e.norm() <= 1e-13, "{m}x{n}");
            }
        }
    }

    #[test]
    fn columns_far_apart_in_scale_converge() {
        // Columns 2⁶⁰⁰ apart: the scaled pair computation.
        let a = [
            C64::new(1.0, 0.5),
            C64::new(-0.25, 1.0),
            C64::new(3e-181, -1e-181),
            C64::new(2e-181, 4e-181),
        ];
        let mut out = Svd64::default();
        svd(2, 2, &a, true, &mut Workspace::default(), &mut out).unwrap();
        let r = reconstruct(2, 2, &out);
        let a = DMatrix::from_column_slice(2, 2, &a);
        assert!((r - &a).norm() <= 1e-14 * a.norm());
        assert!(out.sigma[1] > 0.0 && out.sigma[1] < 1e-180);
    }
}
