//! The generated part of the dedicated 2×2 / 3×3 kernel (`small_batch.wgsl`): how many
//! matrices an invocation decomposes, the lane types and accessors of `small_svd.wgsl`, the
//! bindings, the loads, and the stores, unrolled over the lanes with constant component
//! indices (llvmpipe does not unroll the equivalent loop, and its dynamic component indexing
//! made the stores 20 % slower).
//!
//! With four lanes and a packed output layout, the four matrices of an invocation occupy
//! `4·stride` consecutive floats of each output (`stride` = floats per matrix, 4·stride a
//! multiple of 4), and the invocation writes them as `vec4` words: on lavapipe each store
//! instruction costs a loop over the SIMD lanes, so 4× fewer of them took the 3×3 SVD from
//! 24 to 29 M matrices/s. The outputs are then bound as `array<vec4<f32>>`, and every
//! invocation writes four whole matrices: the batch must be a multiple of four matrices or
//! the output buffers padded to one (the host path pads its own buffers; the zero-copy API
//! takes vector stores only for counts that are multiples of four, since it must not write
//! past the caller's matrices). A scalar path for a partial last invocation, even unreached,
//! cost 20 % on lavapipe.

use std::fmt::Write as _;

use super::kernel::{Product, Scalar, SmallLayout, SmallSpec};

/// The generated WGSL of the dedicated kernel for `spec` and `n×n` matrices of `scalar`
/// elements of `parts` floats (1 real, 2 complex), writing U and V (or R and S) when `vectors`.
pub(crate) fn small_kernel_code(
    spec: &SmallSpec,
    n: u32,
    vectors: bool,
    scalar: Scalar,
    parts: u32,
) -> String {
    let lanes = spec.lanes;
    let real = scalar.wgsl_name();
    let ty = |scalar: &str| {
        if lanes == 1 {
            scalar.to_string()
        } else {
            format!("vec{lanes}<{scalar}>")
        }
    };
    let component = if lanes == 1 { "" } else { "[l]" };
    let mut s = format!("const LANES: u32 = {lanes}u;\nconst PARTS: u32 = {parts}u;\n");
    for (alias, scalar) in [("f", real), ("u", "u32"), ("i", "i32"), ("b", "bool")] {
        let _ = writeln!(s, "alias bsvd_{alias} = {};", ty(scalar));
    }
    for (alias, scalar) in [("f", real), ("u", "u32"), ("b", "bool")] {
        let _ = writeln!(
            s,
            "fn bsvd_lane_{alias}(x: bsvd_{alias}, l: u32) -> {scalar} {{ return x{component}; }}"
        );
    }

    // Bindings: outputs as vec4 words for vector stores (component writes otherwise).
    let word = if spec.vector_stores {
        format!("vec4<{real}>")
    } else {
        real.to_string()
    };
    s.push_str("@group(0) @binding(0) var<uniform> params: Params;\n");
    let _ = writeln!(
        s,
        "@group(0) @binding(1) var<storage, read> a_in: array<{real}>;"
    );
    for (binding, name) in [(2, "s_out"), (3, "u_out"), (4, "vt_out")] {
        let _ = writeln!(
            s,
            "@group(0) @binding({binding}) var<storage, read_write> {name}: array<{word}>;"
        );
        let put = if spec.vector_stores {
            format!("{name}[f / 4u][f % 4u] = x;")
        } else {
            format!("{name}[f] = x;")
        };
        let _ = writeln!(s, "fn small_put_{name}(f: u32, x: {real}) {{ {put} }}");
    }
    // The report: a MatrixInfo (16 bytes) as one word, or a packed u32 per matrix (as vec4
    // words of four matrices with vector stores).
    let info_word = if spec.packed_info && !spec.vector_stores {
        "u32"
    } else {
        "vec4<u32>"
    };
    let _ = writeln!(
        s,
        "@group(0) @binding(5) var<storage, read_write> info_out: array<{info_word}>;"
    );
    let put_info = match (spec.packed_info, spec.vector_stores) {
        (false, _) => "info_out[mat] = small_info(status, sweeps);",
        (true, false) => "info_out[mat] = status | (sweeps << 2u);",
        (true, true) => "info_out[mat / 4u][mat % 4u] = status | (sweeps << 2u);",
    };
    let _ = writeln!(
        s,
        "fn small_put_info(mat: u32, status: u32, sweeps: u32) {{ {put_info} }}"
    );

    let loads: Vec<String> = (0..lanes)
        .map(|l| match l {
            0 => "small_in(first, r, c, part)".to_string(),
            _ => format!("small_in(min(first + {l}u, last), r, c, part)"),
        })
        .collect();
    let _ = writeln!(
        s,
        "fn small_in_lanes(first: u32, r: u32, c: u32, part: u32) -> bsvd_f {{\n    \
         let last = params.count - 1u;\n    return bsvd_f({});\n}}",
        loads.join(", ")
    );

    s.push_str("fn small_store_lanes(first: u32, x: SmallLanes) {\n");
    if spec.vector_stores {
        s.push_str("    let q = first / 4u;\n");
        vector_stores(spec, n, vectors, real, parts, &mut s);
    } else {
        s.push_str("    small_store(first, small_lane(x, 0u));\n");
        for l in 1..lanes {
            let _ = writeln!(
                s,
                "    if first + {l}u < params.count {{ small_store(first + {l}u, small_lane(x, {l}u)); }}"
            );
        }
    }
    s.push_str("}\n");
    s
}

/// The `vec4` stores of four consecutive matrices (`q` = first matrix / 4, `x` their
/// `SmallLanes`): word `k` of an output holds floats `4k … 4k+3` of the four matrices'
/// `4·stride` consecutive floats (`stride` = elements per matrix × `parts`), each a known
/// part of a known element of a known lane.
fn vector_stores(spec: &SmallSpec, n: u32, vectors: bool, real: &str, parts: u32, s: &mut String) {
    let polar = matches!(spec.product, Product::Polar { .. });
    let with_second = !matches!(spec.product, Product::Polar { with_s: false });
    let stride = spec.output.stride(n) * parts;
    // A complex entry's real and imaginary lane values (small_svd_complex.wgsl's BsvdZ).
    let part_names: &[&str] = if parts == 2 { &[".re", ".im"] } else { &[""] };
    // Element (r, c) (None: padding) at offset e of a matrix stored in `layout`.
    let element = |layout: SmallLayout, e: u32| -> Option<(u32, u32)> {
        match layout {
            SmallLayout::RowMajor => Some((e / n, e % n)),
            SmallLayout::ColMajorPadded if n == 3 => (e % 4 < 3).then_some((e % 4, e / 4)),
            _ => Some((e % n, e / n)),
        }
    };
    let words = |out: &str, columns: &str, layout: SmallLayout, s: &mut String| {
        for k in 0..stride {
            let parts: Vec<String> = (0..4)
                .map(|j| {
                    let f = 4 * k + j;
                    let (lane, e) = (f / stride, f % stride);
                    let part = part_names[(e % parts) as usize];
                    element(layout, e / parts).map_or("0.0".to_string(), |(r, c)| {
                        format!(
                            "x.{columns}{c}.{}{part}[{lane}]",
                            ["x", "y", "z"][r as usize]
                        )
                    })
                })
                .collect();
            let _ = writeln!(
                s,
                "    {out}[q * {stride}u + {k}u] = vec4<{real}>({});",
                parts.join(", ")
            );
        }
    };
    if spec.sigma {
        for k in 0..n {
            let parts: Vec<String> = (0..4)
                .map(|j| {
                    let f = 4 * k + j;
                    format!("x.s{}[{}]", f % n, f / n)
                })
                .collect();
            let _ = writeln!(
                s,
                "    s_out[q * {n}u + {k}u] = vec4<{real}>({});",
                parts.join(", ")
            );
        }
    }
    if vectors {
        words("u_out", "f", spec.output, s);
    }
    if vectors && with_second {
        // V goes where Vᵀ goes in row-major order (V column-major); R, S as they are.
        let layout = if !polar && spec.output == SmallLayout::RowMajor {
            SmallLayout::ColMajor
        } else {
            spec.output
        };
        words("vt_out", "g", layout, s);
    }
    if spec.info && spec.packed_info {
        let parts: Vec<String> = (0..4)
            .map(|l| format!("x.status[{l}] | (x.sweeps[{l}] << 2u)"))
            .collect();
        let _ = writeln!(s, "    info_out[q] = vec4<u32>({});", parts.join(", "));
    } else if spec.info {
        for l in 0..4 {
            let _ = writeln!(
                s,
                "    info_out[first + {l}u] = small_info(x.status[{l}], x.sweeps[{l}]);"
            );
        }
    }
}
