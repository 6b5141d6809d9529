// batched-svd: SVD of complex 2×2 and 3×3 matrices, complex64 or complex128, one matrix or
// several at a time, on the lane types and helpers of small_svd.wgsl (included before this).
//
// A complex value holds the same entry of every matrix of the call as two real lane values,
// re + i·im (BsvdZ). The method is small_svd.wgsl's one-sided Jacobi on A with the complex
// rotation of LAPACK's cgesvj: for columns (p, q) with α = ‖w_p‖², β = ‖w_q‖², g = w_pᴴw_q,
// rotate when |g|² > tol²·α·β; with ω = g/|g| the pair (w_p, ω̄·w_q) has the real inner
// product |g|, so bsvd_rotation(α, β, |g|) gives the real (c, s) that makes it orthogonal, and
//   w_p ← c·w_p − s·ω̄·w_q,   w_q ← s·ω·w_p + c·w_q
// (the unitary [[c, sω], [−sω̄, c]] on the right; V gets the same). A 2×2 needs one rotation,
// a 3×3 sweeps (0,1), (0,2), (1,2) until none rotates. Columns are sorted by swapping (no
// determinant to keep: complex results follow the non-negative convention only). U's first
// column is w₀/σ₀, its second w₁ re-orthogonalised against it; the last column of a 3×3 is
// conj(u₀ × u₁) (orthogonal to both under the Hermitian inner product) and of a 2×2
// (−conj(u₀.y), conj(u₀.x)), each times the phase of its projection z = uᴴw, so that the last
// σ = |z| is real and non-negative. Zero and rank-deficient matrices get unitary u and v;
// non-finite input (in the real or the imaginary part) gives NaN outputs, 0 sweeps and
// converged = false.

struct BsvdZ {
    re: bsvd_f,
    im: bsvd_f,
}

struct BsvdZCol2 {
    x: BsvdZ,
    y: BsvdZ,
}

struct BsvdZCol3 {
    x: BsvdZ,
    y: BsvdZ,
    z: BsvdZ,
}

// u = [u0 u1 (u2)], σ = (s0, s1, (s2)) real, v = [v0 v1 (v2)]; a = u·diag(σ)·vᴴ.
struct BsvdZSvd2 {
    u0: BsvdZCol2,
    u1: BsvdZCol2,
    v0: BsvdZCol2,
    v1: BsvdZCol2,
    s0: bsvd_f,
    s1: bsvd_f,
    sweeps: bsvd_u,
    converged: bsvd_b,
}

struct BsvdZSvd3 {
    u0: BsvdZCol3,
    u1: BsvdZCol3,
    u2: BsvdZCol3,
    v0: BsvdZCol3,
    v1: BsvdZCol3,
    v2: BsvdZCol3,
    s0: bsvd_f,
    s1: bsvd_f,
    s2: bsvd_f,
    sweeps: bsvd_u,
    converged: bsvd_b,
}

// The rotation of one column pair: c real, sw = s·ω, and whether it rotates (else exactly
// c = 1, sw = 0).
struct BsvdZRotation {
    c: bsvd_f,
    sw: BsvdZ,
    rotated: bsvd_b,
}

fn bsvd_zmul(a: BsvdZ, b: BsvdZ) -> BsvdZ {
    return BsvdZ(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

// conj(a)·b.
fn bsvd_zmul_conj(a: BsvdZ, b: BsvdZ) -> BsvdZ {
    return BsvdZ(a.re * b.re + a.im * b.im, a.re * b.im - a.im * b.re);
}

fn bsvd_zconj(a: BsvdZ) -> BsvdZ {
    return BsvdZ(a.re, -a.im);
}

fn bsvd_zadd(a: BsvdZ, b: BsvdZ) -> BsvdZ {
    return BsvdZ(a.re + b.re, a.im + b.im);
}

fn bsvd_zsub(a: BsvdZ, b: BsvdZ) -> BsvdZ {
    return BsvdZ(a.re - b.re, a.im - b.im);
}

fn bsvd_zscale(a: BsvdZ, k: bsvd_f) -> BsvdZ {
    return BsvdZ(a.re * k, a.im * k);
}

fn bsvd_zabs2(a: BsvdZ) -> bsvd_f {
    return a.re * a.re + a.im * a.im;
}

// k·a + z·b.
fn bsvd_zcombine(k: bsvd_f, a: BsvdZ, z: BsvdZ, b: BsvdZ) -> BsvdZ {
    return bsvd_zadd(bsvd_zscale(a, k), bsvd_zmul(z, b));
}

fn bsvd_zpick(keep: bsvd_b, a: BsvdZ, b: BsvdZ) -> BsvdZ {
    return BsvdZ(select(b.re, a.re, keep), select(b.im, a.im, keep));
}

fn bsvd_zfinite(a: BsvdZ) -> bsvd_b {
    return bsvd_is_finite(a.re) & bsvd_is_finite(a.im);
}

fn bsvd_zexponent(a: BsvdZ) -> bsvd_i {
    return max(bsvd_exponent(a.re), bsvd_exponent(a.im));
}

fn bsvd_zreal(x: bsvd_f) -> BsvdZ {
    return BsvdZ(x, bsvd_f(0.0));
}

// aᴴb and ‖a‖² of columns.
fn bsvd_zdot2(a: BsvdZCol2, b: BsvdZCol2) -> BsvdZ {
    return bsvd_zadd(bsvd_zmul_conj(a.x, b.x), bsvd_zmul_conj(a.y, b.y));
}

fn bsvd_zdot3(a: BsvdZCol3, b: BsvdZCol3) -> BsvdZ {
    return bsvd_zadd(bsvd_zadd(bsvd_zmul_conj(a.x, b.x), bsvd_zmul_conj(a.y, b.y)), bsvd_zmul_conj(a.z, b.z));
}

fn bsvd_znorm2(a: BsvdZCol2) -> bsvd_f {
    return bsvd_zabs2(a.x) + bsvd_zabs2(a.y);
}

fn bsvd_znorm3(a: BsvdZCol3) -> bsvd_f {
    return bsvd_zabs2(a.x) + bsvd_zabs2(a.y) + bsvd_zabs2(a.z);
}

fn bsvd_zscale2(a: BsvdZCol2, k: bsvd_f) -> BsvdZCol2 {
    return BsvdZCol2(bsvd_zscale(a.x, k), bsvd_zscale(a.y, k));
}

fn bsvd_zscale3(a: BsvdZCol3, k: bsvd_f) -> BsvdZCol3 {
    return BsvdZCol3(bsvd_zscale(a.x, k), bsvd_zscale(a.y, k), bsvd_zscale(a.z, k));
}

// Column times a complex number.
fn bsvd_zmul2(a: BsvdZCol2, z: BsvdZ) -> BsvdZCol2 {
    return BsvdZCol2(bsvd_zmul(a.x, z), bsvd_zmul(a.y, z));
}

fn bsvd_zmul3(a: BsvdZCol3, z: BsvdZ) -> BsvdZCol3 {
    return BsvdZCol3(bsvd_zmul(a.x, z), bsvd_zmul(a.y, z), bsvd_zmul(a.z, z));
}

fn bsvd_zpick2(keep: bsvd_b, a: BsvdZCol2, b: BsvdZCol2) -> BsvdZCol2 {
    return BsvdZCol2(bsvd_zpick(keep, a.x, b.x), bsvd_zpick(keep, a.y, b.y));
}

fn bsvd_zpick3(keep: bsvd_b, a: BsvdZCol3, b: BsvdZCol3) -> BsvdZCol3 {
    return BsvdZCol3(bsvd_zpick(keep, a.x, b.x), bsvd_zpick(keep, a.y, b.y), bsvd_zpick(keep, a.z, b.z));
}

// conj(a × b): orthogonal to a and b under the Hermitian inner product.
fn bsvd_zcross_conj(a: BsvdZCol3, b: BsvdZCol3) -> BsvdZCol3 {
    return BsvdZCol3(
        bsvd_zconj(bsvd_zsub(bsvd_zmul(a.y, b.z), bsvd_zmul(a.z, b.y))),
        bsvd_zconj(bsvd_zsub(bsvd_zmul(a.z, b.x), bsvd_zmul(a.x, b.z))),
        bsvd_zconj(bsvd_zsub(bsvd_zmul(a.x, b.y), bsvd_zmul(a.y, b.x))),
    );
}

fn bsvd_zrotation(alpha: bsvd_f, beta: bsvd_f, g: BsvdZ) -> BsvdZRotation {
    let g2 = bsvd_zabs2(g);
    // |g|² underflows only where the real kernel's γ² does (see bsvd_rotation).
    let r = bsvd_rotation(alpha, beta, sqrt(g2));
    // ω = g/|g| where rotating; s = 0 otherwise, and then sw = 0 for any finite ω.
    let omega = bsvd_zscale(g, bsvd_rsqrt(select(bsvd_f(1.0), g2, r.rotated)));
    return BsvdZRotation(r.c, bsvd_zscale(omega, r.s), r.rotated);
}

// p ← c·p − conj(sw)·q, q ← sw·p + c·q.
fn bsvd_zrotate2(p: ptr<function, BsvdZCol2>, q: ptr<function, BsvdZCol2>, r: BsvdZRotation) {
    let a = *p;
    let b = *q;
    let ms = BsvdZ(-r.sw.re, r.sw.im);
    *p = BsvdZCol2(bsvd_zcombine(r.c, a.x, ms, b.x), bsvd_zcombine(r.c, a.y, ms, b.y));
    *q = BsvdZCol2(bsvd_zcombine(r.c, b.x, r.sw, a.x), bsvd_zcombine(r.c, b.y, r.sw, a.y));
}

fn bsvd_zrotate3(p: ptr<function, BsvdZCol3>, q: ptr<function, BsvdZCol3>, r: BsvdZRotation) {
    let a = *p;
    let b = *q;
    let ms = BsvdZ(-r.sw.re, r.sw.im);
    *p = BsvdZCol3(bsvd_zcombine(r.c, a.x, ms, b.x), bsvd_zcombine(r.c, a.y, ms, b.y), bsvd_zcombine(r.c, a.z, ms, b.z));
    *q = BsvdZCol3(bsvd_zcombine(r.c, b.x, r.sw, a.x), bsvd_zcombine(r.c, b.y, r.sw, a.y), bsvd_zcombine(r.c, b.z, r.sw, a.z));
}

// The rotation of columns p and q of W, applied to W and V.
fn bsvd_zjacobi3(
    wp: ptr<function, BsvdZCol3>,
    wq: ptr<function, BsvdZCol3>,
    vp: ptr<function, BsvdZCol3>,
    vq: ptr<function, BsvdZCol3>,
) -> bsvd_b {
    let r = bsvd_zrotation(bsvd_znorm3(*wp), bsvd_znorm3(*wq), bsvd_zdot3(*wp, *wq));
    bsvd_zrotate3(wp, wq, r);
    bsvd_zrotate3(vp, vq, r);
    return r.rotated;
}

// Compare-exchange of columns p and q of W (and V) by their squared norms: afterwards np ≥ nq.
fn bsvd_zorder3(
    wp: ptr<function, BsvdZCol3>,
    wq: ptr<function, BsvdZCol3>,
    vp: ptr<function, BsvdZCol3>,
    vq: ptr<function, BsvdZCol3>,
    np: ptr<function, bsvd_f>,
    nq: ptr<function, bsvd_f>,
) {
    let swap = *nq > *np;
    let a = *wp;
    let b = *vp;
    *wp = bsvd_zpick3(swap, *wq, a);
    *wq = bsvd_zpick3(swap, a, *wq);
    *vp = bsvd_zpick3(swap, *vq, b);
    *vq = bsvd_zpick3(swap, b, *vq);
    let larger = max(*np, *nq);
    *nq = min(*np, *nq);
    *np = larger;
}

// The phase of z (z/|z|), or 1 where |z| is negligible.
fn bsvd_zphase(z: BsvdZ) -> BsvdZ {
    let z2 = bsvd_zabs2(z);
    let live = z2 > bsvd_f(BSVD_NEGLIGIBLE_SQ);
    return bsvd_zpick(live, bsvd_zscale(z, bsvd_rsqrt(select(bsvd_f(1.0), z2, live))), bsvd_zreal(bsvd_f(1.0)));
}

// A unit vector orthogonal to the unit vector x: conj(x × e) for the axis e least aligned
// with x (its length is then at least √(2/3)).
fn bsvd_zperpendicular(x: BsvdZCol3) -> BsvdZCol3 {
    let ax = bsvd_zabs2(x.x);
    let ay = bsvd_zabs2(x.y);
    let az = bsvd_zabs2(x.z);
    let px = (ax <= ay) & (ax <= az);
    let py = !px & (ay <= az);
    let pz = !(px | py);
    let one = bsvd_f(1.0);
    let zero = bsvd_f(0.0);
    let e = BsvdZCol3(bsvd_zreal(select(zero, one, px)), bsvd_zreal(select(zero, one, py)), bsvd_zreal(select(zero, one, pz)));
    let c = bsvd_zcross_conj(x, e);
    return bsvd_zscale3(c, bsvd_rsqrt(bsvd_znorm3(c)));
}

// Columns a0, a1 of a complex 2×2 matrix: σ ≥ 0, descending.
fn bsvd_zsvd2_lanes(a0_in: BsvdZCol2, a1_in: BsvdZCol2) -> BsvdZSvd2 {
    let finite = bsvd_zfinite(a0_in.x) & bsvd_zfinite(a0_in.y) & bsvd_zfinite(a1_in.x) & bsvd_zfinite(a1_in.y);
    let ex = max(max(bsvd_zexponent(a0_in.x), bsvd_zexponent(a0_in.y)),
                 max(bsvd_zexponent(a1_in.x), bsvd_zexponent(a1_in.y)));
    // Non-finite matrices are computed as zero and their results replaced by NaN at the end.
    let scale = bsvd_scale_for(select(bsvd_i(BSVD_EXP_ZERO), ex, finite));
    let k = select(bsvd_f(0.0), scale.down, finite);
    var w0 = bsvd_zscale2(a0_in, k);
    var w1 = bsvd_zscale2(a1_in, k);
    let one = bsvd_zreal(bsvd_f(1.0));
    let zero = bsvd_zreal(bsvd_f(0.0));
    var v0 = BsvdZCol2(one, zero);
    var v1 = BsvdZCol2(zero, one);
    // One rotation makes two columns orthogonal.
    let rot = bsvd_zrotation(bsvd_znorm2(w0), bsvd_znorm2(w1), bsvd_zdot2(w0, w1));
    bsvd_zrotate2(&w0, &w1, rot);
    bsvd_zrotate2(&v0, &v1, rot);
    let swap = bsvd_znorm2(w1) > bsvd_znorm2(w0);
    let w = w0;
    let v = v0;
    w0 = bsvd_zpick2(swap, w1, w0);
    w1 = bsvd_zpick2(swap, w, w1);
    v0 = bsvd_zpick2(swap, v1, v0);
    v1 = bsvd_zpick2(swap, v, v1);
    let s0 = sqrt(bsvd_znorm2(w0));
    let live0 = s0 * s0 > bsvd_f(BSVD_NEGLIGIBLE_SQ);
    let u0 = bsvd_zpick2(live0, bsvd_zscale2(w0, 1.0 / s0), BsvdZCol2(one, zero));
    // Orthogonal to u0 by construction; its phase makes s1 = u1ᴴw1 real and non-negative.
    let u1p = BsvdZCol2(BsvdZ(-u0.y.re, u0.y.im), bsvd_zconj(u0.x));
    let z = bsvd_zdot2(u1p, w1);
    let u1 = bsvd_zmul2(u1p, bsvd_zphase(z));
    let s1 = min(sqrt(bsvd_zabs2(z)), s0);
    let nan = BsvdZ(bsvd_nan(), bsvd_nan());
    let nan2 = BsvdZCol2(nan, nan);
    return BsvdZSvd2(
        bsvd_zpick2(finite, u0, nan2),
        bsvd_zpick2(finite, u1, nan2),
        bsvd_zpick2(finite, v0, nan2),
        bsvd_zpick2(finite, v1, nan2),
        select(nan.re, s0 * scale.up, finite),
        select(nan.re, s1 * scale.up, finite),
        select(bsvd_u(0u), bsvd_u(1u), finite),
        finite,
    );
}

fn bsvd_zcol3_finite(a: BsvdZCol3) -> bsvd_b {
    return bsvd_zfinite(a.x) & bsvd_zfinite(a.y) & bsvd_zfinite(a.z);
}

fn bsvd_zcol3_exponent(a: BsvdZCol3) -> bsvd_i {
    return max(max(bsvd_zexponent(a.x), bsvd_zexponent(a.y)), bsvd_zexponent(a.z));
}

// Columns a0, a1, a2 of a complex 3×3 matrix: σ ≥ 0, descending.
fn bsvd_zsvd3_lanes(a0_in: BsvdZCol3, a1_in: BsvdZCol3, a2_in: BsvdZCol3) -> BsvdZSvd3 {
    let finite = bsvd_zcol3_finite(a0_in) & bsvd_zcol3_finite(a1_in) & bsvd_zcol3_finite(a2_in);
    let ex = max(max(bsvd_zcol3_exponent(a0_in), bsvd_zcol3_exponent(a1_in)), bsvd_zcol3_exponent(a2_in));
    let scale = bsvd_scale_for(select(bsvd_i(BSVD_EXP_ZERO), ex, finite));
    let k = select(bsvd_f(0.0), scale.down, finite);
    var w0 = bsvd_zscale3(a0_in, k);
    var w1 = bsvd_zscale3(a1_in, k);
    var w2 = bsvd_zscale3(a2_in, k);
    let one = bsvd_zreal(bsvd_f(1.0));
    let zero = bsvd_zreal(bsvd_f(0.0));
    var v0 = BsvdZCol3(one, zero, zero);
    var v1 = BsvdZCol3(zero, one, zero);
    var v2 = BsvdZCol3(zero, zero, one);
    // As in bsvd_svd3_lanes: a converged matrix finds nothing to rotate in later sweeps.
    var rotating = finite;
    var sweeps = bsvd_u(0u);
    for (var sweep = 0u; sweep < BSVD_MAX_SWEEPS; sweep += 1u) {
        let r01 = bsvd_zjacobi3(&w0, &w1, &v0, &v1);
        let r02 = bsvd_zjacobi3(&w0, &w2, &v0, &v2);
        let r12 = bsvd_zjacobi3(&w1, &w2, &v1, &v2);
        sweeps += select(bsvd_u(0u), bsvd_u(1u), rotating);
        rotating = rotating & (r01 | r02 | r12);
        if !any(rotating) {
            break;
        }
    }
    var n0 = bsvd_znorm3(w0);
    var n1 = bsvd_znorm3(w1);
    var n2 = bsvd_znorm3(w2);
    bsvd_zorder3(&w0, &w1, &v0, &v1, &n0, &n1);
    bsvd_zorder3(&w0, &w2, &v0, &v2, &n0, &n2);
    bsvd_zorder3(&w1, &w2, &v1, &v2, &n1, &n2);
    let s0 = sqrt(n0);
    let s1 = min(sqrt(n1), s0);
    let negligible = bsvd_f(BSVD_NEGLIGIBLE_SQ);
    let u0 = bsvd_zpick3(s0 * s0 > negligible, bsvd_zscale3(w0, 1.0 / s0), BsvdZCol3(one, zero, zero));
    // w1 − (u0ᴴw1)·u0 (w1 ⟂ w0 only to the rotation threshold); any unit vector orthogonal
    // to u0 when w1 is negligible.
    let p = bsvd_zdot3(u0, w1);
    let g1 = BsvdZCol3(bsvd_zsub(w1.x, bsvd_zmul(p, u0.x)), bsvd_zsub(w1.y, bsvd_zmul(p, u0.y)), bsvd_zsub(w1.z, bsvd_zmul(p, u0.z)));
    let u1 = bsvd_zpick3(s1 * s1 > negligible, bsvd_zscale3(g1, bsvd_rsqrt(bsvd_znorm3(g1))), bsvd_zperpendicular(u0));
    let u2p = bsvd_zcross_conj(u0, u1);
    let z = bsvd_zdot3(u2p, w2);
    let u2 = bsvd_zmul3(u2p, bsvd_zphase(z));
    let s2 = min(sqrt(bsvd_zabs2(z)), s1);
    let nan = BsvdZ(bsvd_nan(), bsvd_nan());
    let nan3 = BsvdZCol3(nan, nan, nan);
    return BsvdZSvd3(
        bsvd_zpick3(finite, u0, nan3),
        bsvd_zpick3(finite, u1, nan3),
        bsvd_zpick3(finite, u2, nan3),
        bsvd_zpick3(finite, v0, nan3),
        bsvd_zpick3(finite, v1, nan3),
        bsvd_zpick3(finite, v2, nan3),
        select(nan.re, s0 * scale.up, finite),
        select(nan.re, s1 * scale.up, finite),
        select(nan.re, s2 * scale.up, finite),
        sweeps,
        finite & !rotating,
    );
}
