//! The memory check before reading: an input file larger than the memory the process can
//! get is an error before anything is allocated, instead of a process killed by the
//! out-of-memory killer (or one that pushes the machine into swapping) halfway through.
//!
//! The memory available is Linux's estimate for new allocations without swapping
//! (`MemAvailable`) plus the free swap, capped by the cgroup (v2) limits of the process's
//! group and its ancestors (a container's memory). Elsewhere nothing is checked, and an
//! allocation that fails is still reported by the reader (`try_reserve`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Fails if the input files together hold more bytes than the memory available: the tool
/// keeps each input's data in memory (integer and bool inputs even grow to float64).
///
/// # Errors
/// Naming the file that goes past the memory available, its size and that memory.
pub fn check_inputs(paths: &[PathBuf]) -> Result<(), CliError> {
    let Some(available) = available() else {
        return Ok(());
    };
    let mut total = 0u64;
    for path in paths {
        let Some(len) = fs::metadata(path)
            .ok()
            .filter(fs::Metadata::is_file)
            .map(|m| m.len())
        else {
            continue;
        };
        total = total.saturating_add(len);
        if total > available {
            return Err(too_large(path, len, available));
        }
    }
    Ok(())
}

/// Below this many bytes an array is not checked (no reading of `/proc` for small inputs,
/// which keeps the fuzzing of the reader fast).
const CHECKED_FROM_BYTES: usize = 64 << 20;

/// Fails if an array of `shape` that takes `bytes` in memory once read (its data, and its
/// float64 copy for integer and bool types) needs more than the memory available: called by
/// the reader after the header, before anything is allocated.
///
/// # Errors
/// Naming the file, its shape, the bytes it needs and the memory available.
pub fn check_array(path: &Path, shape: &[u64], bytes: usize) -> Result<(), CliError> {
    if bytes < CHECKED_FROM_BYTES {
        return Ok(());
    }
    let Some(available) = available() else {
        return Ok(());
    };
    let needed = u64::try_from(bytes).unwrap_or(u64::MAX);
    if needed <= available {
        return Ok(());
    }
    Err(CliError::other(format!(
        "'{}' has shape {}, which needs {} of memory once read, more than the {} available; \
         nothing was allocated",
        path.display(),
        crate::npy::format_shape(shape),
        self::bytes(needed),
        self::bytes(available)
    )))
}

fn too_large(path: &Path, len: u64, available: u64) -> CliError {
    CliError::other(format!(
        "'{}' holds {} of data, more than the {} of memory available; nothing was allocated",
        path.display(),
        bytes(len),
        bytes(available)
    ))
}

/// `12.3 GiB`, `456.0 MiB`, `789 bytes`.
fn bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    #[allow(clippy::cast_precision_loss)] // a size to print
    let x = n as f64;
    if x >= 1024.0 * MIB {
        format!("{:.1} GiB", x / (1024.0 * MIB))
    } else if x >= MIB {
        format!("{:.1} MiB", x / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// The bytes of memory the process can still get, if known.
pub fn available() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    let field = |key: &str| -> Option<u64> {
        let line = meminfo.lines().find(|l| l.starts_with(key))?;
        let kib: u64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib.saturating_mul(1024))
    };
    let host = field("MemAvailable:")?.saturating_add(field("SwapFree:").unwrap_or(0));
    Some(cgroup_headroom().map_or(host, |limit| host.min(limit)))
}

/// The least room under the `memory.max` of this process's cgroup (v2) and its ancestors.
fn cgroup_headroom() -> Option<u64> {
    let groups = fs::read_to_string("/proc/self/cgroup").ok()?;
    let relative = groups.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mut dir = Path::new("/sys/fs/cgroup").join(relative.trim_start_matches('/'));
    let mut least: Option<u64> = None;
    loop {
        let read = |name: &str| fs::read_to_string(dir.join(name)).ok();
        if let (Some(max), Some(current)) = (read("memory.max"), read("memory.current"))
            && let (Ok(max), Ok(current)) =
                (max.trim().parse::<u64>(), current.trim().parse::<u64>())
        {
            let room = max.saturating_sub(current);
            least = Some(least.map_or(room, |l| l.min(room)));
        }
        if dir == Path::new("/sys/fs/cgroup") || !dir.pop() {
            break;
        }
    }
    least
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_readably() {
        assert_eq!(bytes(789), "789 bytes");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
    }

    #[test]
    fn available_memory_is_known_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(available().is_some_and(|a| a > 0));
        }
    }
}
