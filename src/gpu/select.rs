//! Kernel policy: every choice for a given shape, layout, vector mode and device in one pure
//! function, [`select`]: the family, the team and workgroup sizes, QR preconditioning and
//! blocked sweeps, the dedicated kernel's lanes and stores, the multi-dispatch lane variants —
//! and with them the entry points that get compiled ([`JacobiKernel::entry_points`]). (The
//! per-invocation family's unrolling is a function of the shape alone, in `unrolled.rs`.)

use super::kernel::{Family, JacobiKernel, Product, Scalar, SmallLayout, SmallSpec};
use crate::batch::Layout;
use crate::error::{Error, Result};
use crate::options::{SignConvention, Vectors};
use crate::tuning::{KernelFamily, SweepPairs};

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
/// Rows of the swept matrix up to which its Gram pass fits the loop budget.
const BLOCKED_MAX_ROWS: u32 = 16_384;
/// Invocations per workgroup of the blocked kernels.
const BLOCKED_WORKGROUP: u32 = 256;

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
    /// The element type: its real type, and whether it is complex.
    pub scalar: Scalar,
    pub complex: bool,
}

/// Chooses the kernel for a solve: family, team and workgroup size for `m×n` matrices on a
/// device with these limits and adapter, for solves of up to `max_sweeps` sweeps, honouring a
/// forced family.
///
/// # Errors
/// [`Error::TooLarge`] when the shape cannot be indexed with 32-bit offsets (more than 2²⁸
/// elements per matrix, or more than 2²² rows); [`Error::InvalidOption`] when a forced
/// family cannot run this shape on this device.
pub(crate) fn select(
    req: &KernelRequest,
    limits: &wgpu::Limits,
    adapter: &wgpu::AdapterInfo,
) -> Result<JacobiKernel> {
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
        scalar,
        complex,
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
    let granule = prev_pow2(adapter.subgroup_max_size.clamp(1, MAX_SUBGROUP_GRANULE)).min(max_wg);
    let per_invocation = JacobiKernel {
        a_m,
        a_n,
        layout,
        vectors,
        family: Family::PerInvocation,
        team: 1,
        workgroup: PER_INVOCATION_WORKGROUP.min(max_wg),
        scalar,
        complex,
        small: None,
        qr: false,
        blocked: false,
        round_lanes: false,
        qr_lanes: false,
    };
    // The dedicated 2×2 / 3×3 kernel: the default for those shapes, and the only one that
    // computes polar decompositions and the rotation convention on the GPU.
    let small_shape = m == n && (m == 2 || m == 3);
    let needs_small = product != Product::Svd;
    if wanted == KernelFamily::Small
        || needs_small
        || (wanted == KernelFamily::Auto && small_shape && !custom_tolerance)
    {
        // Complex results have the non-negative convention only (options.rs refuses the
        // rotation one), and complex polar decompositions are formed from the SVD on the host
        // (polar.rs): the complex kernel computes the SVD alone.
        if complex && (product != Product::Svd || signs == SignConvention::Rotation) {
            return Err(Error::InvalidOption(format!(
                "the dedicated kernel computes the SVD of {} matrices in the non-negative \
                 convention only",
                scalar.element_name(true)
            )));
        }
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
        let lanes = small_lanes(adapter);
        return Ok(JacobiKernel {
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
    let single = JacobiKernel {
        family: Family::Workgroup,
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
    let multi = JacobiKernel {
        family: Family::MultiDispatch,
        team: multi_wg,
        workgroup: multi_wg,
        qr: qr_preconditioning && wn >= 2 && wm >= QR_ASPECT * wn,
        ..per_invocation
    };
    // Blocked sweeps: for at least BLOCKED_MIN_COLUMNS columns, a Gram pass down the swept
    // rows within the loop budget (JM/32 tiles of 36 iterations), and room for the 256
    // invocations and the workgroup memory the blocked kernels declare (35 KB for complex128).
    let swept_rows = if multi.qr { wn } else { wm };
    let multi = JacobiKernel {
        blocked: match sweep_pairs {
            SweepPairs::Auto => adapter.device_type != wgpu::DeviceType::Cpu,
            SweepPairs::Blocks => true,
            SweepPairs::Columns => false,
        } && wn >= BLOCKED_MIN_COLUMNS
            && swept_rows <= BLOCKED_MAX_ROWS
            && limits.max_compute_invocations_per_workgroup >= BLOCKED_WORKGROUP
            && limits.max_compute_workgroup_size_x >= BLOCKED_WORKGROUP
            && u64::from(limits.max_compute_workgroup_storage_size)
                >= multi.blocked_workgroup_bytes(),
        ..multi
    };
    // On CPU devices a column pair per invocation (no barriers) beats a workgroup per pair, as
    // long as one invocation's pass down the rows fits the loop budget; the same for the
    // Householder updates of the QR.
    let cpu = adapter.device_type == wgpu::DeviceType::Cpu;
    let rows = u64::from(if multi.qr { wn } else { wm });
    let multi = JacobiKernel {
        round_lanes: cpu && !multi.blocked && 2 * rows + u64::from(wn) <= LOOP_BUDGET,
        qr_lanes: cpu && multi.qr && 2 * u64::from(wm) <= LOOP_BUDGET,
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
    let chosen = match wanted {
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
    }?;
    Ok(chosen)
}

/// Matrices each invocation of the dedicated 2×2 / 3×3 kernel decomposes at once, one per
/// vector component (see `small_svd.wgsl`). On GPUs one: a warp's lanes are the parallelism
/// and registers the scarce resource. On CPU devices (lavapipe), where every SIMD lane is an
/// invocation, a rotation is a chain of dependent square roots and divisions; four matrices
/// per invocation give four independent chains (3×3 SVD: 16 → 25 M matrices/s on 2 cores;
/// two measured the same as four).
#[inline]
#[must_use]
pub(crate) fn small_lanes(adapter: &wgpu::AdapterInfo) -> u32 {
    if adapter.device_type == wgpu::DeviceType::Cpu {
        4
    } else {
        1
    }
}

/// Whether the dedicated kernel may store `vec4` words when it decomposes `count` matrices
/// into the caller's buffers with `lanes` matrices per invocation: only whole groups of four
/// matrices, in a packed layout.
#[inline]
#[must_use]
pub(crate) fn vector_stores_fit(lanes: u32, output: SmallLayout, count: u32) -> bool {
    lanes == 4 && output != SmallLayout::Interleaved && count.is_multiple_of(4)
}

/// The per-invocation family's unrolling: the rounds of the circle ordering each unrolled
/// block holds, a divisor of the `N2 − 1` rounds of a sweep. Whole sweeps are unrolled while the code stays small; llvmpipe's compile time
/// grows faster than the code (16×16, Mesa's shader cache off: 7.1 s with one round per block,
/// 6.5 s with three, 7.3 s with five, 12 s with all fifteen), and with the cache warm naga's
/// and Mesa's passes over the WGSL still take 0.5 s with one round and 0.85 s with three.
/// Fewer blocks mean fewer register moves between them (8×8: 0.86 → 1.37 M matrices/s on
/// lavapipe from one round per block to a whole sweep; 16×16: 149 k with one round, 163 k
/// with three, 206 k with fifteen): the budget keeps 16×16 at one round, for start-up.
///
/// A complex pair-row is about four real ones (a complex product is four real products): it
/// counts as `parts`² real ones.
pub(crate) fn rounds_per_block(m: u32, n: u32, parts: u32) -> u32 {
    let n2 = n + n % 2;
    let rounds = n2 - 1;
    let per_round = (n2 / 2) * (m + n) * parts * parts;
    (1..=rounds)
        .rev()
        .find(|&r| rounds.is_multiple_of(r) && (r == 1 || r * per_round <= BLOCK_BUDGET))
        .unwrap_or(1)
}

/// Largest unrolled block, in pair-rows (`pairs·(M + N)`): 8×8's whole sweep is 448, one
/// round of 16×16 is 256 (three would be 768).
const BLOCK_BUDGET: u32 = 512;

/// What a zero-copy call ([`Gpu::encode_svd`](crate::Gpu::encode_svd),
/// [`Gpu::encode_polar`](crate::Gpu::encode_polar)) asks of the dedicated kernel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZeroCopyRequest {
    /// 2 or 3.
    pub n: u32,
    pub count: u32,
    pub rotation: bool,
    pub product: Product,
    pub input: SmallLayout,
    pub output: SmallLayout,
    /// A σ buffer is bound.
    pub sigma: bool,
    /// Matrix outputs are bound (U and V, or R and maybe S).
    pub vectors: bool,
    /// An info buffer is bound.
    pub info: bool,
    /// Matrices per invocation; `None` (every caller but the lane-equivalence test): by the
    /// device ([`small_lanes`]).
    pub lanes: Option<u32>,
    /// The element type of the caller's buffers.
    pub scalar: Scalar,
}

/// The dedicated kernel for a zero-copy call: lanes by device, `vec4` stores where the count
/// and layout allow, the documented 16-byte info records.
pub(crate) fn select_zero_copy(req: &ZeroCopyRequest, adapter: &wgpu::AdapterInfo) -> JacobiKernel {
    let lanes = req.lanes.unwrap_or_else(|| small_lanes(adapter));
    JacobiKernel {
        a_m: req.n,
        a_n: req.n,
        layout: Layout::ColMajor,
        vectors: if req.vectors {
            Vectors::Full
        } else {
            Vectors::None
        },
        family: Family::Small,
        team: 1,
        workgroup: PER_INVOCATION_WORKGROUP,
        scalar: req.scalar,
        complex: false,
        small: Some(SmallSpec {
            rotation: req.rotation,
            product: req.product,
            input: req.input,
            output: req.output,
            sigma: req.sigma,
            info: req.info,
            lanes,
            vector_stores: vector_stores_fit(lanes, req.output, req.count),
            packed_info: false,
        }),
        qr: false,
        blocked: false,
        round_lanes: false,
        qr_lanes: false,
    }
}

/// Largest power of two ≤ x (x ≥ 1).
#[inline]
fn prev_pow2(x: u32) -> u32 {
    1 << (31 - x.max(1).leading_zeros())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn gpu(subgroup: u32) -> wgpu::AdapterInfo {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::DiscreteGpu, wgpu::Backend::Vulkan);
        info.subgroup_max_size = subgroup;
        info
    }

    pub(crate) fn cpu() -> wgpu::AdapterInfo {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::Cpu, wgpu::Backend::Vulkan);
        info.subgroup_max_size = 8;
        info
    }

    pub(crate) fn pick(
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
        select(&req, &limits, adapter)
    }

    pub(crate) fn request(
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
            scalar: Scalar::F32,
            complex: false,
        }
    }

    pub(crate) fn choose(m: usize, n: usize, subgroup: u32) -> JacobiKernel {
        let req = request(
            m,
            n,
            Layout::RowMajor,
            Vectors::Thin,
            30,
            KernelFamily::Auto,
        );
        select(&req, &wgpu::Limits::default(), &gpu(subgroup)).unwrap()
    }

    #[test]
    fn family_team_and_workgroup() {
        let k = choose(32, 32, 32);
        assert_eq!((k.family, k.team, k.workgroup), (Family::Workgroup, 4, 64));
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
        assert_eq!(k.family, Family::Workgroup);
        // 9×17: 5 pairs × 2 lanes = 10 invocations, rounded up to whole subgroups.
        let k = choose(9, 17, 8);
        assert_eq!((k.family, k.team, k.workgroup), (Family::Workgroup, 2, 16));
        // Unknown subgroup size (reported as 128): rounded to 64.
        let k = choose(5, 10, 128);
        assert_eq!((k.family, k.team, k.workgroup), (Family::Workgroup, 1, 64));
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
            assert_eq!(on_gpu.family, Family::Workgroup, "{m}×{n}");
        }
        // Not tall enough for QR: the workgroup kernel stays.
        let k = pick(40, 32, &cpu(), 30, KernelFamily::Auto).unwrap();
        assert_eq!(k.family, Family::Workgroup);
    }

    #[test]
    fn forced_families() {
        let k = pick(16, 16, &gpu(32), 30, KernelFamily::PerInvocation).unwrap();
        assert_eq!(k.family, Family::PerInvocation);
        let k = pick(3, 3, &gpu(32), 30, KernelFamily::MultiDispatch).unwrap();
        assert_eq!(k.family, Family::MultiDispatch);
        let k = pick(3, 3, &gpu(32), 30, KernelFamily::Workgroup).unwrap();
        assert_eq!(k.family, Family::Workgroup);
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

    /// Whole sweeps while they fit the budget, else the largest divisor of the rounds that
    /// does (one round at worst).
    #[test]
    fn block_sizes() {
        assert_eq!(rounds_per_block(4, 4, 1), 3);
        assert_eq!(rounds_per_block(8, 8, 1), 7);
        assert_eq!(rounds_per_block(5, 3, 1), 3); // odd N: N2 = 4
        assert_eq!(rounds_per_block(10, 10, 1), 3); // 9 rounds of 5·20 pair-rows
        assert_eq!(rounds_per_block(17, 9, 1), 3); // 9 rounds of 5·26
        assert_eq!(rounds_per_block(12, 12, 1), 1); // 11 rounds: prime, 6·24 each
        assert_eq!(rounds_per_block(16, 16, 1), 1); // 15 rounds of 8·32: three would be 768
        // Complex pair-rows count four times.
        assert_eq!(rounds_per_block(3, 3, 2), 3); // 3 rounds of 2·6·4
        assert_eq!(rounds_per_block(4, 4, 2), 3); // 3 rounds of 2·8·4
        assert_eq!(rounds_per_block(8, 8, 2), 1); // 7 rounds of 4·16·4
    }

    #[test]
    fn lane_variants_and_entry_points() {
        use super::super::kernel::Entry;
        // Tall on a CPU device: QR with one invocation per pair and per Householder column.
        let k = pick(128, 16, &cpu(), 30, KernelFamily::Auto).unwrap();
        assert!(k.qr && k.qr_lanes && k.round_lanes);
        let e = k.entry_points();
        assert!(e.contains(&Entry::RoundLanes) && !e.contains(&Entry::Round));
        assert!(e.contains(&Entry::QrUpdateLanes) && !e.contains(&Entry::QrUpdate));
        // The same shape forced to multi-dispatch on a GPU: workgroups per pair.
        let k = pick(128, 16, &gpu(32), 30, KernelFamily::MultiDispatch).unwrap();
        assert!(k.qr && !k.qr_lanes && !k.round_lanes);
        assert!(k.entry_points().contains(&Entry::Round));
        // Single-dispatch families have one entry point.
        let k = pick(8, 8, &cpu(), 30, KernelFamily::Auto).unwrap();
        assert_eq!(k.entry_points(), vec![Entry::Main]);
        // The dedicated kernel: four lanes on CPU devices, one on GPUs.
        assert_eq!(small_lanes(&cpu()), 4);
        assert_eq!(small_lanes(&gpu(32)), 1);
    }

    /// Complex requests get complex kernels of every family, never a real kernel.
    #[test]
    fn complex_requests_get_complex_kernels() {
        let limits = wgpu::Limits::default();
        let complex = |m, n, vectors, wanted, adapter: &wgpu::AdapterInfo| {
            let mut req = request(m, n, Layout::RowMajor, vectors, 30, wanted);
            req.complex = true;
            select(&req, &limits, adapter)
        };
        // 2×2 and 3×3: the dedicated kernel, SVD in the non-negative convention only.
        for n in [2, 3] {
            for adapter in [cpu(), gpu(32)] {
                let k = complex(n, n, Vectors::Thin, KernelFamily::Auto, &adapter).unwrap();
                assert_eq!((k.family, k.complex), (Family::Small, true));
                assert_eq!(k.parts(), 2);
            }
            let forced = complex(n, n, Vectors::Thin, KernelFamily::PerInvocation, &cpu());
            assert_eq!(forced.unwrap().family, Family::PerInvocation);
            let mut req = request(
                n,
                n,
                Layout::RowMajor,
                Vectors::Full,
                30,
                KernelFamily::Auto,
            );
            req.complex = true;
            req.signs = SignConvention::Rotation;
            let refused = select(&req, &limits, &cpu());
            assert!(
                matches!(refused, Err(Error::InvalidOption(_))),
                "{refused:?}"
            );
            req.signs = SignConvention::NonNegative;
            req.product = Product::Polar { with_s: true };
            let refused = select(&req, &limits, &cpu());
            assert!(
                matches!(refused, Err(Error::InvalidOption(_))),
                "{refused:?}"
            );
        }
        // A complex element takes two registers: 8×8 fits a CPU device, 12×12 not; on a GPU
        // 4×4 fits and 8×8 not.
        let k = complex(8, 8, Vectors::Thin, KernelFamily::Auto, &cpu()).unwrap();
        assert_eq!(k.private_values(), 256);
        let big = complex(12, 12, Vectors::Thin, KernelFamily::Auto, &cpu()).unwrap();
        assert_eq!((big.family, big.complex), (Family::Workgroup, true));
        assert!(complex(4, 4, Vectors::Thin, KernelFamily::Auto, &gpu(32)).is_ok());
        let gpu8 = complex(8, 8, Vectors::Thin, KernelFamily::Auto, &gpu(32)).unwrap();
        assert_eq!(gpu8.family, Family::Workgroup);
        // W and V take twice the workgroup memory: 24×24 fits 8 KiB as float32 (4.8 KB), not
        // as complex64 (9.5 KB: the multi-dispatch family).
        let limits8 = wgpu::Limits {
            max_compute_workgroup_storage_size: 8 << 10,
            ..wgpu::Limits::default()
        };
        let mut req = request(
            24,
            24,
            Layout::RowMajor,
            Vectors::Thin,
            30,
            KernelFamily::Auto,
        );
        let real24 = select(&req, &limits8, &gpu(32)).unwrap();
        assert_eq!(real24.family, Family::Workgroup);
        req.complex = true;
        let c24 = select(&req, &limits8, &gpu(32)).unwrap();
        assert_eq!((c24.family, c24.complex), (Family::MultiDispatch, true));
        let forced = complex(8, 8, Vectors::Thin, KernelFamily::PerInvocation, &gpu(32));
        assert_eq!(forced.unwrap().family, Family::PerInvocation);
        // Tall: the multi-dispatch family with (complex) Householder QR preconditioning as
        // for real ones.
        let tall = complex(300, 20, Vectors::Thin, KernelFamily::Auto, &gpu(32)).unwrap();
        assert_eq!((tall.family, tall.qr), (Family::MultiDispatch, true));
        let real_tall = select(
            &request(
                300,
                20,
                Layout::RowMajor,
                Vectors::Thin,
                30,
                KernelFamily::Auto,
            ),
            &limits,
            &gpu(32),
        )
        .unwrap();
        assert!(real_tall.qr);
        // Real requests are unchanged.
        let real = select(
            &request(
                3,
                3,
                Layout::RowMajor,
                Vectors::Thin,
                30,
                KernelFamily::Auto,
            ),
            &limits,
            &cpu(),
        )
        .unwrap();
        assert_eq!((real.family, real.complex), (Family::Small, false));
    }

    /// Blocked sweeps serve every element type where the workgroup memory they declare fits:
    /// 8.8 KB for float32, 17 KB for float64 and complex64, 35 KB for complex128.
    #[test]
    fn blocked_sweeps_where_their_workgroup_memory_fits() {
        let blocked = |scalar, complex, storage_kib: u32, pairs| {
            let mut req = request(
                128,
                128,
                Layout::RowMajor,
                Vectors::Thin,
                30,
                KernelFamily::Auto,
            );
            (req.scalar, req.complex, req.sweep_pairs) = (scalar, complex, pairs);
            let limits = wgpu::Limits {
                max_compute_workgroup_storage_size: storage_kib << 10,
                ..wgpu::Limits::default()
            };
            let k = select(&req, &limits, &gpu(32)).unwrap();
            assert_eq!((k.family, k.complex), (Family::MultiDispatch, complex));
            if k.blocked {
                assert!(k.blocked_workgroup_bytes() <= u64::from(storage_kib) << 10);
            }
            k.blocked
        };
        let types = [
            (Scalar::F32, false, 8_844),
            (Scalar::F64, false, 17_548),
            (Scalar::F32, true, 17_420),
            (Scalar::F64, true, 34_700),
        ];
        for (scalar, complex, bytes) in types {
            let k = JacobiKernel {
                scalar,
                complex,
                ..select(
                    &request(
                        128,
                        128,
                        Layout::RowMajor,
                        Vectors::Thin,
                        30,
                        KernelFamily::Auto,
                    ),
                    &wgpu::Limits::default(),
                    &gpu(32),
                )
                .unwrap()
            };
            assert_eq!(k.blocked_workgroup_bytes(), bytes);
            for kib in [16, 32, 48] {
                let fits = bytes <= u64::from(kib) << 10;
                assert_eq!(blocked(scalar, complex, kib, SweepPairs::Auto), fits);
                assert_eq!(blocked(scalar, complex, kib, SweepPairs::Blocks), fits);
                assert!(!blocked(scalar, complex, kib, SweepPairs::Columns));
            }
        }
    }
}
