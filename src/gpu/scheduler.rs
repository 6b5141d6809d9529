//! The host-side scheduler: plan chunks, upload, dispatch, read back, finalize.
//!
//! Per chunk there is exactly one submission and one host round trip: the kernel runs every
//! sweep of every matrix of the chunk inside one dispatch (per-matrix convergence is decided
//! on the GPU), then σ, U, Vᵀ and the per-matrix info are copied into one read-back buffer.

use std::time::Instant;

use super::Gpu;
use super::errors::ErrorCatcher;
use super::pipelines::JacobiPipeline;
use super::plan::{ChunkPlan, PerMatrixBytes, grid_2d};
use super::shader::JacobiKernel;
use crate::basis::complete_vectors;
use crate::batch::MatrixBatch;
use crate::error::{Error, Result};
use crate::options::{SvdOptions, Vectors};
use crate::output::{Engine, MatrixInfo, Status, SvdOutput};

/// Uniform parameters of one dispatch (mirrors `Params` in jacobi.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    count: u32,
    grid_x: u32,
    max_sweeps: u32,
    tol: f32,
    sort: u32,
    pad: [u32; 3],
}

/// Per-matrix report written by the kernel (mirrors `MatrixInfo` in jacobi.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct RawInfo {
    status: u32,
    sweeps: u32,
    off: f32,
    negligible: u32,
}

const INFO_BYTES: u64 = std::mem::size_of::<RawInfo>() as u64;

/// Element counts per matrix of the outputs, and byte sizes of every buffer.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    input: u64,
    s: u64,
    u: u64,
    vt: u64,
    work: u64,
}

impl Sizes {
    fn new(kernel: &JacobiKernel, m: usize, n: usize, vectors: Vectors) -> Self {
        let k = m.min(n) as u64;
        let (m64, n64) = (m as u64, n as u64);
        Self {
            input: m64 * n64,
            s: k,
            u: m64 * vectors.u_cols(m, n) as u64,
            vt: vectors.vt_rows(m, n) as u64 * n64,
            work: kernel.work_elems(),
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
            ],
            staging: (self.s + self.u + self.vt) * elem + INFO_BYTES,
        }
    }
}

/// The buffers of one chunk, sized for the largest chunk and reused for every chunk.
struct ChunkBuffers {
    params: wgpu::Buffer,
    input: wgpu::Buffer,
    s: wgpu::Buffer,
    u: wgpu::Buffer,
    vt: wgpu::Buffer,
    info: wgpu::Buffer,
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

impl ChunkBuffers {
    fn new(
        device: &wgpu::Device,
        pipeline: &JacobiPipeline,
        sizes: &Sizes,
        elem: u64,
        per_chunk: u64,
    ) -> Self {
        let src = wgpu::BufferUsages::COPY_SRC;
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let input = storage_buffer(
            device,
            "input",
            sizes.input * elem * per_chunk,
            wgpu::BufferUsages::COPY_DST,
        );
        let s = storage_buffer(device, "singular values", sizes.s * elem * per_chunk, src);
        let u = storage_buffer(device, "u", sizes.u * elem * per_chunk, src);
        let vt = storage_buffer(device, "vt", sizes.vt * elem * per_chunk, src);
        let info = storage_buffer(device, "info", INFO_BYTES * per_chunk, src);
        let work = (sizes.work > 0).then(|| {
            storage_buffer(
                device,
                "work",
                sizes.work * elem * per_chunk,
                wgpu::BufferUsages::empty(),
            )
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: ((sizes.s + sizes.u + sizes.vt) * elem + INFO_BYTES) * per_chunk,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> = [&params, &input, &s, &u, &vt, &info]
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        if let Some(work) = &work {
            entries.push(wgpu::BindGroupEntry {
                binding: 6,
                resource: work.as_entire_binding(),
            });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("jacobi chunk"),
            layout: &pipeline.layout,
            entries: &entries,
        });
        Self {
            params,
            input,
            s,
            u,
            vt,
            info,
            staging,
            bind_group,
        }
    }
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
    let subgroup = gpu.adapter_info().subgroup_max_size;
    let kernel = JacobiKernel::choose(
        m,
        n,
        batch.layout(),
        opts.vectors,
        &device.limits(),
        subgroup,
    )
    .ok_or_else(|| Error::TooLarge(format!("{m}×{n} matrices exceed 2^28 elements each")))?;
    let elem = kernel.scalar.size();
    let sizes = Sizes::new(&kernel, m, n, opts.vectors);
    let plan = ChunkPlan::new(count, &sizes.per_matrix_bytes(elem), &gpu.plan_limits())?;
    let pipeline = gpu.pipelines().jacobi(device, &kernel).await?;

    let catcher = ErrorCatcher::push(device);
    let bufs = ChunkBuffers::new(device, &pipeline, &sizes, elem, plan.per_chunk as u64);
    catcher.check().await?;

    let mut out = SvdOutput::allocate(count, m, n, opts.vectors, Engine::Gpu);
    let tol = opts.effective_tolerance(m, n);
    for c in 0..plan.chunks {
        let range = plan.range(c, count);
        run_chunk(
            gpu, &kernel, &pipeline, &bufs, &sizes, batch, opts, tol, range, &mut out,
        )
        .await?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn run_chunk(
    gpu: &Gpu,
    kernel: &JacobiKernel,
    pipeline: &JacobiPipeline,
    bufs: &ChunkBuffers,
    sizes: &Sizes,
    batch: &MatrixBatch<'_>,
    opts: &SvdOptions,
    tol: f32,
    range: std::ops::Range<usize>,
    out: &mut SvdOutput,
) -> Result<()> {
    let (device, queue) = (gpu.device(), gpu.queue());
    let elem = kernel.scalar.size();
    let chunk = range.len();
    let (gx, gy) = grid_2d(chunk, gpu.plan_limits().max_workgroups_per_dimension);

    // Upload: the chunk's matrices are contiguous in the batch, in their own layout.
    let t0 = Instant::now();
    let catcher = ErrorCatcher::push(device);
    let per_in = sizes.input as usize;
    let input = &batch.as_slice()[range.start * per_in..range.end * per_in];
    queue.write_buffer(&bufs.input, 0, bytemuck::cast_slice(input));
    let params = Params {
        count: chunk as u32,
        grid_x: gx,
        max_sweeps: opts.max_sweeps,
        tol,
        sort: u32::from(opts.sort),
        pad: [0; 3],
    };
    queue.write_buffer(&bufs.params, 0, bytemuck::bytes_of(&params));
    let t1 = Instant::now();

    // Compute: one dispatch for the whole chunk, then copy every output into the read-back
    // buffer, all in one submission.
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("batched svd chunk"),
    });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("jacobi sweeps"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bufs.bind_group, &[]);
        pass.dispatch_workgroups(gx, gy, 1);
    }
    let chunk64 = chunk as u64;
    let parts = [
        (&bufs.s, sizes.s * elem * chunk64),
        (&bufs.u, sizes.u * elem * chunk64),
        (&bufs.vt, sizes.vt * elem * chunk64),
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
    catcher.check().await?;

    // Download: map the read-back buffer and wait for the GPU.
    let (tx, rx) = futures::channel::oneshot::channel();
    let slice = bufs.staging.slice(..total);
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| gpu.lost_or(Error::Poll(e.to_string())))?;
    rx.await
        .map_err(|_| gpu.lost_or(Error::BufferMap("map callback dropped".into())))?
        .map_err(|e| gpu.lost_or(Error::BufferMap(e.to_string())))?;
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
        bytemuck::cast_slice_mut(&mut raw)
            .copy_from_slice(&view[offset..offset + chunk * INFO_BYTES as usize]);
        finalize(out, range.start, &raw);
    }
    bufs.staging.unmap();
    let t3 = Instant::now();
    out.timings.upload += (t1 - t0).as_secs_f64();
    out.timings.compute += (t2 - t1).as_secs_f64();
    out.timings.download += (t3 - t2).as_secs_f64();
    Ok(())
}

use bytemuck::Zeroable as _;

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
