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

use std::time::Instant;

use super::Gpu;
use super::buffers::{ChunkBuffers, Params, PoolKey, RawInfo, Sizes, SweepGrids};
use super::errors::ErrorCatcher;
use super::pipelines::JacobiPipeline;
use super::plan::{ChunkPlan, grid_2d};
use super::shader::{Family, JacobiKernel, KernelRequest};
use crate::basis::{complete_vectors, to_rotation_convention};
use crate::batch::MatrixBatch;
use crate::error::{Error, Result};
use crate::factors::{Factors, Product};
use crate::options::{SignConvention, SvdOptions, Vectors};
use crate::report::{Engine, MatrixInfo, Status};

/// At most this many dispatches per submission in the multi-dispatch family: enough to hold
/// every sweep of matrices up to about 130 columns (so their solves need no mid-solve read-
/// back), few enough that a large matrix's convergence is checked every few sweeps and that
/// the sweeps recorded past its convergence (empty indirect dispatches) stay cheap.
const DISPATCHES_PER_SUBMISSION: u32 = 4096;
/// Invocations per workgroup of `jacobi_round_lanes` (`LANES_WG` in jacobi_global.wgsl).
const LANES_WORKGROUP: u32 = 8;
/// Sweeps the dedicated 2×2 / 3×3 kernel may use (`BSVD_MAX_SWEEPS` in small_svd.wgsl).
const SMALL_KERNEL_SWEEPS: u32 = 8;

/// Everything a chunk needs that does not change between chunks.
struct Job<'a> {
    gpu: &'a Gpu,
    kernel: JacobiKernel,
    pipeline: &'a JacobiPipeline,
    sizes: Sizes,
    batch: &'a MatrixBatch<'a>,
    opts: &'a SvdOptions,
    tol: f32,
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
pub(crate) async fn run(
    gpu: &Gpu,
    batch: &MatrixBatch<'_>,
    opts: &SvdOptions,
    product: Product,
    out: &mut Factors,
) -> Result<()> {
    opts.validate_for(batch.rows(), batch.cols())?;
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
        signs: opts.signs,
        custom_tolerance: opts.tolerance.is_some() || opts.max_sweeps < SMALL_KERNEL_SWEEPS,
        product,
        qr_preconditioning: opts.qr_preconditioning,
        sweep_pairs: opts.sweep_pairs,
    };
    let kernel = JacobiKernel::choose(&request, &device.limits(), gpu.adapter_info())?;
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
        Family::SingleDispatch => grid * grid,
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

    out.reshape(count, (m, n), opts.vectors, product, Engine::Gpu);
    let job = Job {
        gpu,
        kernel,
        pipeline: &pipeline,
        sizes,
        batch,
        opts,
        tol: opts.effective_tolerance(m, n),
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
async fn run_chunks(
    job: &Job<'_>,
    sets: &[ChunkBuffers],
    plan: &ChunkPlan,
    out: &mut Factors,
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
async fn submit_chunk<'a>(
    job: &Job<'_>,
    bufs: &'a ChunkBuffers,
    range: std::ops::Range<usize>,
    out: &mut Factors,
) -> Result<Submitted<'a>> {
    let (device, queue) = (job.gpu.device(), job.gpu.queue());
    let chunk = range.len();

    // Upload: the chunk's matrices are contiguous in the batch, in their own layout.
    let t0 = Instant::now();
    let catcher = ErrorCatcher::push(device);
    let per_in = job.sizes.input as usize;
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
        Family::PerInvocation | Family::SingleDispatch | Family::Small => {
            let (x, y) = if job.kernel.family != Family::SingleDispatch {
                let per_group = job.kernel.workgroup * job.kernel.matrices_per_invocation();
                let groups = chunk.div_ceil(per_group as usize);
                grid_2d(groups, job.gpu.plan_limits().max_workgroups_per_dimension)
            } else {
                (gx, gy)
            };
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&job.pipeline.pipelines[0]);
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
async fn collect_chunk(job: &Job<'_>, sub: Submitted<'_>, out: &mut Factors) -> Result<()> {
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

fn new_encoder(device: &wgpu::Device) -> wgpu::CommandEncoder {
    device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("batched svd"),
    })
}

/// Copies `data` into the start of the mappable `buffer` through a write mapping: on CPU and
/// integrated adapters this is the only copy of the input (`write_buffer` would copy it into
/// a fresh staging allocation and then again on the device timeline).
///
/// The buffer's last use has completed (its chunk was collected), so the mapping is ready at
/// the next non-blocking poll; waiting for the device is only a fallback (it would also wait
/// for the other buffer set's chunk).
async fn write_mapped(gpu: &Gpu, buffer: &wgpu::Buffer, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let slice = buffer.slice(..data.len() as u64);
    let mut rx = request_map(&slice, wgpu::MapMode::Write);
    poll(gpu, wgpu::PollType::Poll)?;
    match rx.try_recv() {
        Ok(Some(result)) => result.map_err(|e| gpu.lost_or(Error::BufferMap(e.to_string())))?,
        _ => {
            poll(gpu, wgpu::PollType::wait_indefinitely())?;
            map_result(gpu, rx).await?;
        }
    }
    slice
        .get_mapped_range_mut()
        .map_err(|e| Error::BufferMap(e.to_string()))?
        .copy_from_slice(data);
    buffer.unmap();
    Ok(())
}

/// The outcome of a `map_async` request.
type MapReceiver =
    futures::channel::oneshot::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>;

/// Requests a mapping of `slice`; the receiver resolves once a poll has processed it.
fn request_map(slice: &wgpu::BufferSlice<'_>, mode: wgpu::MapMode) -> MapReceiver {
    let (tx, rx) = futures::channel::oneshot::channel();
    slice.map_async(mode, move |r| {
        let _ = tx.send(r);
    });
    rx
}

/// Waits for a requested mapping after the poll that processes it.
async fn map_result(gpu: &Gpu, rx: MapReceiver) -> Result<()> {
    rx.await
        .map_err(|_| gpu.lost_or(Error::BufferMap("map callback dropped".into())))?
        .map_err(|e| gpu.lost_or(Error::BufferMap(e.to_string())))
}

/// Polls the device, reporting a lost device as such.
fn poll(gpu: &Gpu, kind: wgpu::PollType) -> Result<()> {
    gpu.device()
        .poll(kind)
        .map(|_| ())
        .map_err(|e| gpu.lost_or(Error::Poll(e.to_string())))
}

/// Maps every slice for reading and blocks until the device has finished submission `index`
/// (all submitted work if `None`), leaving later submissions running.
async fn map_all_and_wait(
    gpu: &Gpu,
    slices: &[wgpu::BufferSlice<'_>],
    index: Option<wgpu::SubmissionIndex>,
) -> Result<()> {
    let receivers: Vec<MapReceiver> = slices
        .iter()
        .map(|slice| request_map(slice, wgpu::MapMode::Read))
        .collect();
    poll(
        gpu,
        wgpu::PollType::Wait {
            submission_index: index,
            timeout: None,
        },
    )?;
    for rx in receivers {
        map_result(gpu, rx).await?;
    }
    Ok(())
}

/// Records (and partly submits) the multi-dispatch solve of one chunk: scan, load, sweeps until
/// no matrix is active, norms, rank and write. Returns the encoder holding the unsubmitted tail.
async fn run_sweeps(
    job: &Job<'_>,
    bufs: &ChunkBuffers,
    chunk: u32,
    mut encoder: wgpu::CommandEncoder,
    out: &mut Factors,
) -> Result<wgpu::CommandEncoder> {
    let device = job.gpu.device();
    let (k, p) = (&job.kernel, job.pipeline);
    let (state, (active, active_read), grids_buffer) =
        match (&bufs.state, &bufs.active, &bufs.grids) {
            (Some(s), Some(a), Some(g)) => (s, a, g),
            _ => return Err(Error::Gpu("multi-dispatch buffers missing".into())),
        };
    let (m, n) = k.work_shape();
    let wg = k.workgroup;
    let elements = u64::from(m) * u64::from(n);
    let out_len = u64::from(n)
        + u64::from(k.a_m) * k.vectors.u_cols(k.a_m as usize, k.a_n as usize) as u64
        + k.vectors.vt_rows(k.a_m as usize, k.a_n as usize) as u64 * u64::from(k.a_n);
    // Sets `entry`'s pipeline and the bind group with the params entry of `round` (a dynamic
    // offset), for the dispatch that follows.
    let bind = |pass: &mut wgpu::ComputePass<'_>, entry: &str, round: u32| {
        pass.set_pipeline(p.entry(entry));
        let offset = (bufs.params_stride * u64::from(round)) as u32;
        pass.set_bind_group(0, &bufs.bind_group, &[offset]);
    };
    let dispatch = |pass: &mut wgpu::ComputePass<'_>, entry: &str, round: u32, x: u32, y: u32| {
        bind(pass, entry, round);
        pass.dispatch_workgroups(x, y, 1);
    };

    encoder.clear_buffer(state, 0, None);
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        dispatch(&mut pass, "jacobi_scan", 0, k.tiles(elements), chunk);
        dispatch(&mut pass, "jacobi_load", 0, k.tiles(elements), chunk);
    }
    out.report.work.dispatches += 2;
    // On CPU devices a column pair per invocation (no barriers) beats a workgroup per pair,
    // as long as one invocation's pass down the rows fits the loop budget.
    let cpu = job.gpu.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let rows = if k.qr { n } else { m };
    let lanes = cpu && 2 * u64::from(rows) + u64::from(n) <= super::shader::LOOP_BUDGET;
    let qr_lanes = cpu && 2 * u64::from(m) <= super::shader::LOOP_BUDGET;
    if k.qr {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        for col in 0..n {
            dispatch(&mut pass, "qr_householder", col, 1, chunk);
            let trailing = n - 1 - col;
            if trailing == 0 {
                continue;
            }
            if qr_lanes {
                let groups = trailing.div_ceil(LANES_WORKGROUP);
                dispatch(&mut pass, "qr_update_lanes", col, groups, chunk);
            } else {
                dispatch(&mut pass, "qr_update", col, trailing, chunk);
            }
        }
        let r_elements = u64::from(n) * u64::from(n);
        dispatch(&mut pass, "qr_extract_r", 0, k.tiles(r_elements), chunk);
        out.report.work.dispatches += 2 * u64::from(n);
    }
    // Each sweep: its rounds as indirect dispatches, sweep_end and gate.
    let per_sweep = k.sweep_rounds() * if k.blocked { 2 } else { 1 } + 2;
    let per_submission = (DISPATCHES_PER_SUBMISSION / per_sweep).max(1);
    let round_x = if lanes {
        k.pairs().div_ceil(LANES_WORKGROUP)
    } else {
        k.pairs()
    };
    let block_pairs = k.blocks() / 2;
    let row_tiles = (rows + if k.vectors.wanted() { n } else { 0 }).div_ceil(32);
    let grids = SweepGrids {
        round: [round_x, chunk, 1],
        block_rotations: [block_pairs, chunk, 1],
        block_apply: [row_tiles, block_pairs, chunk],
    };
    // Both copies of the grids start full: the indirect-dispatch buffer the sweeps read, and
    // the one in `active` that jacobi_gate zeroes and the copy after each sweep propagates.
    job.gpu
        .queue()
        .write_buffer(active, 4, bytemuck::bytes_of(&grids));
    job.gpu
        .queue()
        .write_buffer(grids_buffer, 0, bytemuck::bytes_of(&grids));
    out.report.work.bytes_uploaded += 2 * SweepGrids::BYTES;
    let indirect = |pass: &mut wgpu::ComputePass<'_>, entry: &str, round: u32, grid: u64| {
        bind(pass, entry, round);
        pass.dispatch_workgroups_indirect(grids_buffer, grid);
    };
    let round_entry = if lanes {
        "jacobi_round_lanes"
    } else {
        "jacobi_round"
    };
    let mut done = 0;
    while done < job.opts.max_sweeps {
        let batch = per_submission.min(job.opts.max_sweeps - done);
        for _ in 0..batch {
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for round in 0..k.sweep_rounds() {
                    if k.blocked {
                        let (rotations, apply) =
                            (SweepGrids::BLOCK_ROTATIONS, SweepGrids::BLOCK_APPLY);
                        indirect(&mut pass, "blocked_rotations", round, rotations);
                        indirect(&mut pass, "blocked_apply", round, apply);
                    } else {
                        indirect(&mut pass, round_entry, round, SweepGrids::ROUND);
                    }
                }
            }
            encoder.clear_buffer(active, 0, Some(4));
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                dispatch(&mut pass, "jacobi_sweep_end", 0, chunk.div_ceil(wg), 1);
                dispatch(&mut pass, "jacobi_gate", 0, 1, 1);
            }
            encoder.copy_buffer_to_buffer(active, 4, grids_buffer, 0, SweepGrids::BYTES);
        }
        out.report.work.dispatches += u64::from(batch) * u64::from(per_sweep);
        done += batch;
        if done >= job.opts.max_sweeps {
            break; // sweep_end has given every matrix its final status
        }
        // Ask the device how many matrices are still rotating.
        encoder.copy_buffer_to_buffer(active, 0, active_read, 0, 4);
        let catcher = ErrorCatcher::push(device);
        job.gpu.queue().submit([encoder.finish()]);
        catcher.check().await?;
        out.report.work.submissions += 1;
        map_all_and_wait(job.gpu, &[active_read.slice(..)], None).await?;
        out.report.work.host_round_trips += 1;
        out.report.work.bytes_downloaded += 4;
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
        if k.qr && k.vectors.wanted() {
            // U = Q·R_final: the reflectors in reverse order on [R_final; 0].
            dispatch(&mut pass, "qr_init_u", 0, k.tiles(elements), chunk);
            for col in (0..n).rev() {
                if qr_lanes {
                    dispatch(
                        &mut pass,
                        "qr_apply_q_lanes",
                        col,
                        n.div_ceil(LANES_WORKGROUP),
                        chunk,
                    );
                } else {
                    dispatch(&mut pass, "qr_apply_q", col, n, chunk);
                }
            }
            out.report.work.dispatches += 1 + u64::from(n);
        }
        dispatch(&mut pass, "jacobi_write", 0, k.tiles(out_len), chunk);
    }
    out.report.work.dispatches += 3;
    Ok(encoder)
}

/// Records the kernel's per-matrix reports and completes the singular vectors of matrices
/// that need it (negligible singular values, or full vectors of a non-square matrix).
fn finalize(out: &mut Factors, first: usize, raw: impl Iterator<Item = RawInfo>, fix_signs: bool) {
    let (m, n) = out.shape();
    let vectors = out.vectors;
    let full_extra = vectors == Vectors::Full && m != n;
    let (ul, vl) = (m * out.u_cols(), out.vt_rows() * n);
    for (local, r) in raw.enumerate() {
        let b = first + local;
        let status = match r.status {
            0 => Status::Converged,
            1 => Status::NotConverged,
            _ => Status::NonFinite,
        };
        out.report.info[b] = MatrixInfo {
            status,
            sweeps: r.sweeps,
            off_diagonal: r.off,
        };
        if status != Status::NonFinite && vectors.wanted() && (r.negligible > 0 || full_extra) {
            complete_vectors(
                &mut out.first[b * ul..(b + 1) * ul],
                &mut out.second[b * vl..(b + 1) * vl],
                m,
                n,
                vectors,
            );
        }
        if fix_signs && status != Status::NonFinite {
            let k = m.min(n);
            to_rotation_convention(
                &mut out.sigma[b * k..(b + 1) * k],
                &mut out.first[b * ul..(b + 1) * ul],
                &mut out.second[b * vl..(b + 1) * vl],
                n,
            );
        }
    }
}
