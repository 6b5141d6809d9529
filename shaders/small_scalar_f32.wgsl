// batched-svd: the f32 scalar of small_svd.wgsl: the type, its constants and the helpers that
// depend on its bit layout. small_scalar_f64.wgsl is the same contract for f64.

alias bsvd_s = f32;

// Squared rotation threshold: (4·√3·2⁻²³)², from the library's default tolerance for 3×3.
const BSVD_TOL_SQ: f32 = 6.821e-13;
// Squared column norm (after scaling, largest entry in [0.5, 1)) below which a column counts
// as zero: its entries are < 2⁻⁵⁰, far below ε·σ₁.
const BSVD_NEGLIGIBLE_SQ: f32 = 7.888609052210118e-31;
// bsvd_exponent of zero and subnormals, below every exponent of a normal f32.
const BSVD_EXP_ZERO: i32 = -1000;

// 2^e exactly, e in [-126, 127], from bits.
fn bsvd_pow2(e: bsvd_i) -> bsvd_f {
    return bitcast<bsvd_f>(bsvd_u(e + bsvd_i(127)) << bsvd_u(23u));
}

// e with |x| = f·2^e, f in [0.5, 1), for normal x; BSVD_EXP_ZERO for zero and subnormals.
fn bsvd_exponent(x: bsvd_f) -> bsvd_i {
    let biased = bsvd_i((bitcast<bsvd_u>(x) >> bsvd_u(23u)) & bsvd_u(0xffu));
    return select(biased - bsvd_i(126), bsvd_i(BSVD_EXP_ZERO), biased == bsvd_i(0));
}

// Bit test: WGSL implementations may assume floats are finite, so `x != x` is unreliable.
fn bsvd_is_finite(x: bsvd_f) -> bsvd_b {
    return (bitcast<bsvd_u>(x) & bsvd_u(0x7f800000u)) != bsvd_u(0x7f800000u);
}

fn bsvd_nan() -> bsvd_f {
    return bitcast<bsvd_f>(bsvd_u(0x7fc00000u));
}

// 1/√x (GPUs and llvmpipe have a fast f32 inverse square root).
fn bsvd_rsqrt(x: bsvd_f) -> bsvd_f {
    return inverseSqrt(x);
}

fn bsvd_clamp(x: bsvd_f, lo: bsvd_f, hi: bsvd_f) -> bsvd_f {
    return clamp(x, lo, hi);
}
