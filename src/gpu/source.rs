//! Building a kernel's WGSL: scalar prelude + shape constants + storage back-end + shared
//! helpers + kernel body.
//!
//! Every pipeline is specialised to one input shape and layout by `const` declarations, so the
//! shader compiler sees fixed trip counts (loops unroll, divisions by constants become
//! multiplications). The element type is a parameter ([`Scalar`]): the kernels only use
//! `real` and the prelude's helpers, so an f64 prelude can be added without copying kernels;
//! the element prelude (element_real.wgsl, or complex.wgsl's `elem = vec2<real>`) gives the
//! kernels written against `elem` real or complex elements.

use std::fmt::Write as _;

use super::kernel::{BLOCK_COLUMNS, Family, JacobiKernel, Product, Scalar};
use crate::batch::Layout;

const PRELUDE_F32: &str = include_str!("../../shaders/scalar_f32.wgsl");
const PRELUDE_F64: &str = include_str!("../../shaders/scalar_f64.wgsl");
const ELEMENT_REAL: &str = include_str!("../../shaders/element_real.wgsl");
const ELEMENT_COMPLEX: &str = include_str!("../../shaders/complex.wgsl");
const STORAGE_WORKGROUP: &str = include_str!("../../shaders/storage_workgroup.wgsl");
const STORAGE_GLOBAL: &str = include_str!("../../shaders/storage_global.wgsl");
const COMMON: &str = include_str!("../../shaders/jacobi_common.wgsl");
const BINDINGS: &str = include_str!("../../shaders/jacobi_bindings.wgsl");
const FINALIZE: &str = include_str!("../../shaders/jacobi_finalize.wgsl");
const WORKGROUP_KERNEL: &str = include_str!("../../shaders/jacobi_workgroup.wgsl");
const SMALL_SVD_CORE: &str = include_str!("../../shaders/small_svd.wgsl");
const SMALL_SCALAR_F32: &str = include_str!("../../shaders/small_scalar_f32.wgsl");
const SMALL_SCALAR_F64: &str = include_str!("../../shaders/small_scalar_f64.wgsl");
const SMALL_IO: &str = include_str!("../../shaders/small_io.wgsl");
const SMALL_BATCH: &str = include_str!("../../shaders/small_batch.wgsl");
const SMALL_SVD_COMPLEX: &str = include_str!("../../shaders/small_svd_complex.wgsl");
const SMALL_BATCH_COMPLEX: &str = include_str!("../../shaders/small_batch_complex.wgsl");
const MULTI_DISPATCH: &str = include_str!("../../shaders/jacobi_global.wgsl");
const QR_PRECONDITION: &str = include_str!("../../shaders/qr_global.wgsl");
const BLOCKED_SWEEPS: &str = include_str!("../../shaders/blocked_global.wgsl");

impl Scalar {
    /// The WGSL prelude defining `real` and its helpers.
    pub(crate) fn prelude(self) -> &'static str {
        match self {
            Scalar::F32 => PRELUDE_F32,
            Scalar::F64 => PRELUDE_F64,
        }
    }

    /// The dedicated kernel's scalar (`bsvd_s` and its helpers, see `small_svd.wgsl`).
    pub(crate) fn small_prelude(self) -> &'static str {
        match self {
            Scalar::F32 => SMALL_SCALAR_F32,
            Scalar::F64 => SMALL_SCALAR_F64,
        }
    }
}

impl JacobiKernel {
    /// The complete WGSL source.
    pub(crate) fn source(&self) -> String {
        let (m, n) = self.work_shape();
        let n2 = n + n % 2;
        let mut s = String::with_capacity(24 * 1024);
        s.push_str(self.scalar.prelude());
        s.push_str("\n// ---- elements ----\n");
        s.push_str(if self.complex {
            ELEMENT_COMPLEX
        } else {
            ELEMENT_REAL
        });
        s.push_str("\n// ---- shape constants (generated) ----\n");
        let mut konst = |name: &str, ty: &str, value: String| {
            let _ = writeln!(s, "const {name}: {ty} = {value};");
        };
        let (am, an) = (self.a_m as usize, self.a_n as usize);
        konst("A_M", "u32", format!("{}u", self.a_m));
        konst("A_N", "u32", format!("{}u", self.a_n));
        konst(
            "A_ROW_MAJOR",
            "bool",
            (self.layout == Layout::RowMajor).to_string(),
        );
        konst("TRANSPOSED", "bool", self.transposed().to_string());
        konst("M", "u32", format!("{m}u"));
        konst("N", "u32", format!("{n}u"));
        konst("N2", "u32", format!("{n2}u"));
        konst("NPAIRS", "u32", format!("{}u", n2 / 2));
        konst("LDW", "u32", format!("{}u", self.ldw()));
        konst("V_LEN", "u32", format!("{}u", self.v_len()));
        konst("WANT_VECTORS", "bool", self.vectors.wanted().to_string());
        konst(
            "U_COLS",
            "u32",
            format!("{}u", self.vectors.u_cols(am, an).max(1)),
        );
        konst(
            "VT_ROWS",
            "u32",
            format!("{}u", self.vectors.vt_rows(am, an).max(1)),
        );
        konst("WG", "u32", format!("{}u", self.workgroup));
        konst("TEAM", "u32", format!("{}u", self.team));
        konst("TEAMS", "u32", format!("{}u", self.workgroup / self.team));
        konst("RED_LEN", "u32", format!("{}u", self.red_len()));
        konst("RED_G_LEN", "u32", format!("{}u", self.red_g_len()));
        konst("QR", "bool", self.qr.to_string());
        let nb = n.div_ceil(BLOCK_COLUMNS);
        konst("BLOCKED", "bool", self.blocked.to_string());
        konst("NB", "u32", format!("{nb}u"));
        konst("NB2", "u32", format!("{}u", self.blocks()));
        konst("NBPAIRS_B", "u32", format!("{}u", self.blocks() / 2));
        if let Some(small) = self.small {
            let n = self.a_n;
            konst("IN_LAYOUT", "u32", format!("{}u", small.input as u32));
            konst("OUT_LAYOUT", "u32", format!("{}u", small.output as u32));
            konst("IN_STRIDE", "u32", format!("{}u", small.input.stride(n)));
            konst("OUT_STRIDE", "u32", format!("{}u", small.output.stride(n)));
            konst("ROTATION", "bool", small.rotation.to_string());
            let polar = matches!(small.product, Product::Polar { .. });
            let second = !matches!(small.product, Product::Polar { with_s: false });
            konst("POLAR", "bool", polar.to_string());
            konst("WANT_SECOND", "bool", second.to_string());
            konst("WANT_SIGMA", "bool", small.sigma.to_string());
            konst("WANT_INFO", "bool", small.info.to_string());
        }
        let generated;
        let multi_parts;
        let lane_code;
        let small_parts;
        let parts: &[(&str, &str)] = match self.family {
            Family::Small => {
                lane_code = super::small_code::small_kernel_code(
                    &self.small.expect("the dedicated kernel has its settings"),
                    self.a_n,
                    self.vectors.wanted(),
                    self.scalar,
                    self.parts(),
                );
                small_parts = [
                    ("shared", COMMON),
                    ("lanes (generated)", &lane_code),
                    ("small scalar", self.scalar.small_prelude()),
                    ("small_svd.wgsl", SMALL_SVD_CORE),
                    (
                        "small_svd_complex.wgsl",
                        if self.complex { SMALL_SVD_COMPLEX } else { "" },
                    ),
                    ("small_io.wgsl", SMALL_IO),
                    (
                        "kernel",
                        if self.complex {
                            SMALL_BATCH_COMPLEX
                        } else {
                            SMALL_BATCH
                        },
                    ),
                ];
                &small_parts
            }
            Family::PerInvocation => {
                generated = super::unrolled::per_invocation_main(self);
                &[
                    ("shared", COMMON),
                    ("bindings", BINDINGS),
                    ("kernel (generated)", &generated),
                ]
            }
            Family::Workgroup => &[
                ("storage back-end", STORAGE_WORKGROUP),
                ("shared", COMMON),
                ("bindings", BINDINGS),
                ("finalize", FINALIZE),
                ("kernel", WORKGROUP_KERNEL),
            ],
            Family::MultiDispatch => {
                multi_parts = [
                    ("storage back-end", STORAGE_GLOBAL),
                    ("shared", COMMON),
                    ("bindings", BINDINGS),
                    ("finalize", FINALIZE),
                    ("kernel", MULTI_DISPATCH),
                    (
                        "QR preconditioning",
                        if self.qr { QR_PRECONDITION } else { "" },
                    ),
                    (
                        "blocked sweeps",
                        if self.blocked { BLOCKED_SWEEPS } else { "" },
                    ),
                ];
                &multi_parts
            }
        };
        for (title, part) in parts {
            let _ = writeln!(s, "\n// ---- {title} ----");
            s.push_str(part);
        }
        s
    }
}
#[cfg(test)]
mod tests {
    use super::super::kernel::Family;
    use super::super::kernel::{SmallLayout, SmallSpec};
    use super::super::select::select;
    use super::super::select::tests::{cpu, gpu, request};
    use super::*;
    use crate::options::Vectors;
    use crate::tuning::KernelFamily;

    /// Parses and validates a kernel's WGSL with naga (what wgpu does before handing the
    /// shader to a driver).
    fn validate(k: &JacobiKernel) -> naga::Module {
        let src = k.source();
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{k:?}: {}", e.emit_to_string(&src)));
        let caps = match k.scalar {
            Scalar::F32 => naga::valid::Capabilities::empty(),
            Scalar::F64 => naga::valid::Capabilities::FLOAT64,
        };
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{k:?}: {e:?}"));
        module
    }

    /// The math builtins a module calls.
    fn math_builtins(module: &naga::Module) -> std::collections::BTreeSet<String> {
        let mut set = std::collections::BTreeSet::new();
        let functions = module
            .functions
            .iter()
            .map(|(_, f)| f)
            .chain(module.entry_points.iter().map(|e| &e.function));
        for f in functions {
            for (_, expr) in f.expressions.iter() {
                if let naga::Expression::Math { fun, .. } = expr {
                    set.insert(format!("{fun:?}"));
                }
            }
        }
        set
    }

    /// Validates `k`'s WGSL and asserts it calls no math builtin outside `allowed`.
    fn assert_builtins_within(k: &JacobiKernel, allowed: &[&str]) {
        let used = math_builtins(&validate(k));
        let bad: Vec<_> = used
            .iter()
            .filter(|f| !allowed.contains(&f.as_str()))
            .collect();
        assert!(bad.is_empty(), "{k:?} calls {bad:?}");
    }

    /// Every family's f64 WGSL validates with naga's FLOAT64 capability and calls no builtin
    /// but abs, min, max, sqrt and fma (select and comparisons are not calls): f64
    /// transcendentals are unreliable across drivers (wgpu#6087), and Jacobi needs none.
    #[test]
    fn f64_kernels_validate_and_use_only_basic_builtins() {
        let limits = wgpu::Limits::default();
        let allowed = ["Abs", "Min", "Max", "Sqrt", "Fma"];
        for (m, n) in [
            (2, 2),
            (3, 3),
            (4, 4),
            (5, 2),
            (2, 7),
            (9, 6),
            (40, 33),
            (128, 64),
        ] {
            for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
                let mut req = request(m, n, Layout::RowMajor, vectors, 30, KernelFamily::Auto);
                req.scalar = Scalar::F64;
                let k = select(&req, &limits, &gpu(8)).unwrap();
                assert_eq!(k.scalar, Scalar::F64);
                assert_eq!(k.family == Family::Small, m == n && m <= 3, "{m}×{n}");
                if k.family == Family::Small {
                    // Covered with every layout, product and lane count below.
                    continue;
                }
                let mut variants = vec![
                    JacobiKernel {
                        family: Family::Workgroup,
                        ..k
                    },
                    JacobiKernel {
                        family: Family::MultiDispatch,
                        ..k
                    },
                ];
                for (qr, blocked) in [(true, false), (false, true), (true, true)] {
                    variants.push(JacobiKernel {
                        family: Family::MultiDispatch,
                        qr,
                        blocked,
                        ..k
                    });
                }
                if m * n <= 64 {
                    variants.push(JacobiKernel {
                        family: Family::PerInvocation,
                        ..k
                    });
                }
                for v in variants {
                    assert_builtins_within(&v, &allowed);
                }
            }
        }
    }

    /// The complex dedicated, per-invocation, workgroup and multi-dispatch kernels (with and
    /// without QR preconditioning and blocked sweeps) validate in both scalars, every layout and vector mode, and call only
    /// the basic builtins (f32's inverse square root besides).
    #[test]
    fn complex_kernels_validate_and_use_only_basic_builtins() {
        let limits = wgpu::Limits::default();
        for scalar in [Scalar::F32, Scalar::F64] {
            let mut allowed = vec!["Abs", "Min", "Max", "Sqrt", "Fma"];
            if scalar == Scalar::F32 {
                allowed.push("InverseSqrt");
            }
            for (m, n) in [
                (1, 1),
                (2, 2),
                (3, 3),
                (5, 2),
                (2, 7),
                (4, 4),
                (6, 5),
                (8, 8),
            ] {
                for layout in [Layout::RowMajor, Layout::ColMajor] {
                    for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
                        let mut req =
                            request(m, n, layout, vectors, 30, KernelFamily::PerInvocation);
                        req.scalar = scalar;
                        req.complex = true;
                        let k = select(&req, &limits, &cpu()).unwrap();
                        assert_eq!((k.family, k.complex), (Family::PerInvocation, true));
                        // The dedicated kernel: one lane, four lanes with and without vec4
                        // stores.
                        req.wanted = KernelFamily::Auto;
                        let small = select(&req, &limits, &cpu()).unwrap();
                        assert_eq!(small.family == Family::Small, m == n && (m == 2 || m == 3));
                        if small.family == Family::Small {
                            // The real core's bsvd_clamp comes along, unused.
                            let allowed = [allowed.as_slice(), &["Clamp"]].concat();
                            let spec = small.small.unwrap();
                            assert_eq!((spec.lanes, spec.vector_stores), (4, true));
                            for (lanes, vector_stores) in [(1, false), (4, false)] {
                                let v = JacobiKernel {
                                    small: Some(SmallSpec {
                                        lanes,
                                        vector_stores,
                                        ..spec
                                    }),
                                    ..small
                                };
                                assert_builtins_within(&v, &allowed);
                            }
                            assert_builtins_within(&small, &allowed);
                        }
                        let workgroup = |team| JacobiKernel {
                            family: Family::Workgroup,
                            team,
                            ..k
                        };
                        let multi = |lanes, qr| JacobiKernel {
                            family: Family::MultiDispatch,
                            team: 32,
                            workgroup: 32,
                            round_lanes: lanes,
                            qr,
                            qr_lanes: lanes && qr,
                            ..k
                        };
                        for k in [
                            k,
                            workgroup(1),
                            workgroup(4),
                            multi(false, false),
                            multi(true, false),
                            multi(false, true),
                            multi(true, true),
                            JacobiKernel {
                                blocked: true,
                                ..multi(false, false)
                            },
                            JacobiKernel {
                                blocked: true,
                                ..multi(false, true)
                            },
                        ] {
                            assert_builtins_within(&k, &allowed);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_kernel_variant_is_valid_wgsl() {
        // Parse and validate with naga (what wgpu does before handing the shader to a driver),
        // for every family, both layouts, all vector modes and awkward shapes.
        let limits = wgpu::Limits::default();
        for (m, n) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (5, 2),
            (2, 7),
            (9, 6),
            (32, 32),
            (40, 33),
        ] {
            for layout in [Layout::RowMajor, Layout::ColMajor] {
                for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
                    let req = request(m, n, layout, vectors, 30, KernelFamily::Auto);
                    let k = select(&req, &limits, &gpu(8)).unwrap();
                    let mut variants = vec![
                        JacobiKernel {
                            family: Family::Workgroup,
                            ..k
                        },
                        JacobiKernel {
                            family: Family::MultiDispatch,
                            ..k
                        },
                    ];
                    for (qr, blocked) in [(true, false), (false, true), (true, true)] {
                        variants.push(JacobiKernel {
                            family: Family::MultiDispatch,
                            qr,
                            blocked,
                            ..k
                        });
                    }
                    // The generated code grows as N³·M: validate it on the small shapes.
                    if m * n <= 64 {
                        variants.push(JacobiKernel {
                            family: Family::PerInvocation,
                            ..k
                        });
                    }
                    for k in variants {
                        validate(&k);
                    }
                }
            }
        }
    }

    /// Every variant of the dedicated kernel in both scalars validates, and the f64 ones call
    /// only the basic builtins (as [`f64_kernels_validate_and_use_only_basic_builtins`]).
    #[test]
    fn small_kernel_variants_are_valid_wgsl() {
        let limits = wgpu::Limits::default();
        for (n, scalar) in [2, 3]
            .into_iter()
            .flat_map(|n| [Scalar::F32, Scalar::F64].map(move |s| (n, s)))
        {
            let mut req = request(
                n,
                n,
                Layout::RowMajor,
                Vectors::Thin,
                30,
                KernelFamily::Small,
            );
            req.scalar = scalar;
            let k = select(&req, &limits, &gpu(32)).unwrap();
            assert_eq!((k.family, k.scalar), (Family::Small, scalar));
            let layouts = [
                SmallLayout::RowMajor,
                SmallLayout::ColMajor,
                SmallLayout::ColMajorPadded,
                SmallLayout::Interleaved,
            ];
            let products = [
                Product::Svd,
                Product::Polar { with_s: true },
                Product::Polar { with_s: false },
            ];
            for (input, output, product, rotation) in layouts
                .iter()
                .flat_map(|&i| layouts.iter().map(move |&o| (i, o)))
                .flat_map(|(i, o)| products.iter().map(move |&p| (i, o, p)))
                .flat_map(|(i, o, p)| [false, true].map(move |r| (i, o, p, r)))
            {
                let k = JacobiKernel {
                    small: Some(SmallSpec {
                        rotation,
                        product,
                        input,
                        output,
                        sigma: rotation,
                        info: !rotation,
                        lanes: if rotation { 4 } else { 1 },
                        vector_stores: rotation && output != SmallLayout::Interleaved,
                        packed_info: !rotation,
                    }),
                    ..k
                };
                if scalar == Scalar::F64 {
                    assert_builtins_within(&k, &["Abs", "Min", "Max", "Sqrt", "Fma"]);
                } else {
                    validate(&k);
                }
            }
        }
    }

    /// The exported WGSL (`batched_svd::wgsl`) validates as a module of its own, in f32, and in
    /// f64 with the basic builtins only.
    #[test]
    fn exported_wgsl_is_valid() {
        for (src, caps) in [
            (crate::wgsl::SMALL_SVD, naga::valid::Capabilities::empty()),
            (
                crate::wgsl::SMALL_SVD_F64,
                naga::valid::Capabilities::FLOAT64,
            ),
        ] {
            let module = naga::front::wgsl::parse_str(src)
                .unwrap_or_else(|e| panic!("{}", e.emit_to_string(src)));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
                .validate(&module)
                .unwrap_or_else(|e| panic!("{e:?}"));
            if caps.contains(naga::valid::Capabilities::FLOAT64) {
                let used = math_builtins(&module);
                assert!(
                    used.iter()
                        .all(|f| ["Abs", "Min", "Max", "Sqrt"].contains(&f.as_str())),
                    "SMALL_SVD_F64 calls {used:?}"
                );
            }
        }
    }
}
