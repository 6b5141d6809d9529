// Complex elements for the Jacobi kernels: `elem` is (re, im) in a vec2 of the scalar
// prelude's `real`, the interleaved layout of numpy and nalgebra, with the interface of
// element_real.wgsl (which real kernels get instead). Only + − × ÷, sqrt and fma, as for f64
// (no transcendental).

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

// The element of real value x, and the real part of an element.
fn elem_of(x: real) -> elem {
    return elem(x, 0.0);
}

fn real_part(x: elem) -> real {
    return x.x;
}

// acc + |x|².
fn add_abs2(acc: real, x: elem) -> real {
    return fma(x.y, x.y, fma(x.x, x.x, acc));
}

// acc + conj(x)·y.
fn add_conj_dot(acc: elem, x: elem, y: elem) -> elem {
    return elem(fma(x.y, y.y, fma(x.x, y.x, acc.x)), fma(-x.y, y.x, fma(x.x, y.y, acc.y)));
}

fn conj_elem(x: elem) -> elem {
    return elem(x.x, -x.y);
}

// acc + x·y.
fn add_mul(acc: elem, x: elem, y: elem) -> elem {
    return elem(fma(-x.y, y.y, fma(x.x, y.x, acc.x)), fma(x.y, y.x, fma(x.x, y.y, acc.y)));
}

// a·b, 1/a (conj(a)/|a|², for |a| well inside the range), and c − v·s.
fn elem_mul(a: elem, b: elem) -> elem {
    return cmul(a, b);
}

fn elem_inv(a: elem) -> elem {
    return conj_elem(a) / add_abs2(0.0, a);
}

fn sub_mul(c: elem, v: elem, s: elem) -> elem {
    return c - cmul(v, s);
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
// |g|/(‖w_p‖‖w_q‖) for g = w_pᴴw_q (−1 when a column is negligible), and rotate_p/rotate_q
// apply w_p ← c·w_p − conj(sw)·w_q, w_q ← sw·w_p + c·w_q with sw = s·ω, ω = g/|g|, (c, s) the
// real rotation of (‖w_p‖², |g|, ‖w_q‖²). The identity (c, sw) = (1, 0) unless rel > tol.
// Branch-free: the per-invocation kernel runs both sides anyway (SIMD lanes are matrices).
struct PairRotation {
    rel: real,
    c: real,
    sw: elem,
}

fn pair_rotation(alpha: real, beta: real, g: elem, tol: real) -> PairRotation {
    let live = alpha > NEGLIGIBLE_SQ && beta > NEGLIGIBLE_SQ;
    // g/(‖w_p‖‖w_q‖) has modulus ≤ 1: its square neither overflows nor, unless rel ≪ tol,
    // underflows. |g| = rel/inv: the inverse square roots' rounding cancels.
    let inv = select(real(0.0), inv_sqrt(alpha) * inv_sqrt(beta), live);
    let gn = g * inv;
    let rel = select(real(-1.0), sqrt(fma(gn.x, gn.x, gn.y * gn.y)), live);
    let turn = rel > tol;
    let cs = select(vec2<real>(1.0, 0.0), rotation(alpha, beta, rel / inv), turn);
    let sw = select(elem(0.0, 0.0), gn * (cs.y / rel), turn);
    return PairRotation(rel, cs.x, sw);
}

// c·x − conj(sw)·y.
fn rotate_p(r: PairRotation, x: elem, y: elem) -> elem {
    return r.c * x - cmul_conj(r.sw, y);
}

// sw·x + c·y.
fn rotate_q(r: PairRotation, x: elem, y: elem) -> elem {
    return cmul(r.sw, x) + r.c * y;
}
