// Complex elements for the Jacobi kernels: `elem` is (re, im) in a vec2 of the scalar
// prelude's `real`, the interleaved layout of numpy and nalgebra. Only + − × ÷, sqrt and fma,
// as for f64 (no transcendental). Prepended after the scalar prelude for complex kernels; real
// kernels get `alias elem = real;` instead.

alias elem = vec2<real>;

// Both parts finite.
fn is_finite_elem(z: elem) -> bool {
    return is_finite_real(z.x) && is_finite_real(z.y);
}

// The larger exponent of the two parts (EXP_ZERO for zero).
fn exponent_of_elem(z: elem) -> i32 {
    return max(exponent_of(z.x), exponent_of(z.y));
}

fn nan_elem() -> elem {
    return elem(nan_real(), nan_real());
}

// a·b.
fn cmul(a: elem, b: elem) -> elem {
    return elem(fma(a.x, b.x, -a.y * b.y), fma(a.x, b.y, a.y * b.x));
}

// conj(a)·b.
fn cmul_conj(a: elem, b: elem) -> elem {
    return elem(fma(a.x, b.x, a.y * b.y), fma(a.x, b.y, -a.y * b.x));
}

// The rotation of a complex column pair (LAPACK's cgesvj; Drmač, LAWN 170): `rel` is
// |w_pᴴw_q|/(‖w_p‖‖w_q‖) (−1 when a column is negligible), and w_p ← c·w_p − conj(sw)·w_q,
// w_q ← sw·w_p + c·w_q with sw = s·ω, ω = g/|g|, (c, s) the real rotation of
// (‖w_p‖², |g|, ‖w_q‖²). The identity (c, sw) = (1, 0) unless rel > tol.
struct ComplexRotation {
    rel: real,
    c: real,
    sw: elem,
}

fn complex_rotation(alpha: real, beta: real, g: elem, tol: real) -> ComplexRotation {
    let live = alpha > NEGLIGIBLE_SQ && beta > NEGLIGIBLE_SQ;
    // g/(‖w_p‖‖w_q‖) has modulus ≤ 1: its square neither overflows nor, unless rel ≪ tol,
    // underflows. |g| = rel/inv: the inverse square roots' rounding cancels.
    let inv = select(real(0.0), inv_sqrt(alpha) * inv_sqrt(beta), live);
    let gn = g * inv;
    let rel = select(real(-1.0), sqrt(fma(gn.x, gn.x, gn.y * gn.y)), live);
    let turn = rel > tol;
    let cs = select(vec2<real>(1.0, 0.0), rotation(alpha, beta, rel / inv), turn);
    let sw = select(elem(0.0, 0.0), gn * (cs.y / rel), turn);
    return ComplexRotation(rel, cs.x, sw);
}
