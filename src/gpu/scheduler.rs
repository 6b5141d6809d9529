//! The host-side scheduler: plan chunks, upload, dispatch, read back, finalize.
//!
//! * Single-dispatch family: per chunk exactly one submission and one host round trip; the
//!   kernel runs every sweep of every matrix inside one dispatch and decides convergence on
//!   the GPU.
//! * Multi-dispatch family: scan, load, then one dispatch per round and a `sweep_end` per
//!   sweep, several sweeps per submission; the host reads one `u32` (matrices still active)
//!   after 6 sweeps and then every 2, and stops when it is zero, then finalizes. Round trips
//!   per solve: 1 + ⌈(sweeps − 6) / 2⌉ + 1 for typical solves (more when a huge N limits a
//!   submission to fewer sweeps).
//!
//! Both end with σ, U, Vᵀ and the per-matrix info copied into one read-back buffer.

use std::time::Instant;

use bytemuck::Zeroable as _;

use super::Gpu;
use super::errors::ErrorCatcher;
use super::pipelines::JacobiPipeline;
use super::plan::{ChunkPlan, PerMatrixBytes, grid_2d};
use super::shader::{Family, JacobiKernel, KernelRequest};
use crate::basis::complete_vectors;
use crate::batch::MatrixBatch;
use crate::error::{Error, Result};
use crate::options::{SvdOptions, Vectors};
use crate::output::{Engine, MatrixInfo, Status, SvdOutput};

/// Uniform parameters of one dispatch (mirrors `Params` in jacobi_common.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    count: u32,
    grid_x: u32,
    max_sweeps: u32,
    tol: f32,
    sort: u32,
    round: u32,
    rounds: u32,
    pad: u32,
}

/// Per-matrix report written by the kernels (mirrors `MatrixInfo` in jacobi_common.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct RawInfo {
    status: u32,
    sweeps: u32,
    off: f32,
    negligible: u32,
}

const INFO_BYTES: u64 = std::mem::size_of::<RawInfo>() as u64;
/// Bytes of `MatrixState` in jacobi_global.wgsl.
const STATE_BYTES: u64 = 32;
/// At most this many dispatches per submission in the multi-dispatch family: enough to amortise
/// a submission, few enough that convergence is checked every sweep or two on large matrices.
const DISPATCHES_PER_SUBMISSION: u32 = 4096;
/// Sweeps before the first convergence check, then between checks. f32 Jacobi converges in
/// 6–12 sweeps on our test matrices, so the first check rarely comes too late and later ones
/// stop within two sweeps of convergence.
const SWEEPS_BEFORE_FIRST_CHECK: u32 = 6;
const SWEEPS_BETWEEN_CHECKS: u32 = 2;

/// Element counts per matrix of every buffer.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    input: u64,
    s: u64,
    u: u64,
    vt: u64,
    work: u64,
    state_bytes: u64,
}

impl Sizes {
    fn new(kernel: &JacobiKernel, m: usize, n: usize, vectors: Vectors) -> Self {
        let (m64, n64) = (m as u64, n as u64);
        Self {
            input: m64 * n64,
            s: m.min(n) as u64,
            u: m64 * vectors.u_cols(m, n) as u64,
            vt: vectors.vt_rows(m, n) as u64 * n64,
            work: kernel.work_elems(),
            state_bytes: if kernel.family == Family::MultiDispatch {
                STATE_BYTES
            } else {
                0
            },
        }
    }

    fn per_matrix_bytes(&self, elem: u64) -> PerMatrixBytes {
        PerMatrixBytes {
            bindings: [
                self.input * elem,
                self.s * elem,
                self.u * elem,
                self.vt * elem,
                INFO_BYTES,
                self.work * elem,
                self.state_bytes,
            ],
            staging: self.staging_bytes(elem),
        }
    }

    fn staging_bytes(&self, elem: u64) -> u64 {
        (self.s + self.u + self.vt) * elem + INFO_BYTES
    }
}

/// The buffers of one chunk, sized for the largest chunk and reused for every chunk.
struct ChunkBuffers {
    params: wgpu::Buffer,
    /// Stride of the per-round entries in `params` (multi-dispatch), bytes.
    params_stride: u64,
    input: wgpu::Buffer,
    s: wgpu::Buffer,
    u: wgpu::Buffer,
    vt: wgpu::Buffer,
    info: wgpu::Buffer,
    /// Multi-dispatch only: per-matrix state and the active-matrix counter with its read-back.
    state: Option<wgpu::Buffer>,
    active: Option<(wgpu::Buffer, wgpu::Buffer)>,
    staging: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// A storage buffer of at least 4 bytes (empty bindings are not allowed).
fn storage_buffer(
    device: &wgpu::Device,
    label: &str,
    bytes: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4).next_multiple_of(4),
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
    fn new(
        device: &wgpu::Device,
        kernel: &JacobiKernel,
        pipeline: &JacobiPipeline,
        sizes: &Sizes,
        per_chunk: u64,
    ) -> Self {
        let elem = kernel.scalar.size();
        let multi = kernel.family == Family::MultiDispatch;
        let src = wgpu::BufferUsages::COPY_SRC;
        let params_stride = u64::from(device.limits().min_uniform_buffer_offset_alignment)
            .max(std::mem::size_of::<Params>() as u64);
        let params_entries = if multi { u64::from(kernel.rounds()) } else { 1 };
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: params_stride * params_entries,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bytes = |per: u64| per * elem * per_chunk;
        let input = storage_buffer(
            device,
            "input",
            bytes(sizes.input),
            wgpu::BufferUsages::COPY_DST,
        );
        let s = storage_buffer(device, "singular values", bytes(sizes.s), src);
        let u = storage_buffer(device, "u", bytes(sizes.u), src);
        let vt = storage_buffer(device, "vt", bytes(sizes.vt), src);
        let info = storage_buffer(device, "info", INFO_BYTES * per_chunk, src);
        let staging = read_back_buffer(device, "read-back", sizes.staging_bytes(elem) * per_chunk);
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
            let active = storage_buffer(device, "active", 4, clear | src);
            let active_read = read_back_buffer(device, "active read-back", 4);
            (Some(work), Some(state), Some((active, active_read)))
        } else {
            (None, None, None)
        };
        if let (Some(work), Some(state), Some((active, _))) = (&work, &state, &active) {
            resources.push(work.as_entire_binding());
            resources.push(state.as_entire_binding());
            resources.push(active.as_entire_binding());
        }
        let entries: Vec<wgpu::BindGroupEntry<'_>> = resources
            .into_iter()
            .enumerate()
            .map(|(i, resource)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource,
            })
            .collect();
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("jacobi chunk"),
            layout: &pipeline.layout,
            entries: &entries,
        });
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
            staging,
            bind_group,
        }
    }
}

/// Everything a chunk needs that does not change between chunks.
struct Job<'a> {
    gpu: &'a Gpu,
    kernel: JacobiKernel,
    pipeline: &'a JacobiPipeline,
    bufs: &'a ChunkBuffers,
    sizes: Sizes,
    batch: &'a MatrixBatch<'a>,
    opts: &'a SvdOptions,
    tol: f32,
}

/// Runs the batched SVD of `batch` on `gpu`.
pub(crate) async fn svd(
    gpu: &Gpu,
    batch: &MatrixBatch<'_>,
    opts: &SvdOptions,
) -> Result<SvdOutput> {
    opts.validate()?;
    gpu.check_lost()?;
    let device = gpu.device();
    let (count, m, n) = (batch.count(), batch.rows(), batch.cols());
    let request = KernelRequest {
        m,
        n,
        layout: batch.layout(),
        vectors: opts.vectors,
        max_sweeps: opts.max_sweeps,
        wanted: opts.kernel,
    };
    let kernel = JacobiKernel::choose(&request, &device.limits(), gpu.adapter_info())?;
    let elem = kernel.scalar.size();
    let sizes = Sizes::new(&kernel, m, n, opts.vectors);
    let limits = gpu.plan_limits();
    let grid = u64::from(limits.max_workgroups_per_dimension);
    // Single-dispatch chunks use a 2-D grid of matrices; multi-dispatch ones put the matrix
    // index on y (x indexes pairs, columns or element tiles).
    let max_per_chunk = match kernel.family {
        Family::PerInvocation => grid * grid * u64::from(kernel.workgroup),
        Family::SingleDispatch => grid * grid,
        Family::MultiDispatch => grid,
    };
    let plan = ChunkPlan::new(count, &sizes.per_matrix_bytes(elem), &limits, max_per_chunk)?;
    let pipeline = gpu
        .pipelines()
        .jacobi(device, gpu.disk_cache(), &kernel)
        .await?;

    let catcher = ErrorCatcher::push(device);
    let bufs = ChunkBuffers::new(device, &kernel, &pipeline, &sizes, plan.per_chunk as u64);
    catcher.check().await?;

    let mut out = SvdOutput::allocate(count, m, n, opts.vectors, Engine::Gpu);
    let job = Job {
        gpu,
        kernel,
        pipeline: &pipeline,
        bufs: &bufs,
        sizes,
        batch,
        opts,
        tol: opts.effective_tolerance(m, n),
    };
    for c in 0..plan.chunks {
        run_chunk(&job, plan.range(c, count), &mut out).await?;
    }
    out.work.chunks = plan.chunks as u64;
    Ok(out)
}

async fn run_chunk(
    job: &Job<'_>,
    range: std::ops::Range<usize>,
    out: &mut SvdOutput,
) -> Result<()> {
    let (device, queue) = (job.gpu.device(), job.gpu.queue());
    let bufs = job.bufs;
    let chunk = range.len();

    // Upload: the chunk's matrices are contiguous in the batch, in their own layout.
    let t0 = Instant::now();
    let catcher = ErrorCatcher::push(device);
    let per_in = job.sizes.input as usize;
    let input: &[u8] =
        bytemuck::cast_slice(&job.batch.as_slice()[range.start * per_in..range.end * per_in]);
    queue.write_buffer(&bufs.input, 0, input);
    let (gx, gy) = grid_2d(chunk, job.gpu.plan_limits().max_workgroups_per_dimension);
    let params = Params {
        count: chunk as u32,
        grid_x: gx,
        max_sweeps: job.opts.max_sweeps,
        tol: job.tol,
        sort: u32::from(job.opts.sort),
        round: 0,
        rounds: job.kernel.rounds(),
        pad: 0,
    };
    let entries = match job.kernel.family {
        Family::PerInvocation | Family::SingleDispatch => 1,
        Family::MultiDispatch => job.kernel.rounds(),
    };
    let mut param_bytes = vec![0u8; (bufs.params_stride * u64::from(entries)) as usize];
    for round in 0..entries {
        let at = (bufs.params_stride * u64::from(round)) as usize;
        let p = Params { round, ..params };
        param_bytes[at..at + std::mem::size_of::<Params>()].copy_from_slice(bytemuck::bytes_of(&p));
    }
    queue.write_buffer(&bufs.params, 0, &param_bytes);
    out.work.bytes_uploaded += (input.len() + param_bytes.len()) as u64;
    let t1 = Instant::now();

    let mut encoder = new_encoder(device);
    match job.kernel.family {
        Family::PerInvocation | Family::SingleDispatch => {
            let (x, y) = if job.kernel.family == Family::PerInvocation {
                let groups = chunk.div_ceil(job.kernel.workgroup as usize);
                grid_2d(groups, job.gpu.plan_limits().max_workgroups_per_dimension)
            } else {
                (gx, gy)
            };
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&job.pipeline.pipelines[0]);
            pass.set_bind_group(0, &bufs.bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
            out.work.dispatches += 1;
        }
        Family::MultiDispatch => {
            encoder = run_sweeps(job, chunk as u32, encoder, out).await?;
        }
    }

    // Every output into the read-back buffer, in the same submission as the last kernels.
    let elem = job.kernel.scalar.size();
    let chunk64 = chunk as u64;
    let parts = [
        (&bufs.s, job.sizes.s * elem * chunk64),
        (&bufs.u, job.sizes.u * elem * chunk64),
        (&bufs.vt, job.sizes.vt * elem * chunk64),
        (&bufs.info, INFO_BYTES * chunk64),
    ];
    let mut offset = 0;
    for (buffer, bytes) in parts {
        if bytes > 0 {
            encoder.copy_buffer_to_buffer(buffer, 0, &bufs.staging, offset, bytes);
        }
        offset += bytes;
    }
    let total = offset;
    queue.submit([encoder.finish()]);
    out.work.submissions += 1;
    catcher.check().await?;

    // Download: map the read-back buffer, waiting for the GPU.
    let slice = bufs.staging.slice(..total);
    map_and_wait(job.gpu, slice).await?;
    out.work.host_round_trips += 1;
    out.work.bytes_downloaded += total;
    let t2 = Instant::now();
    {
        let view = slice
            .get_mapped_range()
            .map_err(|e| Error::BufferMap(e.to_string()))?;
        let mut offset = 0usize;
        let k = out.k();
        let (uc, vr) = (out.u_cols(), out.vt_rows());
        let (m, n) = out.shape();
        let mut take = |dst: &mut [f32]| {
            let bytes = std::mem::size_of_val(dst);
            bytemuck::cast_slice_mut(dst).copy_from_slice(&view[offset..offset + bytes]);
            offset += bytes;
        };
        take(&mut out.singular_values[range.start * k..range.end * k]);
        take(&mut out.u[range.start * m * uc..range.end * m * uc]);
        take(&mut out.vt[range.start * vr * n..range.end * vr * n]);
        let mut raw = vec![RawInfo::zeroed(); chunk];
        let info_bytes = chunk * INFO_BYTES as usize;
        bytemuck::cast_slice_mut(&mut raw).copy_from_slice(&view[offset..offset + info_bytes]);
        finalize(out, range.start, &raw);
    }
    bufs.staging.unmap();
    let t3 = Instant::now();
    out.timings.upload += (t1 - t0).as_secs_f64();
    out.timings.compute += (t2 - t1).as_secs_f64();
    out.timings.download += (t3 - t2).as_secs_f64();
    Ok(())
}

fn new_encoder(device: &wgpu::Device) -> wgpu::CommandEncoder {
    device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("batched svd"),
    })
}

/// Maps `slice` for reading and blocks until the device has finished the work before it.
async fn map_and_wait(gpu: &Gpu, slice: wgpu::BufferSlice<'_>) -> Result<()> {
    let (tx, rx) = futures::channel::oneshot::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    gpu.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| gpu.lost_or(Error::Poll(e.to_string())))?;
    rx.await
        .map_err(|_| gpu.lost_or(Error::BufferMap("map callback dropped".into())))?
        .map_err(|e| gpu.lost_or(Error::BufferMap(e.to_string())))
}

/// Records (and partly submits) the multi-dispatch solve of one chunk: scan, load, sweeps until
/// no matrix is active, norms, rank and write. Returns the encoder holding the unsubmitted tail.
async fn run_sweeps(
    job: &Job<'_>,
    chunk: u32,
    mut encoder: wgpu::CommandEncoder,
    out: &mut SvdOutput,
) -> Result<wgpu::CommandEncoder> {
    let device = job.gpu.device();
    let (k, p, bufs) = (&job.kernel, job.pipeline, job.bufs);
    let (state, (active, active_read)) = match (&bufs.state, &bufs.active) {
        (Some(s), Some(a)) => (s, a),
        _ => return Err(Error::Gpu("multi-dispatch buffers missing".into())),
    };
    let (m, n) = k.work_shape();
    let wg = k.workgroup;
    let elements = u64::from(m) * u64::from(n);
    let out_len = u64::from(n)
        + u64::from(k.a_m) * k.vectors.u_cols(k.a_m as usize, k.a_n as usize) as u64
        + k.vectors.vt_rows(k.a_m as usize, k.a_n as usize) as u64 * u64::from(k.a_n);
    let dispatch = |pass: &mut wgpu::ComputePass<'_>, entry: &str, round: u32, x: u32, y: u32| {
        pass.set_pipeline(p.entry(entry));
        let offset = (bufs.params_stride * u64::from(round)) as u32;
        pass.set_bind_group(0, &bufs.bind_group, &[offset]);
        pass.dispatch_workgroups(x, y, 1);
    };

    encoder.clear_buffer(state, 0, None);
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        dispatch(&mut pass, "jacobi_scan", 0, k.tiles(elements), chunk);
        dispatch(&mut pass, "jacobi_load", 0, k.tiles(elements), chunk);
    }
    out.work.dispatches += 2;
    let per_submission = (DISPATCHES_PER_SUBMISSION / (k.rounds() + 1)).max(1);
    let mut done = 0;
    while done < job.opts.max_sweeps {
        let wanted = if done == 0 {
            SWEEPS_BEFORE_FIRST_CHECK
        } else {
            SWEEPS_BETWEEN_CHECKS
        };
        let batch = wanted.min(per_submission).min(job.opts.max_sweeps - done);
        for _ in 0..batch {
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for round in 0..k.rounds() {
                    dispatch(&mut pass, "jacobi_round", round, k.pairs(), chunk);
                }
            }
            encoder.clear_buffer(active, 0, None);
            let mut pass = encoder.begin_compute_pass(&Default::default());
            dispatch(&mut pass, "jacobi_sweep_end", 0, chunk.div_ceil(wg), 1);
        }
        out.work.dispatches += u64::from(batch) * u64::from(k.rounds() + 1);
        done += batch;
        if done >= job.opts.max_sweeps {
            break; // sweep_end has given every matrix its final status
        }
        // Ask the device how many matrices are still rotating.
        encoder.copy_buffer_to_buffer(active, 0, active_read, 0, 4);
        let catcher = ErrorCatcher::push(device);
        job.gpu.queue().submit([encoder.finish()]);
        catcher.check().await?;
        out.work.submissions += 1;
        map_and_wait(job.gpu, active_read.slice(..)).await?;
        out.work.host_round_trips += 1;
        out.work.bytes_downloaded += 4;
        let still_active = {
            let view = active_read
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::BufferMap(e.to_string()))?;
            u32::from_le_bytes([view[0], view[1], view[2], view[3]])
        };
        active_read.unmap();
        encoder = new_encoder(device);
        if still_active == 0 {
            break;
        }
    }
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        dispatch(&mut pass, "jacobi_norms", 0, n, chunk);
        dispatch(&mut pass, "jacobi_rank", 0, n.div_ceil(wg), chunk);
        dispatch(&mut pass, "jacobi_write", 0, k.tiles(out_len), chunk);
    }
    out.work.dispatches += 3;
    Ok(encoder)
}

/// Records the kernel's per-matrix reports and completes the singular vectors of matrices
/// that need it (negligible singular values, or full vectors of a non-square matrix).
fn finalize(out: &mut SvdOutput, first: usize, raw: &[RawInfo]) {
    let (m, n) = out.shape();
    let vectors = out.vectors;
    let full_extra = vectors == Vectors::Full && m != n;
    let (ul, vl) = (m * out.u_cols(), out.vt_rows() * n);
    for (local, r) in raw.iter().enumerate() {
        let b = first + local;
        let status = match r.status {
            0 => Status::Converged,
            1 => Status::NotConverged,
            _ => Status::NonFinite,
        };
        out.info[b] = MatrixInfo {
            status,
            sweeps: r.sweeps,
            off_diagonal: r.off,
        };
        if status != Status::NonFinite && vectors.wanted() && (r.negligible > 0 || full_extra) {
            complete_vectors(
                &mut out.u[b * ul..(b + 1) * ul],
                &mut out.vt[b * vl..(b + 1) * vl],
                m,
                n,
                vectors,
            );
        }
    }
}
