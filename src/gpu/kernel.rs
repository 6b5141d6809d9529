//! One specialised Jacobi kernel ([`JacobiKernel`]): everything that changes its WGSL, and the
//! geometry derived from it (pairs, rounds, buffer sizes, loop counts, entry points). Which
//! kernel a solve gets is `select.rs`'s decision; its WGSL is built in `source.rs`.

use crate::batch::Layout;
pub(crate) use crate::factors::Product;
use crate::options::Vectors;

/// Columns per block of the blocked sweeps (`BLOCK` in blocked_global.wgsl).
pub(crate) const BLOCK_COLUMNS: u32 = 16;

/// Upper bound on workgroups along x for element-parallel dispatches (scan, load, write): each
/// invocation then loops over at most ⌈elements / (MAX_TILES·WG)⌉ elements.
pub(crate) const MAX_TILES: u32 = 1024;

/// Element type a kernel is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scalar {
    F32,
    /// Needs `wgpu::Features::SHADER_F64`.
    F64,
}

impl Scalar {
    /// Bytes per element.
    #[inline]
    pub(crate) fn size(self) -> u64 {
        match self {
            Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }

    /// The WGSL type: `f32` or `f64`.
    #[inline]
    pub(crate) fn wgsl_name(self) -> &'static str {
        match self {
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }

    /// The kernels' scalar for element type `T`: `T` itself, or the type of its real and
    /// imaginary parts.
    pub(crate) fn of<T: crate::element::Element>() -> Self {
        if <T::Real as crate::element::Element>::BYTES == 8 {
            Scalar::F64
        } else {
            Scalar::F32
        }
    }

    /// numpy's name of the element type whose parts are this scalar.
    pub(crate) fn element_name(self, complex: bool) -> &'static str {
        match (self, complex) {
            (Scalar::F32, false) => "float32",
            (Scalar::F64, false) => "float64",
            (Scalar::F32, true) => "complex64",
            (Scalar::F64, true) => "complex128",
        }
    }
}

/// The kernel families (the public [`KernelFamily`](crate::tuning::KernelFamily) names them
/// the same way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    /// One invocation per matrix, every element in a register, generated straight-line code
    /// (`unrolled.rs`). No barriers, no shared memory: best for tiny matrices on GPUs and for
    /// small and medium ones on CPU devices, where each SIMD lane is a matrix.
    PerInvocation,
    /// One workgroup per matrix, W and V in workgroup memory, every sweep in one dispatch
    /// (`jacobi_workgroup.wgsl`). Fastest; needs W and V to fit workgroup memory and the
    /// whole solve to fit the loop budget.
    Workgroup,
    /// W and V in a global `work` buffer; one dispatch per round with a workgroup per column
    /// pair, plus scan/load/finalize dispatches (`jacobi_global.wgsl`). Any size.
    MultiDispatch,
    /// Dedicated 2×2 / 3×3 kernel: one invocation per matrix calling `svd2`/`svd3` from
    /// `small_svd.wgsl` (closed form / fixed-order Jacobi), also for polar decompositions and
    /// the rotation sign convention.
    Small,
}

/// Layout codes of the dedicated kernel's matrices (see small_io.wgsl).
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
    /// The real type of the elements (and of σ).
    pub scalar: Scalar,
    /// Complex elements: `vec2<real>` (re, im), as numpy and nalgebra interleave them (the
    /// dedicated kernel: two real lane values per entry, small_svd_complex.wgsl).
    pub complex: bool,
    /// Dedicated-kernel settings (`Family::Small` only).
    pub small: Option<SmallSpec>,
    /// Householder QR preconditioning: the sweeps rotate R of W = Q·R (`Family::MultiDispatch`
    /// only; see qr_global.wgsl).
    pub qr: bool,
    /// Blocked sweeps: block pairs of 2×16 columns instead of column pairs
    /// (`Family::MultiDispatch` only; see blocked_global.wgsl).
    pub blocked: bool,
    /// Multi-dispatch on CPU devices: one invocation per column pair for the rounds
    /// (`jacobi_round_lanes`) instead of a workgroup per pair (`jacobi_round`).
    pub round_lanes: bool,
    /// Multi-dispatch with QR on CPU devices: the `*_lanes` variants of the Householder
    /// updates.
    pub qr_lanes: bool,
}

/// The entry points of the kernels, one compute pipeline each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Entry {
    /// The single-dispatch families (per-invocation, workgroup, dedicated): the whole solve.
    Main,
    // Multi-dispatch (jacobi_global.wgsl).
    Scan,
    Load,
    Round,
    RoundLanes,
    SweepEnd,
    Gate,
    Norms,
    Rank,
    Write,
    // QR preconditioning (qr_global.wgsl).
    QrHouseholder,
    QrUpdate,
    QrUpdateLanes,
    QrExtractR,
    QrInitU,
    QrApplyQ,
    QrApplyQLanes,
    // Blocked sweeps (blocked_global.wgsl).
    BlockedRotations,
    BlockedApply,
}

impl Entry {
    /// The WGSL function name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Entry::Main => "main",
            Entry::Scan => "jacobi_scan",
            Entry::Load => "jacobi_load",
            Entry::Round => "jacobi_round",
            Entry::RoundLanes => "jacobi_round_lanes",
            Entry::SweepEnd => "jacobi_sweep_end",
            Entry::Gate => "jacobi_gate",
            Entry::Norms => "jacobi_norms",
            Entry::Rank => "jacobi_rank",
            Entry::Write => "jacobi_write",
            Entry::QrHouseholder => "qr_householder",
            Entry::QrUpdate => "qr_update",
            Entry::QrUpdateLanes => "qr_update_lanes",
            Entry::QrExtractR => "qr_extract_r",
            Entry::QrInitU => "qr_init_u",
            Entry::QrApplyQ => "qr_apply_q",
            Entry::QrApplyQLanes => "qr_apply_q_lanes",
            Entry::BlockedRotations => "blocked_rotations",
            Entry::BlockedApply => "blocked_apply",
        }
    }
}

impl JacobiKernel {
    /// The entry points a solve with this kernel dispatches: only these are compiled.
    pub(crate) fn entry_points(&self) -> Vec<Entry> {
        if self.family != Family::MultiDispatch {
            return vec![Entry::Main];
        }
        let mut e = vec![Entry::Scan, Entry::Load];
        if self.qr {
            e.push(Entry::QrHouseholder);
            e.push(if self.qr_lanes {
                Entry::QrUpdateLanes
            } else {
                Entry::QrUpdate
            });
            e.push(Entry::QrExtractR);
            if self.vectors.wanted() {
                e.push(Entry::QrInitU);
                e.push(if self.qr_lanes {
                    Entry::QrApplyQLanes
                } else {
                    Entry::QrApplyQ
                });
            }
        }
        if self.blocked {
            e.extend([Entry::BlockedRotations, Entry::BlockedApply]);
        } else {
            e.push(if self.round_lanes {
                Entry::RoundLanes
            } else {
                Entry::Round
            });
        }
        e.extend([
            Entry::SweepEnd,
            Entry::Gate,
            Entry::Norms,
            Entry::Rank,
            Entry::Write,
        ]);
        e
    }

    /// The round's entry point (multi-dispatch without blocked sweeps).
    pub(crate) fn round_entry(&self) -> Entry {
        if self.round_lanes {
            Entry::RoundLanes
        } else {
            Entry::Round
        }
    }

    /// Real values of W (with the phantom column of an odd N) and V one invocation holds in
    /// the per-invocation family.
    /// A complex element counts twice (two registers).
    pub(crate) fn private_values(&self) -> u32 {
        let (m, n) = self.work_shape();
        let n2 = n + n % 2;
        (m * n2 + if self.vectors.wanted() { n * n2 } else { 0 }) * self.parts()
    }

    /// Real scalars per element: 2 for complex, else 1.
    #[inline]
    pub(crate) fn parts(&self) -> u32 {
        if self.complex { 2 } else { 1 }
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

    pub(crate) fn ldw(&self) -> u32 {
        let (m, _) = self.work_shape();
        match self.family {
            Family::PerInvocation | Family::Small => m,
            // Odd leading dimension: see storage_workgroup.wgsl.
            Family::Workgroup => m | 1,
            // Columns start on 32-element (128-byte) boundaries: whole memory transactions on
            // real GPUs.
            Family::MultiDispatch => m.next_multiple_of(32),
        }
    }

    pub(crate) fn v_len(&self) -> u32 {
        let (_, n) = self.work_shape();
        if self.vectors.wanted() { n * n } else { 1 }
    }

    /// Real partial sums of the team reductions: α and β.
    pub(crate) fn red_len(&self) -> u32 {
        match self.family {
            Family::PerInvocation | Family::Small => 1,
            Family::Workgroup if self.team == 1 => 1,
            Family::Workgroup | Family::MultiDispatch => 2 * self.workgroup,
        }
    }

    /// Element partial sums γ of the team reductions (workgroup family with teams, and the
    /// multi-dispatch rounds).
    pub(crate) fn red_g_len(&self) -> u32 {
        match self.family {
            Family::Workgroup if self.team > 1 => self.workgroup,
            Family::MultiDispatch => self.workgroup,
            _ => 1,
        }
    }

    /// Workgroup memory this kernel declares, in bytes.
    pub(crate) fn workgroup_bytes(&self) -> u64 {
        let (_, n) = self.work_shape();
        let s = self.scalar.size();
        let fixed = 4 * 4 + 8; // atomics and broadcast slots
        let red = u64::from(self.red_len()) * s;
        let parts = u64::from(self.parts());
        match self.family {
            Family::Workgroup => {
                let w = u64::from(self.ldw()) * u64::from(n);
                let red_g = u64::from(self.red_g_len()) * s * parts;
                ((w + u64::from(self.v_len())) * parts + u64::from(n)) * s
                    + 4 * u64::from(n)
                    + red
                    + red_g
                    + fixed
            }
            Family::MultiDispatch => {
                red + u64::from(self.red_g_len()) * s * u64::from(self.parts()) + fixed
            }
            Family::PerInvocation | Family::Small => 0,
        }
    }

    /// Workgroup memory the blocked kernels declare, in bytes (blocked_global.wgsl): two 32×33
    /// arrays of elements, the rotation table (c real, s an element, the partner index), two
    /// atomics and the broadcast slot: 8.8 KB for f32, 17 KB for f64 and complex64, 35 KB for
    /// complex128.
    pub(crate) fn blocked_workgroup_bytes(&self) -> u64 {
        let s = self.scalar.size();
        let parts = u64::from(self.parts());
        (2 * 32 * 33 * parts + 32 * (1 + parts)) * s + 32 * 4 + 3 * 4
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
            Family::Workgroup | Family::PerInvocation | Family::Small => 0,
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
}
