//! Building the WGSL of a kernel: scalar prelude + shape constants + storage back-end + body.
//!
//! Every pipeline is specialised to one input shape and layout by `const` declarations, so the
//! shader compiler sees fixed trip counts (loops unroll, divisions by constants become
//! multiplications). The element type is a parameter ([`Scalar`]): the kernels only use
//! `real` and the prelude's helpers, so an f64 prelude can be added without copying kernels.

use std::fmt::Write as _;

use crate::batch::Layout;
use crate::options::Vectors;

const PRELUDE_F32: &str = include_str!("../../shaders/scalar_f32.wgsl");
const STORAGE_WORKGROUP: &str = include_str!("../../shaders/storage_workgroup.wgsl");
const STORAGE_GLOBAL: &str = include_str!("../../shaders/storage_global.wgsl");
const JACOBI: &str = include_str!("../../shaders/jacobi.wgsl");

/// Element type a kernel is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scalar {
    F32,
}

impl Scalar {
    /// Bytes per element.
    #[inline]
    pub(crate) fn size(self) -> u64 {
        match self {
            Scalar::F32 => 4,
        }
    }

    fn prelude(self) -> &'static str {
        match self {
            Scalar::F32 => PRELUDE_F32,
        }
    }
}

/// Where the working matrix W and V live while a workgroup sweeps over them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Storage {
    /// Workgroup (shared) memory: fastest, limited by `max_compute_workgroup_storage_size`.
    Workgroup,
    /// A global storage buffer, one region per matrix: any size.
    Global,
}

/// Largest team of invocations sharing one column pair. Past 32 rows per pass the partial-sum
/// reduction costs more than it saves.
const MAX_TEAM: u32 = 32;
/// Rows each lane of a team should handle at least, so the reduction amortises.
const ROWS_PER_LANE: u32 = 8;
/// Invocations per workgroup we aim for at most: 256 is the WebGPU default limit and a good
/// occupancy point on real GPUs (several workgroups per compute unit).
const MAX_WORKGROUP: u32 = 256;

/// Workgroups are rounded up to whole subgroups of at most this many invocations (adapters
/// that do not report their subgroup size report 128).
const MAX_SUBGROUP_GRANULE: u32 = 64;

/// One specialised one-sided Jacobi kernel: everything that changes the generated WGSL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct JacobiKernel {
    /// Rows of the input matrices.
    pub a_m: u32,
    /// Columns of the input matrices.
    pub a_n: u32,
    pub layout: Layout,
    pub vectors: Vectors,
    pub storage: Storage,
    /// Invocations per column pair.
    pub team: u32,
    /// Invocations per workgroup.
    pub workgroup: u32,
    pub scalar: Scalar,
}

impl JacobiKernel {
    /// Chooses storage, team and workgroup size for `m×n` matrices on a device with these
    /// limits, whose subgroups are `subgroup` invocations wide (at most). Returns `None` when
    /// the shape cannot be indexed with 32-bit offsets.
    pub(crate) fn choose(
        m: usize,
        n: usize,
        layout: Layout,
        vectors: Vectors,
        limits: &wgpu::Limits,
        subgroup: u32,
    ) -> Option<Self> {
        let a_m = u32::try_from(m).ok()?;
        let a_n = u32::try_from(n).ok()?;
        // Keep every per-matrix offset well inside u32.
        if u64::from(a_m) * u64::from(a_n) > (1 << 28) {
            return None;
        }
        let (wm, wn) = (a_m.max(a_n), a_m.min(a_n));
        let npairs = wn.div_ceil(2);
        let max_wg = prev_pow2(
            limits
                .max_compute_invocations_per_workgroup
                .min(MAX_WORKGROUP),
        )
        .min(prev_pow2(limits.max_compute_workgroup_size_x));
        let mut team = prev_pow2((wm / ROWS_PER_LANE).clamp(1, MAX_TEAM));
        while team > 1 && team * npairs > max_wg {
            team /= 2;
        }
        // Whole subgroups only. On real GPUs a partial warp costs a full one anyway; on Mesa's
        // lavapipe (22.3) a workgroup that ends in a partial subgroup loses barrier visibility
        // for that subgroup's writes (regression test `partial_subgroup_barrier`).
        let granule = prev_pow2(subgroup.clamp(1, MAX_SUBGROUP_GRANULE));
        let workgroup = (team * npairs).next_multiple_of(granule).min(max_wg);
        let mut kernel = Self {
            a_m,
            a_n,
            layout,
            vectors,
            storage: Storage::Workgroup,
            team,
            workgroup,
            scalar: Scalar::F32,
        };
        if kernel.workgroup_bytes() > u64::from(limits.max_compute_workgroup_storage_size) {
            kernel.storage = Storage::Global;
        }
        Some(kernel)
    }

    /// `(M, N)`: the working matrix W is A (tall or square) or Aᵀ (wide), M ≥ N.
    #[inline]
    pub(crate) fn work_shape(&self) -> (u32, u32) {
        (self.a_m.max(self.a_n), self.a_m.min(self.a_n))
    }

    #[inline]
    pub(crate) fn transposed(&self) -> bool {
        self.a_m < self.a_n
    }

    fn ldw(&self) -> u32 {
        let (m, _) = self.work_shape();
        // Odd leading dimension: see storage_workgroup.wgsl.
        if m % 2 == 0 { m + 1 } else { m }
    }

    fn v_len(&self) -> u32 {
        let (_, n) = self.work_shape();
        if self.vectors.wanted() { n * n } else { 1 }
    }

    fn red_len(&self) -> u32 {
        if self.team > 1 { 3 * self.workgroup } else { 1 }
    }

    /// Workgroup memory this kernel declares, in bytes.
    pub(crate) fn workgroup_bytes(&self) -> u64 {
        let (_, n) = self.work_shape();
        let s = self.scalar.size();
        let fixed = 4 * 4 + 8; // exp_max, flags, off_bits, bcast
        let red = u64::from(self.red_len()) * s;
        match self.storage {
            Storage::Workgroup => {
                let w = u64::from(self.ldw()) * u64::from(n);
                (w + u64::from(self.v_len()) + u64::from(n)) * s + 4 * u64::from(n) + red + fixed
            }
            Storage::Global => red + fixed,
        }
    }

    /// Elements of the `work` buffer per matrix (global storage only).
    pub(crate) fn work_elems(&self) -> u64 {
        match self.storage {
            Storage::Workgroup => 0,
            Storage::Global => {
                let (_, n) = self.work_shape();
                u64::from(self.ldw()) * u64::from(n) + u64::from(self.v_len()) + 2 * u64::from(n)
            }
        }
    }

    /// The complete WGSL source.
    pub(crate) fn source(&self) -> String {
        let (m, n) = self.work_shape();
        let n2 = n + n % 2;
        let mut s = String::with_capacity(16 * 1024);
        s.push_str(self.scalar.prelude());
        s.push_str("\n// ---- shape constants (generated) ----\n");
        let mut konst = |name: &str, ty: &str, value: String| {
            let _ = writeln!(s, "const {name}: {ty} = {value};");
        };
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
            format!(
                "{}u",
                self.vectors
                    .u_cols(self.a_m as usize, self.a_n as usize)
                    .max(1)
            ),
        );
        konst(
            "VT_ROWS",
            "u32",
            format!(
                "{}u",
                self.vectors
                    .vt_rows(self.a_m as usize, self.a_n as usize)
                    .max(1)
            ),
        );
        konst("WG", "u32", format!("{}u", self.workgroup));
        konst("TEAM", "u32", format!("{}u", self.team));
        konst("TEAMS", "u32", format!("{}u", self.workgroup / self.team));
        konst("RED_LEN", "u32", format!("{}u", self.red_len()));
        s.push_str("\n// ---- storage back-end ----\n");
        s.push_str(match self.storage {
            Storage::Workgroup => STORAGE_WORKGROUP,
            Storage::Global => STORAGE_GLOBAL,
        });
        s.push_str("\n// ---- kernel ----\n");
        s.push_str(JACOBI);
        s
    }
}

/// Largest power of two ≤ x (x ≥ 1).
#[inline]
fn prev_pow2(x: u32) -> u32 {
    1 << (31 - x.max(1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_variant_is_valid_wgsl() {
        // Parse and validate with naga (what wgpu does before handing the shader to a driver),
        // for both storage back-ends, both layouts, all vector modes and awkward shapes.
        let limits = wgpu::Limits::default();
        for (m, n) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (5, 2),
            (2, 7),
            (32, 32),
            (40, 33),
            (300, 8),
        ] {
            for layout in [Layout::RowMajor, Layout::ColMajor] {
                for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
                    let mut k = JacobiKernel::choose(m, n, layout, vectors, &limits, 8).unwrap();
                    for storage in [Storage::Workgroup, Storage::Global] {
                        if storage == Storage::Workgroup
                            && k.workgroup_bytes()
                                > u64::from(limits.max_compute_workgroup_storage_size)
                        {
                            continue;
                        }
                        k.storage = storage;
                        let src = k.source();
                        let module = naga::front::wgsl::parse_str(&src)
                            .unwrap_or_else(|e| panic!("{k:?}: {}", e.emit_to_string(&src)));
                        naga::valid::Validator::new(
                            naga::valid::ValidationFlags::all(),
                            naga::valid::Capabilities::empty(),
                        )
                        .validate(&module)
                        .unwrap_or_else(|e| panic!("{k:?}: {e:?}"));
                    }
                }
            }
        }
    }

    #[test]
    fn team_and_workgroup_fit_limits() {
        let limits = wgpu::Limits::default();
        let choose = |m, n, sub| {
            JacobiKernel::choose(m, n, Layout::RowMajor, Vectors::Thin, &limits, sub).unwrap()
        };
        let k = choose(32, 32, 32);
        assert_eq!(
            (k.team, k.workgroup, k.storage),
            (4, 64, Storage::Workgroup)
        );
        let k = choose(2048, 2048, 32);
        assert_eq!((k.team, k.workgroup, k.storage), (1, 256, Storage::Global));
        // 9×17: 5 pairs × 2 lanes = 10 invocations, rounded up to whole subgroups.
        let k = choose(9, 17, 8);
        assert_eq!((k.team, k.workgroup), (2, 16));
        // Unknown subgroup size (reported as 128): rounded to 64.
        let k = choose(3, 3, 128);
        assert_eq!((k.team, k.workgroup), (1, 64));
        assert_eq!(prev_pow2(1), 1);
        assert_eq!(prev_pow2(255), 128);
    }
}
