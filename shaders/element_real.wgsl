// Real elements for the Jacobi kernels: `elem` is the scalar prelude's `real`. The interface
// below is the one complex.wgsl implements for `vec2<real>`, so a kernel written against it
// serves both; for real elements every helper is the plain real expression, so real kernels
// compute exactly what they did before the interface existed.

alias elem = real;

fn is_finite_elem(x: elem) -> bool {
    return is_finite_real(x);
}

fn exponent_of_elem(x: elem) -> i32 {
    return exponent_of(x);
}

fn nan_elem() -> elem {
    return nan_real();
}

// The element of real value x, and the real part of an element.
fn elem_of(x: real) -> elem {
    return x;
}

fn real_part(x: elem) -> real {
    return x;
}

// acc + |x|².
fn add_abs2(acc: real, x: elem) -> real {
    return fma(x, x, acc);
}

// acc + conj(x)·y.
fn add_conj_dot(acc: elem, x: elem, y: elem) -> elem {
    return fma(x, y, acc);
}

fn conj_elem(x: elem) -> elem {
    return x;
}

// acc + x·y.
fn add_mul(acc: elem, x: elem, y: elem) -> elem {
    return fma(x, y, acc);
}

// a·b, 1/a, and c − v·s.
fn elem_mul(a: elem, b: elem) -> elem {
    return a * b;
}

fn elem_inv(a: elem) -> elem {
    return 1.0 / a;
}

fn sub_mul(c: elem, v: elem, s: elem) -> elem {
    return fma(-s, v, c);
}

// The rotation of a column pair with α = ‖w_p‖², β = ‖w_q‖², γ = w_pᵀw_q: `rel` is
// |γ|/√(αβ) (−1 when a column is negligible); (c, sw) = (c, s) of `rotation` when rel > tol,
// else the identity. Applied by rotate_p and rotate_q.
struct PairRotation {
    rel: real,
    c: real,
    sw: elem,
}

fn pair_rotation(alpha: real, beta: real, gamma: elem, tol: real) -> PairRotation {
    let rel = relative_gamma(alpha, beta, gamma);
    if rel <= tol {
        return PairRotation(rel, 1.0, 0.0);
    }
    let cs = rotation(alpha, beta, gamma);
    return PairRotation(rel, cs.x, cs.y);
}

// c·x − s·y.
fn rotate_p(r: PairRotation, x: elem, y: elem) -> elem {
    return r.c * x - r.sw * y;
}

// s·x + c·y.
fn rotate_q(r: PairRotation, x: elem, y: elem) -> elem {
    return r.sw * x + r.c * y;
}
