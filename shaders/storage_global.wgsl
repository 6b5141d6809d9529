// Storage back-end "global": W, V and the finalize scratch of each matrix live in a storage
// buffer `work` (WORK_STRIDE elements per matrix), used by the multi-dispatch family. Columns
// are contiguous, so invocations working down a column read consecutive addresses (coalesced
// on real GPUs).
//
// With QR preconditioning (QR, qr_global.wgsl) the loaded matrix A (region W) is factored in
// place, the sweeps rotate the N×N triangle R (region R), and U = Q·R_final is formed in
// region UQ. Without it the sweeps rotate W itself. Either way `w_get`/`w_set` address the
// matrix the sweeps rotate (JM rows, leading dimension LDJ), `a_get`/`a_set` the loaded one,
// and `u_get` the unnormalised left vectors the write step reads.

// Elements (`elem`: real or complex); σ and the permutation are stored as real elements.
@group(0) @binding(6) var<storage, read_write> work: array<elem>;

const WORK_W: u32 = 0u;
const WORK_V: u32 = LDW * N;
const WORK_SIG: u32 = WORK_V + V_LEN;
const WORK_PERM: u32 = WORK_SIG + N;
const WORK_R: u32 = WORK_PERM + N;
const WORK_TAU: u32 = WORK_R + select(0u, N * N, QR);
const WORK_UQ: u32 = WORK_TAU + select(0u, N, QR);
const WORK_QB: u32 = WORK_UQ + select(0u, LDW * N, QR && WANT_VECTORS);
// Blocked sweeps (BLOCKED, blocked_global.wgsl): per block pair of a round, its 32×32
// orthogonal transform and a flag (the transform is not the identity).
const QB_STRIDE: u32 = 32u * 32u + 1u;
const WORK_STRIDE: u32 = WORK_QB + select(0u, NBPAIRS_B * QB_STRIDE, BLOCKED);

// The matrix the sweeps rotate: R (N×N) with QR preconditioning, else W itself.
const JM: u32 = select(M, N, QR);
const LDJ: u32 = select(LDW, N, QR);
const WORK_J: u32 = select(WORK_W, WORK_R, QR);

var<private> wb: u32;

fn bind_matrix(mat: u32) { wb = mat * WORK_STRIDE; }

fn w_get(j: u32, i: u32) -> elem { return work[wb + WORK_J + j * LDJ + i]; }
fn w_set(j: u32, i: u32, x: elem) { work[wb + WORK_J + j * LDJ + i] = x; }
fn a_get(j: u32, i: u32) -> elem { return work[wb + WORK_W + j * LDW + i]; }
fn a_set(j: u32, i: u32, x: elem) { work[wb + WORK_W + j * LDW + i] = x; }
fn u_get(j: u32, i: u32) -> elem {
    if QR {
        return work[wb + WORK_UQ + j * LDW + i];
    }
    return w_get(j, i);
}
fn v_get(j: u32, i: u32) -> elem { return work[wb + WORK_V + j * N + i]; }
fn v_set(j: u32, i: u32, x: elem) { work[wb + WORK_V + j * N + i] = x; }
fn sig_get(j: u32) -> real { return real_part(work[wb + WORK_SIG + j]); }
fn sig_set(j: u32, x: real) { work[wb + WORK_SIG + j] = elem_of(x); }
// Column indices are stored as reals: exact up to 2^24 in f32.
fn perm_get(r: u32) -> u32 { return u32(real_part(work[wb + WORK_PERM + r])); }
fn perm_set(r: u32, j: u32) { work[wb + WORK_PERM + r] = elem_of(real(j)); }

// Storage writes need storageBarrier to be visible to the other invocations; the workgroup
// barrier covers the reduction scratch and flags in workgroup memory.
fn sync() {
    storageBarrier();
    workgroupBarrier();
}
