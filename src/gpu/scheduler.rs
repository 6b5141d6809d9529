//! The host-side scheduler: plan chunks, upload, dispatch, read back, finalize.
//!
//! * Single-dispatch family: per chunk exactly one submission and one host round trip; the
//!   kernel runs every sweep of every matrix inside one dispatch and decides convergence on
//!   the GPU.
//! * Multi-dispatch family: scan, load, then per sweep one indirect dispatch per round and a
//!   `sweep_end` and `gate`; the gate zeroes the rounds' grids on the device once no matrix
//!   is rotating, so the host records sweeps up to `max_sweeps` without looking. Only when
//!   those do not fit one submission ([`DISPATCHES_PER_SUBMISSION`], i.e. N above about 130
//!   at 30 sweeps) does it read one `u32` (matrices still active) between submissions, and
//!   stop when it is zero. Round trips per solve: 1 when the sweeps fit one submission,
//!   whatever the number of sweeps; else one per submission the solve needed.
//!
//! Both end with σ, U, Vᵀ and the per-matrix info copied into one read-back buffer.
//!
//! This file plans the chunks and runs them (upload, submit, collect); `sweeps.rs` records the
//! multi-dispatch solve, `readback.rs` maps buffers, `finalize.rs` completes the results.

use std::time::Instant;

use super::Gpu;
use super::buffers::{ChunkBuffers, Params, PoolKey, RawInfo, Sizes};
use super::errors::ErrorCatcher;
use super::finalize::finalize;
use super::kernel::{Entry, Family, JacobiKernel, Scalar};
use super::pipelines::JacobiPipeline;
use super::plan::{ChunkPlan, grid_2d};
use super::readback::{map_all_and_wait, new_encoder, write_mapped};
use super::select::{KernelRequest, select};
use super::sweeps::run_sweeps;
use crate::batch::MatrixBatch;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::factors::{Factors, Product};
use crate::options::{SignConvention, SvdOptions};
use crate::report::Engine;

/// Sweeps the dedicated 2×2 / 3×3 kernel may use (`BSVD_MAX_SWEEPS` in small_svd.wgsl).
const SMALL_KERNEL_SWEEPS: u32 = 8;

/// Everything a chunk needs that does not change between chunks.
pub(crate) struct Job<'a, T: Element> {
    pub gpu: &'a Gpu,
    pub kernel: JacobiKernel,
    pub pipeline: &'a JacobiPipeline,
    pub sizes: Sizes,
    pub batch: &'a MatrixBatch<'a, T>,
    pub opts: &'a SvdOptions,
    pub tol: f32,
}

/// A chunk whose work has been submitted; its results are collected later.
struct Submitted<'a> {
    bufs: &'a ChunkBuffers,
    range: std::ops::Range<usize>,
    /// Bytes of results in the read-back buffer.
    total: u64,
    index: wgpu::SubmissionIndex,
}

/// Computes `product` of `batch` on `gpu` into the neutral factors `out` (σ, then U and Vᵀ,
/// or for the dedicated kernel's polar decomposition R and S), which are reshaped for the
/// batch (their allocations reused where large enough).
///
/// Any failure while the device is lost (destroyed, reset, removed) is reported as
/// [`Error::DeviceLost`], whichever wgpu call noticed it first.
pub(crate) async fn run<T: Element>(
    gpu: &Gpu,
    batch: &MatrixBatch<'_, T>,
    opts: &SvdOptions,
    product: Product,
    out: &mut Factors<T>,
) -> Result<()> {
    run_on_device(gpu, batch, opts, product, out)
        .await
        .map_err(|e| gpu.lost_or(e))
}

/// Validates the call, selects its kernel and runs it ([`run_kernel`]).
async fn run_on_device<T: Element>(
    gpu: &Gpu,
    batch: &MatrixBatch<'_, T>,
    opts: &SvdOptions,
    product: Product,
    out: &mut Factors<T>,
) -> Result<()> {
    opts.validate_for_batch(batch)?;
    gpu.check_lost()?;
    let device = gpu.device();
    let (m, n) = (batch.rows(), batch.cols());
    let request = KernelRequest {
        m,
        n,
        layout: batch.layout(),
        vectors: opts.vectors,
        max_sweeps: opts.max_sweeps,
        wanted: opts.kernel,
        signs: opts.signs,
        custom_tolerance: opts.tolerance.is_some() || opts.max_sweeps < SMALL_KERNEL_SWEEPS,
        product,
        qr_preconditioning: opts.qr_preconditioning,
        sweep_pairs: opts.sweep_pairs,
        scalar: Scalar::of::<T>(),
        complex: T::IS_COMPLEX,
    };
    if request.scalar == Scalar::F64 && !gpu.supports_f64() {
        return Err(Error::MissingFeature(format!(
            "SHADER_F64 (f64 arithmetic in shaders): {} does not offer it",
            gpu.adapter_info().name
        )));
    }
    if batch.is_empty() {
        out.fill_empty(batch, opts.vectors, product, Engine::Gpu)?;
        return Ok(());
    }
    let kernel = select(&request, &device.limits(), gpu.adapter_info())?;
    run_kernel(gpu, batch, opts, product, out, kernel).await
}

/// Runs `kernel` over the chunks of a non-empty batch.
async fn run_kernel<T: Element>(
    gpu: &Gpu,
    batch: &MatrixBatch<'_, T>,
    opts: &SvdOptions,
    product: Product,
    out: &mut Factors<T>,
    kernel: JacobiKernel,
) -> Result<()> {
    let device = gpu.device();
    let (count, m, n) = (batch.count(), batch.rows(), batch.cols());
    let elem = kernel.scalar.size();
    let mut sizes = Sizes::new(&kernel, m, n, opts.vectors);
    let rotation_only = product == (Product::Polar { with_s: false });
    if rotation_only {
        sizes.vt = 0; // no S to write or read back
    }
    let limits = gpu.plan_limits();
    let grid = u64::from(limits.max_workgroups_per_dimension);
    // Single-dispatch chunks use a 2-D grid of matrices; multi-dispatch ones put the matrix
    // index on y (x indexes pairs, columns or element tiles).
    let max_per_chunk = match kernel.family {
        Family::PerInvocation | Family::Small => {
            grid * grid * u64::from(kernel.workgroup * kernel.matrices_per_invocation())
        }
        Family::Workgroup => grid * grid,
        Family::MultiDispatch => grid,
    };
    let plan = ChunkPlan::new(
        count,
        &sizes.per_matrix_bytes(elem),
        &limits,
        max_per_chunk,
        u64::from(kernel.matrices_per_invocation()),
    )?;
    let pipeline = gpu
        .pipelines()
        .jacobi(device, gpu.disk_cache(), &kernel)
        .await?;

    // Two buffer sets let chunk c+1 upload and compute while chunk c is read back. The
    // multi-dispatch family reads convergence state mid-chunk, so it runs chunks in turn.
    let set_count = if plan.chunks > 1 && kernel.family != Family::MultiDispatch {
        2
    } else {
        1
    };
    let key = PoolKey {
        kernel,
        per_chunk: plan.per_chunk as u64,
    };
    let mut sets = Vec::with_capacity(set_count);
    for _ in 0..set_count {
        let set = match gpu.buffer_pool().take(&key) {
            Some(set) => set,
            None => {
                let catcher = ErrorCatcher::push(device);
                let set = ChunkBuffers::new(
                    device,
                    &kernel,
                    &pipeline,
                    &sizes,
                    key.per_chunk,
                    gpu.reads_directly(),
                );
                catcher.check().await?;
                set
            }
        };
        sets.push(set);
    }

    out.reshape(
        batch.batch_shape(),
        (m, n),
        opts.vectors,
        product,
        Engine::Gpu,
    )?;
    let job = Job {
        gpu,
        kernel,
        pipeline: &pipeline,
        sizes,
        batch,
        opts,
        tol: opts.effective_tolerance_for::<T::Real>(m, n),
    };
    run_chunks(&job, &sets, &plan, out).await?;
    // Only sets of a successful call go back to the pool (a failed one may be left mapped).
    for set in sets {
        gpu.buffer_pool().give(key, set);
    }
    out.report.work.chunks = plan.chunks as u64;
    Ok(())
}

/// Submits every chunk and collects its results, overlapping the read-back of one chunk with
/// the computation of the next when there are two buffer sets.
async fn run_chunks<T: Element>(
    job: &Job<'_, T>,
    sets: &[ChunkBuffers],
    plan: &ChunkPlan,
    out: &mut Factors<T>,
) -> Result<()> {
    let count = job.batch.count();
    let mut pending: Option<Submitted<'_>> = None;
    for c in 0..plan.chunks {
        let bufs = &sets[c % sets.len()];
        if sets.len() == 1
            && let Some(previous) = pending.take()
        {
            collect_chunk(job, previous, out).await?;
        }
        let submitted = submit_chunk(job, bufs, plan.range(c, count), out).await?;
        // With two sets, chunk c computes while chunk c−1 is read back here.
        if let Some(previous) = pending.replace(submitted) {
            collect_chunk(job, previous, out).await?;
        }
    }
    if let Some(last) = pending {
        collect_chunk(job, last, out).await?;
    }
    Ok(())
}

/// Uploads a chunk, records its kernels and the copies of its results into the read-back
/// buffer, and submits them.
async fn submit_chunk<'a, T: Element>(
    job: &Job<'_, T>,
    bufs: &'a ChunkBuffers,
    range: std::ops::Range<usize>,
    out: &mut Factors<T>,
) -> Result<Submitted<'a>> {
    let (device, queue) = (job.gpu.device(), job.gpu.queue());
    let chunk = range.len();

    // Upload: the chunk's matrices are contiguous in the batch, in their own layout.
    let t0 = Instant::now();
    let catcher = ErrorCatcher::push(device);
    let per_in = job.batch.rows() * job.batch.cols();
    let input: &[u8] =
        bytemuck::cast_slice(&job.batch.as_slice()[range.start * per_in..range.end * per_in]);
    if bufs.direct {
        write_mapped(job.gpu, &bufs.input, input).await?;
    } else {
        queue.write_buffer(&bufs.input, 0, input);
    }
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
    let entries = job.kernel.param_entries();
    let mut param_bytes = vec![0u8; (bufs.params_stride * u64::from(entries)) as usize];
    for round in 0..entries {
        let at = (bufs.params_stride * u64::from(round)) as usize;
        let p = Params { round, ..params };
        param_bytes[at..at + std::mem::size_of::<Params>()].copy_from_slice(bytemuck::bytes_of(&p));
    }
    queue.write_buffer(&bufs.params, 0, &param_bytes);
    out.report.work.bytes_uploaded += (input.len() + param_bytes.len()) as u64;
    out.report.timings.upload += t0.elapsed().as_secs_f64();

    let mut encoder = new_encoder(device);
    match job.kernel.family {
        Family::PerInvocation | Family::Workgroup | Family::Small => {
            let (x, y) = if job.kernel.family != Family::Workgroup {
                let per_group = job.kernel.workgroup * job.kernel.matrices_per_invocation();
                let groups = chunk.div_ceil(per_group as usize);
                grid_2d(groups, job.gpu.plan_limits().max_workgroups_per_dimension)
            } else {
                (gx, gy)
            };
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(job.pipeline.entry(Entry::Main)?);
            pass.set_bind_group(0, &bufs.bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
            out.report.work.dispatches += 1;
        }
        Family::MultiDispatch => {
            let t = Instant::now();
            encoder = run_sweeps(job, bufs, chunk as u32, encoder, out).await?;
            out.report.timings.compute += t.elapsed().as_secs_f64();
        }
    }

    // Every output into the read-back buffer, in the same submission as the last kernels.
    let elem = job.kernel.scalar.size();
    let chunk64 = chunk as u64;
    let parts = [
        (&bufs.s, job.sizes.s * elem * chunk64),
        (&bufs.u, job.sizes.u * elem * chunk64),
        (&bufs.vt, job.sizes.vt * elem * chunk64),
        (&bufs.info, job.sizes.info_bytes * chunk64),
    ];
    let mut offset = 0;
    for (buffer, bytes) in parts {
        if bytes > 0 && !bufs.direct {
            encoder.copy_buffer_to_buffer(buffer, 0, &bufs.staging, offset, bytes);
        }
        offset += bytes;
    }
    // A software device may run the work inside `submit`: that time is computation too.
    let t_submit = Instant::now();
    let index = queue.submit([encoder.finish()]);
    out.report.timings.compute += t_submit.elapsed().as_secs_f64();
    out.report.work.submissions += 1;
    catcher.check().await?;
    Ok(Submitted {
        bufs,
        range,
        total: offset,
        index,
    })
}

/// Waits for a submitted chunk, copies its results into `out` and finalizes them.
async fn collect_chunk<T: Element>(
    job: &Job<'_, T>,
    sub: Submitted<'_>,
    out: &mut Factors<T>,
) -> Result<()> {
    let t0 = Instant::now();
    let (bufs, range) = (sub.bufs, sub.range);
    let chunk = range.len();
    let elem = job.kernel.scalar.size();
    let byte_len = |per: u64| per * elem * chunk as u64;
    // Where each output lies: its own buffer (direct read-back) or a range of the staging
    // buffer, in the order s, U, Vᵀ, info.
    let lens = [
        byte_len(job.sizes.s),
        byte_len(job.sizes.u),
        byte_len(job.sizes.vt),
        job.sizes.info_bytes * chunk as u64,
    ];
    let mut sources: Vec<wgpu::BufferSlice<'_>> = Vec::with_capacity(4);
    let mut at = 0;
    for (buffer, len) in [&bufs.s, &bufs.u, &bufs.vt, &bufs.info]
        .into_iter()
        .zip(lens)
    {
        if bufs.direct {
            sources.push(buffer.slice(..len.max(4)));
        } else {
            sources.push(bufs.staging.slice(at..at + len));
            at += len;
        }
    }
    if bufs.direct {
        map_all_and_wait(job.gpu, &sources, Some(sub.index)).await?;
    } else {
        map_all_and_wait(job.gpu, &[bufs.staging.slice(..sub.total)], Some(sub.index)).await?;
    }
    out.report.work.host_round_trips += 1;
    out.report.work.bytes_downloaded += sub.total;
    let t1 = Instant::now();
    {
        let k = out.k();
        let (uc, vr) = (out.u_cols(), out.vt_rows());
        let (m, n) = out.shape();
        let read = |slice: &wgpu::BufferSlice<'_>, dst: &mut [u8]| -> Result<()> {
            if dst.is_empty() {
                return Ok(());
            }
            let view = slice
                .get_mapped_range()
                .map_err(|e| Error::BufferMap(e.to_string()))?;
            dst.copy_from_slice(&view[..dst.len()]);
            Ok(())
        };
        read(
            &sources[0],
            bytemuck::cast_slice_mut(&mut out.sigma[range.start * k..range.end * k]),
        )?;
        read(
            &sources[1],
            bytemuck::cast_slice_mut(&mut out.first[range.start * m * uc..range.end * m * uc]),
        )?;
        if job.sizes.vt > 0 {
            read(
                &sources[2],
                bytemuck::cast_slice_mut(&mut out.second[range.start * vr * n..range.end * vr * n]),
            )?;
        }
        // The reports are decoded in place: a fresh vector per chunk cost page faults on every
        // call (3×3: 2.4 MB per 16 MiB chunk).
        let view = sources[3]
            .get_mapped_range()
            .map_err(|e| Error::BufferMap(e.to_string()))?;
        let per = job.sizes.info_bytes as usize;
        let raw = view[..chunk * per].chunks_exact(per).map(RawInfo::decode);
        let fix_signs =
            job.opts.signs == SignConvention::Rotation && job.kernel.family != Family::Small;
        finalize(out, range.start, raw, fix_signs);
    }
    if bufs.direct {
        // All four were mapped (an empty output maps its 4-byte placeholder).
        for buffer in [&bufs.s, &bufs.u, &bufs.vt, &bufs.info] {
            buffer.unmap();
        }
    } else {
        bufs.staging.unmap();
    }
    out.report.timings.compute += (t1 - t0).as_secs_f64();
    out.report.timings.download += t1.elapsed().as_secs_f64();
    Ok(())
}
