// Shared by every Jacobi kernel family: parameters, per-matrix reports, the input mapping,
// the pair ordering and the rotation (bindings: jacobi_bindings.wgsl).
//
// Prepended by the host (src/gpu/shader.rs): the scalar prelude (`real`, NEGLIGIBLE_SQ, …) and
// the shape constants below.
//
//   A_M, A_N        shape of the input matrices A (m×n)
//   A_ROW_MAJOR     input layout
//   TRANSPOSED      the kernels work on W = Aᵀ (A is wide); else W = A
//   M, N            shape of W, M ≥ N; K = N singular values
//   N2, NPAIRS      N rounded up to even (a phantom zero column pads odd N), N2/2 pairs
//   LDW, V_LEN      leading dimension of W, elements of V (N·N, or 1 without vectors)
//   WANT_VECTORS    accumulate V and write U and Vᵀ
//   U_COLS, VT_ROWS columns of each output U (K or A_M), rows of each output Vᵀ (K or A_N)
//   WG, TEAM, TEAMS invocations per workgroup; invocations per column pair; pairs in flight

struct Params {
    count: u32,       // matrices in this chunk
    grid_x: u32,      // workgroups along x in the dispatch grid (2-D grid past 65535)
    max_sweeps: u32,
    tol: f32,
    sort: u32,        // 1: sort descending
    round: u32,       // round of the sweep (multi-dispatch family only)
    rounds: u32,      // rounds per sweep, N2 − 1 (a uniform so loops over it are not unrolled)
    pad2: u32,
}

struct MatrixInfo {
    status: u32,      // 0 converged, 1 not converged, 2 non-finite input
    sweeps: u32,
    off: f32,         // max |cos(w_p, w_q)| over the last sweep
    negligible: u32,  // columns of W with negligible norm (their U column is left zero)
}

// Position (i, j) in W of the e-th element of an input matrix, in memory order. Loading in
// memory order makes consecutive invocations read consecutive addresses (coalesced).
fn work_coords(e: u32) -> vec2<u32> {
    var r: u32;
    var c: u32;
    if A_ROW_MAJOR {
        r = e / A_N;
        c = e % A_N;
    } else {
        r = e % A_M;
        c = e / A_M;
    }
    if TRANSPOSED {
        return vec2<u32>(c, r);
    }
    return vec2<u32>(r, c);
}

// Pair k of round `round` of the round-robin (circle) ordering over n2 (even) items: item
// n2−1 is fixed and the others rotate, so the n2−1 rounds cover every pair exactly once.
fn circle_pair(n2: u32, round: u32, k: u32) -> vec2<u32> {
    if k == 0u {
        return vec2<u32>(round, n2 - 1u);
    }
    let a = (round + k) % (n2 - 1u);
    let b = (round + n2 - 1u - k) % (n2 - 1u);
    return vec2<u32>(min(a, b), max(a, b));
}

// Column pair k of round `round` over the N2 columns.
fn pair_of(round: u32, k: u32) -> vec2<u32> {
    return circle_pair(N2, round, k);
}

// Rotation (c, s) that makes columns with α = ‖w_p‖², β = ‖w_q‖², γ = w_pᵀw_q orthogonal, for
// γ ≠ 0: with d = β − α, t = sign(d)·2γ/(|d| + √(d² + 4γ²)) (the smaller root of
// t² + (d/γ)·t − 1 = 0, |t| ≤ 1), c = 1/√(1+t²), s = c·t. No atan2 (undefined at (0, 0) on
// some backends). d and 2γ are first scaled by the same power of two (exact) so that the
// larger is in [0.5, 1): d² + 4γ² then neither overflows nor underflows. One square root and
// one division besides the inverse square root (the ζ = d/(2γ) form needs two divisions).
fn rotation(alpha: real, beta: real, gamma: real) -> vec2<real> {
    let d = beta - alpha;
    let g2 = 2.0 * gamma;
    let k = pow2(-max(exponent_of(d), exponent_of(g2)));
    let ds = d * k;
    let gs = g2 * k;
    let t = select(real(-1.0), real(1.0), d >= 0.0) * gs / (abs(ds) + sqrt(ds * ds + gs * gs));
    let c = inv_sqrt(1.0 + t * t);
    return vec2<real>(c, c * t);
}

// Relative off-diagonal |cos(w_p, w_q)|, or -1 when a column is negligible (never rotated).
fn relative_gamma(alpha: real, beta: real, gamma: real) -> real {
    if alpha <= NEGLIGIBLE_SQ || beta <= NEGLIGIBLE_SQ {
        return -1.0;
    }
    // Two inverse square roots instead of two square roots and a division (the costly
    // operations of a pair on SIMD devices); no overflow or underflow for non-negligible
    // columns.
    return abs(gamma) * inv_sqrt(alpha) * inv_sqrt(beta);
}

