// Batched 2×2 / 3×3 SVD or polar decomposition: one invocation per matrix, calling svd2/svd3
// from small_svd.wgsl (prepended, with jacobi_common.wgsl's bindings and these constants):
//
//   N            2 or 3
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
//   WANT_INFO    write the per-matrix MatrixInfo to info_out
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
    return c * 4u + r;
}

// Address of element (r, c) of matrix `mat` in `layout`, whose packed matrices take `stride`
// floats. Interleaved: component (c·N + r) of all params.count matrices, one after another.
fn small_addr(code: u32, stride: u32, mat: u32, r: u32, c: u32) -> u32 {
    if code == 3u {
        return (c * N + r) * params.count + mat;
    }
    return mat * stride + small_index(code, r, c);
}

fn small_in(mat: u32, r: u32, c: u32) -> f32 {
    return a_in[small_addr(IN_LAYOUT, IN_STRIDE, mat, r, c)];
}

// Writes matrix element (r, c) of U or R (`first`) or of V or S (second output).
fn small_out(mat: u32, first: bool, r: u32, c: u32, x: f32) {
    if first {
        u_out[small_addr(OUT_LAYOUT, OUT_STRIDE, mat, r, c)] = x;
    } else if POLAR {
        vt_out[small_addr(OUT_LAYOUT, OUT_STRIDE, mat, r, c)] = x;
    } else {
        // V(r, c) goes where Vᵀ(c, r) goes in row-major order (= V in column-major order).
        let code = select(OUT_LAYOUT, 1u, OUT_LAYOUT == 0u);
        vt_out[small_addr(code, OUT_STRIDE, mat, r, c)] = x;
    }
}

// Loads are per invocation, each reading its own matrix: on a GPU the lanes of a warp then read
// addresses IN_STRIDE floats apart, and the warp's first load instruction brings the 128-byte
// lines into L1 for the following ones, so DRAM traffic is that of a coalesced load but L1
// transactions are several times more. Staging the workgroup's 64 contiguous matrices through
// workgroup memory (coalesced reads, then odd-stride reads without bank conflicts) was tried
// and halved the 3×3 polar throughput on lavapipe (14 → 7.4 M/s in examples/physics_step.rs;
// the barrier is a coroutine switch there), so it is not used; on GPUs it is the next thing to
// measure.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let mat = gid.x + gid.y * groups.x * 64u;
    if mat >= params.count {
        return;
    }
    var s = vec3<f32>(0.0, 0.0, 0.0);
    var first = mat3x3<f32>();
    var second = mat3x3<f32>();
    var sweeps = 1u;
    var converged = true;
    if N == 3u {
        let a = mat3x3<f32>(
            vec3<f32>(small_in(mat, 0u, 0u), small_in(mat, 1u, 0u), small_in(mat, 2u, 0u)),
            vec3<f32>(small_in(mat, 0u, 1u), small_in(mat, 1u, 1u), small_in(mat, 2u, 1u)),
            vec3<f32>(small_in(mat, 0u, 2u), small_in(mat, 1u, 2u), small_in(mat, 2u, 2u)),
        );
        let d = bsvd_svd3(a, ROTATION);
        s = d.s;
        sweeps = d.sweeps;
        converged = d.converged;
        first = d.u;
        second = d.v;
    } else {
        let a = mat2x2<f32>(
            vec2<f32>(small_in(mat, 0u, 0u), small_in(mat, 1u, 0u)),
            vec2<f32>(small_in(mat, 0u, 1u), small_in(mat, 1u, 1u)),
        );
        let d = bsvd_svd2(a, ROTATION);
        s = vec3<f32>(d.s, 0.0);
        sweeps = d.sweeps;
        first = mat3x3<f32>(vec3<f32>(d.u[0], 0.0), vec3<f32>(d.u[1], 0.0), vec3<f32>());
        second = mat3x3<f32>(vec3<f32>(d.v[0], 0.0), vec3<f32>(d.v[1], 0.0), vec3<f32>());
    }
    let non_finite = !bsvd_is_finite(s.x);
    if POLAR && !non_finite {
        // R = U·Vᵀ, S = V·diag(σ)·Vᵀ with the signed σ of the rotation convention.
        let vt = transpose(second);
        let sd = mat3x3<f32>(vec3<f32>(s.x, 0.0, 0.0), vec3<f32>(0.0, s.y, 0.0), vec3<f32>(0.0, 0.0, s.z));
        let r = first * vt;
        second = second * sd * vt;
        first = r;
    }
    if WANT_SIGMA {
        for (var k = 0u; k < N; k += 1u) {
            s_out[mat * N + k] = s[k];
        }
    }
    if WANT_VECTORS {
        for (var c = 0u; c < N; c += 1u) {
            for (var r = 0u; r < N; r += 1u) {
                small_out(mat, true, r, c, first[c][r]);
                if WANT_SECOND {
                    small_out(mat, false, r, c, second[c][r]);
                }
            }
        }
    }
    let status = select(select(1u, 0u, converged), 2u, non_finite);
    if !WANT_INFO {
        return;
    }
    info_out[mat] = MatrixInfo(status, select(sweeps, 0u, non_finite), select(0.0, bitcast<f32>(0x7fc00000u), non_finite), 0u);
}
