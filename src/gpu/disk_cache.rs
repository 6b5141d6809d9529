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
//! The cache is an optimisation only: an unreadable, unwritable, stale or damaged file is
//! ignored. The file wraps wgpu's data in an envelope of our own (a magic tag, the length and
//! an FNV-1a checksum of the data; see [`seal`]) and is checked before any of it reaches the
//! driver: Vulkan validates only the header of pipeline-cache data, so a torn or bit-flipped
//! body would otherwise be handed to the driver's deserialiser. Writes go to a per-process
//! temporary file renamed over the entry, so processes sharing the directory, or killed
//! mid-write, never expose a partial entry; a killed writer's temporary is removed by the next
//! process that opens the cache.

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
        remove_stale_temporaries(&path);
        let file = std::fs::read(&path).ok();
        let data = file.as_deref().and_then(unseal);
        // SAFETY: `unseal` returns only bytes whose length and checksum match what `save`
        // wrote, i.e. data produced by `PipelineCache::get_data` for an adapter with the same
        // cache key (the file name), as the API requires; wgpu and the driver validate the
        // header, and `fallback: true` makes invalid data yield an empty cache.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("batched-svd"),
                data,
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
            if std::fs::write(&tmp, seal(&data)).is_err()
                || std::fs::rename(&tmp, &self.path).is_err()
            {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
}

/// The envelope's magic tag (format version 1).
const MAGIC: &[u8; 8] = b"BSVDPC01";

/// Bytes of the envelope before the data: magic, length, checksum.
const HEADER_BYTES: usize = 24;

/// FNV-1a, 64 bits: detects torn and damaged files (not an adversary).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `data` in the file format: [`MAGIC`], its length (u64 LE), its checksum (u64 LE), itself.
pub(crate) fn seal(data: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(HEADER_BYTES + data.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&(data.len() as u64).to_le_bytes());
    file.extend_from_slice(&fnv1a(data).to_le_bytes());
    file.extend_from_slice(data);
    file
}

/// The data of a file written by [`seal`], or `None` when the magic, the length or the
/// checksum does not match (a file of another format, truncated, or damaged).
pub(crate) fn unseal(file: &[u8]) -> Option<&[u8]> {
    let (header, data) = file.split_at_checked(HEADER_BYTES)?;
    let word = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().unwrap_or([0; 8]));
    (header[..8] == MAGIC[..] && word(8) == data.len() as u64 && word(16) == fnv1a(data))
        .then_some(data)
}

/// Removes `ENTRY.tmpPID` files left by processes that no longer run (killed mid-write).
fn remove_stale_temporaries(entry: &Path) {
    let (Some(dir), Some(name)) = (entry.parent(), entry.file_name().and_then(|n| n.to_str()))
    else {
        return;
    };
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.tmp");
    for item in listing.flatten() {
        let file = item.file_name();
        let Some(pid) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let running = pid.parse::<u32>().is_ok_and(|pid| {
            pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
        });
        // Without /proc (other systems) every writer counts as running: nothing is removed.
        if !running && Path::new("/proc/self").exists() {
            let _ = std::fs::remove_file(item.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_round_trips() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        assert_eq!(unseal(&seal(&data)), Some(&data[..]));
        assert_eq!(unseal(&seal(&[])), Some(&[][..]));
    }

    /// A torn write (any truncation), a flipped bit anywhere, a file of another format and
    /// trailing garbage are all rejected before anything reaches the driver.
    #[test]
    fn damaged_cache_files_are_rejected() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 1) as u8).collect();
        let file = seal(&data);
        for len in 0..file.len() {
            assert_eq!(unseal(&file[..len]), None, "truncated to {len}");
        }
        for byte in 0..file.len() {
            let mut bad = file.clone();
            bad[byte] ^= 0x10;
            assert_eq!(unseal(&bad), None, "bit flipped in byte {byte}");
        }
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(unseal(&longer), None);
        assert_eq!(unseal(&data), None, "raw wgpu data without the envelope");
    }

    #[test]
    fn stale_temporaries_of_dead_writers_are_removed() {
        let dir = std::env::temp_dir().join(format!("bsvd-cache-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = dir.join("key");
        // PID 4194305 exceeds Linux's maximum PID (2^22), so no such process runs.
        let dead = dir.join("key.tmp4194305");
        let alive = dir.join(format!("key.tmp{}", std::process::id()));
        let other = dir.join("unrelated.tmp1");
        for f in [&dead, &alive, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        remove_stale_temporaries(&entry);
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists());
        }
        assert!(alive.exists() && other.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
