// Householder QR preconditioning of the multi-dispatch family, for tall working matrices
// (M ≥ 2N; src/gpu/shader.rs decides).
//
// One-sided Jacobi on a tall M×N matrix pays M rows for every rotation of every sweep. After
// A = Q·R the sweeps rotate the N×N triangle R instead — same singular values and right
// vectors, since R = QᵀA — and the left vectors come out as U = Q·U_R (Drmač and Veselić's
// preconditioned one-sided Jacobi; LAPACK's sgejsv). The host records, after jacobi_load:
//   k = 0…N−1:
//     qr_householder  grid (1, count)          reflector H_k = I − τ_k·v_k·v_kᵀ that zeroes
//                                              W[k+1.., k] (LAPACK's slarfg): v_k below the
//                                              diagonal of W (v_k[k] = 1 implied), τ_k in TAU,
//                                              R[k, k] on the diagonal
//     qr_update       grid (N−1−k, count)      H_k applied to columns k+1…N−1, one workgroup
//       (qr_update_lanes on CPUs)              per column (coalesced down the column)
//   qr_extract_r      grid (tiles, count)      R (upper triangle of W) → region R
// then the usual sweeps, norms and rank on R, and with vectors:
//   qr_init_u         grid (tiles, count)      Ũ = [R_final; 0] (M×N)
//   k = N−1…0:
//     qr_apply_q      grid (N, count)          Ũ ← H_k·Ũ; afterwards Ũ = Q·R_final, whose
//       (qr_apply_q_lanes on CPUs)             column j has norm σ_j: the write step
//                                              normalises it as it would W's.
//
// Complex elements (LAPACK's zgeqr2/zlarfg): τ_k is complex and β real, H_k = I − τ_k·v_k·v_kᴴ
// with H_kᴴ·[α; x] = [β; 0]; the QR applies H_kᴴ (τ conjugated) to the trailing columns, Q
// applies H_k. For real elements both are the real reflector.
//
// Cost: 2MN² flops for the QR and 2MN² for applying Q, once; each sweep then costs about N³
// instead of MN² multiply-adds. Unblocked (one reflector per dispatch pair) keeps every
// dispatch's loop work at a few passes down one column. Real GPUs would gain from a blocked
// (WY) update, which turns the trailing updates into matrix products; that is left for later.

fn tau_get(k: u32) -> elem { return work[wb + WORK_TAU + k]; }
fn tau_set(k: u32, x: elem) { work[wb + WORK_TAU + k] = x; }
fn uq_set(j: u32, i: u32, x: elem) { work[wb + WORK_UQ + j * LDW + i] = x; }

// Element i of reflector k's vector: 1 at i = k, stored below the diagonal after it.
fn reflector(k: u32, i: u32) -> elem {
    return select(a_get(k, i), elem_of(1.0), i == k);
}

// I − tau·v_k·v_kᴴ (tau = τ_k: H_k; conj(τ_k): H_kᴴ) applied to the column of M rows that
// starts `col` elements into this matrix's work area (a column of W for the QR, of Ũ for
// applying Q; both have stride LDW), the whole workgroup reducing down the rows. Only rows k…
// change.
fn reflect_column(tid: u32, k: u32, col: u32, tau: elem) {
    var part = PairSums(0.0, 0.0, elem_of(0.0));
    for (var i = k + tid; i < M; i += WG) {
        part.gamma = add_conj_dot(part.gamma, reflector(k, i), work[wb + col + i]);
    }
    let s = elem_mul(reduce_pair(tid, part).gamma, tau);
    for (var i = k + tid; i < M; i += WG) {
        work[wb + col + i] = sub_mul(work[wb + col + i], reflector(k, i), s);
    }
}

// The same by one invocation alone, looping down the rows: no barriers, for CPU devices (see
// jacobi_round_lanes).
fn reflect_column_alone(k: u32, col: u32, tau: elem) {
    var s = elem_of(0.0);
    for (var i = k; i < M; i += 1u) {
        s = add_conj_dot(s, reflector(k, i), work[wb + col + i]);
    }
    s = elem_mul(s, tau);
    for (var i = k; i < M; i += 1u) {
        work[wb + col + i] = sub_mul(work[wb + col + i], reflector(k, i), s);
    }
}

@compute @workgroup_size(WG)
fn qr_householder(@builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    if share(tid, state[mat].status) == 2u {
        return;
    }
    bind_matrix(mat);
    let k = params.round;
    // Every invocation reads α before invocation 0 overwrites it with β (the barriers in
    // reduce_pair order the two).
    let alpha = a_get(k, k);
    storageBarrier();
    var part = PairSums(0.0, 0.0, elem_of(0.0));
    for (var i = k + 1u + tid; i < M; i += WG) {
        part.alpha = add_abs2(part.alpha, a_get(k, i));
    }
    // W is scaled to a largest entry in [1, 2): the sum of squares cannot overflow.
    let below = reduce_pair(tid, part).alpha;
    var tau = elem_of(0.0);
    var beta = alpha;
    if below > 0.0 {
        // β = −sign(Re α)·‖[α; x]‖ keeps α − β free of cancellation (real: zlarfg's β).
        let norm = sqrt(add_abs2(below, alpha));
        let b = select(norm, -norm, real_part(alpha) >= 0.0);
        beta = elem_of(b);
        tau = (beta - alpha) / b;
        let scale = elem_inv(alpha - beta);
        for (var i = k + 1u + tid; i < M; i += WG) {
            a_set(k, i, elem_mul(a_get(k, i), scale));
        }
    }
    if tid == 0u {
        a_set(k, k, beta);
        tau_set(k, tau);
    }
}

@compute @workgroup_size(WG)
fn qr_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    if share(tid, state[mat].status) == 2u {
        return;
    }
    let k = params.round;
    let j = k + 1u + wid.x;
    if j >= N {
        return;
    }
    bind_matrix(mat);
    reflect_column(tid, k, WORK_W + j * LDW, conj_elem(tau_get(k)));
}

// The same update with one invocation per column (CPU devices).
// Grid (⌈(N−1−k)/LANES_WG⌉, count).
@compute @workgroup_size(LANES_WG)
fn qr_update_lanes(@builtin(global_invocation_id) gid: vec3<u32>) {
    let mat = gid.y;
    let k = params.round;
    let j = k + 1u + gid.x;
    if j >= N || state[mat].status == 2u {
        return;
    }
    bind_matrix(mat);
    reflect_column_alone(k, WORK_W + j * LDW, conj_elem(tau_get(k)));
}

@compute @workgroup_size(WG)
fn qr_extract_r(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
                @builtin(num_workgroups) groups: vec3<u32>) {
    let mat = wid.y;
    if state[mat].status == 2u {
        return;
    }
    bind_matrix(mat);
    for (var e = wid.x * WG + tid; e < N * N; e += groups.x * WG) {
        let j = e / N;
        let i = e % N;
        w_set(j, i, select(elem_of(0.0), a_get(j, i), i <= j));
    }
}

@compute @workgroup_size(WG)
fn qr_init_u(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
             @builtin(num_workgroups) groups: vec3<u32>) {
    let mat = wid.y;
    if state[mat].status == 2u {
        return;
    }
    bind_matrix(mat);
    for (var e = wid.x * WG + tid; e < M * N; e += groups.x * WG) {
        let j = e / M;
        let i = e % M;
        var x = elem_of(0.0);
        if i < N {
            x = w_get(j, i);
        }
        uq_set(j, i, x);
    }
}

@compute @workgroup_size(WG)
fn qr_apply_q(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    if share(tid, state[mat].status) == 2u {
        return;
    }
    bind_matrix(mat);
    reflect_column(tid, params.round, WORK_UQ + wid.x * LDW, tau_get(params.round));
}

// One invocation per column of Ũ (CPU devices). Grid (⌈N/LANES_WG⌉, count).
@compute @workgroup_size(LANES_WG)
fn qr_apply_q_lanes(@builtin(global_invocation_id) gid: vec3<u32>) {
    let mat = gid.y;
    let k = params.round;
    let j = gid.x;
    if j >= N || state[mat].status == 2u {
        return;
    }
    bind_matrix(mat);
    reflect_column_alone(k, WORK_UQ + j * LDW, tau_get(k));
}
