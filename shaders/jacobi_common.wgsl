// Shared by both Jacobi kernel families: bindings, the input mapping, the pair ordering,
// the rotation, and the per-element output formulas.
//
// Prepended by the host (src/gpu/shader.rs): the scalar prelude (`real`, NEGLIGIBLE_SQ, …),
// the shape constants below, and a storage back-end (w_get/w_set, v_get/v_set, sig_*, perm_*,
// bind_matrix, sync) that keeps W and V in workgroup or global memory.
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
    pad1: u32,
    pad2: u32,
}

struct MatrixInfo {
    status: u32,      // 0 converged, 1 not converged, 2 non-finite input
    sweeps: u32,
    off: f32,         // max |cos(w_p, w_q)| over the last sweep
    negligible: u32,  // columns of W with negligible norm (their U column is left zero)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a_in: array<real>;
@group(0) @binding(2) var<storage, read_write> s_out: array<real>;
@group(0) @binding(3) var<storage, read_write> u_out: array<real>;
@group(0) @binding(4) var<storage, read_write> vt_out: array<real>;
@group(0) @binding(5) var<storage, read_write> info_out: array<MatrixInfo>;

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

// Pair k of round `round` of the round-robin (circle) ordering over N2 columns: column N2−1
// is fixed and the others rotate, so the N2−1 rounds cover every pair exactly once.
fn pair_of(round: u32, k: u32) -> vec2<u32> {
    if k == 0u {
        return vec2<u32>(round, N2 - 1u);
    }
    let a = (round + k) % (N2 - 1u);
    let b = (round + N2 - 1u - k) % (N2 - 1u);
    return vec2<u32>(min(a, b), max(a, b));
}

// Rotation (c, s) that makes columns with α = ‖w_p‖², β = ‖w_q‖², γ = w_pᵀw_q orthogonal:
// ζ = (β−α)/(2γ), t = sign(ζ)/(|ζ|+√(1+ζ²)), c = 1/√(1+t²), s = c·t. No atan2 (undefined at
// (0, 0) on some backends); t = 1/(2ζ) where 1 + ζ² would overflow.
fn rotation(alpha: real, beta: real, gamma: real) -> vec2<real> {
    let zeta = (beta - alpha) / (2.0 * gamma);
    var t: real;
    if abs(zeta) > ZETA_HUGE {
        t = 0.5 / zeta;
    } else {
        t = select(real(-1.0), real(1.0), zeta >= 0.0) / (abs(zeta) + sqrt(1.0 + zeta * zeta));
    }
    let c = 1.0 / sqrt(1.0 + t * t);
    return vec2<real>(c, c * t);
}

// Relative off-diagonal |cos(w_p, w_q)|, or -1 when a column is negligible (never rotated).
fn relative_gamma(alpha: real, beta: real, gamma: real) -> real {
    if alpha <= NEGLIGIBLE_SQ || beta <= NEGLIGIBLE_SQ {
        return -1.0;
    }
    return abs(gamma) / (sqrt(alpha) * sqrt(beta));
}

// Element (i, r) of the sorted U_W = W·diag(1/σ): column r is W's column perm[r], normalised.
// Negligible columns are written as zeros; the host completes them to an orthonormal basis.
fn u_work(r: u32, i: u32) -> real {
    let j = perm_get(r);
    let sg = sig_get(j);
    if sg * sg <= NEGLIGIBLE_SQ {
        return 0.0;
    }
    return w_get(j, i) / sg;
}

// Output element e of matrix `mat`, in the order σ (K), U (A_M×U_COLS), Vᵀ (VT_ROWS×A_N):
// consecutive e are consecutive addresses of one output array (coalesced writes).
const OUT_U0: u32 = N;
const OUT_V0: u32 = OUT_U0 + select(0u, A_M * U_COLS, WANT_VECTORS);
const OUT_LEN: u32 = OUT_V0 + select(0u, VT_ROWS * A_N, WANT_VECTORS);

// Writes output element e: NaN for a non-finite matrix, else σ (unscaled by 2^e1·2^e2), U or Vᵀ
// in sorted order. Columns of U (rows of Vᵀ) beyond K (full output) are left for the host.
fn write_output(mat: u32, e: u32, non_finite: bool, up1: real, up2: real) {
    if e < OUT_U0 {
        s_out[mat * N + e] = select((sig_get(perm_get(e)) * up1) * up2, nan_real(), non_finite);
    } else if e < OUT_V0 {
        let i = (e - OUT_U0) / U_COLS;
        let r = (e - OUT_U0) % U_COLS;
        var x = nan_real();
        if !non_finite {
            if r >= N {
                return;
            }
            if TRANSPOSED {
                // U (N×U_COLS) column r = V_W column perm[r].
                x = v_get(perm_get(r), i);
            } else {
                // U (M×U_COLS) column r = U_W column r.
                x = u_work(r, i);
            }
        }
        u_out[mat * A_M * U_COLS + (e - OUT_U0)] = x;
    } else {
        let r = (e - OUT_V0) / A_N;
        let i = (e - OUT_V0) % A_N;
        var x = nan_real();
        if !non_finite {
            if r >= N {
                return;
            }
            if TRANSPOSED {
                // Vᵀ (VT_ROWS×M) row r = U_W column r.
                x = u_work(r, i);
            } else {
                // Vᵀ (VT_ROWS×N) row r = V_W column perm[r].
                x = v_get(perm_get(r), i);
            }
        }
        vt_out[mat * VT_ROWS * A_N + (e - OUT_V0)] = x;
    }
}

// Position of column j in the output: its rank by σ (descending, ties by index) when sorting,
// else j itself.
fn rank_of(j: u32) -> u32 {
    if params.sort == 0u {
        return j;
    }
    let sj = sig_get(j);
    var r = 0u;
    for (var i = 0u; i < N; i += 1u) {
        let si = sig_get(i);
        if si > sj || (si == sj && i < j) {
            r += 1u;
        }
    }
    return r;
}

// Number of negligible columns (their U_W column is written as zeros).
fn negligible_columns() -> u32 {
    var count = 0u;
    for (var j = 0u; j < N; j += 1u) {
        let sg = sig_get(j);
        if sg * sg <= NEGLIGIBLE_SQ {
            count += 1u;
        }
    }
    return count;
}

