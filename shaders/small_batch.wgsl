// Batched 2×2 / 3×3 SVD or polar decomposition of real matrices (after small_io.wgsl, which
// documents the constants and the generated code): each invocation decomposes LANES
// consecutive matrices with bsvd_svd2_lanes / bsvd_svd3_lanes from small_svd.wgsl.
fn small_column_in(first: u32, c: u32) -> BsvdCol3 {
    return BsvdCol3(small_in_lanes(first, 0u, c, 0u), small_in_lanes(first, 1u, c, 0u), small_in_lanes(first, 2u, c, 0u));
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
            BsvdCol2(small_in_lanes(first, 0u, 0u, 0u), small_in_lanes(first, 1u, 0u, 0u)),
            BsvdCol2(small_in_lanes(first, 0u, 1u, 0u), small_in_lanes(first, 1u, 1u, 0u)),
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
    small_store_sigma(mat, x.s);
    if WANT_VECTORS {
        for (var c = 0u; c < N; c += 1u) {
            for (var r = 0u; r < N; r += 1u) {
                small_out(mat, true, r, c, 0u, x.f[c][r]);
                if WANT_SECOND {
                    small_out(mat, false, r, c, 0u, x.g[c][r]);
                }
            }
        }
    }
    if WANT_INFO {
        small_put_info(mat, x.status, x.sweeps);
    }
}
