// batched-svd: SVD of 2×2 and 3×3 matrices, f32 or f64, written once for one matrix or for
// several at a time (structure of arrays). Every helper name starts with `bsvd_`.
//
// The scalar type and its helpers come from small_scalar_f32.wgsl or small_scalar_f64.wgsl
// (bsvd_s = f32 or f64; the tolerance, the negligible norm, exact powers of two, the exponent,
// the finiteness test, NaN, 1/√x and clamp), the lane types from small_lanes_scalar.wgsl (or
// code the library generates):
//   bsvd_f, bsvd_u, bsvd_i, bsvd_b   bsvd_s, u32, i32, bool        (one matrix per call), or
//                                    vecL<bsvd_s>, …, vecL<bool>   (L matrices per call, one
//                                                                   per vector component)
// A value of type bsvd_f holds the same entry of every matrix of the call. On GPUs one matrix
// per invocation is right (the lanes of a warp are the parallelism, and registers are the
// scarce resource). On CPU devices such as lavapipe, where each SIMD lane is an invocation,
// the rotation of one matrix is a chain of dependent square roots and divisions whose
// latency leaves the vector units idle; L matrices per invocation give L independent chains.
//
// Method: one-sided Jacobi on A itself (never AᵀA, which squares the condition number and
// loses small singular values in f32). A rotation of columns (p, q) with α = ‖w_p‖²,
// β = ‖w_q‖², γ = w_p·w_q is taken when γ² > tol²·α·β, with d = β − α:
//   t = sign(d)·2γ / (|d| + √(d² + 4γ²)),  c = 1/√(1 + t²),  s = c·t
// (the smaller root of t² + (d/γ)t − 1 = 0, so |t| ≤ 1; no atan2, no overflow after the
// power-of-two scaling below, and exactly the identity when the pair is left alone). A 2×2
// needs one rotation (the closed form); a 3×3 takes sweeps over the pairs (0,1), (0,2),
// (1,2) until none rotates (at most BSVD_MAX_SWEEPS; 3–5 in practice). Columns are then
// sorted by swapping and negating (which keeps det v = +1); the last column of u is the
// cross product (3×3) or perpendicular (2×2) of the others, so det u = +1 and the sign of
// det a lands in the last singular value (the rotation convention; the non-negative one
// flips it back). Zero and rank-deficient matrices get orthonormal u and v; non-finite
// input gives NaN outputs, 0 sweeps and converged = false.

const BSVD_MAX_SWEEPS: u32 = 8u;

struct BsvdCol2 {
    x: bsvd_f,
    y: bsvd_f,
}

struct BsvdCol3 {
    x: bsvd_f,
    y: bsvd_f,
    z: bsvd_f,
}

// u = [u0 u1 (u2)], σ = (s0, s1, (s2)), v = [v0 v1 (v2)]; a = u·diag(σ)·vᵀ.
struct BsvdSvd2 {
    u0: BsvdCol2,
    u1: BsvdCol2,
    v0: BsvdCol2,
    v1: BsvdCol2,
    s0: bsvd_f,
    s1: bsvd_f,
    sweeps: bsvd_u,
    converged: bsvd_b,
}

struct BsvdSvd3 {
    u0: BsvdCol3,
    u1: BsvdCol3,
    u2: BsvdCol3,
    v0: BsvdCol3,
    v1: BsvdCol3,
    v2: BsvdCol3,
    s0: bsvd_f,
    s1: bsvd_f,
    s2: bsvd_f,
    sweeps: bsvd_u,
    converged: bsvd_b,
}

// The rotation of one column pair: (c, s), and whether it rotates (else exactly (1, 0)).
struct BsvdRotation {
    c: bsvd_f,
    s: bsvd_f,
    rotated: bsvd_b,
}

// Power-of-two scaling of a matrix: its entries times `down` have their largest magnitude in
// [0.5, 1), and results times `up` undo it; both exact. Split in two factors so that the
// whole exponent range (f32: including 2^±149) stays representable.
struct BsvdScale {
    down: bsvd_f,
    up: bsvd_f,
}

fn bsvd_scale_for(max_exponent: bsvd_i) -> BsvdScale {
    let e = select(max_exponent, bsvd_i(0), max_exponent == bsvd_i(BSVD_EXP_ZERO));
    let e1 = e / bsvd_i(2);
    let e2 = e - e1;
    return BsvdScale(bsvd_pow2(-e1) * bsvd_pow2(-e2), bsvd_pow2(e1) * bsvd_pow2(e2));
}

fn bsvd_rotation(alpha: bsvd_f, beta: bsvd_f, gamma: bsvd_f) -> BsvdRotation {
    let negligible = bsvd_f(BSVD_NEGLIGIBLE_SQ);
    // |cos(w_p, w_q)| > tol, squared: no square root or division. For a column whose entries
    // are below ~2⁻³⁰ (next to a largest entry in [0.5, 1)) the products may underflow and
    // skip a rotation that would move σ by less than 2⁻³⁰·σ₁, far inside the bounds.
    let rotated = (alpha > negligible) & (beta > negligible)
        & (gamma * gamma > (BSVD_TOL_SQ * alpha) * beta);
    let g = select(bsvd_f(0.0), gamma, rotated);
    let d = beta - alpha;
    // |d| + r ≥ 2|g| > 0 when rotating; the max only keeps the identity (g = 0) free of 0/0.
    let r = sqrt(d * d + 4.0 * g * g);
    let t = select(bsvd_f(-2.0), bsvd_f(2.0), d >= bsvd_f(0.0)) * g / max(abs(d) + r, negligible);
    let c = bsvd_rsqrt(1.0 + t * t);
    return BsvdRotation(c, c * t, rotated);
}

fn bsvd_dot2(a: BsvdCol2, b: BsvdCol2) -> bsvd_f {
    return a.x * b.x + a.y * b.y;
}

fn bsvd_dot3(a: BsvdCol3, b: BsvdCol3) -> bsvd_f {
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

fn bsvd_scale2(a: BsvdCol2, k: bsvd_f) -> BsvdCol2 {
    return BsvdCol2(a.x * k, a.y * k);
}

fn bsvd_scale3(a: BsvdCol3, k: bsvd_f) -> BsvdCol3 {
    return BsvdCol3(a.x * k, a.y * k, a.z * k);
}

// `a` where `keep`, else `b`.
fn bsvd_pick2(keep: bsvd_b, a: BsvdCol2, b: BsvdCol2) -> BsvdCol2 {
    return BsvdCol2(select(b.x, a.x, keep), select(b.y, a.y, keep));
}

fn bsvd_pick3(keep: bsvd_b, a: BsvdCol3, b: BsvdCol3) -> BsvdCol3 {
    return BsvdCol3(select(b.x, a.x, keep), select(b.y, a.y, keep), select(b.z, a.z, keep));
}

fn bsvd_cross(a: BsvdCol3, b: BsvdCol3) -> BsvdCol3 {
    return BsvdCol3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}

// p ← c·p − s·q, q ← s·p + c·q.
fn bsvd_rotate2(p: ptr<function, BsvdCol2>, q: ptr<function, BsvdCol2>, r: BsvdRotation) {
    let a = *p;
    let b = *q;
    *p = BsvdCol2(r.c * a.x - r.s * b.x, r.c * a.y - r.s * b.y);
    *q = BsvdCol2(r.s * a.x + r.c * b.x, r.s * a.y + r.c * b.y);
}

fn bsvd_rotate3(p: ptr<function, BsvdCol3>, q: ptr<function, BsvdCol3>, r: BsvdRotation) {
    let a = *p;
    let b = *q;
    *p = BsvdCol3(r.c * a.x - r.s * b.x, r.c * a.y - r.s * b.y, r.c * a.z - r.s * b.z);
    *q = BsvdCol3(r.s * a.x + r.c * b.x, r.s * a.y + r.c * b.y, r.s * a.z + r.c * b.z);
}

// Where `swap`: (p, q) ← (q, −p), which keeps a rotation a rotation.
fn bsvd_swap2(swap: bsvd_b, p: ptr<function, BsvdCol2>, q: ptr<function, BsvdCol2>) {
    let a = *p;
    let b = *q;
    *p = bsvd_pick2(swap, b, a);
    *q = bsvd_pick2(swap, BsvdCol2(-a.x, -a.y), b);
}

fn bsvd_swap3(swap: bsvd_b, p: ptr<function, BsvdCol3>, q: ptr<function, BsvdCol3>) {
    let a = *p;
    let b = *q;
    *p = bsvd_pick3(swap, b, a);
    *q = bsvd_pick3(swap, BsvdCol3(-a.x, -a.y, -a.z), b);
}

// Compare-exchange of columns p and q of W (and V) by their squared norms np, nq: afterwards
// np ≥ nq. A swap negates one column (bsvd_swap3), so v stays a rotation and a·v = w.
fn bsvd_order3(
    wp: ptr<function, BsvdCol3>,
    wq: ptr<function, BsvdCol3>,
    vp: ptr<function, BsvdCol3>,
    vq: ptr<function, BsvdCol3>,
    np: ptr<function, bsvd_f>,
    nq: ptr<function, bsvd_f>,
) {
    let swap = *nq > *np;
    bsvd_swap3(swap, wp, wq);
    bsvd_swap3(swap, vp, vq);
    let larger = max(*np, *nq);
    *nq = min(*np, *nq);
    *np = larger;
}

// A unit vector perpendicular to the unit vector x: x crossed with the axis least aligned
// with it (the cross product's length is then at least √(2/3)).
fn bsvd_perpendicular(x: BsvdCol3) -> BsvdCol3 {
    let ax = abs(x.x);
    let ay = abs(x.y);
    let az = abs(x.z);
    let px = (ax <= ay) & (ax <= az);
    let py = !px & (ay <= az);
    let pz = !(px | py);
    let one = bsvd_f(1.0);
    let zero = bsvd_f(0.0);
    let e = BsvdCol3(select(zero, one, px), select(zero, one, py), select(zero, one, pz));
    let c = bsvd_cross(x, e);
    return bsvd_scale3(c, bsvd_rsqrt(bsvd_dot3(c, c)));
}

// Columns a0, a1 of a 2×2 matrix. `rotation_convention`: det u = det v = +1 with a signed s1;
// else s ≥ 0. Both sorted by |s|, descending.
fn bsvd_svd2_lanes(a0_in: BsvdCol2, a1_in: BsvdCol2, rotation_convention: bool) -> BsvdSvd2 {
    let finite = bsvd_is_finite(a0_in.x) & bsvd_is_finite(a0_in.y) & bsvd_is_finite(a1_in.x)
        & bsvd_is_finite(a1_in.y);
    let ex = max(max(bsvd_exponent(a0_in.x), bsvd_exponent(a0_in.y)),
                 max(bsvd_exponent(a1_in.x), bsvd_exponent(a1_in.y)));
    // Non-finite matrices are computed as zero (so nothing else sees their NaN) and their
    // results replaced by NaN at the end.
    let scale = bsvd_scale_for(select(bsvd_i(BSVD_EXP_ZERO), ex, finite));
    let k = select(bsvd_f(0.0), scale.down, finite);
    var w0 = bsvd_scale2(a0_in, k);
    var w1 = bsvd_scale2(a1_in, k);
    // One rotation makes two columns orthogonal: the closed form.
    let rot = bsvd_rotation(bsvd_dot2(w0, w0), bsvd_dot2(w1, w1), bsvd_dot2(w0, w1));
    let one = bsvd_f(1.0);
    let zero = bsvd_f(0.0);
    var v0 = BsvdCol2(one, zero);
    var v1 = BsvdCol2(zero, one);
    bsvd_rotate2(&w0, &w1, rot);
    bsvd_rotate2(&v0, &v1, rot);
    // Sort: swap and negate one column (keeps det v = +1 and a·v = w).
    let swap = bsvd_dot2(w1, w1) > bsvd_dot2(w0, w0);
    bsvd_swap2(swap, &w0, &w1);
    bsvd_swap2(swap, &v0, &v1);
    let s0 = sqrt(bsvd_dot2(w0, w0));
    let live0 = s0 * s0 > bsvd_f(BSVD_NEGLIGIBLE_SQ);
    let u0 = bsvd_pick2(live0, bsvd_scale2(w0, 1.0 / s0), BsvdCol2(one, zero));
    // det u = +1 by construction; the sign of det a lands in s1, |s1| ≤ s0 after rounding too.
    var u1 = BsvdCol2(-u0.y, u0.x);
    var s1 = bsvd_clamp(bsvd_dot2(w1, u1), -s0, s0);
    let flip = (s1 < bsvd_f(0.0)) & bsvd_b(!rotation_convention);
    s1 = select(s1, -s1, flip);
    u1 = bsvd_pick2(flip, BsvdCol2(-u1.x, -u1.y), u1);
    let nan = bsvd_nan();
    let nan2 = BsvdCol2(nan, nan);
    return BsvdSvd2(
        bsvd_pick2(finite, u0, nan2),
        bsvd_pick2(finite, u1, nan2),
        bsvd_pick2(finite, v0, nan2),
        bsvd_pick2(finite, v1, nan2),
        select(nan, s0 * scale.up, finite),
        select(nan, s1 * scale.up, finite),
        select(bsvd_u(0u), bsvd_u(1u), finite),
        finite,
    );
}

// Columns a0, a1, a2 of a 3×3 matrix; conventions as for bsvd_svd2_lanes.
fn bsvd_svd3_lanes(a0_in: BsvdCol3, a1_in: BsvdCol3, a2_in: BsvdCol3, rotation_convention: bool) -> BsvdSvd3 {
    let finite = bsvd_is_finite(a0_in.x) & bsvd_is_finite(a0_in.y) & bsvd_is_finite(a0_in.z)
        & bsvd_is_finite(a1_in.x) & bsvd_is_finite(a1_in.y) & bsvd_is_finite(a1_in.z)
        & bsvd_is_finite(a2_in.x) & bsvd_is_finite(a2_in.y) & bsvd_is_finite(a2_in.z);
    let ex = max(
        max(max(bsvd_exponent(a0_in.x), bsvd_exponent(a0_in.y)), max(bsvd_exponent(a0_in.z), bsvd_exponent(a1_in.x))),
        max(max(bsvd_exponent(a1_in.y), bsvd_exponent(a1_in.z)),
            max(max(bsvd_exponent(a2_in.x), bsvd_exponent(a2_in.y)), bsvd_exponent(a2_in.z))),
    );
    // Non-finite matrices are computed as zero (so nothing else sees their NaN) and their
    // results replaced by NaN at the end.
    let scale = bsvd_scale_for(select(bsvd_i(BSVD_EXP_ZERO), ex, finite));
    let k = select(bsvd_f(0.0), scale.down, finite);
    var w0 = bsvd_scale3(a0_in, k);
    var w1 = bsvd_scale3(a1_in, k);
    var w2 = bsvd_scale3(a2_in, k);
    let one = bsvd_f(1.0);
    let zero = bsvd_f(0.0);
    var v0 = BsvdCol3(one, zero, zero);
    var v1 = BsvdCol3(zero, one, zero);
    var v2 = BsvdCol3(zero, zero, one);
    // Matrices still rotating. All matrices of a call sweep together; one that has converged
    // finds nothing to rotate again (same columns, same test), so it stays as it is.
    var rotating = finite;
    var sweeps = bsvd_u(0u);
    for (var sweep = 0u; sweep < BSVD_MAX_SWEEPS; sweep += 1u) {
        let r01 = bsvd_rotation(bsvd_dot3(w0, w0), bsvd_dot3(w1, w1), bsvd_dot3(w0, w1));
        bsvd_rotate3(&w0, &w1, r01);
        bsvd_rotate3(&v0, &v1, r01);
        let r02 = bsvd_rotation(bsvd_dot3(w0, w0), bsvd_dot3(w2, w2), bsvd_dot3(w0, w2));
        bsvd_rotate3(&w0, &w2, r02);
        bsvd_rotate3(&v0, &v2, r02);
        let r12 = bsvd_rotation(bsvd_dot3(w1, w1), bsvd_dot3(w2, w2), bsvd_dot3(w1, w2));
        bsvd_rotate3(&w1, &w2, r12);
        bsvd_rotate3(&v1, &v2, r12);
        sweeps += select(bsvd_u(0u), bsvd_u(1u), rotating);
        rotating = rotating & (r01.rotated | r02.rotated | r12.rotated);
        if !any(rotating) {
            break;
        }
    }
    // Sort descending by swapping and negating (three compare-exchanges on the norms).
    var n0 = bsvd_dot3(w0, w0);
    var n1 = bsvd_dot3(w1, w1);
    var n2 = bsvd_dot3(w2, w2);
    bsvd_order3(&w0, &w1, &v0, &v1, &n0, &n1);
    bsvd_order3(&w0, &w2, &v0, &v2, &n0, &n2);
    bsvd_order3(&w1, &w2, &v1, &v2, &n1, &n2);
    let s0 = sqrt(n0);
    let s1 = min(sqrt(n1), s0);
    let negligible = bsvd_f(BSVD_NEGLIGIBLE_SQ);
    let u0 = bsvd_pick3(s0 * s0 > negligible, bsvd_scale3(w0, 1.0 / s0), BsvdCol3(one, zero, zero));
    // Re-orthogonalise w1 against u0 (w1 ⟂ w0 only to the rotation threshold); any unit
    // vector perpendicular to u0 when w1 is negligible.
    let g1 = BsvdCol3(w1.x - bsvd_dot3(w1, u0) * u0.x, w1.y - bsvd_dot3(w1, u0) * u0.y, w1.z - bsvd_dot3(w1, u0) * u0.z);
    let u1 = bsvd_pick3(s1 * s1 > negligible, bsvd_scale3(g1, bsvd_rsqrt(bsvd_dot3(g1, g1))), bsvd_perpendicular(u0));
    // det u = +1 by construction; the sign of det a lands in s2.
    var u2 = bsvd_cross(u0, u1);
    var s2 = bsvd_clamp(bsvd_dot3(w2, u2), -s1, s1);
    let flip = (s2 < zero) & bsvd_b(!rotation_convention);
    s2 = select(s2, -s2, flip);
    u2 = bsvd_pick3(flip, BsvdCol3(-u2.x, -u2.y, -u2.z), u2);
    let nan = bsvd_nan();
    let nan3 = BsvdCol3(nan, nan, nan);
    return BsvdSvd3(
        bsvd_pick3(finite, u0, nan3),
        bsvd_pick3(finite, u1, nan3),
        bsvd_pick3(finite, u2, nan3),
        bsvd_pick3(finite, v0, nan3),
        bsvd_pick3(finite, v1, nan3),
        bsvd_pick3(finite, v2, nan3),
        select(nan, s0 * scale.up, finite),
        select(nan, s1 * scale.up, finite),
        select(nan, s2 * scale.up, finite),
        sweeps,
        finite & !rotating,
    );
}
