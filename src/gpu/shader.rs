//! Choosing a Jacobi kernel for a shape and device, and building its WGSL:
//! scalar prelude + shape constants + storage back-end + shared helpers + kernel body.
//!
//! Every pipeline is specialised to one input shape and layout by `const` declarations, so the
//! shader compiler sees fixed trip counts (loops unroll, divisions by constants become
//! multiplications). The element type is a parameter ([`Scalar`]): the kernels only use
//! `real` and the prelude's helpers, so an f64 prelude can be added without copying kernels.

use std::fmt::Write as _;

use crate::batch::Layout;
use crate::error::{Error, Result};
pub(crate) use crate::factors::Product;
use crate::options::{KernelFamily, SignConvention, SweepPairs, Vectors};

const PRELUDE_F32: &str = include_str!("../../shaders/scalar_f32.wgsl");
const STORAGE_WORKGROUP: &str = include_str!("../../shaders/storage_workgroup.wgsl");
const STORAGE_GLOBAL: &str = include_str!("../../shaders/storage_global.wgsl");
const COMMON: &str = include_str!("../../shaders/jacobi_common.wgsl");
const BINDINGS: &str = include_str!("../../shaders/jacobi_bindings.wgsl");
const FINALIZE: &str = include_str!("../../shaders/jacobi_finalize.wgsl");
const SINGLE_DISPATCH: &str = include_str!("../../shaders/jacobi_workgroup.wgsl");
const SMALL_SVD_CORE: &str = include_str!("../../shaders/small_svd.wgsl");
const SMALL_BATCH: &str = include_str!("../../shaders/small_batch.wgsl");
const MULTI_DISPATCH: &str = include_str!("../../shaders/jacobi_global.wgsl");
const QR_PRECONDITION: &str = include_str!("../../shaders/qr_global.wgsl");
const BLOCKED_SWEEPS: &str = include_str!("../../shaders/blocked_global.wgsl");

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

/// The three kernel families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    /// One invocation per matrix, every element in a register, generated straight-line code
    /// (`unrolled.rs`). No barriers, no shared memory: best for tiny matrices on GPUs and for
    /// small and medium ones on CPU devices, where each SIMD lane is a matrix.
    PerInvocation,
    /// One workgroup per matrix, W and V in workgroup memory, every sweep in one dispatch
    /// (`jacobi_workgroup.wgsl`). Fastest; needs W and V to fit workgroup memory and the
    /// whole solve to fit the loop budget.
    SingleDispatch,
    /// W and V in a global `work` buffer; one dispatch per round with a workgroup per column
    /// pair, plus scan/load/finalize dispatches (`jacobi_global.wgsl`). Any size.
    MultiDispatch,
    /// Dedicated 2×2 / 3×3 kernel: one invocation per matrix calling `svd2`/`svd3` from
    /// `small_svd.wgsl` (closed form / fixed-order Jacobi), also for polar decompositions and
    /// the rotation sign convention.
    Small,
}

/// Layout codes of the dedicated kernel's matrices (see small_batch.wgsl).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SmallLayout {
    /// Row-major packed (numpy).
    RowMajor = 0,
    /// Column-major packed (nalgebra, WGSL matrices).
    ColMajor = 1,
    /// Column-major with columns padded to four floats (WGSL `mat3x3<f32>` in a buffer).
    ColMajorPadded = 2,
    /// Structure of arrays: element `(r, c)` of matrix `b` at `(c·n + r)·count + b`.
    Interleaved = 3,
}

impl SmallLayout {
    /// Floats per `n×n` matrix.
    #[inline]
    pub(crate) fn stride(self, n: u32) -> u32 {
        match self {
            SmallLayout::ColMajorPadded if n == 3 => 12,
            _ => n * n,
        }
    }
}

/// Settings only the dedicated 2×2 / 3×3 kernel has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SmallSpec {
    pub rotation: bool,
    pub product: Product,
    pub input: SmallLayout,
    pub output: SmallLayout,
    /// Write σ and the per-matrix info (the host batch path always does; callers of the
    /// zero-copy API may bind no buffer for them).
    pub sigma: bool,
    pub info: bool,
    /// Matrices per invocation ([`small_lanes`](super::small_code::small_lanes)).
    pub lanes: u32,
    /// Store four matrices' outputs as `vec4` words (see `small_code.rs`): four lanes, a
    /// packed output layout, and whole groups of four matrices.
    pub vector_stores: bool,
    /// Report `status | sweeps << 2` in one `u32` per matrix (the host path) instead of a
    /// 16-byte `MatrixInfo` (the zero-copy API's documented layout).
    pub packed_info: bool,
}

/// Largest team of invocations sharing one column pair in the single-dispatch family.
const MAX_TEAM: u32 = 32;
/// Rows each lane of a team should handle at least, so the reduction amortises.
const ROWS_PER_LANE: u32 = 8;
/// Invocations per workgroup we aim for at most: 256 is the WebGPU default limit and a good
/// occupancy point on real GPUs (several workgroups per compute unit).
const MAX_WORKGROUP: u32 = 256;
/// Workgroups are rounded up to whole subgroups of at most this many invocations (adapters
/// that do not report their subgroup size report 128).
const MAX_SUBGROUP_GRANULE: u32 = 64;
/// Loop iterations one invocation may run in one dispatch (counting every loop).
///
/// Mesa's llvmpipe (lavapipe and GL) force-exits all loops of an invocation once it has run
/// 65535 loop iterations in total (gallivm's `LP_MAX_TGSI_LOOP_ITERATIONS`), silently; this
/// budget stays well below that. On real GPUs it bounds a dispatch's duration, which keeps
/// clear of driver watchdogs (TDR) for large matrices.
pub(crate) const LOOP_BUDGET: u64 = 40_000;
/// Invocations per workgroup of the per-invocation family: a multiple of every common subgroup
/// width (8 on lavapipe, 32 on NVIDIA, 64 on AMD GCN).
const PER_INVOCATION_WORKGROUP: u32 = 64;
/// Largest number of W and V elements one invocation holds in the per-invocation family.
/// GPUs: 64 registers' worth (3×3 and 4×4 with V, or a 16×2) keeps occupancy; beyond that
/// registers spill and a workgroup per matrix is faster. CPU devices (lavapipe): the values
/// live in SIMD registers and L1, each lane a matrix, and this family is 10–50× faster than
/// workgroup kernels (whose barriers llvmpipe runs as coroutine switches). The cap is set by
/// compile time: measured on lavapipe (Mesa 22.3, LLVM 15), 16×16 with vectors (512 values)
/// compiles in 0.4 s, odd sizes near it in up to 5 s, and 32×32 (2048) in 7–160 s depending
/// on how the driver unrolls.
const PER_INVOCATION_VALUES_GPU: u32 = 64;
const PER_INVOCATION_VALUES_CPU: u32 = 512;
/// Largest per-invocation kernel that can be forced with [`KernelFamily::PerInvocation`].
const MAX_FORCED_PER_INVOCATION_VALUES: u32 = 4096;

/// Working matrices with at least this many rows per column are QR-preconditioned in the
/// multi-dispatch family.
pub(crate) const QR_ASPECT: u32 = 2;

/// Blocked sweeps (blocked_global.wgsl) from this many columns of the working matrix.
pub(crate) const BLOCKED_MIN_COLUMNS: u32 = 64;
/// Columns per block of the blocked sweeps (`BLOCK` in blocked_global.wgsl).
pub(crate) const BLOCK_COLUMNS: u32 = 16;
/// Rows of the swept matrix up to which its Gram pass fits the loop budget.
const BLOCKED_MAX_ROWS: u32 = 16_384;
/// Invocations per workgroup and workgroup memory of the blocked kernels.
const BLOCKED_WORKGROUP: u32 = 256;
const BLOCKED_WORKGROUP_BYTES: u32 = 16 << 10;

/// Upper bound on workgroups along x for element-parallel dispatches (scan, load, write): each
/// invocation then loops over at most ⌈elements / (MAX_TILES·WG)⌉ elements.
pub(crate) const MAX_TILES: u32 = 1024;

/// What a solve asks of a kernel: the shape and layout of its matrices and its options.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KernelRequest {
    pub m: usize,
    pub n: usize,
    pub layout: Layout,
    pub vectors: Vectors,
    pub max_sweeps: u32,
    pub wanted: KernelFamily,
    pub signs: SignConvention,
    /// The caller set a tolerance or a sweep cap below 8 (the dedicated 2×2 / 3×3 kernel has
    /// a fixed tolerance and up to 8 sweeps, so such requests go to the general kernels).
    pub custom_tolerance: bool,
    pub product: Product,
    /// QR-precondition tall matrices in the multi-dispatch family.
    pub qr_preconditioning: bool,
    /// What the multi-dispatch sweeps rotate.
    pub sweep_pairs: SweepPairs,
}

/// One specialised one-sided Jacobi kernel: everything that changes the generated WGSL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct JacobiKernel {
    /// Rows of the input matrices.
    pub a_m: u32,
    /// Columns of the input matrices.
    pub a_n: u32,
    pub layout: Layout,
    pub vectors: Vectors,
    pub family: Family,
    /// Invocations per column pair (the whole workgroup in the multi-dispatch family).
    pub team: u32,
    /// Invocations per workgroup.
    pub workgroup: u32,
    pub scalar: Scalar,
    /// Dedicated-kernel settings (`Family::Small` only).
    pub small: Option<SmallSpec>,
    /// Householder QR preconditioning: the sweeps rotate R of W = Q·R (`Family::MultiDispatch`
    /// only; see qr_global.wgsl).
    pub qr: bool,
    /// Blocked sweeps: block pairs of 2×16 columns instead of column pairs
    /// (`Family::MultiDispatch` only; see blocked_global.wgsl).
    pub blocked: bool,
}

impl JacobiKernel {
    /// Chooses the family, team and workgroup size for `m×n` matrices on a device with these
    /// limits and adapter, for solves of up to `max_sweeps` sweeps, honouring a forced family.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the shape cannot be indexed with 32-bit offsets (more than 2²⁸
    /// elements per matrix, or more than 2²² rows); [`Error::InvalidOption`] when a forced
    /// family cannot run this shape on this device.
    pub(crate) fn choose(
        req: &KernelRequest,
        limits: &wgpu::Limits,
        adapter: &wgpu::AdapterInfo,
    ) -> Result<Self> {
        let KernelRequest {
            m,
            n,
            layout,
            vectors,
            max_sweeps,
            wanted,
            signs,
            custom_tolerance,
            product,
            qr_preconditioning,
            sweep_pairs,
        } = *req;
        let too_large = || {
            Error::TooLarge(format!(
                "{m}×{n} matrices exceed 2^28 elements or 2^22 rows"
            ))
        };
        let a_m = u32::try_from(m).map_err(|_| too_large())?;
        let a_n = u32::try_from(n).map_err(|_| too_large())?;
        if u64::from(a_m) * u64::from(a_n) > (1 << 28) || a_m.max(a_n) > (1 << 22) {
            return Err(too_large());
        }
        let (wm, wn) = (a_m.max(a_n), a_m.min(a_n));
        let npairs = wn.div_ceil(2);
        let max_wg = prev_pow2(
            limits
                .max_compute_invocations_per_workgroup
                .min(MAX_WORKGROUP),
        )
        .min(prev_pow2(limits.max_compute_workgroup_size_x));
        // Whole subgroups only. On real GPUs a partial warp costs a full one anyway; on Mesa's
        // lavapipe (22.3) a workgroup that ends in a partial subgroup loses barrier visibility
        // for that subgroup's writes (regression test `partial_subgroup_barrier`).
        let granule =
            prev_pow2(adapter.subgroup_max_size.clamp(1, MAX_SUBGROUP_GRANULE)).min(max_wg);
        let per_invocation = Self {
            a_m,
            a_n,
            layout,
            vectors,
            family: Family::PerInvocation,
            team: 1,
            workgroup: PER_INVOCATION_WORKGROUP.min(max_wg),
            scalar: Scalar::F32,
            small: None,
            qr: false,
            blocked: false,
        };
        // The dedicated 2×2 / 3×3 kernel: the default for those shapes, and the only one that
        // computes polar decompositions and the rotation convention on the GPU.
        let small_shape = m == n && (m == 2 || m == 3);
        let needs_small = product != Product::Svd;
        if wanted == KernelFamily::Small
            || needs_small
            || (wanted == KernelFamily::Auto && small_shape && !custom_tolerance)
        {
            if !small_shape {
                return Err(Error::InvalidOption(format!(
                    "the dedicated kernel handles 2×2 and 3×3 matrices only, not {m}×{n}"
                )));
            }
            let input = match layout {
                Layout::RowMajor => SmallLayout::RowMajor,
                Layout::ColMajor => SmallLayout::ColMajor,
            };
            // The host path pads its buffers to whole groups of lanes, so four lanes always
            // store vec4 words into its packed (row-major) outputs.
            let lanes = super::small_code::small_lanes(adapter);
            return Ok(Self {
                family: Family::Small,
                small: Some(SmallSpec {
                    rotation: signs == SignConvention::Rotation,
                    product,
                    input,
                    output: SmallLayout::RowMajor,
                    sigma: true,
                    info: true,
                    lanes,
                    vector_stores: lanes == 4,
                    packed_info: true,
                }),
                ..per_invocation
            });
        }
        let mut team = prev_pow2((wm / ROWS_PER_LANE).clamp(1, MAX_TEAM));
        while team > 1 && team * npairs > max_wg {
            team /= 2;
        }
        let single = Self {
            family: Family::SingleDispatch,
            team,
            workgroup: (team * npairs).next_multiple_of(granule).min(max_wg),
            ..per_invocation
        };
        // Multi-dispatch: a workgroup per column pair reduces down the M rows; about four rows
        // per invocation, between 32 (or one subgroup) and 256 invocations.
        let multi_wg = (wm.next_power_of_two() / 4).clamp(granule.max(32).min(max_wg), max_wg);
        // QR preconditioning pays for itself once the sweeps over M rows cost clearly more than
        // sweeps over the N rows of R plus the QR and the Q application (about 4MN² flops): at
        // M ≥ 2N, after one or two sweeps.
        let multi = Self {
            family: Family::MultiDispatch,
            team: multi_wg,
            workgroup: multi_wg,
            qr: qr_preconditioning && wn >= 2 && wm >= QR_ASPECT * wn,
            ..per_invocation
        };
        // Blocked sweeps: for at least BLOCKED_MIN_COLUMNS columns, a Gram pass down the swept
        // rows within the loop budget (JM/32 tiles of 36 iterations), and room for the 256
        // invocations and ~13 KB of workgroup memory the blocked kernels declare.
        let swept_rows = if multi.qr { wn } else { wm };
        let multi = Self {
            blocked: match sweep_pairs {
                SweepPairs::Auto => adapter.device_type != wgpu::DeviceType::Cpu,
                SweepPairs::Blocks => true,
                SweepPairs::Columns => false,
            } && wn >= BLOCKED_MIN_COLUMNS
                && swept_rows <= BLOCKED_MAX_ROWS
                && limits.max_compute_invocations_per_workgroup >= BLOCKED_WORKGROUP
                && limits.max_compute_workgroup_size_x >= BLOCKED_WORKGROUP
                && limits.max_compute_workgroup_storage_size >= BLOCKED_WORKGROUP_BYTES,
            ..multi
        };
        let max_values = if adapter.device_type == wgpu::DeviceType::Cpu {
            PER_INVOCATION_VALUES_CPU
        } else {
            PER_INVOCATION_VALUES_GPU
        };
        let per_invocation_fits = per_invocation.loop_iterations(max_sweeps) <= LOOP_BUDGET;
        let single_fits = single.workgroup_bytes()
            <= u64::from(limits.max_compute_workgroup_storage_size)
            && single.loop_iterations(max_sweeps) <= LOOP_BUDGET;
        let refuse = |family: &str, why: String| {
            Err(Error::InvalidOption(format!(
                "the {family} kernel cannot run {m}×{n} matrices here: {why}"
            )))
        };
        match wanted {
            KernelFamily::Auto
                if per_invocation_fits && per_invocation.private_values() <= max_values =>
            {
                Ok(per_invocation)
            }
            // On CPU devices a workgroup kernel pays a coroutine switch per barrier, while the
            // multi-dispatch path sweeps R of a QR with one invocation per column pair: measured
            // on lavapipe 3.6× faster at 128×16, 4.7× at 256×16, 1.6× at 100×20.
            KernelFamily::Auto
                if single_fits && !(adapter.device_type == wgpu::DeviceType::Cpu && multi.qr) =>
            {
                Ok(single)
            }
            KernelFamily::Auto | KernelFamily::MultiDispatch => Ok(multi),
            KernelFamily::PerInvocation if !per_invocation_fits => refuse(
                "per-invocation",
                format!("{max_sweeps} sweeps exceed the loop budget"),
            ),
            KernelFamily::PerInvocation
                if per_invocation.private_values() > MAX_FORCED_PER_INVOCATION_VALUES =>
            {
                refuse(
                    "per-invocation",
                    format!(
                        "{} values per invocation exceed {MAX_FORCED_PER_INVOCATION_VALUES}",
                        per_invocation.private_values()
                    ),
                )
            }
            KernelFamily::PerInvocation => Ok(per_invocation),
            KernelFamily::Workgroup if !single_fits => refuse(
                "workgroup",
                format!(
                    "needs {} bytes of workgroup memory (device: {}) and {} loop iterations \
                     per invocation for {max_sweeps} sweeps (budget {LOOP_BUDGET})",
                    single.workgroup_bytes(),
                    limits.max_compute_workgroup_storage_size,
                    single.loop_iterations(max_sweeps)
                ),
            ),
            KernelFamily::Workgroup => Ok(single),
            KernelFamily::Small => unreachable!("handled above"),
        }
    }

    /// Elements of W (with the phantom column of an odd N) and V one invocation holds in the
    /// per-invocation family.
    pub(crate) fn private_values(&self) -> u32 {
        let (m, n) = self.work_shape();
        let n2 = n + n % 2;
        m * n2 + if self.vectors.wanted() { n * n2 } else { 0 }
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

    /// Column pairs per round (including the padding pair of an odd N).
    #[inline]
    pub(crate) fn pairs(&self) -> u32 {
        self.work_shape().1.div_ceil(2)
    }

    /// Rounds per sweep (N2 − 1).
    #[inline]
    pub(crate) fn rounds(&self) -> u32 {
        2 * self.pairs() - 1
    }

    /// Entries of the params uniform buffer: one per round in the multi-dispatch family (its
    /// `round` field picked by dynamic offset), also one per reflector with QR
    /// preconditioning; else one.
    pub(crate) fn param_entries(&self) -> u32 {
        if self.family != Family::MultiDispatch {
            return 1;
        }
        let reflectors = if self.qr { self.work_shape().1 } else { 0 };
        self.rounds().max(self.sweep_rounds()).max(reflectors)
    }

    /// Blocks of BLOCK_COLUMNS columns, rounded up to even (blocked sweeps).
    #[inline]
    pub(crate) fn blocks(&self) -> u32 {
        let nb = self.work_shape().1.div_ceil(BLOCK_COLUMNS);
        nb + nb % 2
    }

    /// Rounds per sweep of the multi-dispatch family: over column pairs, or block pairs.
    #[inline]
    pub(crate) fn sweep_rounds(&self) -> u32 {
        if self.blocked {
            self.blocks() - 1
        } else {
            self.rounds()
        }
    }

    /// Matrices one invocation decomposes: the dedicated kernel's lanes, else one (only the
    /// per-invocation and dedicated families have an invocation per matrix at all).
    #[inline]
    pub(crate) fn matrices_per_invocation(&self) -> u32 {
        self.small.map_or(1, |small| small.lanes)
    }

    fn ldw(&self) -> u32 {
        let (m, _) = self.work_shape();
        match self.family {
            Family::PerInvocation | Family::Small => m,
            // Odd leading dimension: see storage_workgroup.wgsl.
            Family::SingleDispatch => m | 1,
            // Columns start on 32-element (128-byte) boundaries: whole memory transactions on
            // real GPUs.
            Family::MultiDispatch => m.next_multiple_of(32),
        }
    }

    fn v_len(&self) -> u32 {
        let (_, n) = self.work_shape();
        if self.vectors.wanted() { n * n } else { 1 }
    }

    fn red_len(&self) -> u32 {
        match self.family {
            Family::PerInvocation | Family::Small => 1,
            Family::SingleDispatch if self.team == 1 => 1,
            _ => 3 * self.workgroup,
        }
    }

    /// Workgroup memory this kernel declares, in bytes.
    pub(crate) fn workgroup_bytes(&self) -> u64 {
        let (_, n) = self.work_shape();
        let s = self.scalar.size();
        let fixed = 4 * 4 + 8; // atomics and broadcast slots
        let red = u64::from(self.red_len()) * s;
        match self.family {
            Family::SingleDispatch => {
                let w = u64::from(self.ldw()) * u64::from(n);
                (w + u64::from(self.v_len()) + u64::from(n)) * s + 4 * u64::from(n) + red + fixed
            }
            Family::MultiDispatch => red + fixed,
            Family::PerInvocation | Family::Small => 0,
        }
    }

    /// Loop iterations one invocation of a single-dispatch kernel (per-invocation or workgroup
    /// family) runs for a solve of `sweeps` sweeps, counting every loop (the quantity
    /// llvmpipe limits; see [`LOOP_BUDGET`]).
    pub(crate) fn loop_iterations(&self, sweeps: u32) -> u64 {
        let (m, n) = self.work_shape();
        if self.family == Family::Small {
            return 64; // at most 8 sweeps and a few 3-element loops
        }
        if self.family == Family::PerInvocation {
            // The sweep loop (its rounds are unrolled); the NaN path's output loops.
            let outputs = u64::from(n) + u64::from(m) * u64::from(n) + u64::from(n) * u64::from(n);
            return u64::from(sweeps) + outputs;
        }
        let (m, n, wg, team) = (
            u64::from(m),
            u64::from(n),
            u64::from(self.workgroup),
            u64::from(self.team),
        );
        let per = |x: u64, by: u64| x.div_ceil(by) + 1;
        let passes = u64::from(self.pairs()).div_ceil(wg / team);
        let reduction = if team > 1 { team } else { 0 };
        let load = 2 * per(m * n, wg) + per(n * n, wg);
        let pair = 2 * per(m, team) + per(n, team) + reduction + 1;
        let sweep = 1 + u64::from(self.rounds()) * (1 + passes * pair);
        let out_len = n + m * n + n * n;
        // Norms (W's and V's columns, V's rescaled), ranking, outputs.
        let finalize = per(n, wg) * (m + 2 * n + 2) + per(n, wg) * (n + 2) + per(out_len, wg) + n;
        load + u64::from(sweeps) * sweep + finalize
    }

    /// Elements of the `work` buffer per matrix (multi-dispatch only).
    pub(crate) fn work_elems(&self) -> u64 {
        match self.family {
            Family::SingleDispatch | Family::PerInvocation | Family::Small => 0,
            Family::MultiDispatch => {
                let (_, n) = self.work_shape();
                let (ldw, n) = (u64::from(self.ldw()), u64::from(n));
                // W, V, σ, the permutation (storage_global.wgsl), and with QR: R, τ, Q·R.
                let plain = ldw * n + u64::from(self.v_len()) + 2 * n;
                let qr = if self.qr {
                    n * n + n + if self.vectors.wanted() { ldw * n } else { 0 }
                } else {
                    0
                };
                // Blocked: a 32×32 transform and a flag per block pair of a round.
                let blocked = if self.blocked {
                    u64::from(self.blocks() / 2) * (32 * 32 + 1)
                } else {
                    0
                };
                plain + qr + blocked
            }
        }
    }

    /// Workgroups along x for an element-parallel dispatch over `elements` per matrix.
    pub(crate) fn tiles(&self, elements: u64) -> u32 {
        elements
            .div_ceil(u64::from(self.workgroup))
            .clamp(1, u64::from(MAX_TILES)) as u32
    }

    /// The complete WGSL source.
    pub(crate) fn source(&self) -> String {
        let (m, n) = self.work_shape();
        let n2 = n + n % 2;
        let mut s = String::with_capacity(24 * 1024);
        s.push_str(self.scalar.prelude());
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
        let parts: &[(&str, &str)] = match self.family {
            Family::Small => {
                lane_code = super::small_code::small_kernel_code(
                    &self.small.expect("the dedicated kernel has its settings"),
                    self.a_n,
                    self.vectors.wanted(),
                );
                &[
                    ("shared", COMMON),
                    ("lanes (generated)", &lane_code),
                    ("small_svd.wgsl", SMALL_SVD_CORE),
                    ("kernel", SMALL_BATCH),
                ]
            }
            Family::PerInvocation => {
                generated = super::unrolled::per_invocation_main(self);
                &[
                    ("shared", COMMON),
                    ("bindings", BINDINGS),
                    ("kernel (generated)", &generated),
                ]
            }
            Family::SingleDispatch => &[
                ("storage back-end", STORAGE_WORKGROUP),
                ("shared", COMMON),
                ("bindings", BINDINGS),
                ("finalize", FINALIZE),
                ("kernel", SINGLE_DISPATCH),
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

/// Largest power of two ≤ x (x ≥ 1).
#[inline]
fn prev_pow2(x: u32) -> u32 {
    1 << (31 - x.max(1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(subgroup: u32) -> wgpu::AdapterInfo {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::DiscreteGpu, wgpu::Backend::Vulkan);
        info.subgroup_max_size = subgroup;
        info
    }

    fn cpu() -> wgpu::AdapterInfo {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::Cpu, wgpu::Backend::Vulkan);
        info.subgroup_max_size = 8;
        info
    }

    fn pick(
        m: usize,
        n: usize,
        adapter: &wgpu::AdapterInfo,
        sweeps: u32,
        wanted: KernelFamily,
    ) -> Result<JacobiKernel> {
        let limits = wgpu::Limits {
            max_compute_workgroup_storage_size: 32 << 10,
            ..wgpu::Limits::default()
        };
        let req = request(m, n, Layout::RowMajor, Vectors::Thin, sweeps, wanted);
        JacobiKernel::choose(&req, &limits, adapter)
    }

    fn request(
        m: usize,
        n: usize,
        layout: Layout,
        vectors: Vectors,
        max_sweeps: u32,
        wanted: KernelFamily,
    ) -> KernelRequest {
        KernelRequest {
            m,
            n,
            layout,
            vectors,
            max_sweeps,
            wanted,
            signs: SignConvention::NonNegative,
            custom_tolerance: false,
            product: Product::Svd,
            qr_preconditioning: true,
            sweep_pairs: SweepPairs::Auto,
        }
    }

    fn choose(m: usize, n: usize, subgroup: u32) -> JacobiKernel {
        let req = request(
            m,
            n,
            Layout::RowMajor,
            Vectors::Thin,
            30,
            KernelFamily::Auto,
        );
        JacobiKernel::choose(&req, &wgpu::Limits::default(), &gpu(subgroup)).unwrap()
    }

    /// Parses and validates a kernel's WGSL with naga (what wgpu does before handing the
    /// shader to a driver).
    fn validate(k: &JacobiKernel) {
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
                    let k = JacobiKernel::choose(&req, &limits, &gpu(8)).unwrap();
                    let mut variants = vec![
                        JacobiKernel {
                            family: Family::SingleDispatch,
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

    #[test]
    fn small_kernel_variants_are_valid_wgsl() {
        let limits = wgpu::Limits::default();
        for n in [2, 3] {
            let req = request(
                n,
                n,
                Layout::RowMajor,
                Vectors::Thin,
                30,
                KernelFamily::Small,
            );
            let k = JacobiKernel::choose(&req, &limits, &gpu(32)).unwrap();
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
                validate(&k);
            }
        }
    }

    #[test]
    fn family_team_and_workgroup() {
        let k = choose(32, 32, 32);
        assert_eq!(
            (k.family, k.team, k.workgroup),
            (Family::SingleDispatch, 4, 64)
        );
        // 2×2 and 3×3: the dedicated kernel; other tiny matrices: one invocation each, on GPUs
        // and CPU devices alike.
        let k = choose(3, 3, 32);
        assert_eq!((k.family, k.workgroup), (Family::Small, 64));
        let k = choose(4, 4, 32);
        assert_eq!((k.family, k.workgroup), (Family::PerInvocation, 64));
        // Mid sizes: per invocation on CPU devices only.
        let k = pick(16, 16, &cpu(), 30, KernelFamily::Auto).unwrap();
        assert_eq!(k.family, Family::PerInvocation);
        let k = pick(16, 16, &gpu(32), 30, KernelFamily::Auto).unwrap();
        assert_eq!(k.family, Family::SingleDispatch);
        // 9×17: 5 pairs × 2 lanes = 10 invocations, rounded up to whole subgroups.
        let k = choose(9, 17, 8);
        assert_eq!(
            (k.family, k.team, k.workgroup),
            (Family::SingleDispatch, 2, 16)
        );
        // Unknown subgroup size (reported as 128): rounded to 64.
        let k = choose(5, 10, 128);
        assert_eq!(
            (k.family, k.team, k.workgroup),
            (Family::SingleDispatch, 1, 64)
        );
        // Too big for 16 KiB of workgroup memory.
        let k = choose(2048, 2048, 32);
        assert_eq!((k.family, k.workgroup), (Family::MultiDispatch, 256));
        let k = choose(64, 64, 8);
        assert_eq!((k.family, k.workgroup), (Family::MultiDispatch, 32));
        assert_eq!(prev_pow2(1), 1);
        assert_eq!(prev_pow2(255), 128);
    }

    #[test]
    fn loop_budget_picks_the_family() {
        // Mid sizes that fit workgroup memory stay in a single dispatch for the default cap …
        for (m, n) in [(2, 2), (8, 8), (16, 16), (32, 32), (100, 30), (300, 20)] {
            let k = pick(m, n, &gpu(8), 30, KernelFamily::Auto).unwrap();
            assert_ne!(k.family, Family::MultiDispatch, "{m}×{n}");
            assert!(k.loop_iterations(30) <= LOOP_BUDGET);
        }
        // … but a sweep cap whose solve would exceed the budget moves them to multi-dispatch.
        for (m, n) in [(4, 4), (32, 32)] {
            let k = pick(m, n, &cpu(), 100_000, KernelFamily::Auto).unwrap();
            assert_eq!(k.family, Family::MultiDispatch, "{m}×{n}");
        }
    }

    #[test]
    fn tall_shapes_take_qr_multi_dispatch_on_cpu_devices() {
        for (m, n) in [(128, 16), (256, 16), (100, 20)] {
            let on_cpu = pick(m, n, &cpu(), 30, KernelFamily::Auto).unwrap();
            assert_eq!(on_cpu.family, Family::MultiDispatch, "{m}×{n}");
            assert!(on_cpu.qr, "{m}×{n}");
            let on_gpu = pick(m, n, &gpu(32), 30, KernelFamily::Auto).unwrap();
            assert_eq!(on_gpu.family, Family::SingleDispatch, "{m}×{n}");
        }
        // Not tall enough for QR: the workgroup kernel stays.
        let k = pick(40, 32, &cpu(), 30, KernelFamily::Auto).unwrap();
        assert_eq!(k.family, Family::SingleDispatch);
    }

    #[test]
    fn forced_families() {
        let k = pick(16, 16, &gpu(32), 30, KernelFamily::PerInvocation).unwrap();
        assert_eq!(k.family, Family::PerInvocation);
        let k = pick(3, 3, &gpu(32), 30, KernelFamily::MultiDispatch).unwrap();
        assert_eq!(k.family, Family::MultiDispatch);
        let k = pick(3, 3, &gpu(32), 30, KernelFamily::Workgroup).unwrap();
        assert_eq!(k.family, Family::SingleDispatch);
        // Refused, not silently replaced: too much workgroup memory, too many values, too
        // many sweeps for one dispatch.
        for (m, n, sweeps, wanted) in [
            (128, 128, 30, KernelFamily::Workgroup),
            (64, 64, 30, KernelFamily::PerInvocation),
            (8, 8, 100_000, KernelFamily::Workgroup),
            (8, 8, 100_000, KernelFamily::PerInvocation),
        ] {
            assert!(
                matches!(
                    pick(m, n, &gpu(32), sweeps, wanted),
                    Err(Error::InvalidOption(_))
                ),
                "{m}×{n} {wanted:?}"
            );
        }
    }
}
