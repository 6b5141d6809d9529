//! The bench's `gpu-resident` rows: the 2×2 / 3×3 kernels on matrices that already live on
//! the device, as a graphics or physics engine holds them (`Gpu::encode_svd` /
//! `Gpu::encode_polar` into device buffers). A run records one dispatch into a fresh encoder,
//! submits it and waits for the device: no upload, no read-back, no host copies.

use std::time::Instant;

use batched_svd::wgpu;
use batched_svd::wgpu::util::DeviceExt as _;
use batched_svd::{
    Gpu, MatrixLayout, PolarTargets, Precision, SignConvention, SmallBatch, SvdTargets, Vectors,
};

/// What one resident case decomposes.
#[derive(Clone, Copy, Debug)]
pub struct ResidentCase {
    /// 2 or 3.
    pub n: usize,
    /// `Thin` (U and V) or `None` (σ only); ignored for the polar decomposition.
    pub vectors: Vectors,
    /// The polar decomposition (R and S) instead of the SVD.
    pub polar: bool,
}

/// A batch uploaded once, with device buffers for every output.
pub struct Resident<'g> {
    gpu: &'g Gpu,
    case: ResidentCase,
    batch: SmallBatch,
    input: wgpu::Buffer,
    first: wgpu::Buffer,
    second: wgpu::Buffer,
    sigma: wgpu::Buffer,
    info: wgpu::Buffer,
}

impl<'g> Resident<'g> {
    /// Uploads the row-major `data` (`count` matrices), allocates the outputs and makes one
    /// untimed call (which compiles the pipeline).
    ///
    /// # Errors
    /// The library's error of that call, as text.
    pub fn new(
        gpu: &'g Gpu,
        case: ResidentCase,
        data: &[f32],
        count: usize,
    ) -> Result<Self, String> {
        let device = gpu.device();
        let n = case.n as u64;
        let storage = |label: &str, bytes: u64| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(4),
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        };
        let matrices = 4 * n * n * count as u64;
        let resident = Self {
            gpu,
            case,
            batch: SmallBatch {
                n: case.n as u32,
                count: u32::try_from(count).map_err(|_| "batch too large".to_string())?,
                input_layout: MatrixLayout::RowMajor,
                output_layout: MatrixLayout::RowMajor,
                precision: Precision::F32,
            },
            input: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("bench resident input"),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE,
            }),
            first: storage("bench resident U or R", matrices),
            second: storage("bench resident V or S", matrices),
            sigma: storage("bench resident sigma", 4 * n * count as u64),
            info: storage("bench resident info", 16 * count as u64),
        };
        resident.run()?;
        Ok(resident)
    }

    /// One timed call, in seconds: what an engine's frame pays (encode: pipeline lookup and
    /// bind group; submit; wait for the device).
    ///
    /// # Errors
    /// The library's error for a failed encode, or a poll failure, as text.
    pub fn run(&self) -> Result<f64, String> {
        let (gpu, device) = (self.gpu, self.gpu.device());
        let t = Instant::now();
        let mut encoder = device.create_command_encoder(&Default::default());
        let encoded = if self.case.polar {
            let targets = PolarTargets {
                r: &self.first,
                s: Some(&self.second),
                info: Some(&self.info),
            };
            gpu.encode_polar(&mut encoder, &self.input, &self.batch, &targets)
        } else {
            let targets = SvdTargets {
                s: &self.sigma,
                vectors: (self.case.vectors != Vectors::None)
                    .then_some((&self.first, &self.second)),
                info: Some(&self.info),
            };
            gpu.encode_svd(
                &mut encoder,
                &self.input,
                &self.batch,
                &targets,
                SignConvention::NonNegative,
            )
        };
        encoded.map_err(|e| e.to_string())?;
        gpu.queue().submit([encoder.finish()]);
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| e.to_string())?;
        Ok(t.elapsed().as_secs_f64())
    }
}
