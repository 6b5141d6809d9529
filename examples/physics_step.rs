//! A corotated-elasticity step on the GPU: every frame, deformation gradients F (one 3×3 per
//! particle, in a GPU buffer that never leaves the device) are advanced by a velocity gradient,
//! polar-decomposed F = R·S, and turned into the corotated stress
//! P = 2μ(F − R) + λ(J − 1)J·F⁻ᵀ and energy ψ = μ‖F − R‖² + λ/2·(J − 1)².
//!
//! The frame runs two ways, both inside one command encoder per frame:
//! 1. "library": the user's advance kernel, then `Gpu::encode_polar` (zero-copy, into the
//!    user's R buffer), then the user's stress kernel reading R;
//! 2. "fused": one user kernel calling the exported WGSL `polar3` inline.
//!
//! ```sh
//! cargo run --release --example physics_step            # 200 000 particles, 10 frames
//! cargo run --release --example physics_step -- 1000000 5
//! ```

use std::time::Instant;

use batched_svd::wgpu;
use batched_svd::{Gpu, MatrixLayout, PolarTargets, Precision, SmallBatch};
use wgpu::util::DeviceExt as _;

/// The user's kernels. `F` is `array<mat3x3<f32>>` (WGSL's padded layout).
const USER_KERNELS: &str = "
struct Frame { dt: f32, time: f32, mu: f32, lambda: f32 }

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read_write> f: array<mat3x3<f32>>;
@group(0) @binding(2) var<storage, read_write> r: array<mat3x3<f32>>;
@group(0) @binding(3) var<storage, read_write> energy: array<f32>;

// A smooth, particle-dependent velocity gradient: a spin plus a pulsing stretch and shear.
fn velocity_gradient(i: u32) -> mat3x3<f32> {
    let phase = f32(i % 1024u) * 0.006 + frame.time;
    let w = 0.8 * sin(phase);
    let e = 0.3 * cos(1.7 * phase);
    return mat3x3<f32>(
        vec3<f32>(e, w, 0.1 * e),
        vec3<f32>(-w, -0.5 * e, 0.2),
        vec3<f32>(0.0, -0.2, -0.5 * e),
    );
}

@compute @workgroup_size(64)
fn advance(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&f) {
        return;
    }
    let identity = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
    f[i] = (identity + frame.dt * velocity_gradient(i)) * f[i];
}

fn corotated(i: u32, rot: mat3x3<f32>) {
    let a = f[i];
    let j = determinant(a);
    let d = a - rot;
    let p = 2.0 * frame.mu * d + frame.lambda * (j - 1.0) * j * transpose(bsvd_inverse(a));
    let dd = dot(d[0], d[0]) + dot(d[1], d[1]) + dot(d[2], d[2]);
    // Store ψ; keep P alive so the compiler cannot drop its computation.
    energy[i] = frame.mu * dd + 0.5 * frame.lambda * (j - 1.0) * (j - 1.0) + 0.0 * p[0].x;
}

fn bsvd_inverse(a: mat3x3<f32>) -> mat3x3<f32> {
    let c0 = cross(a[1], a[2]);
    let c1 = cross(a[2], a[0]);
    let c2 = cross(a[0], a[1]);
    return transpose(mat3x3<f32>(c0, c1, c2)) * (1.0 / dot(a[0], c0));
}

// Variant 1: R was written by the library's zero-copy polar decomposition.
@compute @workgroup_size(64)
fn stress(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&f) {
        return;
    }
    corotated(i, r[i]);
}

// Variant 2: everything in one kernel, with the exported WGSL function.
@compute @workgroup_size(64)
fn fused(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&f) {
        return;
    }
    let identity = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
    f[i] = (identity + frame.dt * velocity_gradient(i)) * f[i];
    let rot = polar3_rotation(f[i]);
    r[i] = rot;
    corotated(i, rot);
}
";

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Frame {
    dt: f32,
    time: f32,
    mu: f32,
    lambda: f32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let particles: u32 = args.next().map_or(Ok(200_000), |a| a.parse())?;
    let frames: u32 = args.next().map_or(Ok(10), |a| a.parse())?;

    // The "engine" owns the device; the library only borrows it.
    let gpu = Gpu::new()?;
    let (device, queue) = (gpu.device().clone(), gpu.queue().clone());
    println!(
        "{particles} particles, {frames} frames, adapter: {} ({:?})",
        gpu.adapter_info().name,
        gpu.adapter_info().backend
    );

    // Deformation gradients start at the identity (WGSL mat3x3 layout: 12 floats each).
    let identity: [f32; 12] = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let initial: Vec<f32> = (0..particles).flat_map(|_| identity).collect();
    let storage = wgpu::BufferUsages::STORAGE;
    let f = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("F"),
        contents: bytemuck::cast_slice(&initial),
        usage: storage | wgpu::BufferUsages::COPY_DST,
    });
    let r = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("R"),
        size: u64::from(particles) * 48,
        usage: storage,
        mapped_at_creation: false,
    });
    let energy = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("energy"),
        size: u64::from(particles) * 4,
        usage: storage | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let frame_buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("frame"),
        size: 16,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });

    // The user's shader module: the exported WGSL functions followed by the user's kernels.
    let source = format!("{}\n{USER_KERNELS}", batched_svd::wgsl::SMALL_SVD);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("physics"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    // One explicit layout for all three kernels (an automatic layout would only list the
    // bindings each kernel uses).
    let entry = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let rw = wgpu::BufferBindingType::Storage { read_only: false };
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("physics"),
        entries: &[
            entry(0, wgpu::BufferBindingType::Uniform),
            entry(1, rw),
            entry(2, rw),
            entry(3, rw),
        ],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("physics"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = |entry: &str| {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
    };
    let (advance, stress, fused) = (pipeline("advance"), pipeline("stress"), pipeline("fused"));
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: frame_buffer.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: f.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: r.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 3,
                resource: energy.as_entire_binding(),
            },
        ],
    });
    let groups = particles.div_ceil(64);
    let dispatch = |encoder: &mut wgpu::CommandEncoder, p: &wgpu::ComputePipeline| {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(p);
        pass.set_bind_group(0, &bind_group, &[]);
        // 65535 workgroups × 64 = 4.2 million particles at most in this example.
        pass.dispatch_workgroups(groups.min(65_535), 1, 1);
    };
    let batch = SmallBatch {
        n: 3,
        count: particles,
        input_layout: MatrixLayout::ColMajorPadded,
        output_layout: MatrixLayout::ColMajorPadded,
        precision: Precision::F32,
    };

    for variant in ["library", "fused"] {
        queue.write_buffer(&f, 0, bytemuck::cast_slice(&initial));
        let mut times = Vec::new();
        for step in 0..frames {
            let params = Frame {
                dt: 0.01,
                time: step as f32 * 0.01,
                mu: 10.0,
                lambda: 20.0,
            };
            queue.write_buffer(&frame_buffer, 0, bytemuck::bytes_of(&params));
            let start = Instant::now();
            let mut encoder = device.create_command_encoder(&Default::default());
            if variant == "library" {
                dispatch(&mut encoder, &advance);
                let targets = PolarTargets {
                    r: &r,
                    s: None,
                    info: None,
                };
                gpu.encode_polar(&mut encoder, &f, &batch, &targets)?;
                dispatch(&mut encoder, &stress);
            } else {
                dispatch(&mut encoder, &fused);
            }
            queue.submit([encoder.finish()]);
            device.poll(wgpu::PollType::wait_indefinitely())?;
            times.push(start.elapsed().as_secs_f64());
        }
        // Read the energies back once, to show the simulation did something.
        let total_energy = read_sum(&device, &queue, &energy)?;
        // The first frame includes pipeline compilation.
        let steady = &times[1.min(times.len() - 1)..];
        let mean = steady.iter().sum::<f64>() / steady.len() as f64;
        println!(
            "{variant:>8}: {:.2} ms per frame ({:.1} M polar decompositions/s), first frame {:.0} ms, mean energy {:.4e}",
            mean * 1e3,
            f64::from(particles) / mean / 1e6,
            times[0] * 1e3,
            total_energy / f64::from(particles)
        );
    }
    Ok(())
}

fn read_sum(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    buffer: &wgpu::Buffer,
) -> Result<f64, Box<dyn std::error::Error>> {
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: buffer.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
    queue.submit([encoder.finish()]);
    staging.slice(..).map_async(wgpu::MapMode::Read, |_| {});
    device.poll(wgpu::PollType::wait_indefinitely())?;
    let view = staging.slice(..).get_mapped_range()?;
    let values: &[f32] = bytemuck::cast_slice(&view);
    Ok(values.iter().map(|&x| f64::from(x)).sum())
}
