// batched-svd: the f64 scalar of small_svd.wgsl (wgpu's SHADER_F64), the contract of
// small_scalar_f32.wgsl. Only + − × ÷, sqrt, abs, min/max/select and comparisons on f64:
// f64 transcendentals are unreliable across drivers (wgpu#6087) and naga has no bitcast
// between f64 and integers, so the exponent and the powers of two come from comparisons and
// products of exact power-of-two constants, NaN from converting an f32 NaN. Every helper works
// on scalars and on vectors of lanes alike (select, no branches).

alias bsvd_s = f64;

// Squared rotation threshold: (4·√3·2⁻⁵²)² = 48·2⁻¹⁰⁴, the library's default f64 tolerance
// for 3×3 (the f32 argument with the f64 ε).
const BSVD_TOL_SQ: f64 = 2.3665827156630354e-30;
// Squared column norm (after scaling, largest entry in [0.5, 1)) below which a column counts
// as zero: its entries are < 2⁻¹¹⁰, its singular value < 2⁻¹⁰⁹·σ₁ (2⁵⁷ below ε·σ₁), and
// products with it stay far from f64's subnormal range, which GPUs may flush.
const BSVD_NEGLIGIBLE_SQ: f64 = 0x1p-220;
// bsvd_exponent of zero and subnormals, below every exponent of a normal f64.
const BSVD_EXP_ZERO: i32 = -2000;
// Largest finite f64.
const BSVD_MAX: f64 = 1.7976931348623157e308;

// One bit of bsvd_pow2: 2^±bit where e has it, else 1.
fn bsvd_pow2_bit(k: bsvd_u, neg: bsvd_b, bit: u32, up: f64, down: f64) -> bsvd_f {
    return select(bsvd_f(1.0), select(bsvd_f(up), bsvd_f(down), neg), (k & bsvd_u(bit)) != bsvd_u(0u));
}

// 2^e exactly, e in [-1022, 1023], as the product of the power-of-two factors of e's bits.
fn bsvd_pow2(e: bsvd_i) -> bsvd_f {
    let k = bsvd_u(abs(e));
    let neg = e < bsvd_i(0);
    return bsvd_pow2_bit(k, neg, 512u, 0x1p512, 0x1p-512) * bsvd_pow2_bit(k, neg, 256u, 0x1p256, 0x1p-256)
        * bsvd_pow2_bit(k, neg, 128u, 0x1p128, 0x1p-128) * bsvd_pow2_bit(k, neg, 64u, 0x1p64, 0x1p-64)
        * bsvd_pow2_bit(k, neg, 32u, 0x1p32, 0x1p-32) * bsvd_pow2_bit(k, neg, 16u, 0x1p16, 0x1p-16)
        * bsvd_pow2_bit(k, neg, 8u, 0x1p8, 0x1p-8) * bsvd_pow2_bit(k, neg, 4u, 0x1p4, 0x1p-4)
        * bsvd_pow2_bit(k, neg, 2u, 0x1p2, 0x1p-2) * bsvd_pow2_bit(k, neg, 1u, 0x1p1, 0x1p-1);
}

// One step of bsvd_exponent's search down: where a ≥ 2^k, a ← a·2^-k and e ← e + k.
fn bsvd_exponent_down(a: ptr<function, bsvd_f>, e: ptr<function, bsvd_i>, k: i32, up: f64, down: f64) {
    let big = *a >= bsvd_f(up);
    *a = select(*a, *a * down, big);
    *e = *e + select(bsvd_i(0), bsvd_i(k), big);
}

// One step up: where a·2^k < 1, a ← a·2^k and e ← e − k.
fn bsvd_exponent_up(a: ptr<function, bsvd_f>, e: ptr<function, bsvd_i>, k: i32, up: f64) {
    let small = *a * up < bsvd_f(1.0);
    *a = select(*a, *a * up, small);
    *e = *e - select(bsvd_i(0), bsvd_i(k), small);
}

// e with |x| = f·2^e, f in [0.5, 1), for normal x; BSVD_EXP_ZERO for zero and subnormals.
// Binary search on the exponent with exact power-of-two factors: large values are brought
// below 2, small ones up to [0.5, 1).
fn bsvd_exponent(x: bsvd_f) -> bsvd_i {
    var a = abs(x);
    let zero = !(a >= bsvd_f(0x1p-1022));
    var e = bsvd_i(0);
    bsvd_exponent_down(&a, &e, 512, 0x1p512, 0x1p-512);
    bsvd_exponent_down(&a, &e, 256, 0x1p256, 0x1p-256);
    bsvd_exponent_down(&a, &e, 128, 0x1p128, 0x1p-128);
    bsvd_exponent_down(&a, &e, 64, 0x1p64, 0x1p-64);
    bsvd_exponent_down(&a, &e, 32, 0x1p32, 0x1p-32);
    bsvd_exponent_down(&a, &e, 16, 0x1p16, 0x1p-16);
    bsvd_exponent_down(&a, &e, 8, 0x1p8, 0x1p-8);
    bsvd_exponent_down(&a, &e, 4, 0x1p4, 0x1p-4);
    bsvd_exponent_down(&a, &e, 2, 0x1p2, 0x1p-2);
    bsvd_exponent_down(&a, &e, 1, 0x1p1, 0x1p-1);
    bsvd_exponent_up(&a, &e, 512, 0x1p512);
    bsvd_exponent_up(&a, &e, 256, 0x1p256);
    bsvd_exponent_up(&a, &e, 128, 0x1p128);
    bsvd_exponent_up(&a, &e, 64, 0x1p64);
    bsvd_exponent_up(&a, &e, 32, 0x1p32);
    bsvd_exponent_up(&a, &e, 16, 0x1p16);
    bsvd_exponent_up(&a, &e, 8, 0x1p8);
    bsvd_exponent_up(&a, &e, 4, 0x1p4);
    bsvd_exponent_up(&a, &e, 2, 0x1p2);
    bsvd_exponent_up(&a, &e, 1, 0x1p1);
    // Now a is in [0.5, 1) if x was below 1, else in [1, 2): |x| = (a/2)·2^(e+1).
    e = e + select(bsvd_i(0), bsvd_i(1), a >= bsvd_f(1.0));
    return select(e, bsvd_i(BSVD_EXP_ZERO), zero);
}

// ±Inf exceeds BSVD_MAX and NaN fails every comparison.
fn bsvd_is_finite(x: bsvd_f) -> bsvd_b {
    return abs(x) <= bsvd_f(BSVD_MAX);
}

// An f32 NaN, read at run time (a constant would be folded, and naga rejects NaN constants),
// converted to f64.
var<private> BSVD_NAN_F32_BITS: u32 = 0x7fc00000u;

fn bsvd_nan() -> bsvd_f {
    return bsvd_f(f64(bitcast<f32>(BSVD_NAN_F32_BITS)));
}

fn bsvd_rsqrt(x: bsvd_f) -> bsvd_f {
    return 1.0 / sqrt(x);
}

fn bsvd_clamp(x: bsvd_f, lo: bsvd_f, hi: bsvd_f) -> bsvd_f {
    return min(max(x, lo), hi);
}
