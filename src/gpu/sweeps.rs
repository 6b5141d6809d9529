//! The multi-dispatch solve of one chunk: scan and load, QR preconditioning, the sweeps as
//! indirect dispatches that the device empties once no matrix rotates (with a convergence
//! read-back only between submissions), then norms, rank, Q·R and the outputs.

use super::buffers::{ChunkBuffers, SweepGrids};
use super::errors::ErrorCatcher;
use super::kernel::Entry;
use super::readback::{map_all_and_wait, new_encoder};
use super::scheduler::Job;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::factors::Factors;

/// At most this many dispatches per submission in the multi-dispatch family: enough to hold
/// every sweep of matrices up to about 130 columns (so their solves need no mid-solve read-
/// back), few enough that a large matrix's convergence is checked every few sweeps and that
/// the sweeps recorded past its convergence (empty indirect dispatches) stay cheap.
pub(crate) const DISPATCHES_PER_SUBMISSION: u32 = 4096;
/// Invocations per workgroup of `jacobi_round_lanes` (`LANES_WG` in jacobi_global.wgsl).
const LANES_WORKGROUP: u32 = 8;

/// Records (and partly submits) the multi-dispatch solve of one chunk: scan, load, sweeps until
/// no matrix is active, norms, rank and write. Returns the encoder holding the unsubmitted tail.
pub(crate) async fn run_sweeps<T: Element>(
    job: &Job<'_, T>,
    bufs: &ChunkBuffers,
    chunk: u32,
    mut encoder: wgpu::CommandEncoder,
    out: &mut Factors<T>,
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
    let bind = |pass: &mut wgpu::ComputePass<'_>, pipeline: &wgpu::ComputePipeline, round: u32| {
        pass.set_pipeline(pipeline);
        let offset = (bufs.params_stride * u64::from(round)) as u32;
        pass.set_bind_group(0, &bufs.bind_group, &[offset]);
    };
    let dispatch = |pass: &mut wgpu::ComputePass<'_>,
                    pipeline: &wgpu::ComputePipeline,
                    round: u32,
                    x: u32,
                    y: u32| {
        bind(pass, pipeline, round);
        pass.dispatch_workgroups(x, y, 1);
    };

    encoder.clear_buffer(state, 0, None);
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        dispatch(
            &mut pass,
            p.entry(Entry::Scan)?,
            0,
            k.tiles(elements),
            chunk,
        );
        dispatch(
            &mut pass,
            p.entry(Entry::Load)?,
            0,
            k.tiles(elements),
            chunk,
        );
    }
    out.report.work.dispatches += 2;
    let rows = if k.qr { n } else { m };
    // The lane variants (one invocation per column pair or column) were chosen by select.rs.
    let (lanes, qr_lanes) = (k.round_lanes, k.qr_lanes);
    if k.qr {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        for col in 0..n {
            dispatch(&mut pass, p.entry(Entry::QrHouseholder)?, col, 1, chunk);
            let trailing = n - 1 - col;
            if trailing == 0 {
                continue;
            }
            if qr_lanes {
                let groups = trailing.div_ceil(LANES_WORKGROUP);
                dispatch(
                    &mut pass,
                    p.entry(Entry::QrUpdateLanes)?,
                    col,
                    groups,
                    chunk,
                );
            } else {
                dispatch(&mut pass, p.entry(Entry::QrUpdate)?, col, trailing, chunk);
            }
        }
        let r_elements = u64::from(n) * u64::from(n);
        dispatch(
            &mut pass,
            p.entry(Entry::QrExtractR)?,
            0,
            k.tiles(r_elements),
            chunk,
        );
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
    let indirect = |pass: &mut wgpu::ComputePass<'_>,
                    pipeline: &wgpu::ComputePipeline,
                    round: u32,
                    grid: u64| {
        bind(pass, pipeline, round);
        pass.dispatch_workgroups_indirect(grids_buffer, grid);
    };
    // Blocked sweeps dispatch their two block-pair kernels instead of the column-pair round.
    let round_pipelines = if k.blocked {
        (
            p.entry(Entry::BlockedRotations)?,
            Some(p.entry(Entry::BlockedApply)?),
        )
    } else {
        (p.entry(k.round_entry())?, None)
    };
    let mut done = 0;
    while done < job.opts.max_sweeps {
        let batch = per_submission.min(job.opts.max_sweeps - done);
        for _ in 0..batch {
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for round in 0..k.sweep_rounds() {
                    match round_pipelines {
                        (rotations, Some(apply)) => {
                            indirect(&mut pass, rotations, round, SweepGrids::BLOCK_ROTATIONS);
                            indirect(&mut pass, apply, round, SweepGrids::BLOCK_APPLY);
                        }
                        (columns, None) => {
                            indirect(&mut pass, columns, round, SweepGrids::ROUND);
                        }
                    }
                }
            }
            encoder.clear_buffer(active, 0, Some(4));
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                dispatch(
                    &mut pass,
                    p.entry(Entry::SweepEnd)?,
                    0,
                    chunk.div_ceil(wg),
                    1,
                );
                dispatch(&mut pass, p.entry(Entry::Gate)?, 0, 1, 1);
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
        dispatch(&mut pass, p.entry(Entry::Norms)?, 0, n, chunk);
        dispatch(&mut pass, p.entry(Entry::Rank)?, 0, n.div_ceil(wg), chunk);
        if k.qr && k.vectors.wanted() {
            // U = Q·R_final: the reflectors in reverse order on [R_final; 0].
            dispatch(
                &mut pass,
                p.entry(Entry::QrInitU)?,
                0,
                k.tiles(elements),
                chunk,
            );
            for col in (0..n).rev() {
                if qr_lanes {
                    dispatch(
                        &mut pass,
                        p.entry(Entry::QrApplyQLanes)?,
                        col,
                        n.div_ceil(LANES_WORKGROUP),
                        chunk,
                    );
                } else {
                    dispatch(&mut pass, p.entry(Entry::QrApplyQ)?, col, n, chunk);
                }
            }
            out.report.work.dispatches += 1 + u64::from(n);
        }
        dispatch(
            &mut pass,
            p.entry(Entry::Write)?,
            0,
            k.tiles(out_len),
            chunk,
        );
    }
    out.report.work.dispatches += 3;
    Ok(encoder)
}
