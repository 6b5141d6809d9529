// Finalize helpers of the two families that keep W and V in memory (workgroup or global):
// ranking and the per-element output formulas, written against the storage back-end's
// accessors (u_get, v_get, sig_get, perm_get).

// Rescales column j of V to unit norm. Every f32 rotation changes the norms of the two columns
// it touches by about ε (c² + s² = 1 only to rounding, with a bias), and over the sweeps that
// drift, not a loss of orthogonality between columns, is nearly all of ‖VᵀV − I‖: removing it
// tightened V's orthogonality about 20× (256×256: 0.12 → 0.005 of the tested bound).
fn normalize_v_column(j: u32) {
    var ss: real = 0.0;
    for (var i = 0u; i < N; i += 1u) {
        ss = add_abs2(ss, v_get(j, i));
    }
    let norm = sqrt(ss);
    for (var i = 0u; i < N; i += 1u) {
        v_set(j, i, v_get(j, i) / norm);
    }
}

// Element (i, r) of the sorted U_W = W·diag(1/σ): column r is W's column perm[r] (u_get: W, or
// Q·R with QR preconditioning), normalised.
// Negligible columns are written as zeros; the host completes them to an orthonormal basis.
fn u_work(r: u32, i: u32) -> elem {
    let j = perm_get(r);
    let sg = sig_get(j);
    if sg * sg <= NEGLIGIBLE_SQ {
        return elem_of(0.0);
    }
    return u_get(j, i) / sg;
}

// Output element e of matrix `mat`, in the order σ (K), U (A_M×U_COLS), Vᵀ (VT_ROWS×A_N):
// consecutive e are consecutive addresses of one output array (coalesced writes).
const OUT_U0: u32 = N;
const OUT_V0: u32 = OUT_U0 + select(0u, A_M * U_COLS, WANT_VECTORS);
const OUT_LEN: u32 = OUT_V0 + select(0u, VT_ROWS * A_N, WANT_VECTORS);

// Writes output element e: NaN for a non-finite matrix, else σ (unscaled by 2^e1·2^e2), U or Vᵀ
// in sorted order. Columns of U (rows of Vᵀ) beyond K (full output) are left for the host.
// For complex elements the second output is Vᴴ, and a wide A = Wᵀ = conj(V_W)·Σ·U_Wᵀ has
// U = conj(V_W), Vᴴ = U_Wᵀ: V's entries are conjugated either way (conj_elem: the identity
// for real ones).
fn write_output(mat: u32, e: u32, non_finite: bool, up1: real, up2: real) {
    if e < OUT_U0 {
        s_out[mat * N + e] = select((sig_get(perm_get(e)) * up1) * up2, nan_real(), non_finite);
    } else if e < OUT_V0 {
        let i = (e - OUT_U0) / U_COLS;
        let r = (e - OUT_U0) % U_COLS;
        var x = nan_elem();
        if !non_finite {
            if r >= N {
                return;
            }
            if TRANSPOSED {
                // U (N×U_COLS) column r = V_W column perm[r].
                x = conj_elem(v_get(perm_get(r), i));
            } else {
                // U (M×U_COLS) column r = U_W column r.
                x = u_work(r, i);
            }
        }
        u_out[mat * A_M * U_COLS + (e - OUT_U0)] = x;
    } else {
        let r = (e - OUT_V0) / A_N;
        let i = (e - OUT_V0) % A_N;
        var x = nan_elem();
        if !non_finite {
            if r >= N {
                return;
            }
            if TRANSPOSED {
                // Vᵀ (VT_ROWS×M) row r = U_W column r.
                x = u_work(r, i);
            } else {
                // Vᵀ (VT_ROWS×N) row r = V_W column perm[r].
                x = conj_elem(v_get(perm_get(r), i));
            }
        }
        vt_out[mat * VT_ROWS * A_N + (e - OUT_V0)] = x;
    }
}

// Position of column j in the output: its rank by σ (descending, ties by index) when sorting,
// else j itself.
fn rank_of(j: u32) -> u32 {
    if params.sort == 0u {
        return j;
    }
    let sj = sig_get(j);
    var r = 0u;
    for (var i = 0u; i < N; i += 1u) {
        let si = sig_get(i);
        if si > sj || (si == sj && i < j) {
            r += 1u;
        }
    }
    return r;
}

// Number of negligible columns (their U_W column is written as zeros).
fn negligible_columns() -> u32 {
    var count = 0u;
    for (var j = 0u; j < N; j += 1u) {
        let sg = sig_get(j);
        if sg * sg <= NEGLIGIBLE_SQ {
            count += 1u;
        }
    }
    return count;
}

