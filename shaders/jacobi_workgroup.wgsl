// Batched one-sided (Hestenes) Jacobi SVD, single-dispatch family: one workgroup per matrix,
// W and V in workgroup memory, all sweeps in one dispatch, no host synchronisation between
// sweeps. The host picks it when W and V fit workgroup memory and the loop work per
// invocation stays within budget (see src/gpu/shader.rs); otherwise jacobi_global.wgsl.
//
// Algorithm per matrix:
//   1. load W, check every entry is finite (bit test), find the largest exponent e, scale W
//      by 2^-e so the largest entry is in [0.5, 1): squared column norms can neither
//      overflow nor underflow for any finite f32 input;
//   2. sweeps of the round-robin ordering: N2−1 rounds of NPAIRS disjoint pairs; pair (p, q)
//      is rotated when |γ| > tol·√α·√β (α = ‖w_p‖², β = ‖w_q‖², γ = w_pᴴw_q); a sweep without
//      rotation ends the solve. Elements are real or complex (`elem` and the element
//      prelude's pair_rotation, rotate_p, rotate_q);
//   3. finalize: σ_j = ‖w_j‖·2^e, rank the columns by σ (descending, ties by index), write
//      σ, U = W·diag(1/σ) and V in sorted order, in the numpy layout.
//
// With TEAM = 1 (one invocation per column pair) a round costs a single barrier; with
// TEAM > 1 the lanes of a team split the rows and add their partial dot products through
// workgroup memory (one more barrier), which keeps more invocations busy on tall matrices.

// Partial dot products of the lanes of each team (only used when TEAM > 1): α and β, and γ.
var<workgroup> red: array<real, RED_LEN>;
var<workgroup> red_g: array<elem, RED_G_LEN>;
var<workgroup> exp_max: atomic<i32>;
var<workgroup> flags: atomic<u32>;
var<workgroup> off_bits: atomic<u32>;
// Broadcast slot: written by invocation 0, read by all through workgroupUniformLoad so that
// the branches that depend on it stay in uniform control flow.
var<workgroup> bcast: vec2<u32>;

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
    var gamma = elem_of(0.0); // w_pᴴw_q
    if in_use {
        for (var i = lane; i < M; i += TEAM) {
            let x = w_get(pq.x, i);
            let y = w_get(pq.y, i);
            alpha = add_abs2(alpha, x);
            beta = add_abs2(beta, y);
            gamma = add_conj_dot(gamma, x, y);
        }
    }
    if TEAM > 1u {
        red[2u * tid] = alpha;
        red[2u * tid + 1u] = beta;
        red_g[tid] = gamma;
        workgroupBarrier();
        // Every lane sums the team's partials in the same order, so all lanes get identical
        // sums and take identical decisions without another barrier.
        let first = tid - lane;
        alpha = 0.0;
        beta = 0.0;
        gamma = elem_of(0.0);
        for (var l = 0u; l < TEAM; l += 1u) {
            alpha += red[2u * (first + l)];
            beta += red[2u * (first + l) + 1u];
            gamma += red_g[first + l];
        }
    }
    // The rotation (the element prelude's: real Hestenes, or cgesvj's for complex).
    let r = pair_rotation(alpha, beta, gamma, tol);
    if !in_use || r.rel < 0.0 {
        return;
    }
    if lane == 0u {
        // Non-negative floats order like their bit patterns.
        atomicMax(&off_bits, bitcast<u32>(f32(r.rel)));
    }
    if r.rel <= tol {
        return;
    }
    for (var i = lane; i < M; i += TEAM) {
        let x = w_get(pq.x, i);
        let y = w_get(pq.y, i);
        w_set(pq.x, i, rotate_p(r, x, y));
        w_set(pq.y, i, rotate_q(r, x, y));
    }
    if WANT_VECTORS {
        for (var i = lane; i < N; i += TEAM) {
            let x = v_get(pq.x, i);
            let y = v_get(pq.y, i);
            v_set(pq.x, i, rotate_p(r, x, y));
            v_set(pq.y, i, rotate_q(r, x, y));
        }
    }
    if lane == 0u {
        atomicOr(&flags, 1u);
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
        my_bad = my_bad || !is_finite_elem(x);
        my_exp = max(my_exp, exponent_of_elem(x));
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
        for (var e = tid; e < OUT_LEN; e += WG) {
            write_output(mat, e, true, 1.0, 1.0);
        }
        if tid == 0u {
            info_out[mat] = MatrixInfo(2u, 0u, bitcast<f32>(0x7fc00000u), 0u);
        }
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
            v_set(e / N, e % N, elem_of(select(real(0.0), real(1.0), e / N == e % N)));
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
            ss = add_abs2(ss, w_get(j, i));
        }
        sig_set(j, sqrt(ss));
        if WANT_VECTORS {
            normalize_v_column(j);
        }
    }
    sync();
    for (var j = tid; j < N; j += WG) {
        perm_set(rank_of(j), j);
    }
    sync();
    let up1 = pow2(e1);
    let up2 = pow2(e2);
    for (var e = tid; e < OUT_LEN; e += WG) {
        write_output(mat, e, false, up1, up2);
    }
    if tid == 0u {
        info_out[mat] = MatrixInfo(select(1u, 0u, converged), sweeps, off, negligible_columns());
    }
}
