//! Device buffers of a chunk, their sizes, and a pool that reuses them across calls.
//!
//! A call of a given kernel and chunk size takes its buffer sets from the pool and gives them
//! back at the end, so repeated calls of the same shape allocate nothing and memory does not
//! grow. The pool keeps the most recently used sets up to [`MAX_POOLED_SETS`] and
//! [`MAX_POOLED_BYTES`].

use std::sync::Mutex;

use super::kernel::{Family, JacobiKernel};
use super::pipelines::JacobiPipeline;
use super::plan::PerMatrixBytes;
use crate::options::Vectors;

/// Buffer sets kept for reuse at most.
pub(crate) const MAX_POOLED_SETS: usize = 8;
/// Bytes of device memory kept for reuse at most.
pub(crate) const MAX_POOLED_BYTES: u64 = 1 << 30;

/// Uniform parameters of one dispatch (mirrors `Params` in jacobi_common.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    pub count: u32,
    pub grid_x: u32,
    pub max_sweeps: u32,
    pub tol: f32,
    pub sort: u32,
    pub round: u32,
    pub rounds: u32,
    pub pad: u32,
}

/// Per-matrix report written by the kernels (mirrors `MatrixInfo` in jacobi_common.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct RawInfo {
    pub status: u32,
    pub sweeps: u32,
    pub off: f32,
    pub negligible: u32,
}

pub(crate) const INFO_BYTES: u64 = std::mem::size_of::<RawInfo>() as u64;

/// Bytes of the dedicated kernel's packed report on the host path: `status | sweeps << 2`
/// (small_batch.wgsl; it has no off-diagonal measure or negligible columns to report).
pub(crate) const PACKED_INFO_BYTES: u64 = 4;

impl RawInfo {
    /// Decodes one report: 16 bytes (a `RawInfo`) or a packed 4-byte word.
    #[inline]
    pub(crate) fn decode(bytes: &[u8]) -> Self {
        if bytes.len() == PACKED_INFO_BYTES as usize {
            let word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let status = word & 3;
            Self {
                status,
                sweeps: word >> 2,
                off: if status == 2 { f32::NAN } else { 0.0 },
                negligible: 0,
            }
        } else {
            bytemuck::pod_read_unaligned(bytes)
        }
    }
}
/// Bytes of `MatrixState` in jacobi_global.wgsl.
pub(crate) const STATE_BYTES: u64 = 32;

/// Bytes of the `active` buffer (`Progress` in jacobi_global.wgsl): the active-matrix counter,
/// then the sweep grids.
pub(crate) const ACTIVE_BYTES: u64 = 4 + SweepGrids::BYTES;

/// The workgroup grids of one sweep's dispatches in the multi-dispatch family, as indirect
/// dispatch arguments: the round (column pairs), and the two dispatches of a block-pair round.
/// `jacobi_gate` zeroes them on the device once no matrix is rotating, so sweeps recorded
/// past convergence dispatch nothing and the host need not read convergence state between.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct SweepGrids {
    pub round: [u32; 3],
    pub block_rotations: [u32; 3],
    pub block_apply: [u32; 3],
}

impl SweepGrids {
    pub(crate) const BYTES: u64 = std::mem::size_of::<Self>() as u64;
    /// Byte offsets of the three grids.
    pub(crate) const ROUND: u64 = 0;
    pub(crate) const BLOCK_ROTATIONS: u64 = 12;
    pub(crate) const BLOCK_APPLY: u64 = 24;
}
/// Real scalars per matrix of every buffer (two per complex element; σ is real).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub input: u64,
    pub s: u64,
    pub u: u64,
    pub vt: u64,
    pub work: u64,
    pub state_bytes: u64,
    /// Bytes of one per-matrix report ([`INFO_BYTES`] or [`PACKED_INFO_BYTES`]).
    pub info_bytes: u64,
}

impl Sizes {
    pub(crate) fn new(kernel: &JacobiKernel, m: usize, n: usize, vectors: Vectors) -> Self {
        let (m64, n64) = (m as u64, n as u64);
        let parts = u64::from(kernel.parts());
        Self {
            input: m64 * n64 * parts,
            s: m.min(n) as u64,
            u: m64 * vectors.u_cols(m, n) as u64 * parts,
            vt: vectors.vt_rows(m, n) as u64 * n64 * parts,
            work: kernel.work_elems() * parts,
            state_bytes: if kernel.family == Family::MultiDispatch {
                STATE_BYTES
            } else {
                0
            },
            info_bytes: if kernel.small.is_some_and(|small| small.packed_info) {
                PACKED_INFO_BYTES
            } else {
                INFO_BYTES
            },
        }
    }

    pub(crate) fn per_matrix_bytes(&self, elem: u64) -> PerMatrixBytes {
        PerMatrixBytes {
            bindings: [
                self.input * elem,
                self.s * elem,
                self.u * elem,
                self.vt * elem,
                self.info_bytes,
                self.work * elem,
                self.state_bytes,
            ],
            staging: self.staging_bytes(elem),
        }
    }

    pub(crate) fn staging_bytes(&self, elem: u64) -> u64 {
        (self.s + self.u + self.vt) * elem + self.info_bytes
    }
}

/// The buffers of one chunk, sized for the largest chunk and reused for every chunk.
pub(crate) struct ChunkBuffers {
    pub params: wgpu::Buffer,
    /// Stride of the per-round entries in `params` (multi-dispatch), bytes.
    pub params_stride: u64,
    pub input: wgpu::Buffer,
    pub s: wgpu::Buffer,
    pub u: wgpu::Buffer,
    pub vt: wgpu::Buffer,
    pub info: wgpu::Buffer,
    /// Multi-dispatch only: per-matrix state and the active-matrix counter with its read-back.
    pub state: Option<wgpu::Buffer>,
    pub active: Option<(wgpu::Buffer, wgpu::Buffer)>,
    /// Multi-dispatch only: the indirect dispatch grids of a sweep (see [`SweepGrids`]).
    pub grids: Option<wgpu::Buffer>,
    pub staging: wgpu::Buffer,
    /// The input and output buffers are mappable and written or read directly (`staging` is
    /// unused).
    pub direct: bool,
    pub bind_group: wgpu::BindGroup,
    /// Device memory held, bytes.
    pub bytes: u64,
}

/// A storage buffer of at least 16 bytes (empty bindings are not allowed), its size a multiple
/// of 16 so that kernels may view it as an array of `vec4` (small_code.rs).
fn storage_buffer(
    device: &wgpu::Device,
    label: &str,
    bytes: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(16),
        usage: wgpu::BufferUsages::STORAGE | usage,
        mapped_at_creation: false,
    })
}

fn read_back_buffer(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

impl ChunkBuffers {
    pub(crate) fn new(
        device: &wgpu::Device,
        kernel: &JacobiKernel,
        pipeline: &JacobiPipeline,
        sizes: &Sizes,
        per_chunk: u64,
        direct: bool,
    ) -> Self {
        let elem = kernel.scalar.size();
        let multi = kernel.family == Family::MultiDispatch;
        // Direct read-back maps the output buffers themselves (no staging copy); otherwise
        // they are copied into one staging buffer.
        let src = if direct {
            wgpu::BufferUsages::MAP_READ
        } else {
            wgpu::BufferUsages::COPY_SRC
        };
        let params_stride = u64::from(device.limits().min_uniform_buffer_offset_alignment)
            .max(std::mem::size_of::<Params>() as u64);
        let params_entries = u64::from(kernel.param_entries());
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: params_stride * params_entries,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // The dedicated kernel's vector stores write whole groups of its lanes' matrices: room
        // for the last, partial group (never read back).
        let room = per_chunk.next_multiple_of(u64::from(kernel.matrices_per_invocation()));
        let bytes = |per: u64| per * elem * room;
        // Direct sets are also written through a mapping of the input buffer itself.
        let input_usage = if direct {
            wgpu::BufferUsages::MAP_WRITE
        } else {
            wgpu::BufferUsages::COPY_DST
        };
        let input = storage_buffer(device, "input", bytes(sizes.input), input_usage);
        let s = storage_buffer(device, "singular values", bytes(sizes.s), src);
        let u = storage_buffer(device, "u", bytes(sizes.u), src);
        let vt = storage_buffer(device, "vt", bytes(sizes.vt), src);
        let info = storage_buffer(device, "info", sizes.info_bytes * room, src);
        let staging_bytes = if direct {
            4
        } else {
            sizes.staging_bytes(elem) * per_chunk
        };
        let staging = read_back_buffer(device, "read-back", staging_bytes);
        let mut resources = vec![
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &params,
                offset: 0,
                size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
            }),
            input.as_entire_binding(),
            s.as_entire_binding(),
            u.as_entire_binding(),
            vt.as_entire_binding(),
            info.as_entire_binding(),
        ];
        let (work, state, active) = if multi {
            let clear = wgpu::BufferUsages::COPY_DST;
            let work = storage_buffer(
                device,
                "work",
                bytes(sizes.work),
                wgpu::BufferUsages::empty(),
            );
            let state = storage_buffer(device, "state", STATE_BYTES * per_chunk, clear);
            let active = storage_buffer(
                device,
                "active",
                ACTIVE_BYTES,
                clear | wgpu::BufferUsages::COPY_SRC,
            );
            let active_read = read_back_buffer(device, "active read-back", 4);
            (Some(work), Some(state), Some((active, active_read)))
        } else {
            (None, None, None)
        };
        let grids = multi.then(|| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("sweep grids"),
                size: SweepGrids::BYTES,
                usage: wgpu::BufferUsages::INDIRECT | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        if let (Some(work), Some(state), Some((active, _))) = (&work, &state, &active) {
            resources.push(work.as_entire_binding());
            resources.push(state.as_entire_binding());
            resources.push(active.as_entire_binding());
        }
        let bind_group = pipeline.bind_group(device, "jacobi chunk", resources);
        let bytes = [&params, &input, &s, &u, &vt, &info, &staging]
            .iter()
            .map(|b| b.size())
            .chain(
                work.iter()
                    .chain(state.iter())
                    .chain(grids.iter())
                    .map(wgpu::Buffer::size),
            )
            .sum();
        drop(work); // kept alive by the bind group
        Self {
            params,
            params_stride,
            input,
            s,
            u,
            vt,
            info,
            state,
            active,
            grids,
            staging,
            direct,
            bind_group,
            bytes,
        }
    }
}

/// What a buffer set was made for: the same kernel and chunk size can reuse it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub kernel: JacobiKernel,
    pub per_chunk: u64,
}

/// Buffer sets kept for reuse, most recently returned last.
#[derive(Default)]
pub(crate) struct BufferPool {
    sets: Mutex<Vec<(PoolKey, ChunkBuffers)>>,
}

impl BufferPool {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(PoolKey, ChunkBuffers)>> {
        self.sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A pooled set for `key`, if one is free.
    pub(crate) fn take(&self, key: &PoolKey) -> Option<ChunkBuffers> {
        let mut sets = self.lock();
        let i = sets.iter().rposition(|(k, _)| k == key)?;
        Some(sets.remove(i).1)
    }

    /// Returns a set for reuse, dropping the least recently used sets beyond the pool's caps.
    pub(crate) fn give(&self, key: PoolKey, set: ChunkBuffers) {
        let mut sets = self.lock();
        sets.push((key, set));
        while sets.len() > MAX_POOLED_SETS
            || sets.iter().map(|(_, s)| s.bytes).sum::<u64>() > MAX_POOLED_BYTES
        {
            sets.remove(0);
        }
    }

    /// Device memory held by pooled sets, bytes.
    pub(crate) fn bytes(&self) -> u64 {
        self.lock().iter().map(|(_, s)| s.bytes).sum()
    }
}
