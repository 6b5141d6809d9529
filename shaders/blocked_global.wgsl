// Blocked one-sided Jacobi for the multi-dispatch family (BLOCKED; src/gpu/shader.rs decides):
// the sweeps pair blocks of 16 columns instead of single columns.
//
// Written against the element interface (element_real.wgsl / complex.wgsl), so one source
// serves real and complex elements: for complex X the Gram matrix is Hermitian, G = XᴴX, the
// inner rotations are cgesvj's (`pair_rotation`) and Q is unitary.
//
// The N columns of the working matrix X (W, or R with QR preconditioning) form NB blocks of
// BLOCK = 16 columns (the last one padded with zero columns, NB padded to even NB2 with a
// phantom block). A sweep is NB2−1 rounds of the circle ordering over blocks; in each round
// the NBPAIRS_B block pairs (I, J) are disjoint and run in parallel:
//   blocked_rotations  grid (NBPAIRS_B, count), one workgroup per block pair:
//                        G = [X_I X_J]ᴴ[X_I X_J] (32×32), streamed through workgroup memory
//                        in 32-row tiles; if some |cos(x_p, x_q)| exceeds the tolerance,
//                        cyclic Jacobi on G (up to INNER_SWEEPS sweeps, 16 disjoint rotations
//                        per step) accumulates the unitary Q with QᴴGQ ≈ diagonal.
//   blocked_apply      grid (row tiles, NBPAIRS_B, count): [X_I X_J] ← [X_I X_J]·Q and
//                        [V_I V_J] ← [V_I V_J]·Q, one 32×32 tile of rows per workgroup.
// Convergence is decided on G computed afresh from X at every visit, with the same relative
// test as the column-pair kernels, so the stopping rule and the accuracy are theirs; Q only
// has to make progress, which is why a few inner sweeps suffice.
//
// Why blocks: a column pair costs three passes over 2 columns for 6·M flops (bandwidth-
// bound); a block pair costs two passes over 32 columns for about 4·32·M flops, with each
// loaded element reused 32 times from workgroup memory. On real GPUs the Gram and update
// steps are small matrix products (the operation GPUs are built for), and a sweep takes
// NB2−1 rounds of 2 dispatches instead of N2−1 rounds of 1: 16× fewer dispatches.
// Workgroup memory: two 32×33 arrays of elements (the odd stride 33 spreads a warp's
// column-strided reads over the banks) and the rotation table: 8.8 KB for f32, 17 KB for f64
// and complex64, 35 KB for complex128 (`JacobiKernel::blocked_workgroup_bytes`). `gram` holds
// in turn the streamed 32-row tiles of X, G, and I − QᴴQ (and the X tile in blocked_apply), so
// complex128 stays within the 48 KB most GPUs give a workgroup.

const BLOCK: u32 = 16u;
const BW: u32 = 32u;          // columns of a block pair
const TS: u32 = 33u;          // stride of the tiles in workgroup memory
const BWG: u32 = 256u;        // invocations per workgroup of the blocked kernels
const INNER_SWEEPS: u32 = 2u;
const XR: u32 = JM + select(0u, N, WANT_VECTORS); // rows of [X; V]

var<workgroup> gram: array<elem, 1056>;   // 32 columns × TS
var<workgroup> qmat: array<elem, 1056>;
var<workgroup> rot_c: array<real, 32>;
var<workgroup> rot_s: array<elem, 32>;
var<workgroup> rot_p: array<u32, 32>;
var<workgroup> rot_count: atomic<u32>;
var<workgroup> rel_bits: atomic<u32>;

fn qb_get(bp: u32, e: u32) -> elem { return work[wb + WORK_QB + bp * QB_STRIDE + e]; }
fn qb_set(bp: u32, e: u32, x: elem) { work[wb + WORK_QB + bp * QB_STRIDE + e] = x; }
fn qb_flag_set(bp: u32, on: bool) { qb_set(bp, BW * BW, elem_of(select(real(0.0), real(1.0), on))); }

// Column of X at slot t (0…31) of block pair (I, J); N or more for padding.
fn slot_column(bij: vec2<u32>, t: u32) -> u32 {
    return select(bij.y * BLOCK + (t - BLOCK), bij.x * BLOCK + t, t < BLOCK);
}

// Row r of [X; V] in column j, or zero past the ends.
fn xv_get(j: u32, r: u32) -> elem {
    if j >= N || r >= XR {
        return elem_of(0.0);
    }
    if r < JM {
        return w_get(j, r);
    }
    return v_get(j, r - JM);
}

fn xv_set(j: u32, r: u32, x: elem) {
    if j >= N || r >= XR {
        return;
    }
    if r < JM {
        w_set(j, r, x);
    } else {
        v_set(j, r - JM, x);
    }
}

@compute @workgroup_size(BWG)
fn blocked_rotations(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(local_invocation_index) tid: u32) {
    let mat = wid.y;
    let bp = wid.x;
    if share(tid, state[mat].status) != RUNNING {
        return;
    }
    bind_matrix(mat);
    let bij = circle_pair(NB2, params.round, bp);
    if bij.y >= NB {
        // A pair with the phantom block: nothing to rotate.
        if tid == 0u {
            qb_flag_set(bp, false);
        }
        return;
    }
    if tid == 0u {
        atomicStore(&rot_count, 0u);
        atomicStore(&rel_bits, 0u);
    }
    // G = XᴴX over the 32 slots: invocation t accumulates the 2×2 block at rows r0, r0+1 and
    // columns c0, c0+1 of G, G[r][c] = Σ_i conj(x_ir)·x_ic, while 32-row tiles of X stream
    // through `gram`.
    let r0 = 2u * (tid / 16u);
    let c0 = 2u * (tid % 16u);
    var g00 = elem_of(0.0);
    var g10 = elem_of(0.0);
    var g01 = elem_of(0.0);
    var g11 = elem_of(0.0);
    for (var i0 = 0u; i0 < JM; i0 += BW) {
        // Consecutive invocations load consecutive rows of one column (coalesced).
        for (var e = tid; e < BW * BW; e += BWG) {
            let j = slot_column(bij, e / BW);
            let i = i0 + e % BW;
            var x = elem_of(0.0);
            if j < N && i < JM {
                x = w_get(j, i);
            }
            gram[(e / BW) * TS + e % BW] = x;
        }
        workgroupBarrier();
        for (var i = 0u; i < BW; i += 1u) {
            let a0 = gram[r0 * TS + i];
            let a1 = gram[(r0 + 1u) * TS + i];
            let b0 = gram[c0 * TS + i];
            let b1 = gram[(c0 + 1u) * TS + i];
            g00 = add_conj_dot(g00, a0, b0);
            g10 = add_conj_dot(g10, a1, b0);
            g01 = add_conj_dot(g01, a0, b1);
            g11 = add_conj_dot(g11, a1, b1);
        }
        workgroupBarrier();
    }
    gram[c0 * TS + r0] = g00;
    gram[c0 * TS + r0 + 1u] = g10;
    gram[(c0 + 1u) * TS + r0] = g01;
    gram[(c0 + 1u) * TS + r0 + 1u] = g11;
    for (var e = tid; e < BW * BW; e += BWG) {
        qmat[(e / BW) * TS + e % BW] = elem_of(select(real(0.0), real(1.0), e / BW == e % BW));
    }
    workgroupBarrier();
    // Largest relative off-diagonal |cos| among this invocation's entries above the diagonal.
    var rel = real(0.0);
    for (var k = 0u; k < 4u; k += 1u) {
        let r = r0 + k % 2u;
        let c = c0 + k / 2u;
        if r < c {
            let alpha = real_part(gram[r * TS + r]);
            let beta = real_part(gram[c * TS + c]);
            rel = max(rel, pair_rotation(alpha, beta, gram[c * TS + r], real(params.tol)).rel);
        }
    }
    atomicMax(&rel_bits, bitcast<u32>(f32(rel)));
    workgroupBarrier();
    let worst = bitcast<f32>(share(tid, atomicLoad(&rel_bits)));
    if tid == 0u {
        atomicMax(&state[mat].off_bits, bitcast<u32>(worst));
    }
    if worst <= params.tol {
        if tid == 0u {
            qb_flag_set(bp, false);
        }
        return;
    }
    if tid == 0u {
        atomicOr(&state[mat].rotated, 1u);
    }
    // Cyclic Jacobi on G, 16 disjoint rotations per step: G ← JᴴGJ, Q ← QJ.
    var seen = 0u;
    for (var sweep = 0u; sweep < INNER_SWEEPS; sweep += 1u) {
        for (var r = 0u; r < BW - 1u; r += 1u) {
            if tid < BW / 2u {
                let pq = circle_pair(BW, r, tid);
                let alpha = real_part(gram[pq.x * TS + pq.x]);
                let beta = real_part(gram[pq.y * TS + pq.y]);
                let gamma = gram[pq.y * TS + pq.x];
                let r = pair_rotation(alpha, beta, gamma, real(params.tol));
                if r.rel > real(params.tol) {
                    atomicAdd(&rot_count, 1u);
                }
                // New column p = c·x_p − conj(sw)·x_q, new column q = sw·x_p + c·x_q
                // (rotate_p, rotate_q): column b of J is c at b and rot_s[b] at rot_p[b].
                rot_c[pq.x] = r.c;
                rot_c[pq.y] = r.c;
                rot_s[pq.x] = -conj_elem(r.sw);
                rot_s[pq.y] = r.sw;
                rot_p[pq.x] = pq.y;
                rot_p[pq.y] = pq.x;
            }
            workgroupBarrier();
            var gn: array<elem, 4>;
            var qn: array<elem, 4>;
            for (var k = 0u; k < 4u; k += 1u) {
                let e = tid + k * BWG;
                let a = e % BW;
                let b = e / BW;
                let pa = rot_p[a];
                let pb = rot_p[b];
                let ca = rot_c[a];
                let sa = rot_s[a];
                let cb = rot_c[b];
                let sb = rot_s[b];
                // (GJ)[a][b] and (GJ)[pa][b], then (JᴴGJ)[a][b]; (QJ)[a][b].
                let row_a = cb * gram[b * TS + a] + elem_mul(sb, gram[pb * TS + a]);
                let row_pa = cb * gram[b * TS + pa] + elem_mul(sb, gram[pb * TS + pa]);
                gn[k] = ca * row_a + elem_mul(conj_elem(sa), row_pa);
                qn[k] = cb * qmat[b * TS + a] + elem_mul(sb, qmat[pb * TS + a]);
            }
            workgroupBarrier();
            for (var k = 0u; k < 4u; k += 1u) {
                let e = tid + k * BWG;
                gram[(e / BW) * TS + e % BW] = gn[k];
                qmat[(e / BW) * TS + e % BW] = qn[k];
            }
            workgroupBarrier();
        }
        let total = share(tid, atomicLoad(&rot_count));
        if total == seen {
            break;
        }
        seen = total;
    }
    // One Björck step, Q ← Q + ½·Q·(I − QᴴQ): removes most of the orthogonality error the f32
    // rotations left in Q (c² + |s|² = 1 only to rounding, once per rotation of each column),
    // which V would otherwise accumulate over every block-pair visit of every sweep. G is no
    // longer needed: I − QᴴQ goes to `gram`.
    for (var k = 0u; k < 4u; k += 1u) {
        let e = tid + k * BWG;
        let a = e % BW;
        let b = e / BW;
        var d = elem_of(select(real(0.0), real(1.0), a == b));
        for (var j = 0u; j < BW; j += 1u) {
            d = add_conj_dot(d, -qmat[a * TS + j], qmat[b * TS + j]);
        }
        gram[b * TS + a] = d;
    }
    workgroupBarrier();
    var qn: array<elem, 4>;
    for (var k = 0u; k < 4u; k += 1u) {
        let e = tid + k * BWG;
        let a = e % BW;
        let b = e / BW;
        var acc = elem_of(0.0);
        for (var j = 0u; j < BW; j += 1u) {
            acc = add_mul(acc, qmat[j * TS + a], gram[b * TS + j]);
        }
        qn[k] = 0.5 * acc + qmat[b * TS + a];
    }
    for (var k = 0u; k < 4u; k += 1u) {
        let e = tid + k * BWG;
        qb_set(bp, e, qn[k]);
    }
    if tid == 0u {
        qb_flag_set(bp, true);
    }
}

@compute @workgroup_size(BWG)
fn blocked_apply(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(local_invocation_index) tid: u32) {
    let mat = wid.z;
    let bp = wid.y;
    bind_matrix(mat);
    let on = state[mat].status == RUNNING && real_part(qb_get(bp, BW * BW)) != 0.0;
    if share(tid, select(0u, 1u, on)) == 0u {
        return;
    }
    let bij = circle_pair(NB2, params.round, bp);
    let row0 = wid.x * BW;
    // The 32×32 tile of [X; V] rows goes to `gram`'s memory.
    for (var e = tid; e < BW * BW; e += BWG) {
        qmat[(e / BW) * TS + e % BW] = qb_get(bp, e);
        gram[(e / BW) * TS + e % BW] = xv_get(slot_column(bij, e / BW), row0 + e % BW);
    }
    workgroupBarrier();
    // Element (row a, slot b) of the tile times Q; consecutive invocations write consecutive
    // rows of one column (coalesced), and read one Q column (a broadcast).
    for (var k = 0u; k < 4u; k += 1u) {
        let e = tid + k * BWG;
        let a = e % BW;
        let b = e / BW;
        var acc = elem_of(0.0);
        for (var j = 0u; j < BW; j += 1u) {
            acc = add_mul(acc, gram[j * TS + a], qmat[b * TS + j]);
        }
        xv_set(slot_column(bij, b), row0 + a, acc);
    }
}
