//! Zero-copy use: recording the SVD or polar decomposition of 2×2 / 3×3 matrices that already
//! live in the caller's `wgpu::Buffer` into the caller's `CommandEncoder`, with results going
//! to the caller's buffers. Nothing is submitted, mapped or waited for; the matrices never
//! pass through host memory.
//!
//! # Buffer layouts
//!
//! Matrices are stored one after another from the buffer's start, as f32 or, with
//! [`Precision::F64`] on a device with `SHADER_F64`, f64 ("floats" below are elements of that
//! type). Per matrix, in the chosen [`MatrixLayout`]:
//!
//! | layout | 2×2 floats | 3×3 floats | element `(r, c)` at |
//! |---|---|---|---|
//! | `RowMajor` (numpy) | 4 | 9 | `r·n + c` |
//! | `ColMajor` (nalgebra, WGSL matrices in packed arrays) | 4 | 9 | `c·n + r` |
//! | `ColMajorPadded` (WGSL `array<mat3x3<f32>>`) | 4 | 12 | `c·4 + r` (2×2: `c·2 + r`) |
//! | `Interleaved` (structure of arrays) | 4 | 9 | matrix `b` at `(c·n + r)·count + b` |
//!
//! In the packed layouts matrix `b` starts at float `b·(floats per matrix)`. `Interleaved`
//! stores component `(r, c)` of all `count` matrices one after another, then the next
//! component (column-major component order): one invocation per matrix then reads and writes
//! consecutive floats across a warp, the coalesced pattern GPUs want; the packed layouts
//! make a warp's accesses strided.
//!
//! WGSL pads each column of a `mat3x3<f32>` to 16 bytes in storage, so an
//! `array<mat3x3<f32>>` is `ColMajorPadded` (48 bytes per matrix); `mat2x2<f32>` has no
//! padding (16 bytes). The same holds for `mat3x3<f64>` (columns padded to 4 doubles, 96
//! bytes) and `mat2x2<f64>` (32 bytes). Singular values are packed (`n` floats per matrix). For the SVD the
//! `u` buffer receives U and the `v` buffer receives V (not Vᵀ), both in the output layout,
//! except that with the `RowMajor` output layout the `v` buffer holds V column-major, which
//! is Vᵀ row-major (numpy's `vh`, as the host path returns it). The optional `info` buffer
//! receives 16 bytes per matrix: `status: u32` (0 converged, 2 non-finite input), `sweeps: u32`,
//! two reserved words.

use wgpu::util::DeviceExt as _;

use super::Gpu;
use super::buffers::Params;
use super::errors::ErrorCatcher;
use super::kernel::{Entry, Product, SmallLayout};
use super::select::{ZeroCopyRequest, select_zero_copy};

use super::kernel::Scalar;
use crate::error::{Error, Result};
use crate::options::SignConvention;

/// The element type of the matrices in a caller's buffers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// `f32` (WGSL `f32`, `mat3x3<f32>`).
    #[default]
    F32,
    /// `f64` (WGSL `f64`); needs `wgpu::Features::SHADER_F64` ([`Gpu::supports_f64`]).
    F64,
}

impl Precision {
    /// Bytes per element: 4 or 8.
    #[inline]
    #[must_use]
    pub fn bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }

    fn scalar(self) -> Scalar {
        match self {
            Precision::F32 => Scalar::F32,
            Precision::F64 => Scalar::F64,
        }
    }
}

/// How 2×2 and 3×3 matrices are laid out in a caller's buffer (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MatrixLayout {
    /// Row-major, packed (numpy C order).
    RowMajor,
    /// Column-major, packed (nalgebra; WGSL matrices written as packed floats).
    ColMajor,
    /// Column-major with every column padded to 4 floats: WGSL `array<mat3x3<f32>>`.
    /// For 2×2 matrices identical to `ColMajor`.
    #[default]
    ColMajorPadded,
    /// Structure of arrays: element `(r, c)` of matrix `b` at float `(c·n + r)·count + b`
    /// (`count` = [`SmallBatch::count`]). Coalesced on GPUs.
    Interleaved,
}

impl MatrixLayout {
    fn code(self) -> SmallLayout {
        match self {
            MatrixLayout::RowMajor => SmallLayout::RowMajor,
            MatrixLayout::ColMajor => SmallLayout::ColMajor,
            MatrixLayout::ColMajorPadded => SmallLayout::ColMajorPadded,
            MatrixLayout::Interleaved => SmallLayout::Interleaved,
        }
    }

    /// Bytes per `n×n` f32 matrix in this layout (`n` = 2 or 3).
    #[inline]
    #[must_use]
    pub fn matrix_bytes(self, n: u32) -> u64 {
        self.matrix_bytes_as(n, Precision::F32)
    }

    /// Bytes per `n×n` matrix of `precision` in this layout (`n` = 2 or 3).
    #[inline]
    #[must_use]
    pub fn matrix_bytes_as(self, n: u32, precision: Precision) -> u64 {
        precision.bytes() * u64::from(self.code().stride(n))
    }
}

/// What to decompose: `count` matrices of size `n×n` (2 or 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmallBatch {
    /// 2 or 3.
    pub n: u32,
    /// Number of matrices.
    pub count: u32,
    /// Layout of the input matrices.
    pub input_layout: MatrixLayout,
    /// Layout of the output matrices (U, V, R, S).
    pub output_layout: MatrixLayout,
    /// Element type of every buffer (input, σ, U, V, R, S).
    pub precision: Precision,
}

/// Where [`Gpu::encode_svd`] writes. Every buffer needs `BufferUsages::STORAGE`.
#[derive(Clone, Copy, Debug)]
pub struct SvdTargets<'a> {
    /// Singular values, `count·n` floats (of the batch's [`Precision`]).
    pub s: &'a wgpu::Buffer,
    /// `(U, V)` buffers — **V, not Vᵀ** as the host API returns (V in column-major order is
    /// Vᵀ in row-major order) — each in the output layout (with `RowMajor` output, V
    /// column-major, i.e. Vᵀ row-major), or `None` for values only.
    pub vectors: Option<(&'a wgpu::Buffer, &'a wgpu::Buffer)>,
    /// Per-matrix info (16 bytes each), or `None`.
    pub info: Option<&'a wgpu::Buffer>,
}

/// Where [`Gpu::encode_polar`] writes. Every buffer needs `BufferUsages::STORAGE`.
#[derive(Clone, Copy, Debug)]
pub struct PolarTargets<'a> {
    /// R matrices.
    pub r: &'a wgpu::Buffer,
    /// S matrices, or `None` for the rotation only.
    pub s: Option<&'a wgpu::Buffer>,
    /// Per-matrix info (16 bytes each), or `None`.
    pub info: Option<&'a wgpu::Buffer>,
}

impl Gpu {
    /// Records the SVD `A = U·Σ·Vᵀ` of `batch.count` matrices stored in `input` into `encoder`,
    /// writing σ, U and **V** (not Vᵀ: see [`SvdTargets::vectors`]) to `targets`. Nothing is
    /// submitted: the caller submits `encoder` (after its own passes that produce the input,
    /// before those that consume the results).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if `n` is not 2 or 3, `count` is 0, a buffer lacks
    /// `STORAGE` usage or is too small, or the rotation convention is combined with values
    /// only; [`Error::MissingFeature`] for [`Precision::F64`] on a device without
    /// `SHADER_F64`; [`Error::Gpu`] if pipeline creation fails.
    pub fn encode_svd(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        batch: &SmallBatch,
        targets: &SvdTargets<'_>,
        signs: SignConvention,
    ) -> Result<()> {
        let (u, v) = targets.vectors.unzip();
        let request = ZeroCopyRequest {
            n: batch.n,
            count: batch.count,
            rotation: signs == SignConvention::Rotation,
            product: Product::Svd,
            input: batch.input_layout.code(),
            output: batch.output_layout.code(),
            sigma: true,
            vectors: u.is_some(),
            info: targets.info.is_some(),
            lanes: None,
            scalar: batch.precision.scalar(),
        };
        if request.rotation && u.is_none() {
            return Err(Error::InvalidOption(
                "the rotation convention needs singular vectors".into(),
            ));
        }
        let n = batch.n;
        let sigma_bytes = batch.precision.bytes() * u64::from(n) * u64::from(batch.count);
        self.encode_small(
            encoder,
            input,
            batch,
            &request,
            [
                Some((targets.s, sigma_bytes)),
                u.map(|b| (b, 0)),
                v.map(|b| (b, 0)),
            ],
            targets.info,
        )
    }

    /// Records the polar decomposition `A = R·S` (R a proper rotation, S symmetric; see
    /// [`PolarOutput`](crate::PolarOutput)) of `batch.count` matrices stored in `input` into
    /// `encoder`, writing to `targets`. Nothing is submitted.
    ///
    /// # Errors
    /// As [`Gpu::encode_svd`].
    pub fn encode_polar(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        batch: &SmallBatch,
        targets: &PolarTargets<'_>,
    ) -> Result<()> {
        let request = ZeroCopyRequest {
            n: batch.n,
            count: batch.count,
            rotation: true,
            product: Product::Polar {
                with_s: targets.s.is_some(),
            },
            input: batch.input_layout.code(),
            output: batch.output_layout.code(),
            sigma: false,
            vectors: true,
            info: targets.info.is_some(),
            lanes: None,
            scalar: batch.precision.scalar(),
        };
        self.encode_small(
            encoder,
            input,
            batch,
            &request,
            [None, Some((targets.r, 0)), targets.s.map(|b| (b, 0))],
            targets.info,
        )
    }

    /// Validates, builds (or reuses) the pipeline, binds the caller's buffers and records one
    /// dispatch. `outputs` are σ, first matrix, second matrix, each with its minimum size
    /// (0: one output matrix per input matrix).
    fn encode_small(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        batch: &SmallBatch,
        request: &ZeroCopyRequest,
        outputs: [Option<(&wgpu::Buffer, u64)>; 3],
        info: Option<&wgpu::Buffer>,
    ) -> Result<()> {
        let n = batch.n;
        if !(n == 2 || n == 3) || batch.count == 0 {
            return Err(Error::InvalidOption(format!(
                "zero-copy decompositions take a positive count of 2×2 or 3×3 matrices (n = {n}, count = {})",
                batch.count
            )));
        }
        if batch.precision == Precision::F64 && !self.supports_f64() {
            return Err(Error::MissingFeature(format!(
                "SHADER_F64 (f64 arithmetic in shaders): {} does not offer it",
                self.adapter_info().name
            )));
        }
        let count = u64::from(batch.count);
        let check = |what: &str, buffer: &wgpu::Buffer, needed: u64| {
            if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
                return Err(Error::InvalidOption(format!(
                    "the {what} buffer needs STORAGE usage"
                )));
            }
            if buffer.size() < needed {
                return Err(Error::InvalidOption(format!(
                    "the {what} buffer holds {} bytes, {needed} needed",
                    buffer.size()
                )));
            }
            Ok(())
        };
        let precision = batch.precision;
        check(
            "input",
            input,
            count * batch.input_layout.matrix_bytes_as(n, precision),
        )?;
        let matrix_bytes = count * batch.output_layout.matrix_bytes_as(n, precision);
        for (what, output) in ["sigma", "first output", "second output"]
            .iter()
            .zip(&outputs)
        {
            if let Some((buffer, needed)) = output {
                check(
                    what,
                    buffer,
                    if *needed == 0 { matrix_bytes } else { *needed },
                )?;
            }
        }
        if let Some(info) = info {
            check("info", info, count * 16)?;
        }
        let kernel = select_zero_copy(request, self.adapter_info());
        let device = self.device();
        let pipeline =
            pollster::block_on(self.pipelines().jacobi(device, self.disk_cache(), &kernel))?;
        let groups = batch
            .count
            .div_ceil(kernel.workgroup * kernel.matrices_per_invocation());
        let (gx, gy) = super::plan::grid_2d(
            groups as usize,
            self.plan_limits().max_workgroups_per_dimension,
        );
        let params = Params {
            count: batch.count,
            grid_x: gx,
            max_sweeps: 8,
            tol: 0.0,
            sort: 1,
            round: 0,
            rounds: 0,
            pad: 0,
        };
        let catcher = ErrorCatcher::push(device);
        // The parameters are a 32-byte uniform created with its contents; the matrices are
        // only ever bound, never copied.
        let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("batched-svd zero-copy params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let dummy = self.dummy_storage();
        fn resource<'b>(
            b: Option<&'b wgpu::Buffer>,
            dummy: &'b wgpu::Buffer,
        ) -> wgpu::BindingResource<'b> {
            b.unwrap_or(dummy).as_entire_binding()
        }
        let entries = [
            params.as_entire_binding(),
            input.as_entire_binding(),
            resource(outputs[0].map(|o| o.0), dummy),
            resource(outputs[1].map(|o| o.0), dummy),
            resource(outputs[2].map(|o| o.0), dummy),
            resource(info, dummy),
        ];
        let bind_group = pipeline.bind_group(device, "batched-svd zero-copy", entries);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("batched-svd 2x2/3x3"),
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline.entry(Entry::Main)?);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        pollster::block_on(catcher.check())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a `COPY_SRC` buffer back as `u32` words.
    fn read_words(gpu: &Gpu, buffer: &wgpu::Buffer) -> Vec<u32> {
        let device = gpu.device();
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("test read-back"),
            size: buffer.size(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
        gpu.queue().submit([encoder.finish()]);
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, |r| r.unwrap());
        device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
        bytemuck::cast_slice(&staging.slice(..).get_mapped_range().unwrap()).to_vec()
    }

    /// The dedicated kernel decomposes one matrix per invocation on GPUs and several on CPU
    /// devices. Whatever the lane count, every matrix's results are bit for bit the same (its
    /// neighbours in an invocation, which may need more sweeps, do not touch it), including
    /// a tail that does not fill the last invocation and non-finite neighbours.
    #[test]
    fn lane_counts_give_identical_results() {
        let gpu = match Gpu::new() {
            Ok(gpu) => gpu,
            Err(e) => {
                let required = std::env::var("BATCHED_SVD_REQUIRE_GPU")
                    .is_ok_and(|v| v != "0" && !v.is_empty());
                assert!(!required, "BATCHED_SVD_REQUIRE_GPU is set but: {e}");
                eprintln!("SKIPPED: no GPU adapter ({e})");
                return;
            }
        };
        let device = gpu.device();
        // 151: a partial last invocation (component stores); 152: whole groups of four
        // (vec4 stores with four lanes).
        for (n, count) in [2u32, 3].into_iter().flat_map(|n| [(n, 151u32), (n, 152)]) {
            let mut data: Vec<f32> = (0..count * n * n)
                .map(|i| ((i as f32) * 0.731).sin() * if i % 11 == 0 { 1e-3 } else { 1.0 })
                .collect();
            data[(5 * n * n) as usize] = f32::NAN;
            // An exactly singular matrix (two equal rows) next to random ones.
            for c in 0..n as usize {
                data[(9 * n * n) as usize + c] = data[(9 * n * n) as usize + n as usize + c];
            }
            let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("test input"),
                contents: bytemuck::cast_slice(&data),
                usage: wgpu::BufferUsages::STORAGE,
            });
            let batch = SmallBatch {
                n,
                count,
                input_layout: MatrixLayout::RowMajor,
                output_layout: MatrixLayout::RowMajor,
                precision: Precision::F32,
            };
            let run = |lanes: u32, product: Product| {
                let output = |bytes: u64| {
                    device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("test output"),
                        size: bytes,
                        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                        mapped_at_creation: false,
                    })
                };
                let matrices = 4 * u64::from(count * n * n);
                let buffers = [
                    output(4 * u64::from(count * n)),
                    output(matrices),
                    output(matrices),
                    output(16 * u64::from(count)),
                ];
                let request = ZeroCopyRequest {
                    n,
                    count,
                    rotation: product != Product::Svd,
                    product,
                    input: SmallLayout::RowMajor,
                    output: SmallLayout::RowMajor,
                    sigma: product == Product::Svd,
                    vectors: true,
                    info: true,
                    lanes: Some(lanes),
                    scalar: Scalar::F32,
                };
                let mut encoder = device.create_command_encoder(&Default::default());
                let sigma =
                    (product == Product::Svd).then_some((&buffers[0], 4 * u64::from(count * n)));
                gpu.encode_small(
                    &mut encoder,
                    &input,
                    &batch,
                    &request,
                    [sigma, Some((&buffers[1], 0)), Some((&buffers[2], 0))],
                    Some(&buffers[3]),
                )
                .unwrap();
                gpu.queue().submit([encoder.finish()]);
                buffers.map(|b| read_words(&gpu, &b))
            };
            for product in [Product::Svd, Product::Polar { with_s: true }] {
                let one = run(1, product);
                for lanes in [2, 4] {
                    assert_eq!(
                        run(lanes, product),
                        one,
                        "{n}×{n} {product:?}, {lanes} lanes"
                    );
                }
                // status words of the info records: matrix 5 is non-finite, the rest converged
                let status: Vec<u32> = one[3].chunks(4).map(|w| w[0]).collect();
                assert_eq!(status[5], 2);
                assert_eq!(
                    status.iter().filter(|&&s| s == 0).count(),
                    count as usize - 1
                );
            }
        }
    }
}
