// Batched one-sided Jacobi SVD, multi-dispatch family: for matrices whose W and V do not fit
// workgroup memory, or whose whole solve would be too much work for one dispatch.
//
// W and V live in the `work` buffer (storage_global.wgsl). Every step is its own dispatch, and
// every invocation does a bounded amount of loop work per dispatch. That matters twice:
// real GPUs reset drivers whose dispatches run for seconds (TDR), and Mesa's llvmpipe
// silently force-exits all loops of an invocation after ~65535 iterations in total.
//
// Per chunk the host records:
//   jacobi_scan                grid (tiles, count)  finiteness + largest exponent per matrix
//   jacobi_load                grid (tiles, count)  W = A·2^-e (scaled), V = I, status
//   (tall matrices: QR preconditioning, qr_global.wgsl; the sweeps then rotate R, not W)
//   repeat per sweep:
//     jacobi_round, r = 0…N2−2 grid (NPAIRS, count) one workgroup per column pair
//       (or jacobi_round_lanes, grid (⌈NPAIRS/WG⌉, count), one invocation per pair, on CPUs)
//     jacobi_sweep_end         grid (⌈count/WG⌉, 1) converged? sweep cap? count active
//     jacobi_gate              grid (1, 1)          no matrix active: zero the sweep grids
//   (rounds are indirect dispatches, so sweeps recorded after convergence do nothing; the host
//   reads the active count only when a solve needs more than one submission)
//   jacobi_norms               grid (N, count)      σ_j = ‖w_j‖, v_j /= ‖v_j‖, a workgroup per column
//   jacobi_rank                grid (⌈N/WG⌉, count) sort permutation
//   (QR preconditioning with vectors: U = Q·R_final, qr_global.wgsl)
//   jacobi_write               grid (tiles, count)  σ, U, Vᵀ, info in the numpy layout
//
// A workgroup per column pair reduces over the M rows with all WG invocations: consecutive
// invocations read consecutive rows of a column (coalesced), and many pairs of many matrices
// are in flight at once, which is the occupancy real GPUs need.

// Status values while running (0, 1, 2 are the final MatrixInfo codes).
const RUNNING: u32 = 3u;

struct MatrixState {
    status: u32,
    exp_biased: atomic<u32>,  // largest exponent + 1000 (0: all entries zero)
    non_finite: atomic<u32>,
    sweeps: u32,
    rotated: atomic<u32>,     // a rotation happened in the current sweep
    off_bits: atomic<u32>,    // max |cos| of the current sweep (f32 bits)
    last_off: u32,            // max |cos| of the last finished sweep (f32 bits)
    pad: u32,
}

@group(0) @binding(7) var<storage, read_write> state: array<MatrixState>;
// Matrices still rotating after the last sweep_end, and the workgroup grids of a sweep's
// dispatches (SweepGrids in src/gpu/buffers.rs), copied to the indirect-dispatch buffer after
// every sweep: jacobi_gate zeroes them once no matrix is rotating, so the sweeps the host
// recorded beyond convergence dispatch nothing, and it need not read convergence state.
struct Progress {
    count: atomic<u32>,
    grids: array<u32, 9>,
}

@group(0) @binding(8) var<storage, read_write> progress: Progress;

var<workgroup> red: array<real, RED_LEN>;
var<workgroup> red_g: array<elem, RED_G_LEN>;
var<workgroup> wg_exp: atomic<u32>;
var<workgroup> wg_bad: atomic<u32>;
var<workgroup> bcast: u32;


// Shares invocation 0's `value` with the workgroup (barriers included), so that branching on
// it is uniform.
fn share(tid: u32, value: u32) -> u32 {
    if tid == 0u {
        bcast = value;
    }
    return workgroupUniformLoad(&bcast);
}

// e1, e2 with e1 + e2 = the matrix's exponent, each a safe power-of-two exponent.
fn split_exponent(mat: u32) -> vec2<i32> {
    let biased = atomicLoad(&state[mat].exp_biased);
    let e = select(i32(biased) - EXP_BIAS, 0, biased == 0u);
    return vec2<i32>(e / 2, e - e / 2);
}

@compute @workgroup_size(WG)
fn jacobi_scan(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
    let mat = wid.y;
    if tid == 0u {
        atomicStore(&wg_exp, 0u);
        atomicStore(&wg_bad, 0u);
    }
    workgroupBarrier();
    var my_exp = 0u;
    var my_bad = false;
    let base = mat * A_M * A_N;
    for (var e = wid.x * WG + tid; e < M * N; e += groups.x * WG) {
        let x = a_in[base + e];
        my_bad = my_bad || !is_finite_elem(x);
        my_exp = max(my_exp, u32(exponent_of_elem(x) + EXP_BIAS));
    }
    atomicMax(&wg_exp, my_exp);
    if my_bad {
        atomicOr(&wg_bad, 1u);
    }
    workgroupBarrier();
    // One global atomic per workgroup instead of one per invocation.
    if tid == 0u {
        atomicMax(&state[mat].exp_biased, atomicLoad(&wg_exp));
        atomicOr(&state[mat].non_finite, atomicLoad(&wg_bad));
    }
}

@compute @workgroup_size(WG)
fn jacobi_load(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
    let mat = wid.y;
    bind_matrix(mat);
    let non_finite = atomicLoad(&state[mat].non_finite) != 0u;
    if wid.x == 0u && tid == 0u {
        // The state buffer is cleared by the host before `scan`.
        var status = RUNNING;
        if non_finite {
            status = 2u;
        } else if atomicLoad(&state[mat].exp_biased) == 0u {
            status = 0u; // zero matrix: nothing to rotate
        }
        state[mat].status = status;
    }
    if non_finite {
        return;
    }
    let ex = split_exponent(mat);
    let down1 = pow2(-ex.x);
    let down2 = pow2(-ex.y);
    let base = mat * A_M * A_N;
    for (var e = wid.x * WG + tid; e < M * N; e += groups.x * WG) {
        let ij = work_coords(e);
        a_set(ij.y, ij.x, (a_in[base + e] * down1) * down2);
    }
    if WANT_VECTORS {
        for (var e = wid.x * WG + tid; e < N * N; e += groups.x * WG) {
            v_set(e / N, e % N, elem_of(select(real(0.0), real(1.0), e / N == e % N)));
        }
    }
}

// α, β and γ = w_pᴴw_q of a column pair.
struct PairSums {
    alpha: real,
    beta: real,
    gamma: elem,
}

// Tree reduction of a column pair's partial sums over the workgroup (γ an element, in its own
// array; also the column norms and the reflectors' sums, with the sums they do not need zero);
// every invocation returns the totals. log2(WG) barriers.
fn reduce_pair(tid: u32, x: PairSums) -> PairSums {
    red[2u * tid] = x.alpha;
    red[2u * tid + 1u] = x.beta;
    red_g[tid] = x.gamma;
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if tid < half {
            red[2u * tid] += red[2u * (tid + half)];
            red[2u * tid + 1u] += red[2u * (tid + half) + 1u];
            red_g[tid] += red_g[tid + half];
        }
        workgroupBarrier();
    }
    return PairSums(red[0], red[1], red_g[0]);
}

@compute @workgroup_size(WG)
fn jacobi_round(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    if tid == 0u {
        bcast = state[mat].status;
    }
    if workgroupUniformLoad(&bcast) != RUNNING {
        return;
    }
    let pq = pair_of(params.round, wid.x);
    if pq.y >= N {
        return;
    }
    bind_matrix(mat);
    var part = PairSums(0.0, 0.0, elem_of(0.0));
    for (var i = tid; i < JM; i += WG) {
        let x = w_get(pq.x, i);
        let y = w_get(pq.y, i);
        part = PairSums(add_abs2(part.alpha, x), add_abs2(part.beta, y),
                        add_conj_dot(part.gamma, x, y));
    }
    let sums = reduce_pair(tid, part);
    let r = pair_rotation(sums.alpha, sums.beta, sums.gamma, real(params.tol));
    if r.rel < 0.0 {
        return;
    }
    if tid == 0u {
        atomicMax(&state[mat].off_bits, bitcast<u32>(f32(r.rel)));
    }
    if r.rel <= real(params.tol) {
        return;
    }
    for (var i = tid; i < JM; i += WG) {
        let x = w_get(pq.x, i);
        let y = w_get(pq.y, i);
        w_set(pq.x, i, rotate_p(r, x, y));
        w_set(pq.y, i, rotate_q(r, x, y));
    }
    if WANT_VECTORS {
        for (var i = tid; i < N; i += WG) {
            let x = v_get(pq.x, i);
            let y = v_get(pq.y, i);
            v_set(pq.x, i, rotate_p(r, x, y));
            v_set(pq.y, i, rotate_q(r, x, y));
        }
    }
    if tid == 0u {
        atomicOr(&state[mat].rotated, 1u);
    }
}

// The same round with one invocation per column pair, looping down the rows: no barriers.
// Chosen on CPU devices (lavapipe), where a barrier is a coroutine switch per SIMD chunk and
// the tree reduction of `jacobi_round` dominates; there each SIMD instruction advances 8 pairs.
// Workgroups of LANES_WG = 8 invocations (one AVX2 SIMD width) spread the pairs of even a
// single matrix over all cores. Grid (⌈NPAIRS/LANES_WG⌉, count).
const LANES_WG: u32 = 8u;

@compute @workgroup_size(LANES_WG)
fn jacobi_round_lanes(@builtin(global_invocation_id) gid: vec3<u32>) {
    let mat = gid.y;
    if gid.x >= NPAIRS || state[mat].status != RUNNING {
        return;
    }
    let pq = pair_of(params.round, gid.x);
    if pq.y >= N {
        return;
    }
    bind_matrix(mat);
    var alpha: real = 0.0;
    var beta: real = 0.0;
    var gamma = elem_of(0.0);
    for (var i = 0u; i < JM; i += 1u) {
        let x = w_get(pq.x, i);
        let y = w_get(pq.y, i);
        alpha = add_abs2(alpha, x);
        beta = add_abs2(beta, y);
        gamma = add_conj_dot(gamma, x, y);
    }
    let r = pair_rotation(alpha, beta, gamma, real(params.tol));
    if r.rel < 0.0 {
        return;
    }
    atomicMax(&state[mat].off_bits, bitcast<u32>(f32(r.rel)));
    if r.rel <= real(params.tol) {
        return;
    }
    for (var i = 0u; i < JM; i += 1u) {
        let x = w_get(pq.x, i);
        let y = w_get(pq.y, i);
        w_set(pq.x, i, rotate_p(r, x, y));
        w_set(pq.y, i, rotate_q(r, x, y));
    }
    if WANT_VECTORS {
        for (var i = 0u; i < N; i += 1u) {
            let x = v_get(pq.x, i);
            let y = v_get(pq.y, i);
            v_set(pq.x, i, rotate_p(r, x, y));
            v_set(pq.y, i, rotate_q(r, x, y));
        }
    }
    atomicOr(&state[mat].rotated, 1u);
}

@compute @workgroup_size(WG)
fn jacobi_sweep_end(@builtin(global_invocation_id) gid: vec3<u32>) {
    let mat = gid.x;
    if mat >= params.count || state[mat].status != RUNNING {
        return;
    }
    let sweeps = state[mat].sweeps + 1u;
    state[mat].sweeps = sweeps;
    state[mat].last_off = atomicLoad(&state[mat].off_bits);
    if atomicLoad(&state[mat].rotated) == 0u {
        state[mat].status = 0u;
    } else if sweeps >= params.max_sweeps {
        state[mat].status = 1u;
    } else {
        atomicAdd(&progress.count, 1u);
    }
    atomicStore(&state[mat].rotated, 0u);
    atomicStore(&state[mat].off_bits, 0u);
}

@compute @workgroup_size(1)
fn jacobi_gate() {
    if atomicLoad(&progress.count) == 0u {
        for (var i = 0u; i < 9u; i += 1u) {
            progress.grids[i] = 0u;
        }
    }
}

@compute @workgroup_size(WG)
fn jacobi_norms(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    if tid == 0u {
        bcast = state[mat].status;
    }
    if workgroupUniformLoad(&bcast) == 2u {
        return;
    }
    bind_matrix(mat);
    let j = wid.x;
    var part = PairSums(0.0, 0.0, elem_of(0.0));
    for (var i = tid; i < JM; i += WG) {
        part.alpha = add_abs2(part.alpha, w_get(j, i));
    }
    if WANT_VECTORS {
        for (var i = tid; i < N; i += WG) {
            part.beta = add_abs2(part.beta, v_get(j, i));
        }
    }
    let sums = reduce_pair(tid, part);
    if tid == 0u {
        sig_set(j, sqrt(sums.alpha));
    }
    if WANT_VECTORS {
        // V's column to unit norm (see normalize_v_column in jacobi_finalize.wgsl).
        let norm = sqrt(sums.beta);
        for (var i = tid; i < N; i += WG) {
            v_set(j, i, v_get(j, i) / norm);
        }
    }
}

@compute @workgroup_size(WG)
fn jacobi_rank(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    let j = wid.x * WG + tid;
    if j >= N || state[mat].status == 2u {
        return;
    }
    bind_matrix(mat);
    perm_set(rank_of(j), j);
}

@compute @workgroup_size(WG)
fn jacobi_write(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
         @builtin(num_workgroups) groups: vec3<u32>) {
    let mat = wid.y;
    bind_matrix(mat);
    let status = state[mat].status;
    let non_finite = status == 2u;
    let ex = split_exponent(mat);
    let up1 = pow2(ex.x);
    let up2 = pow2(ex.y);
    for (var e = wid.x * WG + tid; e < OUT_LEN; e += groups.x * WG) {
        write_output(mat, e, non_finite, up1, up2);
    }
    if wid.x == 0u && tid == 0u {
        if non_finite {
            info_out[mat] = MatrixInfo(2u, 0u, bitcast<f32>(0x7fc00000u), 0u);
        } else {
            info_out[mat] = MatrixInfo(status, state[mat].sweeps, bitcast<f32>(state[mat].last_off),
                                       negligible_columns());
        }
    }
}
