// Batched 2×2 / 3×3 SVD or polar decomposition: each invocation decomposes LANES consecutive
// matrices with bsvd_svd2_lanes / bsvd_svd3_lanes from small_svd.wgsl (prepended, with
// jacobi_common.wgsl's Params, the generated code listed below and these constants):
//
//   N            2 or 3
//   LANES        matrices per invocation (1 on GPUs; several on CPU devices, see small_svd.wgsl)
//   IN_LAYOUT    0: row-major packed (numpy), 1: column-major packed (nalgebra, WGSL mat),
//                2: column-major with columns padded to 4 floats (WGSL mat3x3<f32> in storage),
//                3: interleaved (structure of arrays): element (r, c) of every matrix, then the
//                   next element; consecutive invocations read consecutive floats (coalesced)
//   OUT_LAYOUT   same codes for the matrices written to u_out and vt_out
//   IN_STRIDE    floats per input matrix (N·N, or 12 for a padded 3×3)
//   OUT_STRIDE   floats per output matrix
//   ROTATION     Rotation sign convention (det U = det V = +1, signed last σ)
//   POLAR        write R (to u_out) and S (to vt_out) instead of U and V
//   WANT_VECTORS write U/V (or R/S) at all
//   WANT_SECOND  write V (or S); false for the rotation-only polar decomposition
//   WANT_SIGMA   write σ to s_out
//   WANT_INFO    write the per-matrix report to info_out
//
// and the generated code (src/gpu/small_code.rs): the bindings, small_put_s_out/u_out/vt_out
// (one float of an output), small_put_info (a matrix's report: a MatrixInfo, or on the host
// path status | sweeps << 2 in one u32), bsvd_lane_f/u/b(x, l) (component l of a lane value),
// small_in_lanes(first, r, c) (element (r, c) of matrices first … first+LANES−1, indices
// clamped to the batch) and small_store_lanes(first, results) (vec4 words for four whole
// matrices, else small_store for each of the matrices that exist).
//
// For SVD, u_out receives U and vt_out receives V, each stored with OUT_LAYOUT; since V stored
// column-major is Vᵀ stored row-major, the numpy layout (OUT_LAYOUT 0) gets U and Vᵀ row-major.

// Index of element (r, c) of a matrix in `layout`.
fn small_index(code: u32, r: u32, c: u32) -> u32 {
    if code == 0u {
        return r * N + c;
    }
    if code == 1u {
        return c * N + r;
    }
    // Padded columns: a WGSL mat3x3<f32> pads each column to 4 floats; a mat2x2<f32> has no
    // padding (layout 2 is layout 1 for N = 2).
    return c * select(N, 4u, N == 3u) + r;
}

// Address of element (r, c) of matrix `mat` in `layout`, whose packed matrices take `stride`
// floats. Interleaved: component (c·N + r) of all params.count matrices, one after another.
fn small_addr(code: u32, stride: u32, mat: u32, r: u32, c: u32) -> u32 {
    if code == 3u {
        return (c * N + r) * params.count + mat;
    }
    return mat * stride + small_index(code, r, c);
}

fn small_in(mat: u32, r: u32, c: u32) -> bsvd_s {
    return a_in[small_addr(IN_LAYOUT, IN_STRIDE, mat, r, c)];
}

// Writes matrix element (r, c) of U or R (`first`) or of V or S (second output).
fn small_out(mat: u32, first: bool, r: u32, c: u32, x: bsvd_s) {
    if first {
        small_put_u_out(small_addr(OUT_LAYOUT, OUT_STRIDE, mat, r, c), x);
    } else if POLAR {
        small_put_vt_out(small_addr(OUT_LAYOUT, OUT_STRIDE, mat, r, c), x);
    } else {
        // V(r, c) goes where Vᵀ(c, r) goes in row-major order (= V in column-major order).
        let code = select(OUT_LAYOUT, 1u, OUT_LAYOUT == 0u);
        small_put_vt_out(small_addr(code, OUT_STRIDE, mat, r, c), x);
    }
}

// The MatrixInfo of a matrix (status, sweeps, off, negligible) as one word: off is NaN for
// non-finite input and 0 otherwise (the dedicated kernel does not report it).
fn small_info(status: u32, sweeps: u32) -> vec4<u32> {
    return vec4<u32>(status, sweeps, select(0u, 0x7fc00000u, status == 2u), 0u);
}

fn small_column_in(first: u32, c: u32) -> BsvdCol3 {
    return BsvdCol3(small_in_lanes(first, 0u, c), small_in_lanes(first, 1u, c), small_in_lanes(first, 2u, c));
}

// k0·c0 + k1·c1 + k2·c2.
fn small_combine(c0: BsvdCol3, c1: BsvdCol3, c2: BsvdCol3, k0: bsvd_f, k1: bsvd_f, k2: bsvd_f) -> BsvdCol3 {
    return BsvdCol3(
        k0 * c0.x + k1 * c1.x + k2 * c2.x,
        k0 * c0.y + k1 * c1.y + k2 * c2.y,
        k0 * c0.z + k1 * c1.z + k2 * c2.z,
    );
}

// Loads are per invocation, each reading its own matrices: on a GPU (LANES = 1) the lanes of
// a warp then read addresses IN_STRIDE floats apart, and the warp's first load instruction
// brings the 128-byte lines into L1 for the following ones, so DRAM traffic is that of a
// coalesced load but L1 transactions are several times more. Staging the workgroup's 64
// contiguous matrices through workgroup memory (coalesced reads, then odd-stride reads without
// bank conflicts) was tried and halved the 3×3 polar throughput on lavapipe (the barrier is a
// coroutine switch there), so it is not used; on GPUs it is the next thing to measure.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let first = (gid.x + gid.y * groups.x * 64u) * LANES;
    if first >= params.count {
        return;
    }
    let zero = bsvd_f(0.0);
    let zero3 = BsvdCol3(zero, zero, zero);
    // Columns of U (or R) and of V (or S), and σ.
    var f0 = zero3;
    var f1 = zero3;
    var f2 = zero3;
    var g0 = zero3;
    var g1 = zero3;
    var g2 = zero3;
    var s0 = zero;
    var s1 = zero;
    var s2 = zero;
    var sweeps = bsvd_u(0u);
    var converged = bsvd_b(false);
    if N == 3u {
        let d = bsvd_svd3_lanes(small_column_in(first, 0u), small_column_in(first, 1u), small_column_in(first, 2u), ROTATION);
        f0 = d.u0;
        f1 = d.u1;
        f2 = d.u2;
        g0 = d.v0;
        g1 = d.v1;
        g2 = d.v2;
        s0 = d.s0;
        s1 = d.s1;
        s2 = d.s2;
        sweeps = d.sweeps;
        converged = d.converged;
    } else {
        let d = bsvd_svd2_lanes(
            BsvdCol2(small_in_lanes(first, 0u, 0u), small_in_lanes(first, 1u, 0u)),
            BsvdCol2(small_in_lanes(first, 0u, 1u), small_in_lanes(first, 1u, 1u)),
            ROTATION,
        );
        f0 = BsvdCol3(d.u0.x, d.u0.y, zero);
        f1 = BsvdCol3(d.u1.x, d.u1.y, zero);
        g0 = BsvdCol3(d.v0.x, d.v0.y, zero);
        g1 = BsvdCol3(d.v1.x, d.v1.y, zero);
        s0 = d.s0;
        s1 = d.s1;
        sweeps = d.sweeps;
        converged = d.converged;
    }
    let finite = bsvd_is_finite(s0);
    if POLAR {
        // R = U·Vᵀ: column c is Σ_k u_k·V(c, k). S = V·diag(σ)·Vᵀ: column c is Σ_k σ_k·v_k·V(c, k),
        // with the signed σ of the rotation convention. NaN stays NaN.
        let r0 = small_combine(f0, f1, f2, g0.x, g1.x, g2.x);
        let r1 = small_combine(f0, f1, f2, g0.y, g1.y, g2.y);
        let r2 = small_combine(f0, f1, f2, g0.z, g1.z, g2.z);
        let h0 = bsvd_scale3(g0, s0);
        let h1 = bsvd_scale3(g1, s1);
        let h2 = bsvd_scale3(g2, s2);
        let q0 = small_combine(h0, h1, h2, g0.x, g1.x, g2.x);
        let q1 = small_combine(h0, h1, h2, g0.y, g1.y, g2.y);
        let q2 = small_combine(h0, h1, h2, g0.z, g1.z, g2.z);
        g0 = q0;
        g1 = q1;
        g2 = q2;
        f0 = r0;
        f1 = r1;
        f2 = r2;
    }
    let status = select(select(bsvd_u(1u), bsvd_u(0u), converged), bsvd_u(2u), !finite);
    small_store_lanes(first, SmallLanes(f0, f1, f2, g0, g1, g2, s0, s1, s2, status, sweeps));
}

// Everything an invocation writes, for its LANES matrices.
struct SmallLanes {
    f0: BsvdCol3,
    f1: BsvdCol3,
    f2: BsvdCol3,
    g0: BsvdCol3,
    g1: BsvdCol3,
    g2: BsvdCol3,
    s0: bsvd_f,
    s1: bsvd_f,
    s2: bsvd_f,
    status: bsvd_u,
    sweeps: bsvd_u,
}

// What one matrix writes: U or R (f), V or S (g), σ, status and sweeps.
struct SmallResult {
    f: mat3x3<bsvd_s>,
    g: mat3x3<bsvd_s>,
    s: vec3<bsvd_s>,
    status: u32,
    sweeps: u32,
}

fn small_vec3(c: BsvdCol3, l: u32) -> vec3<bsvd_s> {
    return vec3<bsvd_s>(bsvd_lane_f(c.x, l), bsvd_lane_f(c.y, l), bsvd_lane_f(c.z, l));
}

// Matrix `l` of the invocation's results.
fn small_lane(x: SmallLanes, l: u32) -> SmallResult {
    return SmallResult(
        mat3x3<bsvd_s>(small_vec3(x.f0, l), small_vec3(x.f1, l), small_vec3(x.f2, l)),
        mat3x3<bsvd_s>(small_vec3(x.g0, l), small_vec3(x.g1, l), small_vec3(x.g2, l)),
        vec3<bsvd_s>(bsvd_lane_f(x.s0, l), bsvd_lane_f(x.s1, l), bsvd_lane_f(x.s2, l)),
        bsvd_lane_u(x.status, l),
        bsvd_lane_u(x.sweeps, l),
    );
}

fn small_store(mat: u32, x: SmallResult) {
    if WANT_SIGMA {
        for (var k = 0u; k < N; k += 1u) {
            small_put_s_out(mat * N + k, x.s[k]);
        }
    }
    if WANT_VECTORS {
        for (var c = 0u; c < N; c += 1u) {
            for (var r = 0u; r < N; r += 1u) {
                small_out(mat, true, r, c, x.f[c][r]);
                if WANT_SECOND {
                    small_out(mat, false, r, c, x.g[c][r]);
                }
            }
        }
    }
    if WANT_INFO {
        small_put_info(mat, x.status, x.sweeps);
    }
}
