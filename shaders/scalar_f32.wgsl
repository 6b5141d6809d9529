// Scalar prelude for f32. Every kernel is written against `real` and the helpers below, so
// an f64 prelude (SHADER_F64) can replace this file without copying the kernels.

alias real = f32;

// A column whose squared norm (in the scaled matrix, largest entry in [0.5, 1)) is at or
// below 2^-100 is negligible: its entries are below 2^-50, products with it would underflow
// f32 (GPUs flush subnormals), and its singular value is < 2^-49·σ₁, far below ε·σ₁. It is not
// rotated, and its singular vector is completed on the host.
const NEGLIGIBLE_SQ: real = 7.888609052210118e-31;

// Sentinel exponent of a zero (or subnormal, flushed) entry, and the bias that makes every
// exponent (and the sentinel) non-negative for atomics.
const EXP_ZERO: i32 = -1000;
const EXP_BIAS: i32 = 1000;

// True unless x is ±Inf or NaN. Tests the exponent bits: WGSL lets implementations assume
// floats are finite, so `x != x` may be folded away; integer tests cannot be.
fn is_finite_real(x: real) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// e such that |x| = f·2^e with f in [0.5, 1), for normal x; EXP_ZERO for zero and subnormals.
fn exponent_of(x: real) -> i32 {
    let biased = i32((bitcast<u32>(x) >> 23u) & 0xffu);
    return select(biased - 126, EXP_ZERO, biased == 0);
}

// 2^e exactly, for e in [-126, 127], built from bits (no ldexp/exp2 rounding questions).
fn pow2(e: i32) -> real {
    return bitcast<f32>(u32(e + 127) << 23u);
}

fn nan_real() -> real {
    return bitcast<f32>(0x7fc00000u);
}

// 1/√x (llvmpipe and GPUs have a fast inverse square root for f32).
fn inv_sqrt(x: real) -> real {
    return inverseSqrt(x);
}
