// Batched 2×2 / 3×3 SVD of complex matrices (after small_io.wgsl, which documents the
// constants and the generated code, with PARTS = 2): each invocation decomposes LANES
// consecutive matrices with bsvd_zsvd2_lanes / bsvd_zsvd3_lanes from small_svd_complex.wgsl.
// u_out receives U and vt_out conj(V) (stored as V is, so that row-major outputs hold Vᴴ).
// Complex results have the non-negative convention only, and the polar decomposition of
// complex matrices is formed from this SVD on the host (POLAR and ROTATION are false).

fn small_zin_lanes(first: u32, r: u32, c: u32) -> BsvdZ {
    return BsvdZ(small_in_lanes(first, r, c, 0u), small_in_lanes(first, r, c, 1u));
}

fn small_zcolumn_in(first: u32, c: u32) -> BsvdZCol3 {
    return BsvdZCol3(small_zin_lanes(first, 0u, c), small_zin_lanes(first, 1u, c), small_zin_lanes(first, 2u, c));
}

fn small_zconj3(a: BsvdZCol3) -> BsvdZCol3 {
    return BsvdZCol3(bsvd_zconj(a.x), bsvd_zconj(a.y), bsvd_zconj(a.z));
}

// A 2-vector as the first two entries of a 3-vector.
fn small_zwiden(a: BsvdZCol2) -> BsvdZCol3 {
    return BsvdZCol3(a.x, a.y, bsvd_zreal(bsvd_f(0.0)));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let first = (gid.x + gid.y * groups.x * 64u) * LANES;
    if first >= params.count {
        return;
    }
    let zero = bsvd_zreal(bsvd_f(0.0));
    let zero3 = BsvdZCol3(zero, zero, zero);
    // Columns of U and of V, and σ.
    var f0 = zero3;
    var f1 = zero3;
    var f2 = zero3;
    var g0 = zero3;
    var g1 = zero3;
    var g2 = zero3;
    var s0 = zero.re;
    var s1 = zero.re;
    var s2 = zero.re;
    var sweeps = bsvd_u(0u);
    var converged = bsvd_b(false);
    if N == 3u {
        let d = bsvd_zsvd3_lanes(small_zcolumn_in(first, 0u), small_zcolumn_in(first, 1u), small_zcolumn_in(first, 2u));
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
        let d = bsvd_zsvd2_lanes(
            BsvdZCol2(small_zin_lanes(first, 0u, 0u), small_zin_lanes(first, 1u, 0u)),
            BsvdZCol2(small_zin_lanes(first, 0u, 1u), small_zin_lanes(first, 1u, 1u)),
        );
        f0 = small_zwiden(d.u0);
        f1 = small_zwiden(d.u1);
        g0 = small_zwiden(d.v0);
        g1 = small_zwiden(d.v1);
        s0 = d.s0;
        s1 = d.s1;
        sweeps = d.sweeps;
        converged = d.converged;
    }
    let finite = bsvd_is_finite(s0);
    let status = select(select(bsvd_u(1u), bsvd_u(0u), converged), bsvd_u(2u), !finite);
    small_store_lanes(first, SmallLanes(f0, f1, f2, small_zconj3(g0), small_zconj3(g1), small_zconj3(g2), s0, s1, s2, status, sweeps));
}

// Everything an invocation writes, for its LANES matrices: U (f), conj(V) (g), σ, status and
// sweeps.
struct SmallLanes {
    f0: BsvdZCol3,
    f1: BsvdZCol3,
    f2: BsvdZCol3,
    g0: BsvdZCol3,
    g1: BsvdZCol3,
    g2: BsvdZCol3,
    s0: bsvd_f,
    s1: bsvd_f,
    s2: bsvd_f,
    status: bsvd_u,
    sweeps: bsvd_u,
}

// What one matrix writes: real and imaginary parts of U (f) and conj(V) (g), σ, status, sweeps.
struct SmallResult {
    f_re: mat3x3<bsvd_s>,
    f_im: mat3x3<bsvd_s>,
    g_re: mat3x3<bsvd_s>,
    g_im: mat3x3<bsvd_s>,
    s: vec3<bsvd_s>,
    status: u32,
    sweeps: u32,
}

fn small_zvec3(c: BsvdZCol3, l: u32, part: u32) -> vec3<bsvd_s> {
    if part == 0u {
        return vec3<bsvd_s>(bsvd_lane_f(c.x.re, l), bsvd_lane_f(c.y.re, l), bsvd_lane_f(c.z.re, l));
    }
    return vec3<bsvd_s>(bsvd_lane_f(c.x.im, l), bsvd_lane_f(c.y.im, l), bsvd_lane_f(c.z.im, l));
}

fn small_zmat3(c0: BsvdZCol3, c1: BsvdZCol3, c2: BsvdZCol3, l: u32, part: u32) -> mat3x3<bsvd_s> {
    return mat3x3<bsvd_s>(small_zvec3(c0, l, part), small_zvec3(c1, l, part), small_zvec3(c2, l, part));
}

// Matrix `l` of the invocation's results.
fn small_lane(x: SmallLanes, l: u32) -> SmallResult {
    return SmallResult(
        small_zmat3(x.f0, x.f1, x.f2, l, 0u),
        small_zmat3(x.f0, x.f1, x.f2, l, 1u),
        small_zmat3(x.g0, x.g1, x.g2, l, 0u),
        small_zmat3(x.g0, x.g1, x.g2, l, 1u),
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
                small_out(mat, true, r, c, 0u, x.f_re[c][r]);
                small_out(mat, true, r, c, 1u, x.f_im[c][r]);
                small_out(mat, false, r, c, 0u, x.g_re[c][r]);
                small_out(mat, false, r, c, 1u, x.g_im[c][r]);
            }
        }
    }
    if WANT_INFO {
        small_put_info(mat, x.status, x.sweeps);
    }
}
