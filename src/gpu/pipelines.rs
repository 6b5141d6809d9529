//! Compiled pipelines, one per specialised kernel, built on first use and then reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::disk_cache::DiskCache;
use super::errors::ErrorCatcher;
use super::shader::{Family, JacobiKernel};
use crate::error::Result;

/// Entry points of the multi-dispatch family, in `jacobi_global.wgsl`.
pub(crate) const MULTI_ENTRY_POINTS: [&str; 9] = [
    "jacobi_scan",
    "jacobi_load",
    "jacobi_round",
    "jacobi_round_lanes",
    "jacobi_sweep_end",
    "jacobi_gate",
    "jacobi_norms",
    "jacobi_rank",
    "jacobi_write",
];

/// Entry points of the QR preconditioning, in `qr_global.wgsl`, built after
/// [`MULTI_ENTRY_POINTS`] for kernels with `qr`.
pub(crate) const QR_ENTRY_POINTS: [&str; 7] = [
    "qr_householder",
    "qr_update",
    "qr_update_lanes",
    "qr_extract_r",
    "qr_init_u",
    "qr_apply_q",
    "qr_apply_q_lanes",
];

/// Entry points of the blocked sweeps, in `blocked_global.wgsl`, built last for kernels with
/// `blocked`.
pub(crate) const BLOCKED_ENTRY_POINTS: [&str; 2] = ["blocked_rotations", "blocked_apply"];

/// A compiled Jacobi kernel and the layout its bind groups must follow.
pub(crate) struct JacobiPipeline {
    /// One pipeline (`main`) for the single-dispatch family; one per entry of
    /// [`MULTI_ENTRY_POINTS`] (then [`QR_ENTRY_POINTS`] with QR preconditioning, then
    /// [`BLOCKED_ENTRY_POINTS`] with blocked sweeps) for the multi-dispatch family.
    pub pipelines: Vec<wgpu::ComputePipeline>,
    /// The entry point of each pipeline.
    names: Vec<&'static str>,
    pub layout: wgpu::BindGroupLayout,
}

impl JacobiPipeline {
    /// The pipeline of a multi-dispatch entry point.
    pub(crate) fn entry(&self, name: &str) -> &wgpu::ComputePipeline {
        let index = self
            .names
            .iter()
            .position(|&e| e == name)
            .expect("entry point built for this kernel");
        &self.pipelines[index]
    }

    /// A bind group of this pipeline's layout binding `resources` to bindings 0, 1, 2, … in
    /// order.
    pub(crate) fn bind_group<'a>(
        &self,
        device: &wgpu::Device,
        label: &str,
        resources: impl IntoIterator<Item = wgpu::BindingResource<'a>>,
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'a>> = resources
            .into_iter()
            .enumerate()
            .map(|(i, resource)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource,
            })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// Cache of compiled pipelines keyed by everything that changes the WGSL.
#[derive(Default)]
pub(crate) struct PipelineCache {
    jacobi: Mutex<HashMap<JacobiKernel, Arc<JacobiPipeline>>>,
}

impl PipelineCache {
    /// The pipeline for `kernel`, compiled now if it is not cached yet.
    pub(crate) async fn jacobi(
        &self,
        device: &wgpu::Device,
        disk: Option<&DiskCache>,
        kernel: &JacobiKernel,
    ) -> Result<Arc<JacobiPipeline>> {
        if let Some(p) = self.lock().get(kernel) {
            return Ok(Arc::clone(p));
        }
        let catcher = ErrorCatcher::push(device);
        let built = build_jacobi(device, disk.map(|d| &d.cache), kernel);
        catcher.check().await?;
        if let Some(disk) = disk {
            disk.save();
        }
        let built = Arc::new(built);
        self.lock().insert(*kernel, Arc::clone(&built));
        Ok(built)
    }

    /// Number of compiled pipelines (for tests of reuse).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JacobiKernel, Arc<JacobiPipeline>>> {
        // A panic while holding the lock cannot leave the map inconsistent (inserts are
        // atomic), so a poisoned lock is still usable.
        self.jacobi
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn build_jacobi(
    device: &wgpu::Device,
    cache: Option<&wgpu::PipelineCache>,
    kernel: &JacobiKernel,
) -> JacobiPipeline {
    let source = kernel.source();
    let multi = kernel.family == Family::MultiDispatch;
    // Bindings: 0 params (uniform; one entry per round, dynamic offset, in the multi-dispatch
    // family), 1 input, 2 σ, 3 U, 4 Vᵀ, 5 info; multi-dispatch adds 6 work, 7 state, 8 active.
    let mut entries = vec![wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: multi,
            min_binding_size: None,
        },
        count: None,
    }];
    entries.push(storage_entry(1, true));
    let last = if multi { 8 } else { 5 };
    entries.extend((2..=last).map(|b| storage_entry(b, false)));
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("jacobi bindings"),
        entries: &entries,
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("jacobi layout"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("jacobi"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let qr: &[&'static str] = if kernel.qr { &QR_ENTRY_POINTS } else { &[] };
    let blocked: &[&'static str] = if kernel.blocked {
        &BLOCKED_ENTRY_POINTS
    } else {
        &[]
    };
    let entry_points: &[&'static str] = if multi {
        &MULTI_ENTRY_POINTS
    } else {
        &["main"]
    };
    let names: Vec<&'static str> = entry_points
        .iter()
        .chain(qr)
        .chain(blocked)
        .copied()
        .collect();
    let pipelines = names
        .iter()
        .map(|entry| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[],
                    // Every workgroup variable is written before it is read.
                    zero_initialize_workgroup_memory: false,
                },
                cache,
            })
        })
        .collect();
    JacobiPipeline {
        pipelines,
        names,
        layout,
    }
}
