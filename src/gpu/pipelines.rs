//! Compiled pipelines, one per specialised kernel, built on first use and then reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::errors::ErrorCatcher;
use super::shader::{JacobiKernel, Storage};
use crate::error::Result;

/// A compiled Jacobi kernel and the layout its bind groups must follow.
pub(crate) struct JacobiPipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
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
        kernel: &JacobiKernel,
    ) -> Result<Arc<JacobiPipeline>> {
        if let Some(p) = self.lock().get(kernel) {
            return Ok(Arc::clone(p));
        }
        let catcher = ErrorCatcher::push(device);
        let built = build_jacobi(device, kernel);
        catcher.check().await?;
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

fn build_jacobi(device: &wgpu::Device, kernel: &JacobiKernel) -> JacobiPipeline {
    let source = kernel.source();
    // Bindings: 0 params (uniform), 1 input, 2 σ, 3 U, 4 Vᵀ, 5 info, 6 work (global only).
    let mut entries = vec![
        wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        },
        storage_entry(1, true),
        storage_entry(2, false),
        storage_entry(3, false),
        storage_entry(4, false),
        storage_entry(5, false),
    ];
    if kernel.storage == Storage::Global {
        entries.push(storage_entry(6, false));
    }
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
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("jacobi"),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some("main"),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &[],
            // Every workgroup variable is written before it is read.
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    });
    JacobiPipeline { pipeline, layout }
}
