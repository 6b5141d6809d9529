//! Zero-copy use inside the caller's GPU pipeline, and the exported WGSL functions.

mod common;

use batched_svd::wgpu;
use batched_svd::{
    Gpu, MatrixLayout, PolarTargets, Precision, SignConvention, SmallBatch, SvdTargets,
};
use nalgebra::{DMatrix, Matrix3};

/// The test's own generator: matrix `b`, element `e` (column-major index c·3 + r) is a hash of
/// `b·9 + e` mapped exactly to a float in [−1, 1); the host reproduces it bit for bit.
const GENERATOR: &str = "
@group(0) @binding(0) var<storage, read_write> matrices: array<mat3x3<f32>>;

fn hash(x: u32) -> u32 {
    var h = x * 747796405u + 2891336453u;
    h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
    return (h >> 22u) ^ h;
}

fn entry(i: u32) -> f32 {
    return f32(hash(i) >> 8u) / 16777216.0 * 2.0 - 1.0;
}

@compute @workgroup_size(64)
fn generate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.x;
    if b >= arrayLength(&matrices) {
        return;
    }
    var m: mat3x3<f32>;
    for (var c = 0u; c < 3u; c += 1u) {
        for (var r = 0u; r < 3u; r += 1u) {
            m[c][r] = entry(b * 9u + c * 3u + r);
        }
    }
    matrices[b] = m;
}
";

fn hash(x: u32) -> u32 {
    let mut h = x.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    h = ((h >> ((h >> 28) + 4)) ^ h).wrapping_mul(277_803_737);
    (h >> 22) ^ h
}

/// Matrix `b` of the generator, as the GPU computes it.
fn generated(b: u32) -> Matrix3<f32> {
    Matrix3::from_fn(|r, c| {
        let i = b * 9 + c as u32 * 3 + r as u32;
        (hash(i) >> 8) as f32 / 16_777_216.0 * 2.0 - 1.0
    })
}

fn storage(device: &wgpu::Device, bytes: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE | usage,
        mapped_at_creation: false,
    })
}

fn read(gpu: &Gpu, buffer: &wgpu::Buffer) -> Vec<f32> {
    let staging = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: buffer.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
    gpu.queue().submit([encoder.finish()]);
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    gpu.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .unwrap();
    bytemuck::cast_slice(&staging.slice(..).get_mapped_range().unwrap()).to_vec()
}

/// Matrix `b` of a column-major padded (`mat3x3<f32>`) buffer.
fn padded(data: &[f32], b: usize) -> DMatrix<f64> {
    DMatrix::from_fn(3, 3, |r, c| f64::from(data[b * 12 + c * 4 + r]))
}

#[test]
fn svd_and_polar_of_gpu_generated_matrices_in_the_callers_encoder() {
    let Some(shared) = common::gpu() else { return };
    let (device, queue) = (shared.device(), shared.queue());
    let count = 10_000u32;
    // The input can only be written by shaders and bound as storage: without COPY_SRC or
    // MAP_READ usage no copy of it can ever reach the host, so the decomposition below
    // necessarily reads it in place.
    let input = storage(device, u64::from(count) * 48, wgpu::BufferUsages::empty());
    let out = wgpu::BufferUsages::COPY_SRC;
    let s = storage(device, u64::from(count) * 12, out);
    let u = storage(device, u64::from(count) * 48, out);
    let v = storage(device, u64::from(count) * 48, out);
    let info = storage(device, u64::from(count) * 16, out);
    let r = storage(device, u64::from(count) * 48, out);
    let sym = storage(device, u64::from(count) * 48, out);

    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("generator"),
        source: wgpu::ShaderSource::Wgsl(GENERATOR.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: None,
        layout: None,
        module: &module,
        entry_point: Some("generate"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: input.as_entire_binding(),
        }],
    });

    // One encoder: generate, SVD, polar. One submission, no library round trip.
    let gpu = Gpu::from_device(device.clone(), queue.clone());
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(count.div_ceil(64), 1, 1);
    }
    let batch = SmallBatch {
        n: 3,
        count,
        input_layout: MatrixLayout::ColMajorPadded,
        output_layout: MatrixLayout::ColMajorPadded,
        precision: Precision::F32,
    };
    let targets = SvdTargets {
        s: &s,
        vectors: Some((&u, &v)),
        info: Some(&info),
    };
    gpu.encode_svd(
        &mut encoder,
        &input,
        &batch,
        &targets,
        SignConvention::Rotation,
    )
    .unwrap();
    let polar = PolarTargets {
        r: &r,
        s: Some(&sym),
        info: None,
    };
    gpu.encode_polar(&mut encoder, &input, &batch, &polar)
        .unwrap();
    queue.submit([encoder.finish()]);

    let (s, u, v, info, r, sym) = (
        read(&gpu, &s),
        read(&gpu, &u),
        read(&gpu, &v),
        read(&gpu, &info),
        read(&gpu, &r),
        read(&gpu, &sym),
    );
    let bound = 48.0 * common::EPS;
    for b in (0..count as usize).step_by(37) {
        let a = generated(b as u32).map(f64::from);
        let a = DMatrix::from_column_slice(3, 3, a.as_slice());
        let reference = common::reference_sigma(&a);
        let (ub, vb) = (padded(&u, b), padded(&v, b));
        let sb = &s[b * 3..b * 3 + 3];
        for k in 0..3 {
            assert!(
                (f64::from(sb[k]).abs() - reference[k]).abs() <= bound * reference[0],
                "{b}: {sb:?} vs {reference:?}"
            );
        }
        assert!((ub.determinant() - 1.0).abs() < 1e-5 && (vb.determinant() - 1.0).abs() < 1e-5);
        let sd = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
            3,
            sb.iter().map(|&x| f64::from(x)),
        ));
        assert!(
            (&a - &ub * sd * vb.transpose()).norm() <= bound * a.norm(),
            "{b}: reconstruction"
        );
        assert_eq!(bytemuck::cast::<f32, u32>(info[b * 4]), 0, "{b}: status");
        let (rb, sbm) = (padded(&r, b), padded(&sym, b));
        assert!(common::orthogonality_error(&rb) <= bound && (rb.determinant() - 1.0).abs() < 1e-5);
        assert!((&a - &rb * &sbm).norm() <= bound * a.norm(), "{b}: A ≠ R·S");
        assert!((sbm.clone() - sbm.transpose()).amax() <= bound * reference[0]);
    }
}

#[test]
fn zero_copy_rejects_bad_buffers() {
    let Some(gpu) = common::gpu() else { return };
    let device = gpu.device();
    let input = storage(device, 48 * 4, wgpu::BufferUsages::empty());
    let small = storage(device, 8, wgpu::BufferUsages::empty());
    let not_storage = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 1024,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    let batch = SmallBatch {
        n: 3,
        count: 4,
        input_layout: MatrixLayout::ColMajorPadded,
        output_layout: MatrixLayout::ColMajor,
        precision: Precision::F32,
    };
    let too_small = SvdTargets {
        s: &small,
        vectors: None,
        info: None,
    };
    assert!(
        gpu.encode_svd(
            &mut encoder,
            &input,
            &batch,
            &too_small,
            SignConvention::NonNegative
        )
        .is_err()
    );
    let wrong_usage = SvdTargets {
        s: &not_storage,
        vectors: None,
        info: None,
    };
    assert!(
        gpu.encode_svd(
            &mut encoder,
            &input,
            &batch,
            &wrong_usage,
            SignConvention::NonNegative
        )
        .is_err()
    );
    let bad_n = SmallBatch { n: 4, ..batch };
    let ok_s = storage(device, 1024, wgpu::BufferUsages::empty());
    let targets = SvdTargets {
        s: &ok_s,
        vectors: None,
        info: None,
    };
    assert!(
        gpu.encode_svd(
            &mut encoder,
            &input,
            &bad_n,
            &targets,
            SignConvention::NonNegative
        )
        .is_err()
    );
    let packed_too_many = SmallBatch { count: 6, ..batch }; // 6·48 > 4·48 input bytes
    assert!(
        gpu.encode_svd(
            &mut encoder,
            &input,
            &packed_too_many,
            &targets,
            SignConvention::NonNegative
        )
        .is_err()
    );
}

/// The exported WGSL composes into a user kernel.
#[test]
fn exported_wgsl_functions_in_a_user_kernel() {
    let Some(gpu) = common::gpu() else { return };
    let device = gpu.device();
    let user = "
@group(0) @binding(0) var<storage, read> a2: array<mat2x2<f32>>;
@group(0) @binding(1) var<storage, read> a3: array<mat3x3<f32>>;
@group(0) @binding(2) var<storage, read_write> result: array<vec4<f32>>;

@compute @workgroup_size(64)
fn user_main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&a3) {
        return;
    }
    // Reconstruction errors (max abs entry) of svd3, svd3_rotation, polar3 and svd2.
    let a = a3[i];
    let d = svd3(a);
    let e1 = d.u * mat3x3<f32>(vec3(d.s.x, 0.0, 0.0), vec3(0.0, d.s.y, 0.0), vec3(0.0, 0.0, d.s.z)) * transpose(d.v) - a;
    let dr = svd3_rotation(a);
    let e2 = dr.u * mat3x3<f32>(vec3(dr.s.x, 0.0, 0.0), vec3(0.0, dr.s.y, 0.0), vec3(0.0, 0.0, dr.s.z)) * transpose(dr.v) - a;
    let p = polar3(a);
    let e3 = p.r * p.s - a;
    let b = a2[i];
    let d2 = svd2(b);
    let e4 = d2.u * mat2x2<f32>(vec2(d2.s.x, 0.0), vec2(0.0, d2.s.y)) * transpose(d2.v) - b;
    var m = vec4<f32>(0.0);
    for (var c = 0u; c < 3u; c += 1u) {
        m.x = max(m.x, max(abs(e1[c].x), max(abs(e1[c].y), abs(e1[c].z))));
        m.y = max(m.y, max(abs(e2[c].x), max(abs(e2[c].y), abs(e2[c].z))));
        m.z = max(m.z, max(abs(e3[c].x), max(abs(e3[c].y), abs(e3[c].z))));
    }
    m.w = max(max(abs(e4[0].x), abs(e4[0].y)), max(abs(e4[1].x), abs(e4[1].y)));
    // Signs: d.s ≥ 0; det of the rotation-convention factors is +1 (packed into the sign).
    if d.s.z < 0.0 || determinant(dr.u) < 0.9 || determinant(p.r) < 0.9 {
        m = vec4<f32>(1.0e9);
    }
    result[i] = m;
}
";
    let source = format!("{}\n{user}", batched_svd::wgsl::SMALL_SVD);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("user kernel"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: None,
        layout: None,
        module: &module,
        entry_point: Some("user_main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let count = 512usize;
    let mut rng = common::matrices::Rng::new(90);
    let m3: Vec<f32> = (0..count * 12)
        .map(|e| if e % 4 == 3 { 0.0 } else { rng.normal() as f32 })
        .collect();
    let m2: Vec<f32> = (0..count * 4).map(|_| rng.normal() as f32).collect();
    use wgpu::util::DeviceExt as _;
    let b3 = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&m3),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let b2 = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&m2),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let result = storage(device, count as u64 * 16, wgpu::BufferUsages::COPY_SRC);
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: b2.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: b3.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: result.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((count as u32).div_ceil(64), 1, 1);
    }
    gpu.queue().submit([encoder.finish()]);
    let errors = read(gpu, &result);
    for i in 0..count {
        let norm3 = (0..12)
            .filter(|e| e % 4 != 3)
            .map(|e| f64::from(m3[i * 12 + e]).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm2 = (0..4)
            .map(|e| f64::from(m2[i * 4 + e]).powi(2))
            .sum::<f64>()
            .sqrt();
        let e = &errors[i * 4..i * 4 + 4];
        for k in 0..3 {
            assert!(
                f64::from(e[k]) <= 48.0 * common::EPS * norm3,
                "matrix {i}: errors {e:?}"
            );
        }
        assert!(
            f64::from(e[3]) <= 32.0 * common::EPS * norm2,
            "matrix {i}: 2×2 error {}",
            e[3]
        );
    }
}

/// The interleaved (structure-of-arrays) layout gives bit for bit the results of the packed
/// layout, for the SVD and the polar decomposition of 2×2 and 3×3 matrices, in and out.
#[test]
fn interleaved_layout_matches_packed() {
    use wgpu::util::DeviceExt as _;
    let Some(gpu) = common::gpu() else { return };
    let device = gpu.device();
    let count = 1000usize;
    for n in [2usize, 3] {
        let per = n * n;
        // Packed column-major: matrix b, element (r, c) at b·n² + c·n + r.
        let packed: Vec<f32> = (0..count * per)
            .map(|i| (hash(i as u32 + 7) >> 8) as f32 / 16_777_216.0 * 2.0 - 1.0)
            .collect();
        // Interleaved: component e = c·n + r of every matrix, then the next component.
        let interleave = |p: &[f32]| -> Vec<f32> {
            (0..count * per)
                .map(|i| p[(i % count) * per + i / count])
                .collect()
        };
        let interleaved = interleave(&packed);
        let run = |data: &[f32], layout: MatrixLayout, polar: bool| -> Vec<Vec<f32>> {
            let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE,
            });
            let bytes = (count * per * 4) as u64;
            let out = wgpu::BufferUsages::COPY_SRC;
            let (a, b, s) = (
                storage(device, bytes, out),
                storage(device, bytes, out),
                storage(device, (count * n * 4) as u64, out),
            );
            let batch = SmallBatch {
                n: n as u32,
                count: count as u32,
                input_layout: layout,
                output_layout: layout,
                precision: Precision::F32,
            };
            let mut encoder = device.create_command_encoder(&Default::default());
            if polar {
                let targets = PolarTargets {
                    r: &a,
                    s: Some(&b),
                    info: None,
                };
                gpu.encode_polar(&mut encoder, &input, &batch, &targets)
                    .unwrap();
            } else {
                let targets = SvdTargets {
                    s: &s,
                    vectors: Some((&a, &b)),
                    info: None,
                };
                gpu.encode_svd(
                    &mut encoder,
                    &input,
                    &batch,
                    &targets,
                    SignConvention::NonNegative,
                )
                .unwrap();
            }
            gpu.queue().submit([encoder.finish()]);
            vec![read(gpu, &a), read(gpu, &b), read(gpu, &s)]
        };
        for polar in [false, true] {
            let from_packed = run(&packed, MatrixLayout::ColMajor, polar);
            if n == 2 {
                // Regression: a 2×2 `mat2x2<f32>` has no padding, so ColMajorPadded is
                // ColMajor; the kernel once addressed it with the 3×3 padding (c·4 + r),
                // reading and writing across neighbouring matrices.
                let padded = run(&packed, MatrixLayout::ColMajorPadded, polar);
                assert!(
                    padded == from_packed,
                    "2×2 ColMajorPadded differs from ColMajor (polar {polar})"
                );
            }
            let from_interleaved = run(&interleaved, MatrixLayout::Interleaved, polar);
            assert_eq!(
                interleave(&from_packed[0]),
                from_interleaved[0],
                "{n}×{n} first"
            );
            assert_eq!(
                interleave(&from_packed[1]),
                from_interleaved[1],
                "{n}×{n} second"
            );
            if !polar {
                assert_eq!(from_packed[2], from_interleaved[2], "{n}×{n} σ");
                // And the packed results are a decomposition of the input.
                for b in (0..count).step_by(97) {
                    let m = |v: &[f32]| {
                        DMatrix::from_fn(n, n, |r, c| f64::from(v[b * per + c * n + r]))
                    };
                    let (a, u, v) = (m(&packed), m(&from_packed[0]), m(&from_packed[1]));
                    let sigma = DMatrix::from_diagonal(&nalgebra::DVector::from_fn(n, |i, _| {
                        f64::from(from_packed[2][b * n + i])
                    }));
                    let err = (&u * sigma * v.transpose() - &a).amax();
                    assert!(err < 1e-5, "{n}×{n} matrix {b}: reconstruction error {err}");
                }
            }
        }
    }
}

/// A `read` of f64 words.
fn read_f64(gpu: &Gpu, buffer: &wgpu::Buffer) -> Vec<f64> {
    let words = read(gpu, buffer);
    bytemuck::cast_slice(&words).to_vec()
}

/// f64 matrices, row-major, from the test generator (the f32 entries widened, plus a small f64
/// perturbation so that the low bits are used).
fn matrices_f64(count: usize, n: usize, seed: u32) -> Vec<f64> {
    (0..count * n * n)
        .map(|i| {
            let x = (hash(i as u32 * 3 + seed) >> 8) as f64 / 16_777_216.0 * 2.0 - 1.0;
            x + f64::from(hash(i as u32 * 5 + seed) >> 8) * 1e-12
        })
        .collect()
}

/// Checks an f64 SVD (σ, U, V of matrix `a`, the rotation convention) to 48·ε with
/// double-double residuals.
fn check_f64_svd(label: &str, a: &DMatrix<f64>, s: &[f64], u: &DMatrix<f64>, v: &DMatrix<f64>) {
    let eps = f64::EPSILON;
    let bound = 48.0 * eps;
    let reference = common::reference_sigma(a);
    let mut got: Vec<f64> = s.iter().map(|x| x.abs()).collect();
    got.sort_by(|x, y| y.total_cmp(x));
    for (g, r) in got.iter().zip(&reference) {
        assert!(
            (g - r).abs() <= bound * reference[0],
            "{label}: σ {s:?} vs {reference:?}"
        );
    }
    assert!(
        common::dd::gram_minus_identity_max(u) <= bound,
        "{label}: U"
    );
    assert!(
        common::dd::gram_minus_identity_max(v) <= bound,
        "{label}: V"
    );
    assert!((u.determinant() - 1.0).abs() < 1e-12 && (v.determinant() - 1.0).abs() < 1e-12);
    let recon = common::dd::reconstruction_residual(a, u, s, v);
    assert!(
        recon <= bound * common::dd::frobenius(a),
        "{label}: reconstruction {recon:e}"
    );
}

/// f64 in the caller's buffers: `encode_svd`/`encode_polar` with `Precision::F64` meet the
/// bounds with ε = 2⁻⁵², give bit for bit the host path's f64 results, and are refused with
/// `MissingFeature` only where the device lacks `SHADER_F64`.
#[test]
fn zero_copy_in_f64() {
    use wgpu::util::DeviceExt as _;
    let Some(gpu) = common::gpu() else { return };
    let device = gpu.device();
    let count = 1000usize;
    for n in [2usize, 3] {
        let data = matrices_f64(count, n, n as u32);
        let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(&data),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let batch = SmallBatch {
            n: n as u32,
            count: count as u32,
            input_layout: MatrixLayout::RowMajor,
            output_layout: MatrixLayout::RowMajor,
            precision: Precision::F64,
        };
        let out = wgpu::BufferUsages::COPY_SRC;
        let matrices = (count * n * n * 8) as u64;
        let (s, u, v) = (
            storage(device, (count * n * 8) as u64, out),
            storage(device, matrices, out),
            storage(device, matrices, out),
        );
        let (r, sym) = (
            storage(device, matrices, out),
            storage(device, matrices, out),
        );
        let mut encoder = device.create_command_encoder(&Default::default());
        let targets = SvdTargets {
            s: &s,
            vectors: Some((&u, &v)),
            info: None,
        };
        let result = gpu.encode_svd(
            &mut encoder,
            &input,
            &batch,
            &targets,
            SignConvention::Rotation,
        );
        if !gpu.supports_f64() {
            assert!(matches!(result, Err(batched_svd::Error::MissingFeature(_))));
            return;
        }
        result.unwrap();
        let polar = PolarTargets {
            r: &r,
            s: Some(&sym),
            info: None,
        };
        gpu.encode_polar(&mut encoder, &input, &batch, &polar)
            .unwrap();
        gpu.queue().submit([encoder.finish()]);
        let (s, u, v, r, sym) = (
            read_f64(gpu, &s),
            read_f64(gpu, &u),
            read_f64(gpu, &v),
            read_f64(gpu, &r),
            read_f64(gpu, &sym),
        );
        let nn = n * n;
        let row_major =
            |x: &[f64], b: usize| DMatrix::from_row_slice(n, n, &x[b * nn..(b + 1) * nn]);
        // With the RowMajor output layout the V buffer holds Vᵀ row-major (numpy's vh), which
        // is V column-major.
        let col_major =
            |x: &[f64], b: usize| DMatrix::from_column_slice(n, n, &x[b * nn..(b + 1) * nn]);
        for b in (0..count).step_by(7) {
            let a = row_major(&data, b);
            let label = format!("{n}×{n} matrix {b}");
            check_f64_svd(
                &label,
                &a,
                &s[b * n..(b + 1) * n],
                &row_major(&u, b),
                &col_major(&v, b),
            );
            let (rb, sb) = (row_major(&r, b), row_major(&sym, b));
            let bound = 48.0 * f64::EPSILON;
            assert!(
                common::dd::gram_minus_identity_max(&rb) <= bound,
                "{label}: R"
            );
            assert!(
                (&a - &rb * &sb).norm() <= bound * a.norm(),
                "{label}: A ≠ R·S"
            );
        }
        // The host path runs the same kernel on the same matrices.
        let host_batch = batched_svd::MatrixBatch::row_major(&data, count, n, n).unwrap();
        let opts = batched_svd::SvdOptions::default().with_signs(SignConvention::Rotation);
        let host = gpu.svd(&host_batch, &opts).unwrap();
        assert_eq!(
            host.all_singular_values(),
            &s[..],
            "{n}×{n}: σ differs from the host path"
        );
    }
}

/// The exported f64 WGSL (`wgsl::SMALL_SVD_F64`) composes into a user kernel: svd3 and polar3
/// on `mat3x3<f64>`, svd2 on `mat2x2<f64>`, to the f64 bounds.
#[test]
fn exported_f64_wgsl_functions_in_a_user_kernel() {
    use wgpu::util::DeviceExt as _;
    let Some(gpu) = common::gpu_f64() else { return };
    let device = gpu.device();
    let user = "
@group(0) @binding(0) var<storage, read> a3: array<mat3x3<f64>>;
@group(0) @binding(1) var<storage, read> a2: array<mat2x2<f64>>;
@group(0) @binding(2) var<storage, read_write> svd_out: array<mat3x3<f64>>;
@group(0) @binding(3) var<storage, read_write> polar_out: array<mat3x3<f64>>;
@group(0) @binding(4) var<storage, read_write> svd2_out: array<mat2x2<f64>>;

@compute @workgroup_size(64)
fn user_main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&a2) {
        return;
    }
    // Per matrix: U, V and diag(σ) of svd3_rotation; R and S of polar3; U, V, diag(σ) of svd2.
    let d = svd3_rotation(a3[i]);
    svd_out[3u * i] = d.u;
    svd_out[3u * i + 1u] = d.v;
    svd_out[3u * i + 2u] = mat3x3<f64>(d.s.x, 0.0, 0.0, 0.0, d.s.y, 0.0, 0.0, 0.0, d.s.z);
    let p = polar3(a3[i]);
    polar_out[2u * i] = p.r;
    polar_out[2u * i + 1u] = p.s;
    let e = svd2(a2[i]);
    svd2_out[3u * i] = e.u;
    svd2_out[3u * i + 1u] = e.v;
    svd2_out[3u * i + 2u] = mat2x2<f64>(e.s.x, 0.0, 0.0, e.s.y);
}
";
    let source = format!("{}\n{user}", batched_svd::wgsl::SMALL_SVD_F64);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("user f64 kernel"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: None,
        layout: None,
        module: &module,
        entry_point: Some("user_main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let count = 256usize;
    // mat3x3<f64> in storage: columns padded to 4 doubles (96 bytes per matrix).
    let dense3 = matrices_f64(count, 3, 11);
    let m3: Vec<f64> = (0..count * 12)
        .map(|e| {
            let (b, c, r) = (e / 12, (e % 12) / 4, e % 4);
            if r == 3 {
                0.0
            } else {
                dense3[b * 9 + r * 3 + c]
            }
        })
        .collect();
    let m2 = matrices_f64(count, 2, 12);
    let init = |data: &[f64]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE,
        })
    };
    let (b3, b2) = (init(&m3), init(&m2));
    let out = wgpu::BufferUsages::COPY_SRC;
    let svd_out = storage(device, (count * 3 * 96) as u64, out);
    let polar_out = storage(device, (count * 2 * 96) as u64, out);
    let svd2_out = storage(device, (count * 3 * 32) as u64, out);
    let entries: Vec<wgpu::BindGroupEntry<'_>> = [&b3, &b2, &svd_out, &polar_out, &svd2_out]
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: b.as_entire_binding(),
        })
        .collect();
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((count as u32).div_ceil(64), 1, 1);
    }
    gpu.queue().submit([encoder.finish()]);
    let (svd, polar, svd2) = (
        read_f64(gpu, &svd_out),
        read_f64(gpu, &polar_out),
        read_f64(gpu, &svd2_out),
    );
    // Padded column-major 3×3 number k of `x`; packed column-major 2×2.
    let m3_at = |x: &[f64], k: usize| DMatrix::from_fn(3, 3, |r, c| x[k * 12 + c * 4 + r]);
    let m2_at = |x: &[f64], k: usize| DMatrix::from_fn(2, 2, |r, c| x[k * 4 + c * 2 + r]);
    let bound = 48.0 * f64::EPSILON;
    for i in 0..count {
        let a = DMatrix::from_row_slice(3, 3, &dense3[i * 9..i * 9 + 9]);
        let sd = m3_at(&svd, 3 * i + 2);
        let s: Vec<f64> = (0..3).map(|k| sd[(k, k)]).collect();
        check_f64_svd(
            &format!("svd3 {i}"),
            &a,
            &s,
            &m3_at(&svd, 3 * i),
            &m3_at(&svd, 3 * i + 1),
        );
        let (r, sym) = (m3_at(&polar, 2 * i), m3_at(&polar, 2 * i + 1));
        assert!(
            common::dd::gram_minus_identity_max(&r) <= bound,
            "polar3 {i}: R"
        );
        assert!(
            (&a - &r * &sym).norm() <= bound * a.norm(),
            "polar3 {i}: A ≠ R·S"
        );
        let a2 = m2_at(&m2, i);
        let sd2 = m2_at(&svd2, 3 * i + 2);
        let (u2, v2) = (m2_at(&svd2, 3 * i), m2_at(&svd2, 3 * i + 1));
        let s2 = [sd2[(0, 0)], sd2[(1, 1)]];
        assert!(s2[0] >= s2[1] && s2[1] >= 0.0, "svd2 {i}: {s2:?}");
        let recon = common::dd::reconstruction_residual(&a2, &u2, &s2, &v2);
        assert!(
            recon <= bound * a2.norm(),
            "svd2 {i}: reconstruction {recon:e}"
        );
        assert!(
            common::dd::gram_minus_identity_max(&u2) <= bound,
            "svd2 {i}: U"
        );
    }
}
