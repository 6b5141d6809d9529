// Batched one-sided (Hestenes) Jacobi SVD: one workgroup per matrix, all sweeps in one
// dispatch, no host synchronisation between sweeps.
//
// Prepended by the host (src/gpu/shader.rs): the scalar prelude (`real`, NEGLIGIBLE_SQ, …),
// the shape constants below, and a storage back-end (w_get/w_set, v_get/v_set, sig_*, perm_*,
// bind_matrix, sync) that keeps W and V in workgroup or global memory.
//
//   A_M, A_N        shape of the input matrices A (m×n)
//   A_ROW_MAJOR     input layout
//   TRANSPOSED      the kernel works on W = Aᵀ (A is wide); else W = A
//   M, N            shape of W, M ≥ N; K = N singular values
//   N2, NPAIRS      N rounded up to even (a phantom zero column pads odd N), N2/2 pairs
//   LDW, V_LEN      leading dimension of W, elements of V (N·N, or 1 without vectors)
//   WANT_VECTORS    accumulate V and write U and Vᵀ
//   U_COLS, VT_ROWS columns of each output U (K or A_M), rows of each output Vᵀ (K or A_N)
//   WG, TEAM, TEAMS invocations per workgroup; invocations per column pair; pairs in flight
//
// Algorithm per matrix (see DESIGN notes in the README):
//   1. load W, check every entry is finite (bit test), find the largest exponent e, scale W
//      by 2^-e so the largest entry is in [0.5, 1): squared column norms can neither
//      overflow nor underflow for any finite f32 input;
//   2. sweeps of the round-robin ordering: N2−1 rounds of NPAIRS disjoint pairs; pair (p, q)
//      is rotated when |γ| > tol·√α·√β (α = ‖w_p‖², β = ‖w_q‖², γ = w_pᵀw_q), with
//      ζ = (β−α)/(2γ), t = sign(ζ)/(|ζ|+√(1+ζ²)), c = 1/√(1+t²), s = c·t (no atan2);
//      a sweep without rotation ends the solve;
//   3. finalize: σ_j = ‖w_j‖·2^e, rank the columns by σ (descending, ties by index), write
//      σ, U = W·diag(1/σ) and V in sorted order, in the numpy layout.

struct Params {
    count: u32,       // matrices in this chunk
    grid_x: u32,      // workgroups along x in the dispatch grid (2-D grid past 65535)
    max_sweeps: u32,
    tol: f32,
    sort: u32,        // 1: sort descending
    pad0: u32,
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

// Partial dot products of the lanes of each team (only used when TEAM > 1).
var<workgroup> red: array<real, RED_LEN>;
var<workgroup> exp_max: atomic<i32>;
var<workgroup> flags: atomic<u32>;
var<workgroup> off_bits: atomic<u32>;
// Broadcast slot: written by invocation 0, read by all through workgroupUniformLoad so that
// the branches that depend on it stay in uniform control flow.
var<workgroup> bcast: vec2<u32>;

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

// One column pair of one round. All invocations call it (it contains a barrier when TEAM > 1);
// invocations whose pair is padding or out of range do no work.
fn process_pair(round: u32, pair: u32, lane: u32, tid: u32, tol: real) {
    var pq = vec2<u32>(0u, N2);
    if pair < NPAIRS {
        pq = pair_of(round, pair);
    }
    let in_use = pq.y < N;
    var alpha: real = 0.0;
    var beta: real = 0.0;
    var gamma: real = 0.0;
    if in_use {
        for (var i = lane; i < M; i += TEAM) {
            let x = w_get(pq.x, i);
            let y = w_get(pq.y, i);
            alpha = fma(x, x, alpha);
            beta = fma(y, y, beta);
            gamma = fma(x, y, gamma);
        }
    }
    if TEAM > 1u {
        red[3u * tid] = alpha;
        red[3u * tid + 1u] = beta;
        red[3u * tid + 2u] = gamma;
        workgroupBarrier();
        // Every lane sums the team's partials in the same order, so all lanes get identical
        // sums and take identical decisions without another barrier.
        let first = tid - lane;
        alpha = 0.0;
        beta = 0.0;
        gamma = 0.0;
        for (var l = 0u; l < TEAM; l += 1u) {
            alpha += red[3u * (first + l)];
            beta += red[3u * (first + l) + 1u];
            gamma += red[3u * (first + l) + 2u];
        }
    }
    if !in_use || alpha <= NEGLIGIBLE_SQ || beta <= NEGLIGIBLE_SQ {
        return;
    }
    let rel = abs(gamma) / (sqrt(alpha) * sqrt(beta));
    if lane == 0u {
        // Non-negative floats order like their bit patterns.
        atomicMax(&off_bits, bitcast<u32>(f32(rel)));
    }
    if rel <= tol {
        return;
    }
    let zeta = (beta - alpha) / (2.0 * gamma);
    var t: real;
    if abs(zeta) > ZETA_HUGE {
        t = 0.5 / zeta;
    } else {
        t = select(real(-1.0), real(1.0), zeta >= 0.0) / (abs(zeta) + sqrt(1.0 + zeta * zeta));
    }
    let c = 1.0 / sqrt(1.0 + t * t);
    let s = c * t;
    for (var i = lane; i < M; i += TEAM) {
        let x = w_get(pq.x, i);
        let y = w_get(pq.y, i);
        w_set(pq.x, i, c * x - s * y);
        w_set(pq.y, i, s * x + c * y);
    }
    if WANT_VECTORS {
        for (var i = lane; i < N; i += TEAM) {
            let x = v_get(pq.x, i);
            let y = v_get(pq.y, i);
            v_set(pq.x, i, c * x - s * y);
            v_set(pq.y, i, s * x + c * y);
        }
    }
    if lane == 0u {
        atomicOr(&flags, 1u);
    }
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

fn write_non_finite(mat: u32, tid: u32) {
    for (var r = tid; r < N; r += WG) {
        s_out[mat * N + r] = nan_real();
    }
    if WANT_VECTORS {
        for (var e = tid; e < A_M * U_COLS; e += WG) {
            u_out[mat * A_M * U_COLS + e] = nan_real();
        }
        for (var e = tid; e < VT_ROWS * A_N; e += WG) {
            vt_out[mat * VT_ROWS * A_N + e] = nan_real();
        }
    }
    if tid == 0u {
        info_out[mat] = MatrixInfo(2u, 0u, bitcast<f32>(0x7fc00000u), 0u);
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let mat = wid.x + wid.y * params.grid_x;
    if mat >= params.count {
        return;
    }
    bind_matrix(mat);

    // ---- 1. load, finiteness check, power-of-two scaling ----
    if tid == 0u {
        atomicStore(&exp_max, EXP_ZERO);
        atomicStore(&flags, 0u);
    }
    workgroupBarrier();
    let in_base = mat * A_M * A_N;
    var my_exp = EXP_ZERO;
    var my_bad = false;
    for (var e = tid; e < M * N; e += WG) {
        let x = a_in[in_base + e];
        let ij = work_coords(e);
        w_set(ij.y, ij.x, x);
        my_bad = my_bad || !is_finite_real(x);
        my_exp = max(my_exp, exponent_of(x));
    }
    atomicMax(&exp_max, my_exp);
    if my_bad {
        atomicOr(&flags, 1u);
    }
    workgroupBarrier();
    if tid == 0u {
        bcast = vec2<u32>(bitcast<u32>(atomicLoad(&exp_max)), atomicLoad(&flags));
    }
    let loaded = workgroupUniformLoad(&bcast);
    if loaded.y != 0u {
        write_non_finite(mat, tid);
        return;
    }
    let zero = bitcast<i32>(loaded.x) == EXP_ZERO;
    // Scale by 2^-e in two exact steps: 2^-e alone is subnormal for e > 126.
    let e_all = select(bitcast<i32>(loaded.x), 0, zero);
    let e1 = e_all / 2;
    let e2 = e_all - e1;
    let down1 = pow2(-e1);
    let down2 = pow2(-e2);
    // Each invocation rescales exactly the elements it stored, so no barrier is needed here.
    for (var e = tid; e < M * N; e += WG) {
        let ij = work_coords(e);
        w_set(ij.y, ij.x, (w_get(ij.y, ij.x) * down1) * down2);
    }
    if WANT_VECTORS {
        for (var e = tid; e < N * N; e += WG) {
            v_set(e / N, e % N, select(real(0.0), real(1.0), e / N == e % N));
        }
    }
    sync();

    // ---- 2. sweeps ----
    let tol = real(params.tol);
    var sweeps = 0u;
    var converged = zero;
    var off = 0.0f;
    if !zero {
        for (var sweep = 0u; sweep < params.max_sweeps; sweep += 1u) {
            if tid == 0u {
                atomicStore(&flags, 0u);
                atomicStore(&off_bits, 0u);
            }
            sync();
            for (var round = 0u; round < N2 - 1u; round += 1u) {
                for (var first = 0u; first < NPAIRS; first += TEAMS) {
                    process_pair(round, first + tid / TEAM, tid % TEAM, tid, tol);
                    sync();
                }
            }
            if tid == 0u {
                bcast = vec2<u32>(atomicLoad(&flags), atomicLoad(&off_bits));
            }
            let state = workgroupUniformLoad(&bcast);
            sweeps = sweep + 1u;
            off = bitcast<f32>(state.y);
            if state.x == 0u {
                converged = true;
                break;
            }
        }
    }

    // ---- 3. finalize: norms, ranking, outputs ----
    for (var j = tid; j < N; j += WG) {
        var ss: real = 0.0;
        for (var i = 0u; i < M; i += 1u) {
            let x = w_get(j, i);
            ss = fma(x, x, ss);
        }
        sig_set(j, sqrt(ss));
    }
    sync();
    for (var j = tid; j < N; j += WG) {
        var r = j;
        if params.sort != 0u {
            let sj = sig_get(j);
            r = 0u;
            for (var i = 0u; i < N; i += 1u) {
                let si = sig_get(i);
                if si > sj || (si == sj && i < j) {
                    r += 1u;
                }
            }
        }
        perm_set(r, j);
    }
    sync();
    let up1 = pow2(e1);
    let up2 = pow2(e2);
    for (var r = tid; r < N; r += WG) {
        s_out[mat * N + r] = (sig_get(perm_get(r)) * up1) * up2;
    }
    if WANT_VECTORS {
        // Writes are ordered so that consecutive invocations write consecutive addresses.
        for (var e = tid; e < M * N; e += WG) {
            if TRANSPOSED {
                // Vᵀ (K×A_N, row-major) row r = U_W column r.
                let r = e / M;
                let i = e % M;
                vt_out[mat * VT_ROWS * A_N + r * A_N + i] = u_work(r, i);
            } else {
                // U (A_M×U_COLS, row-major) column r = U_W column r.
                let i = e / N;
                let r = e % N;
                u_out[mat * A_M * U_COLS + i * U_COLS + r] = u_work(r, i);
            }
        }
        for (var e = tid; e < N * N; e += WG) {
            if TRANSPOSED {
                // U (A_M×U_COLS with A_M = N) column r = V_W column perm[r].
                let i = e / N;
                let r = e % N;
                u_out[mat * A_M * U_COLS + i * U_COLS + r] = v_get(perm_get(r), i);
            } else {
                // Vᵀ (VT_ROWS×A_N with A_N = N) row r = V_W column perm[r].
                let r = e / N;
                let i = e % N;
                vt_out[mat * VT_ROWS * A_N + r * A_N + i] = v_get(perm_get(r), i);
            }
        }
    }
    if tid == 0u {
        var negligible = 0u;
        for (var j = 0u; j < N; j += 1u) {
            let sg = sig_get(j);
            if sg * sg <= NEGLIGIBLE_SQ {
                negligible += 1u;
            }
        }
        info_out[mat] = MatrixInfo(select(1u, 0u, converged), sweeps, off, negligible);
    }
}
