//! Generating the one-invocation-per-matrix kernel: straight-line WGSL in which every element
//! of W and V is its own variable, so a shader compiler keeps them in registers.
//!
//! Indices must be compile-time constants for that, yet a sweep visits every column pair. The
//! round-robin (circle) ordering makes this possible: in every round the pairs sit in fixed
//! slots `(k, N2−1−k)`, and between rounds the columns in positions `1…N2−1` shift by one
//! place. The generator follows the shift itself through a block of rounds, so the code of a
//! block names the columns directly; between blocks (when a sweep is cut into several) the
//! variables move once, a cyclic shift of positions. Small shapes unroll the whole sweep
//! (no moves at all); larger ones are cut into blocks because llvmpipe's compile time grows
//! faster than the code (`select::rounds_per_block`, part of the kernel policy). An odd N gets a phantom zero column, which
//! is never rotated.
//!
//! Every pair is rotated, by exactly the identity when it needs no rotation: on a CPU device
//! (lavapipe) each SIMD instruction advances 8 matrices at once and both sides of a branch
//! run anyway. The invocation never waits on a barrier. On a real GPU the registers per
//! invocation limit this family to tiny matrices (see `JacobiKernel::choose`).
//!
//! Complex elements are `vec2<real>` variables (complex.wgsl) and a pair is rotated as in
//! LAPACK's cgesvj/zgesvj (Drmač, LAWN 170): with g = w_pᴴw_q and ω = g/|g|, the real rotation
//! (c, s) of (‖w_p‖², |g|, ‖w_q‖²) applied as w_p ← c·w_p − s·ω̄·w_q, w_q ← s·ω·w_p + c·w_q.

use std::fmt::Write as _;

use super::kernel::JacobiKernel;

/// Name of element `(row, column position)` of W.
fn w(pos: u32, row: u32) -> String {
    format!("w{pos}_{row}")
}

/// Name of element `(row, column position)` of V.
fn v(pos: u32, row: u32) -> String {
    format!("v{pos}_{row}")
}

/// `acc = xᴴx` (`first`: declared) or `acc += xᴴx` for one element `x`, real or complex.
fn add_square(c: &mut Code, acc: &str, x: &str, first: bool, complex: bool) {
    let parts: &[String] = if complex {
        &[format!("{x}.x"), format!("{x}.y")]
    } else {
        &[x.to_string()]
    };
    for (k, p) in parts.iter().enumerate() {
        if first && k == 0 {
            c.line(format!("var {acc} = {p} * {p};"));
        } else {
            c.line(format!("{acc} = fma({p}, {p}, {acc});"));
        }
    }
}

/// Writes one line of code at the given indentation (4 spaces per level).
struct Code {
    s: String,
    level: usize,
}

impl Code {
    fn line(&mut self, text: impl AsRef<str>) {
        for _ in 0..self.level {
            self.s.push_str("    ");
        }
        self.s.push_str(text.as_ref());
        self.s.push('\n');
    }

    fn open(&mut self, text: impl AsRef<str>) {
        self.line(text);
        self.level += 1;
    }

    fn close(&mut self) {
        self.level -= 1;
        self.line("}");
    }
}

/// The rotated value of a column entry, as code, from its old value `t` and the entry `y` of
/// the other column.
type Rotated = fn(&str, &str) -> String;

/// One column pair (p, q): the dot products, the rotation test and the rotation of W's and
/// V's columns. Complex columns: g = w_pᴴw_q in two real sums, then `pair_rotation`
/// (complex.wgsl) gives c and s·ω, applied by `rotate_p`/`rotate_q`.
fn pair(c: &mut Code, p: u32, q: u32, m: u32, n: u32, vectors: bool, complex: bool) {
    c.open("{");
    for i in 0..m {
        let (x, y) = (w(p, i), w(q, i));
        add_square(c, "alpha", &x, i == 0, complex);
        add_square(c, "beta", &y, i == 0, complex);
        if !complex {
            c.line(if i == 0 {
                format!("var gamma = {x} * {y};")
            } else {
                format!("gamma = fma({x}, {y}, gamma);")
            });
            continue;
        }
        if i == 0 {
            c.line(format!("var gr = {x}.x * {y}.x;"));
            c.line(format!("var gi = {x}.x * {y}.y;"));
        } else {
            c.line(format!("gr = fma({x}.x, {y}.x, gr);"));
            c.line(format!("gi = fma({x}.x, {y}.y, gi);"));
        }
        c.line(format!("gr = fma({x}.y, {y}.y, gr);"));
        c.line(format!("gi = fma(-{x}.y, {y}.x, gi);"));
    }
    // Every pair is rotated, by exactly the identity (c, s) = (1, 0) when it is left alone:
    // the lanes of a SIMD group (CPU devices) or a warp run both sides of a branch anyway,
    // and a select on two values is cheaper than one per element.
    let (new_p, new_q): (Rotated, Rotated) = if complex {
        c.line("let r = pair_rotation(alpha, beta, vec2<real>(gr, gi), tol);");
        c.line("off_sweep = max(off_sweep, f32(r.rel));");
        c.line("rotated = rotated || r.rel > tol;");
        (
            |t, y| format!("rotate_p(r, {t}, {y})"),
            |t, y| format!("rotate_q(r, {t}, {y})"),
        )
    } else {
        c.line("let rel = relative_gamma(alpha, beta, gamma);");
        c.line("off_sweep = max(off_sweep, f32(rel));");
        c.line("let turn = rel > tol;");
        c.line("rotated = rotated || turn;");
        c.line("let cs = select(vec2<real>(1.0, 0.0), rotation(alpha, beta, gamma), turn);");
        (
            |t, y| format!("cs.x * {t} - cs.y * {y}"),
            |t, y| format!("cs.y * {t} + cs.x * {y}"),
        )
    };
    let rows = |c: &mut Code, name: fn(u32, u32) -> String, count: u32| {
        for i in 0..count {
            let (x, y) = (name(p, i), name(q, i));
            let t = format!("t{i}");
            c.line(format!("let {t} = {x};"));
            c.line(format!("{x} = {};", new_p(&t, &y)));
            c.line(format!("{y} = {};", new_q(&t, &y)));
        }
    };
    rows(c, w, m);
    if vectors {
        c.open("{");
        rows(c, v, n);
        c.close();
    }
    c.close();
}

/// The entry point `main` of the per-invocation kernel for `kernel`'s shape.
pub(crate) fn per_invocation_main(kernel: &JacobiKernel) -> String {
    let (m, n) = kernel.work_shape();
    let n2 = n + n % 2;
    let vectors = kernel.vectors.wanted();
    let cx = kernel.complex;
    // Entries are the element prelude's `elem` (element_real.wgsl or complex.wgsl), loaded,
    // tested and written through its helpers.
    let (zero, one) = ("elem_of(0.0)", "elem_of(1.0)");
    let (am, an) = (kernel.a_m, kernel.a_n);
    let row_major = kernel.layout == crate::batch::Layout::RowMajor;
    // Offset of W(i, j) inside one input matrix.
    let offset = |i: u32, j: u32| {
        let (r, c) = if kernel.transposed() { (j, i) } else { (i, j) };
        if row_major { r * an + c } else { r + c * am }
    };
    let mut c = Code {
        s: String::with_capacity(64 * 1024),
        level: 0,
    };
    c.line("@compute @workgroup_size(WG)");
    c.open("fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {");
    c.line("let mat = gid.x + gid.y * groups.x * WG;");
    c.open("if mat >= params.count {");
    c.line("return;");
    c.close();
    c.line("let base = mat * A_M * A_N;");

    c.line("// ---- 1. load, finiteness check, power-of-two scaling ----");
    c.line("var bad = false;");
    c.line("var ex = EXP_ZERO;");
    for j in 0..n {
        for i in 0..m {
            let name = w(j, i);
            c.line(format!("var {name} = a_in[base + {}u];", offset(i, j)));
            c.line(format!("bad = bad || !is_finite_elem({name});"));
            c.line(format!("ex = max(ex, exponent_of_elem({name}));"));
        }
    }
    c.open("if bad {");
    c.line("write_non_finite(mat);");
    c.line("return;");
    c.close();
    c.line("let zero = ex == EXP_ZERO;");
    c.line("let e_all = select(ex, 0, zero);");
    c.line("let e1 = e_all / 2;");
    c.line("let e2 = e_all - e1;");
    c.line("let down1 = pow2(-e1);");
    c.line("let down2 = pow2(-e2);");
    for j in 0..n {
        for i in 0..m {
            let name = w(j, i);
            c.line(format!("{name} = ({name} * down1) * down2;"));
        }
    }
    if vectors {
        for j in 0..n {
            for i in 0..n {
                let value = if i == j { one } else { zero };
                c.line(format!("var {}: elem = {value};", v(j, i)));
            }
        }
    }

    c.line("// ---- 2. sweeps: the N2−1 rounds of the circle ordering, in unrolled blocks ----");
    let rounds = n2 - 1;
    let block = super::select::rounds_per_block(m, n, kernel.parts());
    // Whole sweeps unrolled know where an odd N's phantom zero column is and skip its pairs;
    // blocks carry it as real zero columns.
    let phantom = block < rounds && n2 > n;
    if phantom {
        for i in 0..m {
            c.line(format!("var {}: elem = {zero};", w(n, i)));
        }
        if vectors {
            for i in 0..n {
                c.line(format!("var {}: elem = {zero};", v(n, i)));
            }
        }
    }
    c.line("let tol = real(params.tol);");
    c.line("var sweeps = 0u;");
    c.line("var converged = zero;");
    c.line("var off = 0.0f;");
    c.open("if !zero {");
    c.open("for (var sweep = 0u; sweep < params.max_sweeps; sweep += 1u) {");
    c.line("var rotated = false;");
    c.line("var off_sweep = 0.0f;");
    if block < rounds {
        c.open(format!(
            "for (var b = 0u; b < {}u; b += 1u) {{",
            rounds / block
        ));
    }
    // Column at each position of the circle: pairs sit in the slots (k, N2−1−k), and between
    // rounds positions 1…N2−1 shift by one. Within a block the shift is done here, at
    // generation time, so the code names the columns directly; between blocks the variables
    // move once (a cyclic shift by `block` positions).
    let mut at: Vec<u32> = (0..n2).collect();
    for _round in 0..block {
        for k in 0..n2 / 2 {
            let (p, q) = (at[k as usize], at[(n2 - 1 - k) as usize]);
            if !phantom && (p >= n || q >= n) {
                continue; // the phantom column of an odd N is zero: never rotated
            }
            let (p, q) = (p.min(q), p.max(q));
            pair(&mut c, p, q, m, n, vectors, cx);
        }
        let last = at[(n2 - 1) as usize];
        for j in (2..n2 as usize).rev() {
            at[j] = at[j - 1];
        }
        at[1] = last;
    }
    if block < rounds {
        // Position j's variable takes the column now at position j.
        let columns = if phantom { n2 } else { n };
        for (name, rows) in [
            (w as fn(u32, u32) -> String, m),
            (v, if vectors { n } else { 0 }),
        ] {
            for i in 0..rows {
                c.open("{");
                for j in 1..columns {
                    c.line(format!("let t{j} = {};", name(j, i)));
                }
                for j in 1..columns {
                    let from = at[j as usize];
                    let source = if from == 0 {
                        name(0, i)
                    } else {
                        format!("t{from}")
                    };
                    c.line(format!("{} = {source};", name(j, i)));
                }
                c.close();
            }
        }
        c.close(); // blocks
    } else {
        debug_assert!(at.iter().enumerate().all(|(j, &c)| j as u32 == c));
    }
    c.line("sweeps = sweep + 1u;");
    c.line("off = off_sweep;");
    c.open("if !rotated {");
    c.line("converged = true;");
    c.line("break;");
    c.close();
    c.close(); // sweeps
    c.close(); // if !zero

    c.line("// ---- 3. finalize: norms, ranks, outputs ----");
    for j in 0..n {
        for i in 0..m {
            add_square(&mut c, &format!("ss{j}"), &w(j, i), i == 0, cx);
        }
        c.line(format!("let s{j} = sqrt(ss{j});"));
    }
    c.line("let by_size = params.sort != 0u;");
    for j in 0..n {
        let mut terms = Vec::new();
        for i in 0..n {
            if i == j {
                continue;
            }
            // Ties go to the lower position, so ranks form a permutation.
            let before = if i < j {
                format!("s{i} >= s{j}")
            } else {
                format!("s{i} > s{j}")
            };
            terms.push(format!("select(0u, 1u, {before})"));
        }
        let sum = if terms.is_empty() {
            "0u".to_string()
        } else {
            terms.join(" + ")
        };
        c.line(format!("let r{j} = select({j}u, {sum}, by_size);"));
    }
    c.line("let up1 = pow2(e1);");
    c.line("let up2 = pow2(e2);");
    c.line("var negligible = 0u;");
    for j in 0..n {
        c.line(format!("s_out[mat * N + r{j}] = (s{j} * up1) * up2;"));
        c.line(format!("let small{j} = ss{j} <= NEGLIGIBLE_SQ;"));
        c.line(format!("negligible += select(0u, 1u, small{j});"));
        c.line(format!("let inv{j} = select(1.0 / s{j}, 0.0, small{j});"));
    }
    if vectors {
        c.line("let u_base = mat * A_M * U_COLS;");
        c.line("let vt_base = mat * VT_ROWS * A_N;");
        // V's columns to unit norm: the rotations' rounding drifts their norms (see
        // normalize_v_column in jacobi_finalize.wgsl).
        for j in 0..n {
            for i in 0..n {
                add_square(&mut c, &format!("vv{j}"), &v(j, i), i == 0, cx);
            }
            c.line(format!("let vn{j} = sqrt(vv{j});"));
        }
        // The second output is Vᴴ (Vᵀ for real elements): V's entries conjugated. For a wide
        // A = Wᵀ = conj(V_W)·Σ·U_Wᵀ, U = conj(V_W) and Vᴴ = U_Wᵀ: conjugated are V's again
        // (conj_elem is the identity for real elements).
        for j in 0..n {
            for i in 0..m {
                // U_W column j (normalised W column) …
                let target = if kernel.transposed() {
                    format!("vt_out[vt_base + r{j} * A_N + {i}u]")
                } else {
                    format!("u_out[u_base + {i}u * U_COLS + r{j}]")
                };
                c.line(format!("{target} = {} * inv{j};", w(j, i)));
            }
            for i in 0..n {
                // … and V_W column j.
                let target = if kernel.transposed() {
                    format!("u_out[u_base + {i}u * U_COLS + r{j}]")
                } else {
                    format!("vt_out[vt_base + r{j} * A_N + {i}u]")
                };
                c.line(format!("{target} = conj_elem({}) / vn{j};", v(j, i)));
            }
        }
    }
    c.line("info_out[mat] = MatrixInfo(select(1u, 0u, converged), sweeps, off, negligible);");
    c.close();
    let mut s = c.s;
    let _ = writeln!(
        s,
        "\n// NaN outputs and status 2 for a matrix holding NaN or ±Inf.
fn write_non_finite(mat: u32) {{
    for (var r = 0u; r < N; r += 1u) {{
        s_out[mat * N + r] = nan_real();
    }}
    if WANT_VECTORS {{
        for (var e = 0u; e < A_M * U_COLS; e += 1u) {{
            u_out[mat * A_M * U_COLS + e] = nan_elem();
        }}
        for (var e = 0u; e < VT_ROWS * A_N; e += 1u) {{
            vt_out[mat * VT_ROWS * A_N + e] = nan_elem();
        }}
    }}
    info_out[mat] = MatrixInfo(2u, 0u, bitcast<f32>(0x7fc00000u), 0u);
}}"
    );
    s
}
