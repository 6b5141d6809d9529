// batched-svd: SVD and polar decomposition of one 2×2 or 3×3 f32 matrix, as WGSL functions
// for your own shaders (exported by `batched_svd::wgsl::SMALL_SVD`). Self-contained: paste or
// include this source before code that calls it. Every name it defines besides the public
// functions and structs below starts with `bsvd_`.
//
// Public API (matrices are WGSL's column-major mat2x2/mat3x3):
//
//   struct Svd2 { u: mat2x2<f32>, s: vec2<f32>, v: mat2x2<f32>, sweeps: u32, converged: bool }
//   struct Svd3 { u: mat3x3<f32>, s: vec3<f32>, v: mat3x3<f32>, sweeps: u32, converged: bool }
//       (sweeps: Jacobi sweeps used; converged: false only if BSVD_MAX_SWEEPS did not suffice,
//       never observed in f32, or for non-finite input)
//   fn svd2(a: mat2x2<f32>) -> Svd2            a = u · diag(s) · transpose(v)
//   fn svd3(a: mat3x3<f32>) -> Svd3
//       NonNegative convention (LAPACK, numpy): s ≥ 0, descending; u, v orthogonal.
//   fn svd2_rotation(a: mat2x2<f32>) -> Svd2
//   fn svd3_rotation(a: mat3x3<f32>) -> Svd3
//       Rotation convention (NVIDIA Warp, Unreal Chaos): det u = det v = +1, |s| descending,
//       and the last singular value carries the sign of det a (negative for reflections and
//       inverted elements).
//   struct Polar2 { r: mat2x2<f32>, s: mat2x2<f32> }
//   struct Polar3 { r: mat3x3<f32>, s: mat3x3<f32> }
//   fn polar2(a: mat2x2<f32>) -> Polar2        a = r · s, r the closest proper rotation
//   fn polar3(a: mat3x3<f32>) -> Polar3        (det r = +1), s symmetric
//   fn polar2_rotation(a: mat2x2<f32>) -> mat2x2<f32>   r only
//   fn polar3_rotation(a: mat3x3<f32>) -> mat3x3<f32>
//
// Method: one-sided Jacobi on A itself (never AᵀA, which squares the condition number and
// loses small singular values in f32). Each rotation is computed without atan2 from
// ζ = (β−α)/(2γ), t = sign(ζ)/(|ζ|+√(1+ζ²)), c = inverseSqrt(1+t²), s = c·t, and applied
// through `select` (no divergent branch): a 2×2 needs one rotation (closed form), a 3×3 a
// few sweeps over the pairs (0,1), (0,2), (1,2) until none rotates (at most BSVD_MAX_SWEEPS).
// The matrix is first scaled by a power of two so that entries anywhere in f32's range work.
// Columns are sorted by swapping and negating (which keeps det v = +1); the last column of u
// is the cross product (3×3) or perpendicular (2×2) of the others, so det u = +1 and the
// sign of det a ends up in the last singular value. Zero and rank-deficient matrices get
// orthonormal u and v. Accuracy (tested against nalgebra in f64): |σ − σ̂| ≤ 48ε·σ₁,
// orthogonality and reconstruction within 48ε (ε = 2⁻²³). Non-finite input gives NaN.

struct Svd2 {
    u: mat2x2<f32>,
    s: vec2<f32>,
    v: mat2x2<f32>,
    sweeps: u32,
    converged: bool,
}

struct Svd3 {
    u: mat3x3<f32>,
    s: vec3<f32>,
    v: mat3x3<f32>,
    sweeps: u32,
    converged: bool,
}

struct Polar2 {
    r: mat2x2<f32>,
    s: mat2x2<f32>,
}

struct Polar3 {
    r: mat3x3<f32>,
    s: mat3x3<f32>,
}

const BSVD_MAX_SWEEPS: u32 = 8u;
// Rotation threshold: 4·√3·2⁻²³, the library's default for 3×3.
const BSVD_TOL: f32 = 8.259e-7;
// Squared column norm (after scaling, largest entry in [0.5, 1)) below which a column counts
// as zero: its entries are < 2⁻⁵⁰, far below ε·σ₁.
const BSVD_NEGLIGIBLE_SQ: f32 = 7.888609052210118e-31;

// 2^e exactly, e in [-126, 127].
fn bsvd_pow2(e: i32) -> f32 {
    return bitcast<f32>(u32(e + 127) << 23u);
}

// Largest binary exponent over the entries (|x| = f·2^e, f in [0.5, 1)); -1000 for all zero.
// Bit tests: WGSL implementations may assume floats are finite, so `x != x` is unreliable.
fn bsvd_exponent(x: f32) -> i32 {
    let biased = i32((bitcast<u32>(x) >> 23u) & 0xffu);
    return select(biased - 126, -1000, biased == 0);
}

fn bsvd_is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn bsvd_nan() -> f32 {
    return bitcast<f32>(0x7fc00000u);
}

// (c, s) of the rotation that orthogonalises columns with α = ‖x‖², β = ‖y‖², γ = x·y, or
// (1, 0) when they are already orthogonal within BSVD_TOL or one of them is negligible.
fn bsvd_rotation(alpha: f32, beta: f32, gamma: f32) -> vec2<f32> {
    let live = alpha > BSVD_NEGLIGIBLE_SQ && beta > BSVD_NEGLIGIBLE_SQ;
    // |cos(w_p, w_q)| with two inverse square roots (no division or square root).
    let rel = abs(gamma) * inverseSqrt(alpha) * inverseSqrt(beta);
    let rotate = live && rel > BSVD_TOL;
    let g = select(1.0, gamma, rotate);
    let zeta = clamp((beta - alpha) / (2.0 * g), -1.0e18, 1.0e18);
    let t = select(-1.0, 1.0, zeta >= 0.0) / (abs(zeta) + sqrt(1.0 + zeta * zeta));
    let c = inverseSqrt(1.0 + t * t);
    return select(vec2<f32>(1.0, 0.0), vec2<f32>(c, c * t), rotate);
}

// A unit vector perpendicular to the unit vector x (3-D).
fn bsvd_perpendicular(x: vec3<f32>) -> vec3<f32> {
    // Cross with the axis least aligned with x: its length is at least √(2/3).
    let ax = abs(x);
    var e = vec3<f32>(0.0, 0.0, 1.0);
    if ax.x <= ax.y && ax.x <= ax.z {
        e = vec3<f32>(1.0, 0.0, 0.0);
    } else if ax.y <= ax.z {
        e = vec3<f32>(0.0, 1.0, 0.0);
    }
    return normalize(cross(x, e));
}

fn bsvd_svd2(a_in: mat2x2<f32>, rotation_convention: bool) -> Svd2 {
    let entries = array<f32, 4>(a_in[0].x, a_in[0].y, a_in[1].x, a_in[1].y);
    var ex = -1000;
    var finite = true;
    for (var i = 0u; i < 4u; i += 1u) {
        ex = max(ex, bsvd_exponent(entries[i]));
        finite = finite && bsvd_is_finite(entries[i]);
    }
    if !finite {
        let n = bsvd_nan();
        let nm = mat2x2<f32>(n, n, n, n);
        return Svd2(nm, vec2<f32>(n, n), nm, 0u, false);
    }
    let e = select(ex, 0, ex == -1000);
    let e1 = e / 2;
    let e2 = e - e1;
    var w0 = a_in[0] * bsvd_pow2(-e1) * bsvd_pow2(-e2);
    var w1 = a_in[1] * bsvd_pow2(-e1) * bsvd_pow2(-e2);
    // One rotation makes two columns orthogonal: the closed form.
    let cs = bsvd_rotation(dot(w0, w0), dot(w1, w1), dot(w0, w1));
    var v0 = vec2<f32>(cs.x, -cs.y);
    var v1 = vec2<f32>(cs.y, cs.x);
    let t = w0;
    w0 = cs.x * t - cs.y * w1;
    w1 = cs.y * t + cs.x * w1;
    // Sort: swap and negate one column (keeps det v = +1 and a·v = w).
    if dot(w1, w1) > dot(w0, w0) {
        let tw = w0;
        w0 = w1;
        w1 = -tw;
        let tv = v0;
        v0 = v1;
        v1 = -tv;
    }
    let s0 = length(w0);
    var u0 = vec2<f32>(1.0, 0.0);
    if s0 * s0 > BSVD_NEGLIGIBLE_SQ {
        u0 = w0 / s0;
    }
    // det u = +1 by construction; the sign of det a lands in s1.
    var u1 = vec2<f32>(-u0.y, u0.x);
    // |s1| ≤ s0 also after rounding, so the order holds exactly.
    var s1 = clamp(dot(w1, u1), -s0, s0);
    if !rotation_convention && s1 < 0.0 {
        s1 = -s1;
        u1 = -u1;
    }
    let up = bsvd_pow2(e1) * bsvd_pow2(e2);
    return Svd2(mat2x2<f32>(u0, u1), vec2<f32>(s0, s1) * up, mat2x2<f32>(v0, v1), 1u, true);
}

// Columns p and q of W and V after one rotation, and whether it rotated.
struct BsvdCols {
    wp: vec3<f32>,
    wq: vec3<f32>,
    vp: vec3<f32>,
    vq: vec3<f32>,
    rotated: bool,
}

fn bsvd_pair3(wp: vec3<f32>, wq: vec3<f32>, vp: vec3<f32>, vq: vec3<f32>) -> BsvdCols {
    let cs = bsvd_rotation(dot(wp, wp), dot(wq, wq), dot(wp, wq));
    return BsvdCols(
        cs.x * wp - cs.y * wq,
        cs.y * wp + cs.x * wq,
        cs.x * vp - cs.y * vq,
        cs.y * vp + cs.x * vq,
        cs.y != 0.0,
    );
}

fn bsvd_svd3(a_in: mat3x3<f32>, rotation_convention: bool) -> Svd3 {
    var ex = -1000;
    var finite = true;
    for (var j = 0u; j < 3u; j += 1u) {
        for (var i = 0u; i < 3u; i += 1u) {
            ex = max(ex, bsvd_exponent(a_in[j][i]));
            finite = finite && bsvd_is_finite(a_in[j][i]);
        }
    }
    if !finite {
        let n = bsvd_nan();
        let nv = vec3<f32>(n, n, n);
        let nm = mat3x3<f32>(nv, nv, nv);
        return Svd3(nm, nv, nm, 0u, false);
    }
    let e = select(ex, 0, ex == -1000);
    let e1 = e / 2;
    let e2 = e - e1;
    let down = bsvd_pow2(-e1);
    let down2 = bsvd_pow2(-e2);
    var w0 = a_in[0] * down * down2;
    var w1 = a_in[1] * down * down2;
    var w2 = a_in[2] * down * down2;
    var v0 = vec3<f32>(1.0, 0.0, 0.0);
    var v1 = vec3<f32>(0.0, 1.0, 0.0);
    var v2 = vec3<f32>(0.0, 0.0, 1.0);
    var sweeps = 0u;
    var converged = false;
    for (var sweep = 0u; sweep < BSVD_MAX_SWEEPS; sweep += 1u) {
        let r01 = bsvd_pair3(w0, w1, v0, v1);
        w0 = r01.wp;
        w1 = r01.wq;
        v0 = r01.vp;
        v1 = r01.vq;
        let r02 = bsvd_pair3(w0, w2, v0, v2);
        w0 = r02.wp;
        w2 = r02.wq;
        v0 = r02.vp;
        v2 = r02.vq;
        let r12 = bsvd_pair3(w1, w2, v1, v2);
        w1 = r12.wp;
        w2 = r12.wq;
        v1 = r12.vp;
        v2 = r12.vq;
        sweeps = sweep + 1u;
        if !(r01.rotated || r02.rotated || r12.rotated) {
            converged = true;
            break;
        }
    }
    // Sort descending by swapping and negating (three compare-exchanges).
    if dot(w1, w1) > dot(w0, w0) {
        let tw = w0; w0 = w1; w1 = -tw;
        let tv = v0; v0 = v1; v1 = -tv;
    }
    if dot(w2, w2) > dot(w0, w0) {
        let tw = w0; w0 = w2; w2 = -tw;
        let tv = v0; v0 = v2; v2 = -tv;
    }
    if dot(w2, w2) > dot(w1, w1) {
        let tw = w1; w1 = w2; w2 = -tw;
        let tv = v1; v1 = v2; v2 = -tv;
    }
    let s0 = length(w0);
    let s1 = min(length(w1), s0);
    var u0 = vec3<f32>(1.0, 0.0, 0.0);
    if s0 * s0 > BSVD_NEGLIGIBLE_SQ {
        u0 = w0 / s0;
    }
    var u1 = bsvd_perpendicular(u0);
    if s1 * s1 > BSVD_NEGLIGIBLE_SQ {
        // Re-orthogonalise against u0 (w1 ⟂ w0 only to the rotation threshold).
        u1 = normalize(w1 - dot(w1, u0) * u0);
    }
    // det u = +1 by construction; the sign of det a lands in s2.
    var u2 = cross(u0, u1);
    var s2 = clamp(dot(w2, u2), -s1, s1);
    if !rotation_convention && s2 < 0.0 {
        s2 = -s2;
        u2 = -u2;
    }
    let up = bsvd_pow2(e1) * bsvd_pow2(e2);
    return Svd3(mat3x3<f32>(u0, u1, u2), vec3<f32>(s0, s1, s2) * up, mat3x3<f32>(v0, v1, v2), sweeps, converged);
}

fn svd2(a: mat2x2<f32>) -> Svd2 {
    return bsvd_svd2(a, false);
}

fn svd2_rotation(a: mat2x2<f32>) -> Svd2 {
    return bsvd_svd2(a, true);
}

fn svd3(a: mat3x3<f32>) -> Svd3 {
    return bsvd_svd3(a, false);
}

fn svd3_rotation(a: mat3x3<f32>) -> Svd3 {
    return bsvd_svd3(a, true);
}

fn polar2(a: mat2x2<f32>) -> Polar2 {
    let d = bsvd_svd2(a, true);
    let vt = transpose(d.v);
    let s = d.v * mat2x2<f32>(vec2<f32>(d.s.x, 0.0), vec2<f32>(0.0, d.s.y)) * vt;
    return Polar2(d.u * vt, s);
}

fn polar2_rotation(a: mat2x2<f32>) -> mat2x2<f32> {
    let d = bsvd_svd2(a, true);
    return d.u * transpose(d.v);
}

fn polar3(a: mat3x3<f32>) -> Polar3 {
    let d = bsvd_svd3(a, true);
    let vt = transpose(d.v);
    let sd = mat3x3<f32>(
        vec3<f32>(d.s.x, 0.0, 0.0),
        vec3<f32>(0.0, d.s.y, 0.0),
        vec3<f32>(0.0, 0.0, d.s.z),
    );
    return Polar3(d.u * vt, d.v * sd * vt);
}

fn polar3_rotation(a: mat3x3<f32>) -> mat3x3<f32> {
    let d = bsvd_svd3(a, true);
    return d.u * transpose(d.v);
}
