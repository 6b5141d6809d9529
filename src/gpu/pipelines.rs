//! Compiled pipelines, one per specialised kernel, built on first use and then reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::disk_cache::DiskCache;
use super::errors::ErrorCatcher;
use super::kernel::{Entry, Family, JacobiKernel};
use crate::error::{Error, Result};

/// A compiled Jacobi kernel and the layout its bind groups must follow.
pub(crate) struct JacobiPipeline {
    /// One pipeline per entry point the kernel uses ([`JacobiKernel::entry_points`]).
    pipelines: Vec<(Entry, wgpu::ComputePipeline)>,
    pub layout: wgpu::BindGroupLayout,
}

impl JacobiPipeline {
    /// The pipeline of `entry`.
    ///
    /// # Errors
    /// [`Error::Gpu`] if the kernel was built without it (a bug in the scheduler).
    pub(crate) fn entry(&self, entry: Entry) -> Result<&wgpu::ComputePipeline> {
        self.pipelines
            .iter()
            .find(|(e, _)| *e == entry)
            .map(|(_, p)| p)
            .ok_or_else(|| Error::Gpu(format!("entry point {} was not built", entry.name())))
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

/// Cache of compiled pipelines keyed by everything that changes the WGSL: one entry per
/// distinct kernel ever used on the context, never evicted (the kernels a program uses are a
/// small fixed set: shape, layout, vectors, element type).
#[derive(Default)]
pub(crate) struct PipelineCache {
    jacobi: Mutex<HashMap<JacobiKernel, Arc<JacobiPipeline>>>,
    /// Held while compiling, so that callers racing for a new kernel compile it once (the
    /// others wait, then find it). An async lock: the compile awaits its error scope.
    compiling: futures::lock::Mutex<()>,
    /// Pipelines compiled (one per distinct kernel).
    builds: std::sync::atomic::AtomicUsize,
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
        let _compiling = self.compiling.lock().await;
        // Another caller may have compiled it while this one waited.
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
        self.builds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(built)
    }

    /// Number of pipelines compiled (each distinct kernel once; for tests of reuse).
    pub(crate) fn len(&self) -> usize {
        self.builds.load(std::sync::atomic::Ordering::Relaxed)
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
    let pipelines = kernel
        .entry_points()
        .into_iter()
        .map(|entry| {
            let name = entry.name();
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(name),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[],
                    // Every workgroup variable is written before it is read.
                    zero_initialize_workgroup_memory: false,
                },
                cache,
            });
            (entry, pipeline)
        })
        .collect();
    JacobiPipeline { pipelines, layout }
}
