//! Finding an adapter and creating a device, or adopting the caller's.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// A short description of an adapter, as `batched-svd info` prints it.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// Adapter name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub name: String,
    /// Backend (Vulkan, Metal, Dx12, Gl).
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: wgpu::DeviceType,
    /// Driver name and version as reported.
    pub driver: String,
    /// Whether it can run compute shaders at all.
    pub compute: bool,
}

impl AdapterSummary {
    pub(crate) fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        Self::from_info(
            &info,
            adapter
                .get_downlevel_capabilities()
                .flags
                .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS),
        )
    }

    pub(crate) fn from_info(info: &wgpu::AdapterInfo, compute: bool) -> Self {
        Self {
            name: info.name.clone(),
            backend: info.backend,
            device_type: info.device_type,
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            compute,
        }
    }
}

/// The instance the library uses: backends from `WGPU_BACKEND` (all by default).
pub(crate) fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter the instance finds.
pub async fn list_adapters() -> Vec<AdapterSummary> {
    let instance = instance();
    instance
        .enumerate_adapters(wgpu::Backends::all())
        .await
        .iter()
        .map(AdapterSummary::of)
        .collect()
}

/// Preference order: real GPUs before software ones; among equals, native compute APIs before
/// GL (whose compute support is emulated through GLES 3.1).
fn rank(adapter: &wgpu::Adapter) -> (u8, u8) {
    let info = adapter.get_info();
    let device = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (device, backend)
}

/// The adapter to use: the one named by `WGPU_ADAPTER_NAME` if set, else the best-ranked
/// adapter that supports compute shaders (within the backends of `WGPU_BACKEND`).
pub(crate) async fn select_adapter(instance: &wgpu::Instance) -> Result<wgpu::Adapter> {
    if let Ok(name) = std::env::var("WGPU_ADAPTER_NAME") {
        // wgpu's `initialize_adapter_from_env` panics when nothing matches; match here
        // instead, with its rule (case-insensitive substring of the adapter name).
        let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
        let needle = name.to_lowercase();
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&needle))
            .ok_or_else(|| {
                Error::NoAdapter(format!(
                    "WGPU_ADAPTER_NAME={name} matches none of the {} adapter(s) found ({})",
                    names.len(),
                    names.join("; ")
                ))
            });
    }
    // Native compute APIs first; GL (EGL) is only probed when none of them has an adapter,
    // which also keeps EGL's start-up chatter out of the common case.
    let mut found = 0;
    let mut best = None;
    for backends in [wgpu::Backends::PRIMARY, wgpu::Backends::SECONDARY] {
        let adapters = instance.enumerate_adapters(backends).await;
        found += adapters.len();
        best = adapters
            .into_iter()
            .filter(|a| {
                a.get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .min_by_key(rank);
        if best.is_some() {
            break;
        }
    }
    best.ok_or_else(|| {
        Error::NoAdapter(format!(
            "{found} adapter(s) found, none with compute shaders (WGPU_BACKEND={}); \
                 without a GPU install Mesa's software Vulkan driver \
                 (apt-get install mesa-vulkan-drivers libvulkan1) or use the CPU path",
            std::env::var("WGPU_BACKEND").unwrap_or_else(|_| "all".into())
        ))
    })
}

/// Optional features the library asks for when the adapter has them.
fn wanted_features(info: &wgpu::AdapterInfo) -> wgpu::Features {
    let shared_memory = matches!(
        info.device_type,
        wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
    );
    // f64 kernels where the adapter has them (Vulkan on most desktop GPUs, Mesa lavapipe; Metal
    // has none).
    let mut features = wgpu::Features::PIPELINE_CACHE | wgpu::Features::SHADER_F64;
    if shared_memory {
        features |= wgpu::Features::MAPPABLE_PRIMARY_BUFFERS;
    }
    features
}

/// A device of our own on `adapter`, with the adapter's full limits (larger buffers and
/// workgroup memory than the WebGPU defaults let bigger chunks and matrices run).
pub(crate) async fn request_device(
    adapter: &wgpu::Adapter,
) -> Result<(wgpu::Device, wgpu::Queue, Arc<Mutex<Option<String>>>)> {
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("batched-svd"),
            // Pipeline caches persist compiled kernels across processes (faster start-up);
            // on adapters sharing memory with the host, mappable storage buffers let results
            // be read without a staging copy.
            required_features: adapter.features() & wanted_features(&adapter.get_info()),
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::NoAdapter(format!("request_device failed: {e}")))?;
    let lost = Arc::new(Mutex::new(None));
    let flag = Arc::clone(&lost);
    device.set_device_lost_callback(move |reason, message| {
        if let Ok(mut slot) = flag.lock() {
            *slot = Some(format!("{reason:?}: {message}"));
        }
    });
    Ok((device, queue, lost))
}

/// Whether this machine has no GPU device node at all, so that every adapter wgpu can find is a
/// software one (lavapipe, llvmpipe, SwiftShader), without loading any driver: on Linux, no
/// DRM render node (`/dev/dri/renderD*`, which every Mesa hardware driver and nvidia-drm
/// create), no NVIDIA device (`/dev/nvidia[0-9]*`) and no WSL GPU (`/dev/dxg`). Elsewhere, and
/// when `WGPU_ADAPTER_NAME` names an adapter, `false` (the adapter is looked up as usual).
pub(crate) fn no_gpu_device_node() -> bool {
    if std::env::var_os("WGPU_ADAPTER_NAME").is_some() {
        return false;
    }
    no_device_node_under(std::path::Path::new("/dev"))
}

/// [`no_gpu_device_node`] for a `/dev` at `dev` (a parameter for the tests).
fn no_device_node_under(dev: &std::path::Path) -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let has = |dir: &std::path::Path, prefix: &str, digits: bool| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.strip_prefix(prefix).is_some_and(|rest| {
                    !digits || rest.chars().next().is_some_and(|c| c.is_ascii_digit())
                })
            })
        })
    };
    !(has(&dev.join("dri"), "renderD", false)
        || has(dev, "nvidia", true)
        || dev.join("dxg").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_device_nodes() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let root = std::env::temp_dir().join(format!("batched-svd-dev-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("dri")).unwrap();
        // An empty /dev/dri and an nvidia control node are not GPUs of their own.
        std::fs::write(root.join("dri").join("card0"), b"").unwrap();
        std::fs::write(root.join("nvidiactl"), b"").unwrap();
        assert!(no_device_node_under(&root));
        std::fs::write(root.join("nvidia0"), b"").unwrap();
        assert!(!no_device_node_under(&root));
        std::fs::remove_file(root.join("nvidia0")).unwrap();
        std::fs::write(root.join("dri").join("renderD128"), b"").unwrap();
        assert!(!no_device_node_under(&root));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
