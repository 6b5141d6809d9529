//! One-sided (Hestenes) Jacobi SVD in f64 on a reusable workspace: the CPU engine's solver
//! for small matrices, and its fallback when a bidiagonalising SVD fails its checks.
//!
//! Columns of `W = A` (or `Aᵀ` when `A` is wide, so that `W` has at least as many rows as
//! columns) are rotated in cyclic order until every pair satisfies
//! `|w_pᵀw_q| ≤ tol·‖w_p‖‖w_q‖`; then `σⱼ = ‖wⱼ‖`, `uⱼ = wⱼ/σⱼ` and V is the product of the
//! rotations (Demmel & Veselić, "Jacobi's method is more accurate than QR", SIAM J. Matrix
//! Anal. Appl. 13, 1992: relative accuracy in σ for well-scaled columns). It never forms
//! `AᵀA`, allocates nothing per matrix, and on tiny matrices beats the per-call set-up of a
//! bidiagonalising SVD.

use crate::host::Host;

/// Sweep cap: LAPACK's `dgesvj` uses 30; f64 Jacobi converges quadratically, in 4–10 sweeps on
/// every class the tests use, so reaching this means the input defeats the method.
const MAX_SWEEPS: u32 = 60;

/// Scratch memory for matrices of up to `rows×cols` (any orientation), reused across the
/// matrices of one thread.
/// `H` is the host type (`f64`, or `Complex<f64>` for `jacobi_complex.rs`).
#[derive(Debug, Default)]
pub(crate) struct Workspace<H = f64> {
    /// W, column-major `rows×cols` (`rows ≥ cols`).
    pub(crate) w: Vec<H>,
    /// V, column-major `cols×cols`.
    pub(crate) v: Vec<H>,
    norms: Vec<f64>,
    order: Vec<usize>,
}

/// The SVD of one matrix in the host type `H` (`f64` or `Complex<f64>`): σ descending, U (`m×k`) and V (`n×k`) column-major, or
/// `None` vectors for values only. Columns of U for zero singular values are zero (the caller
/// completes the basis).
#[derive(Debug, Default)]
pub(crate) struct Svd64<H = f64> {
    pub sigma: Vec<f64>,
    /// `m×k`, column-major.
    pub u: Vec<H>,
    /// `n×k`, column-major.
    pub v: Vec<H>,
    pub vectors: bool,
    /// Sweeps the Jacobi solver used (0 for other solvers).
    pub sweeps: u32,
}

/// The rotation threshold for `rows`-element columns: `4·√rows·ε` in f64 — above the rounding
/// noise of the dot products (of order `√rows·ε`), so a converged matrix stops rotating, and
/// far below f32 resolution.
fn tolerance(rows: usize) -> f64 {
    4.0 * (rows as f64).sqrt() * f64::EPSILON
}

/// Decomposes the `m×n` matrix whose element `(i, j)` is `at(i, j)` into `out`; `None` if the
/// sweeps do not converge within [`MAX_SWEEPS`]. The elements must be finite.
pub(crate) fn svd(
    m: usize,
    n: usize,
    at: impl Fn(usize, usize) -> f64,
    want_vectors: bool,
    ws: &mut Workspace,
    out: &mut Svd64,
) -> Option<()> {
    let transposed = m < n;
    let (rows, cols) = if transposed { (n, m) } else { (m, n) };
    ws.w.clear();
    ws.w.resize(rows * cols, 0.0);
    for j in 0..cols {
        for i in 0..rows {
            ws.w[j * rows + i] = if transposed { at(j, i) } else { at(i, j) };
        }
    }
    // Scale by a power of two (exact) so that max |wᵢⱼ| is near 1: squared norms then neither
    // overflow nor underflow for any finite input, including f64 near its range limits.
    let e = exponent(ws.w.iter().fold(0.0f64, |m, x| m.max(x.abs())));
    if e != 0 {
        ws.w.iter_mut().for_each(|x| *x = ldexp(*x, -e));
    }
    ws.v.clear();
    if want_vectors {
        ws.v.resize(cols * cols, 0.0);
        for j in 0..cols {
            ws.v[j * cols + j] = 1.0;
        }
    }
    let sweeps = sweep(&mut ws.w, rows, cols, &mut ws.v, tolerance(rows))?;

    ws.finish(rows, cols, transposed, e, sweeps, want_vectors, out);
    Some(())
}

impl<H: Host> Workspace<H> {
    /// Writes the result of converged sweeps into `out`: `σⱼ = ‖wⱼ‖·2^e`, sorted descending
    /// with their columns, `U_W = W·Σ⁻¹` and `V_W` (for a wide A, whose W is `Aᴴ`:
    /// `A = V_W·Σ·U_Wᴴ`, so the two swap). Shared by the real and the complex solver.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        &mut self,
        rows: usize,
        cols: usize,
        transposed: bool,
        e: i32,
        sweeps: u32,
        want_vectors: bool,
        out: &mut Svd64<H>,
    ) {
        self.norms.clear();
        self.norms
            .extend((0..cols).map(|j| norm(&self.w[j * rows..(j + 1) * rows])));
        self.order.clear();
        self.order.extend(0..cols);
        let norms = &self.norms;
        self.order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
        out.sigma.clear();
        out.sigma
            .extend(self.order.iter().map(|&j| ldexp(norms[j], e)));
        out.vectors = want_vectors;
        out.sweeps = sweeps;
        out.u.clear();
        out.v.clear();
        if !want_vectors {
            return;
        }
        let (uw, vw) = if transposed {
            (&mut out.v, &mut out.u)
        } else {
            (&mut out.u, &mut out.v)
        };
        uw.resize(rows * cols, H::zero());
        vw.resize(cols * cols, H::zero());
        for (r, &j) in self.order.iter().enumerate() {
            let s = norms[j];
            let src = &self.w[j * rows..(j + 1) * rows];
            let dst = &mut uw[r * rows..(r + 1) * rows];
            if s > 0.0 {
                dst.iter_mut()
                    .zip(src)
                    .for_each(|(d, &x)| *d = x.unscale(s));
            }
            vw[r * cols..(r + 1) * cols].copy_from_slice(&self.v[j * cols..(j + 1) * cols]);
        }
    }
}

/// Cyclic sweeps over the column pairs of `w` (`rows×cols`, column-major), accumulating the
/// rotations into `v` (`cols×cols`, or empty). Returns the sweeps used, including the last
/// one that rotated nothing; `None` after [`MAX_SWEEPS`].
fn sweep(w: &mut [f64], rows: usize, cols: usize, v: &mut [f64], tol: f64) -> Option<u32> {
    for s in 1..=MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..cols {
            for q in p + 1..cols {
                let (wp, wq) = two_columns(w, rows, p, q);
                let alpha = dot(wp, wp);
                let beta = dot(wq, wq);
                let t = if alpha < SMALL || beta < SMALL {
                    match small_pair_rotation(wp, wq, tol) {
                        Some(t) => t,
                        None => continue,
                    }
                } else {
                    let gamma = dot(wp, wq);
                    if gamma.abs() <= tol * (alpha.sqrt() * beta.sqrt()) {
                        continue;
                    }
                    // ζ = (β − α)/(2γ), t = sign(ζ)/(|ζ| + √(1 + ζ²)): the smaller root.
                    rotation_tangent((beta - alpha) / (2.0 * gamma))
                };
                if t == 0.0 {
                    // The rotation would change nothing.
                    continue;
                }
                rotated = true;
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = c * t;
                rotate(wp, wq, c, sn);
                if !v.is_empty() {
                    let (vp, vq) = two_columns(v, cols, p, q);
                    rotate(vp, vq, c, sn);
                }
            }
        }
        if !rotated {
            return Some(s);
        }
    }
    None
}

/// Squared column norms below this (entries under about 2⁻⁴⁰⁰ where the matrix's largest is
/// near 1) take [`small_pair_rotation`]: their squares and products would lose precision in
/// the subnormal range or underflow to zero.
const SMALL: f64 = 1.5e-241; // 2⁻⁸⁰⁰

/// Columns whose entries are all below this (with the matrix's largest entry near 1) are
/// zero for the sweeps (see [`small_pair_rotation`]).
const NEGLIGIBLE: f64 = 1.0e-289; // about 2⁻⁹⁶⁰

/// `t = sign(ζ)/(|ζ| + √(1 + ζ²))`, the tangent of the rotation (the smaller root, |t| ≤ 1).
/// For huge ζ (a column negligible next to the other, yet not orthogonal to it) ζ² would
/// overflow and t round to 0, an identity rotation repeated until the sweep cap: a matrix
/// with a zero row ([[0, 0], [-2, 5]]) never converged (found by fuzzing). t = 1/(2ζ) there
/// is exact to f64 and keeps shrinking the negligible column by ε a sweep, to zero.
#[inline]
pub(crate) fn rotation_tangent(zeta: f64) -> f64 {
    if zeta.abs() > 1e150 {
        0.5 / zeta
    } else {
        // (No `mul_add`: without the FMA target feature it is a slow libm call.)
        zeta.signum() / (zeta.abs() + (zeta * zeta + 1.0).sqrt())
    }
}

/// The rotation tangent of a pair of columns of which one has a squared norm below
/// [`SMALL`], or `None` when the pair is orthogonal within `tol` or a column is zero. The
/// squares and products are formed with each column scaled by its own power of two, so that
/// they neither underflow nor lose precision: a 4×4 matrix with entries from 1e-289 to
/// 1e-108 (columns 2⁻⁵⁴⁰ apart after the matrix's scaling) never converged, its squared
/// norms subnormal (found by fuzzing).
///
/// A column whose entries are all below [`NEGLIGIBLE`] is set to zero instead (σ changes by
/// less than 2⁻⁹⁶⁰·σ₁, U gets an orthonormal completion): rotations of such a column are
/// rounded to the subnormal grid, and a column of rounding noise confined to the span of the
/// others (a matrix with zero rows) could never be made orthogonal to them.
fn small_pair_rotation(wp: &mut [f64], wq: &mut [f64], tol: f64) -> Option<f64> {
    let largest = |x: &[f64]| x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (lp, lq) = (largest(wp), largest(wq));
    for (column, l) in [(&mut *wp, lp), (&mut *wq, lq)] {
        if l < NEGLIGIBLE {
            column.fill(0.0);
        }
    }
    if lp < NEGLIGIBLE || lq < NEGLIGIBLE {
        return None;
    }
    let (ep, eq) = (exponent(lp), exponent(lq));
    let (mut a, mut b, mut g) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in wp.iter().zip(wq.iter()) {
        let (x, y) = (ldexp(x, -ep), ldexp(y, -eq));
        a += x * x;
        b += y * y;
        g += x * y;
    }
    if g.abs() <= tol * (a.sqrt() * b.sqrt()) {
        return None;
    }
    // With α = a·4^ep, β = b·4^eq, γ = g·2^(ep+eq) and d = ep − eq:
    // ζ = (β − α)/(2γ) = (b·2^(−d) − a·2^d)/(2g).
    let d = ep - eq;
    Some(if d > 500 {
        // ζ ≈ −a·2^d/(2g), far past 1e150: t = 1/(2ζ) = −(g/a)·2^(−d).
        -ldexp(g / a, -d)
    } else if d < -500 {
        // ζ ≈ b·2^(−d)/(2g): t = (g/b)·2^d.
        ldexp(g / b, d)
    } else {
        rotation_tangent((ldexp(b, -d) - ldexp(a, d)) / (2.0 * g))
    })
}

/// Columns `p < q` of a column-major matrix with `rows` rows, both mutable.
#[inline]
fn two_columns(a: &mut [f64], rows: usize, p: usize, q: usize) -> (&mut [f64], &mut [f64]) {
    let (left, right) = a.split_at_mut(q * rows);
    (&mut left[p * rows..(p + 1) * rows], &mut right[..rows])
}

/// `(x, y) ← (c·x − s·y, s·x + c·y)` element-wise.
#[inline]
fn rotate(x: &mut [f64], y: &mut [f64], c: f64, s: f64) {
    for (a, b) in x.iter_mut().zip(y.iter_mut()) {
        let (xa, yb) = (*a, *b);
        *a = c * xa - s * yb;
        *b = s * xa + c * yb;
    }
}

#[inline]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// `e` with `2^e ≤ x < 2^(e+1)` for a positive finite `x`; 0 for zero.
pub(crate) fn exponent(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: 2⁻¹⁰²² times the fraction's leading bit position.
        -1022 - (bits << 12).leading_zeros() as i32 - 1
    } else {
        biased - 1023
    }
}

/// `x·2^e`, exact unless the result over- or underflows (applied in steps that never do so
/// on the way).
pub(crate) fn ldexp(mut x: f64, mut e: i32) -> f64 {
    const STEP: i32 = 1000;
    while e > STEP {
        x *= pow2(STEP);
        e -= STEP;
    }
    while e < -STEP {
        x *= pow2(-STEP);
        e += STEP;
    }
    x * pow2(e)
}

/// `2^e` for `-1022 ≤ e ≤ 1023`, built from its bits.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Euclidean norm, scaled so that it neither overflows nor underflows for any finite input
/// (real or complex entries).
pub(crate) fn norm<H: Host>(x: &[H]) -> f64 {
    let scale = x.iter().fold(0.0f64, |m, v| m.max(v.largest_part()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    scale
        * x.iter()
            .map(|v| v.unscale(scale).modulus_squared())
            .sum::<f64>()
            .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_tall_and_rank_deficient() {
        // [[1, 2, 3], [2, 4, 6]]: rank 1, σ₁ = √70.
        let a = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]];
        let mut ws = Workspace::default();
        let mut out = Svd64::default();
        svd(2, 3, |i, j| a[i][j], true, &mut ws, &mut out).unwrap();
        assert!((out.sigma[0] - 70f64.sqrt()).abs() < 1e-13);
        assert!(out.sigma[1].abs() < 1e-13);
        // U is 2×2, V is 3×2; u₁σ₁v₁ᵀ rebuilds A.
        for (i, row) in a.iter().enumerate() {
            for (j, &aij) in row.iter().enumerate() {
                let x = out.u[i] * out.sigma[0] * out.v[j];
                assert!((x - aij).abs() < 1e-13, "{i} {j}");
            }
        }
        // The transpose gives the same values.
        svd(3, 2, |i, j| a[j][i], false, &mut ws, &mut out).unwrap();
        assert!((out.sigma[0] - 70f64.sqrt()).abs() < 1e-13);
        assert!(out.u.is_empty() && out.v.is_empty());
    }

    #[test]
    fn extreme_scales() {
        for scale in [1e-310, 1e-300, 1e300, 4e307] {
            let a = [[3.0 * scale, 0.0], [0.0, 4.0 * scale]];
            let mut ws = Workspace::default();
            let mut out = Svd64::default();
            svd(2, 2, |i, j| a[i][j], true, &mut ws, &mut out).unwrap();
            let rel = |x: f64, y: f64| ((x - y) / y).abs();
            assert!(
                rel(out.sigma[0], 4.0 * scale) < 1e-15,
                "{scale}: {:?}",
                out.sigma
            );
            assert!(
                rel(out.sigma[1], 3.0 * scale) < 1e-15,
                "{scale}: {:?}",
                out.sigma
            );
        }
        assert_eq!(exponent(1.0), 0);
        assert_eq!(exponent(3.0), 1);
        assert_eq!(exponent(f64::MIN_POSITIVE), -1022);
        assert_eq!(exponent(f64::MIN_POSITIVE / 4.0), -1024);
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert_eq!(ldexp(f64::from_bits(1), 1074), 1.0);
    }

    /// Found by the `batch_constructors` fuzz target: a 3×3 f64 matrix with a zero row gave
    /// NaN singular values and `NotConverged` (so did `batched-svd svd --backend cpu` on
    /// [[0, 0], [-2, 5]]). The zero row stays exactly zero under rotations, so the columns
    /// that should vanish only shrank to rounding noise still in the others' span, until the
    /// rotation angle rounded to zero and the sweeps ran to their cap.
    #[test]
    fn jacobi_on_a_matrix_with_a_zero_row_converges_not_nan() {
        let mut ws = Workspace::default();
        let mut out = Svd64::default();
        // [[0, 0], [-2, 5]]: σ = (√29, 0).
        svd(
            2,
            2,
            |i, j| [[0.0, 0.0], [-2.0, 5.0]][i][j],
            true,
            &mut ws,
            &mut out,
        )
        .expect("converges");
        assert!(
            (out.sigma[0] - 29f64.sqrt()).abs() < 1e-14,
            "{:?}",
            out.sigma
        );
        assert!(out.sigma[1].abs() < 1e-14, "{:?}", out.sigma);
        assert!(out.sweeps < MAX_SWEEPS);
        // Zero rows (and a zero column) in 2×2 to 12×12, at any scale, both orientations.
        for n in 2..=12usize {
            for zero_rows in 1..n {
                for scale in [1.0, 2f64.powi(-99), 2f64.powi(900)] {
                    let a = |i: usize, j: usize| {
                        if i < zero_rows {
                            0.0
                        } else {
                            scale * (((i * 7 + j * 3) % 11) as f64 - 5.0)
                        }
                    };
                    for (m, cols, at) in [
                        (n, n, &a as &dyn Fn(usize, usize) -> f64),
                        (n, n - 1, &a),
                        (n - 1, n, &|i: usize, j: usize| a(j, i)),
                    ] {
                        let done = svd(m, cols, at, true, &mut ws, &mut out);
                        assert!(done.is_some(), "{m}×{cols}, {zero_rows} zero rows, {scale}");
                        let frob: f64 = (0..m)
                            .flat_map(|i| (0..cols).map(move |j| (i, j)))
                            .map(|(i, j)| (at(i, j) / scale).powi(2))
                            .sum();
                        let s2: f64 = out.sigma.iter().map(|s| (s / scale).powi(2)).sum();
                        assert!(
                            (s2 - frob).abs() <= 1e-12 * frob,
                            "{m}×{cols}: {s2} vs {frob}"
                        );
                    }
                }
            }
        }
    }

    /// Found by the `batch_constructors` fuzz target (after the zero-row fix): this 4×4 f64
    /// matrix (column-major) was `NotConverged` with NaN singular values. After scaling its
    /// largest entry to 1 its first columns are near 2⁻⁵⁴⁰, whose squares are subnormal.
    #[test]
    fn jacobi_on_columns_of_widely_different_scales_converges_not_nan() {
        let found = [
            -1.2653140094791764e-289,
            -2.8346848595176943e-270,
            -2.8564911020505223e-270,
            2.878296377638694e-270,
            -2.900101653226866e-270,
            -2.921906928815038e-270,
            -2.9437122044032096e-270,
            2.9655174799913815e-270,
            -2.9873227555795538e-270,
            -3.0091280311677256e-270,
            -2.422223784056238e-123,
            -1.1575343544074327e-108,
            -1.3830176391139564e-289,
            -1.3928262748523532e-289,
            -1.4026349097327304e-289,
            3.1399586136196e-270,
        ];
        let mut ws = Workspace::default();
        let mut out = Svd64::default();
        // Graded columns too: 2×2 to 6×6 with column j scaled by 2^(−300·j).
        let mut cases: Vec<(usize, Vec<f64>)> = vec![(4, found.to_vec())];
        for n in 2..=6usize {
            let a = (0..n * n)
                .map(|e| {
                    let (i, j) = (e % n, e / n);
                    ldexp(((i * 5 + j * 3) % 7) as f64 - 3.0, -300 * j as i32)
                })
                .collect();
            cases.push((n, a));
        }
        for (n, a) in cases {
            svd(n, n, |i, j| a[j * n + i], true, &mut ws, &mut out).expect("converges");
            assert!(
                out.sigma.iter().all(|s| s.is_finite() && *s >= 0.0),
                "{:?}",
                out.sigma
            );
            // Σσ² = ‖A‖²_F, both scaled by σ₁.
            let s1 = out.sigma[0];
            let frob: f64 = a.iter().map(|x| (x / s1).powi(2)).sum();
            let s2: f64 = out.sigma.iter().map(|s| (s / s1).powi(2)).sum();
            assert!((s2 - frob).abs() < 1e-13, "{s2} vs {frob}");
            // U's columns for non-zero σ are orthonormal.
            let live = out.sigma.iter().filter(|&&s| s > 0.0).count();
            for p in 0..live {
                for q in 0..live {
                    let d: f64 = (0..n).map(|i| out.u[p * n + i] * out.u[q * n + i]).sum();
                    let want = if p == q { 1.0 } else { 0.0 };
                    assert!((d - want).abs() < 1e-12, "{n}: UᵀU[{p}, {q}] = {d}");
                }
            }
        }
    }

    #[test]
    fn norm_is_safe_at_the_extremes() {
        assert_eq!(norm(&[3e300, 4e300]), 5e300);
        assert!((norm(&[3e-310, 4e-310]) - 5e-310).abs() < 1e-320);
        assert_eq!(norm(&[0.0, 0.0]), 0.0);
    }
}
