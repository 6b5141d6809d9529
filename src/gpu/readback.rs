//! Mapping device buffers for the scheduler: writing the input through a write mapping,
//! waiting for a submission and mapping its results, polling with device-loss reporting.

use super::Gpu;
use crate::error::{Error, Result};

pub(crate) fn new_encoder(device: &wgpu::Device) -> wgpu::CommandEncoder {
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
pub(crate) async fn write_mapped(gpu: &Gpu, buffer: &wgpu::Buffer, data: &[u8]) -> Result<()> {
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
pub(crate) async fn map_all_and_wait(
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
