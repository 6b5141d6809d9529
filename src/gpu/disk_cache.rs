//! Persisting compiled pipelines across processes with wgpu's `PipelineCache`.
//!
//! Where the device has `Features::PIPELINE_CACHE` (Vulkan), pipelines are created through a
//! `wgpu::PipelineCache` whose data is loaded from, and saved back to, a file named by
//! `wgpu::util::pipeline_cache_key` (adapter, driver) in the cache directory:
//!
//! * `BATCHED_SVD_CACHE_DIR=/some/dir` moves it; `BATCHED_SVD_CACHE_DIR=off` (or empty)
//!   disables it;
//! * otherwise `$XDG_CACHE_HOME/batched-svd`, else `$HOME/.cache/batched-svd`.
//!
//! The cache is an optimisation only: an unreadable, unwritable or stale file is ignored (the
//! driver validates the data and falls back to an empty cache).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Environment variable naming the pipeline cache directory (`off` disables the cache).
pub const CACHE_DIR_VAR: &str = "BATCHED_SVD_CACHE_DIR";

/// The cache directory from the environment, or `None` when disabled or undeterminable.
pub(crate) fn dir_from_env() -> Option<PathBuf> {
    match std::env::var_os(CACHE_DIR_VAR) {
        Some(v) if v.is_empty() || v == "off" || v == "0" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .map(|base| base.join("batched-svd")),
    }
}

/// A pipeline cache bound to a file.
pub(crate) struct DiskCache {
    pub cache: wgpu::PipelineCache,
    path: PathBuf,
    /// Serialises saves from concurrent compilations.
    saving: Mutex<()>,
}

impl DiskCache {
    /// Opens the cache for `device` in `dir`, or `None` when the device has no pipeline cache
    /// support or the adapter has no cache key.
    pub(crate) fn open(
        device: &wgpu::Device,
        info: &wgpu::AdapterInfo,
        dir: &Path,
    ) -> Option<Self> {
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let key = wgpu::util::pipeline_cache_key(info)?;
        let path = dir.join(key);
        let data = std::fs::read(&path).ok();
        // SAFETY: the data was produced by `PipelineCache::get_data` for an adapter with the
        // same cache key (the file name), as the API requires; wgpu and the driver validate
        // the header, and `fallback: true` makes invalid data yield an empty cache.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("batched-svd"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        Some(Self {
            cache,
            path,
            saving: Mutex::new(()),
        })
    }

    /// Writes the cache's current data to its file (through a temporary file and a rename, so
    /// a concurrent reader never sees a partial file). Failures are ignored.
    pub(crate) fn save(&self) {
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let _guard = self.saving.lock();
        if let Some(dir) = self.path.parent()
            && std::fs::create_dir_all(dir).is_ok()
        {
            let tmp = self
                .path
                .with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, &data).is_ok() && std::fs::rename(&tmp, &self.path).is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
}
