// Batched 2×2 / 3×3 SVD or polar decomposition, the part every element type shares: where
// each element of each matrix lives. Each invocation decomposes LANES consecutive matrices,
// real ones with small_batch.wgsl (bsvd_svd2_lanes / bsvd_svd3_lanes of small_svd.wgsl),
// complex ones with small_batch_complex.wgsl (small_svd_complex.wgsl). Prepended: jacobi_common.wgsl's
// Params, the generated code listed below and these constants:
//
//   N            2 or 3
//   LANES        matrices per invocation (1 on GPUs; several on CPU devices, see small_svd.wgsl)
//   IN_LAYOUT    0: row-major packed (numpy), 1: column-major packed (nalgebra, WGSL mat),
//                2: column-major with columns padded to 4 floats (WGSL mat3x3<f32> in storage),
//                3: interleaved (structure of arrays): element (r, c) of every matrix, then the
//                   next element; consecutive invocations read consecutive floats (coalesced)
//   OUT_LAYOUT   same codes for the matrices written to u_out and vt_out
//   IN_STRIDE    elements per input matrix (N·N, or 12 for a padded 3×3)
//   OUT_STRIDE   elements per output matrix
//   PARTS        floats per element: 1 (real) or 2 (complex, interleaved (re, im) as numpy
//                stores it; packed layouts only)
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
// small_in_lanes(first, r, c, part) (float `part` of element (r, c) of matrices first …
// first+LANES−1, indices clamped to the batch) and small_store_lanes(first, results) (vec4 words for four whole
// matrices, else small_store for each of the matrices that exist).
//
// For SVD, u_out receives U and vt_out receives V, each stored with OUT_LAYOUT; since V stored
// column-major is Vᵀ stored row-major, the numpy layout (OUT_LAYOUT 0) gets U and Vᵀ row-major
// (complex kernels write conj(V), so that it gets Vᴴ).

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

// Float `part` of element (r, c) of matrix `mat` of the input.
fn small_in(mat: u32, r: u32, c: u32, part: u32) -> bsvd_s {
    return a_in[small_addr(IN_LAYOUT, IN_STRIDE, mat, r, c) * PARTS + part];
}

// Writes float `part` of matrix element (r, c) of U or R (`first`) or of V or S (second
// output).
fn small_out(mat: u32, first: bool, r: u32, c: u32, part: u32, x: bsvd_s) {
    if first {
        small_put_u_out(small_addr(OUT_LAYOUT, OUT_STRIDE, mat, r, c) * PARTS + part, x);
    } else if POLAR {
        small_put_vt_out(small_addr(OUT_LAYOUT, OUT_STRIDE, mat, r, c) * PARTS + part, x);
    } else {
        // V(r, c) goes where Vᵀ(c, r) goes in row-major order (= V in column-major order).
        let code = select(OUT_LAYOUT, 1u, OUT_LAYOUT == 0u);
        small_put_vt_out(small_addr(code, OUT_STRIDE, mat, r, c) * PARTS + part, x);
    }
}

// The MatrixInfo of a matrix (status, sweeps, off, negligible) as one word: off is NaN for
// non-finite input and 0 otherwise (the dedicated kernel does not report it).
fn small_info(status: u32, sweeps: u32) -> vec4<u32> {
    return vec4<u32>(status, sweeps, select(0u, 0x7fc00000u, status == 2u), 0u);
}

// Writes σ of matrix `mat` (its first N components), where WANT_SIGMA.
fn small_store_sigma(mat: u32, s: vec3<bsvd_s>) {
    if WANT_SIGMA {
        for (var k = 0u; k < N; k += 1u) {
            small_put_s_out(mat * N + k, s[k]);
        }
    }
}
