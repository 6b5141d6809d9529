// Scalar prelude for f64 (wgpu's SHADER_F64). The kernels are the f32 ones, written against
// `real` and the helpers below.
//
// Only + − × ÷, sqrt, abs, fma, min/max/select and comparisons on f64: transcendentals and
// f64 bit casts are unreliable or missing across drivers and naga (wgpu#6087: f64 `sin` returns
// garbage; naga has no bitcast between f64 and vec2<u32>), and Jacobi needs none of them. So the
// exponent and the powers of two come from comparisons and products of exact power-of-two
// constants, and NaN from converting an f32 NaN.

alias real = f64;

// A column whose squared norm (in the scaled matrix, largest entry in [0.5, 1)) is at or
// below 2^-220 is negligible: its entries are below 2^-110, its singular value below
// 2^-109·σ₁, 2^57 below ε·σ₁, and products with it stay far from f64's subnormal range
// (which GPUs may flush). It is not rotated, and its singular vector is completed on the host.
const NEGLIGIBLE_SQ: real = 0x1p-220;

// Sentinel exponent of a zero (or subnormal) entry, below every f64 exponent, and the bias that
// makes every exponent (and the sentinel) non-negative for atomics.
const EXP_ZERO: i32 = -2000;
const EXP_BIAS: i32 = 2000;

// Largest finite f64.
const REAL_MAX: real = 1.7976931348623157e308;

// True unless x is ±Inf or NaN (NaN fails every comparison; ±Inf exceeds REAL_MAX).
fn is_finite_real(x: real) -> bool {
    return abs(x) <= REAL_MAX;
}

// e such that |x| = f·2^e with f in [0.5, 1), for normal x; EXP_ZERO for zero and subnormals.
// Binary search on the exponent with exact power-of-two factors.
fn exponent_of(x: real) -> i32 {
    var a = abs(x);
    if !(a >= 0x1p-1022) {
        return EXP_ZERO;
    }
    var e = 0;
    if a >= 0x1p512 { a = a * 0x1p-512; e = e + 512; }
    if a >= 0x1p256 { a = a * 0x1p-256; e = e + 256; }
    if a >= 0x1p128 { a = a * 0x1p-128; e = e + 128; }
    if a >= 0x1p64 { a = a * 0x1p-64; e = e + 64; }
    if a >= 0x1p32 { a = a * 0x1p-32; e = e + 32; }
    if a >= 0x1p16 { a = a * 0x1p-16; e = e + 16; }
    if a >= 0x1p8 { a = a * 0x1p-8; e = e + 8; }
    if a >= 0x1p4 { a = a * 0x1p-4; e = e + 4; }
    if a >= 0x1p2 { a = a * 0x1p-2; e = e + 2; }
    if a >= 0x1p1 { a = a * 0x1p-1; e = e + 1; }
    // Now a < 2.
    if a < 0x1p-512 { a = a * 0x1p512; e = e - 512; }
    if a < 0x1p-256 { a = a * 0x1p256; e = e - 256; }
    if a < 0x1p-128 { a = a * 0x1p128; e = e - 128; }
    if a < 0x1p-64 { a = a * 0x1p64; e = e - 64; }
    if a < 0x1p-32 { a = a * 0x1p32; e = e - 32; }
    if a < 0x1p-16 { a = a * 0x1p16; e = e - 16; }
    if a < 0x1p-8 { a = a * 0x1p8; e = e - 8; }
    if a < 0x1p-4 { a = a * 0x1p4; e = e - 4; }
    if a < 0x1p-2 { a = a * 0x1p2; e = e - 2; }
    if a < 0x1p-1 { a = a * 0x1p1; e = e - 1; }
    // Now a is in [0.5, 2).
    return select(e, e + 1, a >= 1.0);
}

// 2^e exactly, for e in [-1022, 1023], as a product of the power-of-two factors of e's bits.
fn pow2(e: i32) -> real {
    let k = u32(abs(e));
    let neg = e < 0;
    var r: real = 1.0;
    r = r * select(real(1.0), select(real(0x1p512), real(0x1p-512), neg), (k & 512u) != 0u);
    r = r * select(real(1.0), select(real(0x1p256), real(0x1p-256), neg), (k & 256u) != 0u);
    r = r * select(real(1.0), select(real(0x1p128), real(0x1p-128), neg), (k & 128u) != 0u);
    r = r * select(real(1.0), select(real(0x1p64), real(0x1p-64), neg), (k & 64u) != 0u);
    r = r * select(real(1.0), select(real(0x1p32), real(0x1p-32), neg), (k & 32u) != 0u);
    r = r * select(real(1.0), select(real(0x1p16), real(0x1p-16), neg), (k & 16u) != 0u);
    r = r * select(real(1.0), select(real(0x1p8), real(0x1p-8), neg), (k & 8u) != 0u);
    r = r * select(real(1.0), select(real(0x1p4), real(0x1p-4), neg), (k & 4u) != 0u);
    r = r * select(real(1.0), select(real(0x1p2), real(0x1p-2), neg), (k & 2u) != 0u);
    r = r * select(real(1.0), select(real(0x1p1), real(0x1p-1), neg), (k & 1u) != 0u);
    return r;
}

// An f32 NaN, read at run time (a constant would be folded, and naga rejects NaN constants),
// converted to f64.
var<private> NAN_F32_BITS: u32 = 0x7fc00000u;

fn nan_real() -> real {
    return real(bitcast<f32>(NAN_F32_BITS));
}

// 1/√x.
fn inv_sqrt(x: real) -> real {
    return 1.0 / sqrt(x);
}
