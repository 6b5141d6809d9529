//! The system calls of the output staging that `std` does not offer: the atomic exchange of
//! two directories (`renameat2`), ignoring `SIGXFSZ`, `access`, and whether a process lives.
//!
//! These go through the `libc` crate (already in the dependency tree through wgpu): one crate
//! for the signal disposition, which no safe wrapper covers, and the rest. `renameat2` is
//! called as a raw system call rather than through glibc's wrapper, so that the binary
//! neither needs glibc 2.28 nor depends on the C library's version of it; a kernel without
//! it (before 3.15) answers `ENOSYS`, which the caller treats as "exchange unsupported".
//! Every other platform gets the portable fallbacks below, and the caller stages in place.

use std::fs;
use std::io;
use std::path::Path;

/// Ignores `SIGXFSZ`: see [`super::ignore_file_size_signal`].
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_IGN` installs no handler code; it only changes the
    // disposition of a signal the process does not otherwise use. Nothing else in the
    // process relies on SIGXFSZ's default action.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Whether the process may create and remove entries in the directory `dir`.
#[cfg(unix)]
pub fn check_writable(dir: &Path) -> io::Result<()> {
    let path = c_path(dir)?;
    // SAFETY: `path` is a NUL-terminated string that outlives the call; `access` only reads
    // it.
    let rc = unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the process may create and remove entries in the directory `dir`: creates and
/// removes a probe file.
#[cfg(not(unix))]
pub fn check_writable(dir: &Path) -> io::Result<()> {
    let probe = dir.join(format!(".batched-svd.{}.probe", std::process::id()));
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|_| fs::remove_file(&probe))
}

/// Whether a process with this id runs (on this machine, in this PID namespace).
#[cfg(unix)]
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; `kill` only checks that the process exists and that
    // it may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a way to tell, every process is assumed alive (its leftovers are kept).
#[cfg(not(unix))]
pub fn alive(_pid: u32) -> bool {
    true
}

/// Exchanges the directories `a` and `b` atomically (`renameat2(RENAME_EXCHANGE)`): every
/// lookup of either path sees the old entry or the new one, never none.
#[cfg(target_os = "linux")]
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    renameat2(a, b, libc::RENAME_EXCHANGE)
}

#[cfg(not(target_os = "linux"))]
pub fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Renames `from` to `to`, failing with `EEXIST` if `to` exists (`RENAME_NOREPLACE`); where
/// the file system lacks that flag, checks first and renames (a narrow race with another
/// process creating `to`, which then replaces an empty directory at most).
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match renameat2(from, to, libc::RENAME_NOREPLACE) {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
        other => return other,
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

#[cfg(target_os = "linux")]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    let (from, to) = (c_path(from)?, c_path(to)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call, which only reads
    // them; the arguments are those of renameat2(2), each widened to the register size the
    // raw system call takes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::c_long::from(libc::AT_FDCWD),
            from.as_ptr(),
            libc::c_long::from(libc::AT_FDCWD),
            to.as_ptr(),
            libc::c_long::from(flags),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether `path` carries a POSIX ACL (access or default), which the staging directory would
/// not reproduce.
#[cfg(target_os = "linux")]
pub fn has_acl(path: &Path) -> bool {
    let Ok(path) = c_path(path) else {
        return true;
    };
    [c"system.posix_acl_access", c"system.posix_acl_default"]
        .iter()
        .any(|name| {
            // SAFETY: both strings are NUL-terminated and outlive the call; a null buffer of
            // size 0 asks only for the value's size, so nothing is written.
            let size =
                unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
            size >= 0
        })
}

#[cfg(not(target_os = "linux"))]
pub fn has_acl(_path: &Path) -> bool {
    true
}

/// Whether the directory `path` (canonical) is a mount point: on another device than its
/// parent, or listed as a mount point (a bind mount of the same file system) in
/// `/proc/self/mountinfo`. Renames across it fail with `EXDEV`/`EBUSY`.
#[cfg(target_os = "linux")]
pub fn is_mount_point(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let (Some(parent), Ok(meta)) = (path.parent(), fs::metadata(path)) else {
        return true;
    };
    match fs::metadata(parent) {
        Ok(p) if p.dev() == meta.dev() => {}
        _ => return true,
    }
    let Ok(table) = fs::read("/proc/self/mountinfo") else {
        return false;
    };
    let wanted = path.as_os_str().as_bytes();
    table
        .split(|&b| b == b'\n')
        .filter_map(|line| line.split(|&b| b == b' ').nth(4))
        .any(|point| unescape_mountinfo(point) == wanted)
}

#[cfg(not(target_os = "linux"))]
pub fn is_mount_point(_path: &Path) -> bool {
    true
}

/// A mountinfo field with its octal escapes (`\040` for a space) decoded.
#[cfg(target_os = "linux")]
fn unescape_mountinfo(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, &c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

/// Gives `to` the permission bits, owner and group of `from`; whether they now match.
#[cfg(unix)]
pub fn copy_attributes(from: &Path, to: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(want) = fs::metadata(from) else {
        return false;
    };
    let matches = |m: &fs::Metadata| {
        m.mode() == want.mode() && m.uid() == want.uid() && m.gid() == want.gid()
    };
    match fs::metadata(to) {
        Ok(got) if matches(&got) => return true,
        Ok(_) => {}
        Err(_) => return false,
    }
    // The owner first: changing it may clear the set-group-ID bit, which the mode restores.
    let _ = std::os::unix::fs::chown(to, Some(want.uid()), Some(want.gid()));
    let _ = fs::set_permissions(to, want.permissions());
    fs::metadata(to).is_ok_and(|got| matches(&got))
}

#[cfg(not(unix))]
pub fn copy_attributes(_from: &Path, _to: &Path) -> bool {
    false
}

/// The (device, inode) pair that identifies a file.
#[cfg(unix)]
pub fn file_id(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
pub fn file_id(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Whether `err` says that `EXDEV` (a rename across file systems or mounts).
pub fn is_cross_device(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        err.raw_os_error() == Some(libc::EXDEV)
    }
    #[cfg(not(unix))]
    {
        err.kind() == io::ErrorKind::CrossesDevices
    }
}

#[cfg(unix)]
fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape_mountinfo(br"/a\040b\134c"), b"/a b\\c");
        assert_eq!(unescape_mountinfo(br"/plain\0"), b"/plain\\0");
    }

    #[test]
    fn proc_is_a_mount_point() {
        assert!(is_mount_point(Path::new("/proc")));
    }

    #[test]
    fn own_process_is_alive() {
        assert!(alive(std::process::id()));
        assert!(!alive(0));
    }
}
