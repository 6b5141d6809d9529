//! All-or-nothing output: a reader of the output directory OUTDIR sees either none of a run's
//! new files or all of them, complete, even if the process is killed (`SIGKILL`) at any
//! moment; a run that fails leaves OUTDIR as it found it.
//!
//! # The exchange (Linux)
//!
//! Every output is written into a fresh sibling directory, `.NAME.batched-svd-staging-PID`
//! next to OUTDIR (never inside it). At the commit, the files already in OUTDIR that this run
//! does not replace are hard-linked into it (subdirectories recreated, their files linked),
//! the staging directory gets OUTDIR's permission bits, owner and group, and the two
//! directories are swapped in one step with `renameat2(RENAME_EXCHANGE)`. What a reader of
//! OUTDIR sees, at every instant:
//!
//! - before the exchange: OUTDIR exactly as it was (the run writes nothing inside it);
//! - after it: the new files, all of them complete (each was written and synced before), and
//!   the untouched files, which are the same inodes as before (hard links);
//! - the old directory, now under the staging name, is then emptied: what changed in it
//!   since the links were made (a file someone added or replaced meanwhile) is moved back
//!   into OUTDIR, the rest removed.
//!
//! When OUTDIR does not exist yet, the staging directory is simply renamed to it
//! (`RENAME_NOREPLACE`). A run killed before the exchange leaves its staging directory next to
//! OUTDIR; the next run for the same OUTDIR removes every such leftover whose process is gone.
//!
//! The exchange gives OUTDIR a new inode: a process that holds the old directory open, or
//! has it (or a subdirectory of it) as its working directory, keeps seeing the old one.
//!
//! # The per-file fallback
//!
//! Where the exchange cannot give that result, files are renamed into OUTDIR one by one:
//! other systems than Linux; OUTDIR that is this process's working directory (or holds it), a
//! mount point, carries an ACL, or whose owner cannot be reproduced (someone else's
//! directory); a parent directory that is not writable; a file system without
//! `RENAME_EXCHANGE` or hard links. The outputs are then written as
//! `.FILE.batched-svd-tmp-PID` inside OUTDIR (or in the staging directory, when it exists)
//! and renamed at the commit. The guarantee is weaker: each file appears complete or not at
//! all, but a kill between two renames leaves some new files next to old ones, and a kill
//! before them leaves the temporaries in OUTDIR (removed by the next run). An error still
//! removes everything new.
//!
//! Dropping a [`Staging`] that was not committed removes its staging directory (or its
//! temporaries) and the directories it created, so an early return on any error leaves
//! nothing behind.

mod sys;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Makes a write past the file size limit (`ulimit -f`) fail with `EFBIG` instead of killing
/// the process with `SIGXFSZ`, so that it is reported as one error line and the staged
/// files are removed. Idempotent; [`Staging::prepare`] calls it, and the tool's `main` at
/// start-up.
pub fn ignore_file_size_signal() {
    sys::ignore_file_size_signal();
}

/// The tag of staging directories: `.NAME` + this + `PID`.
const STAGING_TAG: &str = ".batched-svd-staging-";
/// The tag of temporaries inside OUTDIR (per-file fallback): `.FILE` + this + `PID`.
const TEMP_TAG: &str = ".batched-svd-tmp-";

/// An output directory being filled.
#[derive(Debug)]
pub struct Staging {
    /// OUTDIR as given on the command line (for messages).
    dir: PathBuf,
    /// Where the files go until the commit.
    place: Place,
    /// Directories created by this run, outermost first.
    created: Vec<PathBuf>,
    /// The file names written, in order.
    names: Vec<String>,
    committed: bool,
}

#[derive(Debug)]
enum Place {
    /// A sibling staging directory, exchanged with OUTDIR (`real`, resolved) at the commit.
    /// `ours` is false once the staging path no longer holds this run's directory.
    Sibling {
        staging: PathBuf,
        real: PathBuf,
        ours: bool,
    },
    /// Temporaries inside OUTDIR, renamed one by one.
    InPlace,
}

impl Staging {
    /// Creates `dir` (and missing parents) if needed or checks that it is a writable
    /// directory, and sets up the staging of the outputs. Ignores `SIGXFSZ` (see
    /// [`ignore_file_size_signal`]).
    ///
    /// # Errors
    /// If `dir` exists but is not a directory or is not writable, or cannot be created.
    pub fn prepare(dir: &Path) -> Result<Self, CliError> {
        ignore_file_size_signal();
        let mut staging = Self {
            dir: dir.to_path_buf(),
            place: Place::InPlace,
            created: Vec::new(),
            names: Vec::new(),
            committed: false,
        };
        let exists = match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => true,
            Ok(_) => return Err(staging.not_a_directory()),
            // A dangling symbolic link: not replaced by a directory.
            Err(_) if fs::symlink_metadata(dir).is_ok() => {
                return Err(CliError::io(
                    "cannot create output directory",
                    dir,
                    &io::Error::from(io::ErrorKind::AlreadyExists),
                ));
            }
            Err(_) => false,
        };
        if exists {
            sys::check_writable(dir).map_err(|e| staging.not_writable(&e))?;
        }
        staging.place = staging.choose(exists)?;
        if let Place::InPlace = staging.place {
            if !exists {
                staging.create_dirs(dir)?;
                sys::check_writable(dir).map_err(|e| staging.not_writable(&e))?;
            }
            remove_stale_temporaries(dir);
        }
        Ok(staging)
    }

    fn not_a_directory(&self) -> CliError {
        CliError::other(format!(
            "output path '{}' exists and is not a directory",
            self.dir.display()
        ))
    }

    fn not_writable(&self, err: &io::Error) -> CliError {
        CliError::other(format!(
            "output directory '{}' is not writable: {}",
            self.dir.display(),
            crate::error::io_reason(err)
        ))
    }

    /// The staging directory next to OUTDIR where that gives the exchange's guarantee, else
    /// in place (see the module documentation). Creates the missing parents of a new OUTDIR.
    fn choose(&mut self, exists: bool) -> Result<Place, CliError> {
        if !cfg!(target_os = "linux") {
            return Ok(Place::InPlace);
        }
        // `x/..` and the like: no name to stage next to.
        let Some(name) = self.dir.file_name().map(OsStr::to_os_string) else {
            return Ok(Place::InPlace);
        };
        let parent = match self.dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            Some(_) => PathBuf::from("."),
            None => return Ok(Place::InPlace),
        };
        let (real_parent, real_name) = if exists {
            let Ok(real) = fs::canonicalize(&self.dir) else {
                return Ok(Place::InPlace);
            };
            let inside_cwd = std::env::current_dir().is_ok_and(|cwd| cwd.starts_with(&real));
            if inside_cwd
                || sys::is_mount_point(&real)
                || sys::has_acl(&real)
                || real.parent().is_none_or(sys::has_acl)
            {
                return Ok(Place::InPlace);
            }
            match (real.parent(), real.file_name()) {
                (Some(p), Some(n)) => (p.to_path_buf(), n.to_os_string()),
                _ => return Ok(Place::InPlace),
            }
        } else {
            self.create_dirs(&parent)?;
            let real_parent = fs::canonicalize(&parent)
                .map_err(|e| CliError::io("cannot create output directory", &self.dir, &e))?;
            (real_parent, name)
        };
        remove_stale_staging(&real_parent, &real_name);
        let staging = real_parent.join(staging_name(&real_name, std::process::id()));
        let real = real_parent.join(&real_name);
        match fs::create_dir(&staging) {
            Ok(()) => {}
            // An existing OUTDIR in a parent this process cannot write: in place.
            Err(_) if exists => return Ok(Place::InPlace),
            Err(e) => {
                return Err(CliError::io(
                    "cannot create output directory",
                    &self.dir,
                    &e,
                ));
            }
        }
        // The files created in it get the group (set-group-ID) and the directory gets the
        // mode OUTDIR has; someone else's OUTDIR cannot be reproduced, so it is filled in
        // place.
        if exists && !sys::copy_attributes(&real, &staging) {
            let _ = fs::remove_dir(&staging);
            return Ok(Place::InPlace);
        }
        Ok(Place::Sibling {
            staging,
            real,
            ours: true,
        })
    }

    /// Creates the directory `target` and its missing parents, remembering which ones it
    /// created.
    fn create_dirs(&mut self, target: &Path) -> Result<(), CliError> {
        let missing: Vec<PathBuf> = target
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .take_while(|p| fs::symlink_metadata(p).is_err())
            .map(Path::to_path_buf)
            .collect();
        for level in missing.into_iter().rev() {
            match fs::create_dir(&level) {
                Ok(()) => self.created.push(level),
                // Created concurrently by someone else: not ours to remove.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && level.is_dir() => {}
                Err(e) => {
                    return Err(CliError::io(
                        "cannot create output directory",
                        &self.dir,
                        &e,
                    ));
                }
            }
        }
        Ok(())
    }

    /// The path the file `name` is written to before the commit.
    fn temporary(&self, name: &str) -> PathBuf {
        match &self.place {
            Place::Sibling { staging, .. } => staging.join(name),
            Place::InPlace => self.dir.join(temp_name(name)),
        }
    }

    /// Writes the file `name` through `write`, which receives the temporary path to create.
    ///
    /// # Errors
    /// If `write` fails; the message names the final file.
    pub fn write(
        &mut self,
        name: &str,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Result<(), CliError> {
        let temp = self.temporary(name);
        // Registered first, so that a half-written temporary is removed too.
        self.names.push(name.to_string());
        write(&temp).map_err(|e| CliError::io("cannot write", &self.dir.join(name), &e))
    }

    /// Makes every written file appear in OUTDIR: the exchange, or the per-file renames.
    ///
    /// # Errors
    /// If OUTDIR cannot take the files; nothing new is left in it then.
    pub fn commit(mut self) -> Result<(), CliError> {
        match &self.place {
            Place::InPlace => self.rename_each(),
            Place::Sibling { staging, real, .. } => {
                let (staging, real) = (staging.clone(), real.clone());
                self.swap(&staging, &real)
            }
        }
    }

    /// The commit of the temporaries inside OUTDIR: renamed in the order they were written.
    fn rename_each(&mut self) -> Result<(), CliError> {
        let mut renamed: Vec<PathBuf> = Vec::new();
        for name in &self.names {
            let target = self.dir.join(name);
            if let Err(e) = fs::rename(self.dir.join(temp_name(name)), &target) {
                for done in &renamed {
                    let _ = fs::remove_file(done);
                }
                return Err(CliError::io("cannot write", &target, &e));
            }
            renamed.push(target);
        }
        self.committed = true;
        sync_dir(&self.dir);
        Ok(())
    }

    /// The commit of the staging directory `staging` into OUTDIR, resolved as `real`.
    fn swap(&mut self, staging: &Path, real: &Path) -> Result<(), CliError> {
        sync_dir(staging);
        let parent = real.parent().unwrap_or(Path::new("/")).to_path_buf();
        // OUTDIR may appear or vanish meanwhile (another process); each change is retried.
        for _ in 0..4 {
            match fs::symlink_metadata(real) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match sys::rename_noreplace(staging, real) {
                        Ok(()) => {
                            self.release_staging();
                            self.committed = true;
                            sync_dir(&parent);
                            return Ok(());
                        }
                        Err(e) if is_occupied(&e) => continue,
                        Err(e) => {
                            return Err(CliError::io(
                                "cannot create output directory",
                                &self.dir,
                                &e,
                            ));
                        }
                    }
                }
                Err(e) => return Err(CliError::io("cannot write", &self.dir, &e)),
                Ok(meta) if meta.is_dir() => {
                    if !self.mirror(real, staging)? || !sys::copy_attributes(real, staging) {
                        return self.move_each(staging, real);
                    }
                    return match sys::exchange(staging, real) {
                        Ok(()) => {
                            self.release_staging();
                            self.committed = true;
                            sync_dir(&parent);
                            // `staging` now holds the old directory.
                            reconcile(staging, real, Some(&self.names));
                            let _ = fs::remove_dir(staging);
                            Ok(())
                        }
                        Err(_) => self.move_each(staging, real),
                    };
                }
                Ok(_) => return Err(self.not_a_directory()),
            }
        }
        Err(CliError::other(format!(
            "cannot write '{}': it kept being created and removed meanwhile",
            self.dir.display()
        )))
    }

    /// From now on the staging path is not this run's to remove.
    fn release_staging(&mut self) {
        if let Place::Sibling { ours, .. } = &mut self.place {
            *ours = false;
        }
    }

    /// Hard-links into `staging` every entry of OUTDIR (`real`) that this run does not
    /// replace, but the leftovers of killed runs. Whether that could be done (no: no hard
    /// links here, or OUTDIR changed meanwhile).
    ///
    /// # Errors
    /// If an output's name is taken by a directory in OUTDIR.
    fn mirror(&self, real: &Path, staging: &Path) -> Result<bool, CliError> {
        let Ok(entries) = fs::read_dir(real) else {
            return Ok(false);
        };
        for entry in entries {
            let Ok(entry) = entry else {
                return Ok(false);
            };
            let name = entry.file_name();
            let from = entry.path();
            if self.names.iter().any(|n| OsStr::new(n) == name) {
                if fs::symlink_metadata(&from).is_ok_and(|m| m.is_dir()) {
                    return Err(CliError::io(
                        "cannot write",
                        &self.dir.join(&name),
                        &io::Error::from(io::ErrorKind::IsADirectory),
                    ));
                }
                continue;
            }
            if is_stale_temporary(&name) {
                continue;
            }
            if link_tree(&from, &staging.join(&name)).is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The per-file fallback from the staging directory: each file renamed into OUTDIR (or
    /// copied next to its final name first, across file systems).
    fn move_each(&mut self, staging: &Path, real: &Path) -> Result<(), CliError> {
        let mut moved: Vec<PathBuf> = Vec::new();
        for name in &self.names {
            let (from, to) = (staging.join(name), real.join(name));
            let result = match fs::rename(&from, &to) {
                Err(e) if sys::is_cross_device(&e) => copy_then_rename(&from, real, name),
                other => other,
            };
            if let Err(e) = result {
                for done in &moved {
                    let _ = fs::remove_file(done);
                }
                return Err(CliError::io("cannot write", &self.dir.join(name), &e));
            }
            moved.push(to);
        }
        self.committed = true;
        sync_dir(real);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Place::Sibling {
            staging,
            ours: true,
            ..
        } = &self.place
        {
            // Only this run's files and hard links of OUTDIR's: removing them loses nothing.
            let _ = fs::remove_dir_all(staging);
        }
        if self.committed {
            return;
        }
        if let Place::InPlace = self.place {
            for name in &self.names {
                let _ = fs::remove_file(self.dir.join(temp_name(name)));
            }
        }
        // Innermost first; `remove_dir` only removes empty directories, so nothing that
        // someone else put there meanwhile is lost.
        for dir in self.created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// `.NAME.batched-svd-staging-PID`.
fn staging_name(name: &OsStr, pid: u32) -> OsString {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!("{STAGING_TAG}{pid}"));
    s
}

/// `.FILE.batched-svd-tmp-PID`, this process's temporary for `name`.
fn temp_name(name: &str) -> String {
    format!(".{name}{TEMP_TAG}{}", std::process::id())
}

/// The process id ending `name` after `tag`, if `name` is `prefix`, `tag`, digits.
fn tagged_pid(name: &OsStr, prefix: &[u8], tag: &str) -> Option<u32> {
    let bytes = name.as_encoded_bytes();
    let rest = bytes.strip_prefix(prefix)?;
    let at = rest.windows(tag.len()).rposition(|w| w == tag.as_bytes())?;
    let digits = &rest[at + tag.len()..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Whether the process that made a leftover is gone (or is this one, which made none yet).
fn stale(pid: u32) -> bool {
    pid == std::process::id() || !sys::alive(pid)
}

/// Whether `name` is a temporary of a killed run (`.FILE.batched-svd-tmp-PID`).
fn is_stale_temporary(name: &OsStr) -> bool {
    tagged_pid(name, b".", TEMP_TAG).is_some_and(stale)
}

/// Removes the staging directories of killed runs for OUTDIR `name` in `parent`.
fn remove_stale_staging(parent: &Path, name: &OsStr) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(name.as_encoded_bytes());
    for entry in entries.flatten() {
        let file = entry.file_name();
        let exact = tagged_pid(&file, &prefix, STAGING_TAG)
            .filter(|&pid| file == staging_name(name, pid) && stale(pid));
        if exact.is_some() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes the temporaries of killed runs inside `dir`.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if is_stale_temporary(&entry.file_name()) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Recreates `from` at `to`: directories as new directories of the same mode, everything
/// else (files, symbolic links, sockets) as hard links.
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if !meta.is_dir() {
        return fs::hard_link(from, to);
    }
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        link_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    if !sys::copy_attributes(from, to) {
        fs::set_permissions(to, meta.permissions())?;
    }
    Ok(())
}

/// Empties the old directory `old` after the exchange: what is still linked in `new` (and,
/// at the top, the files this run replaced: `replaced`) is removed; what was added or
/// replaced in it after the links were made is moved back into `new`.
fn reconcile(old: &Path, new: &Path, replaced: Option<&[String]>) {
    let Ok(entries) = fs::read_dir(old) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let (from, to) = (entry.path(), new.join(&name));
        let Ok(meta) = fs::symlink_metadata(&from) else {
            continue;
        };
        let is_output = replaced.is_some_and(|r| r.iter().any(|n| OsStr::new(n) == name));
        if meta.is_dir() {
            match fs::symlink_metadata(&to) {
                Ok(t) if t.is_dir() && !is_output => {
                    reconcile(&from, &to, None);
                    let _ = fs::remove_dir(&from);
                }
                _ => {
                    let _ = sys::rename_noreplace(&from, &to);
                }
            }
            continue;
        }
        let linked = fs::symlink_metadata(&to)
            .is_ok_and(|t| sys::file_id(&t).is_some() && sys::file_id(&t) == sys::file_id(&meta));
        let stale_temp = replaced.is_some() && is_stale_temporary(&name);
        if is_output || linked || stale_temp {
            let _ = fs::remove_file(&from);
        } else {
            // Added or replaced after the links were made: the newer one wins.
            let _ = fs::rename(&from, &to);
        }
    }
}

/// Copies `from` to a temporary in `dir`, syncs it and renames it to `name`.
fn copy_then_rename(from: &Path, dir: &Path, name: &str) -> io::Result<()> {
    let temp = dir.join(temp_name(name));
    let result = fs::copy(from, &temp)
        .and_then(|_| fs::File::open(&temp)?.sync_all())
        .and_then(|()| fs::rename(&temp, dir.join(name)));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Whether a rename failed because its target exists.
fn is_occupied(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
    )
}

/// Syncs a directory's entries to disk (best effort: not every file system allows it).
fn sync_dir(dir: &Path) {
    if let Ok(file) = fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("batched-svd-outdir-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn uncommitted_staging_leaves_nothing() {
        let root = scratch("rollback");
        let dir = root.join("a").join("b");
        {
            let mut s = Staging::prepare(&dir).unwrap();
            s.write("x.txt", |p| fs::write(p, b"x")).unwrap();
            assert!(s.write("y.txt", |_| Err(io::Error::other("boom"))).is_err());
        }
        assert!(!root.exists());
    }

    #[test]
    fn commit_creates_the_directory() {
        let root = scratch("commit");
        let dir = root.join("out");
        let mut s = Staging::prepare(&dir).unwrap();
        assert!(matches!(s.place, Place::Sibling { .. }) || !cfg!(target_os = "linux"));
        s.write("x.txt", |p| fs::write(p, b"x")).unwrap();
        // Nothing visible before the commit.
        assert!(!dir.exists());
        s.commit().unwrap();
        assert_eq!(names(&dir), ["x.txt"]);
        assert_eq!(names(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn commit_into_existing_directory_keeps_other_files() {
        let root = scratch("existing");
        let dir = root.join("out");
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("keep.txt"), b"keep").unwrap();
        fs::write(dir.join("sub").join("deep.txt"), b"deep").unwrap();
        fs::write(dir.join("x.txt"), b"old").unwrap();
        // A killed run's temporary and staging directory.
        fs::write(dir.join(".x.txt.batched-svd-tmp-999999999"), b"").unwrap();
        fs::create_dir(root.join(".out.batched-svd-staging-999999999")).unwrap();
        let mut s = Staging::prepare(&dir).unwrap();
        s.write("x.txt", |p| fs::write(p, b"new")).unwrap();
        s.write("y.txt", |p| fs::write(p, b"y")).unwrap();
        assert_eq!(fs::read(dir.join("x.txt")).unwrap(), b"old");
        // Added by someone else between the write and the commit: kept.
        fs::write(dir.join("late.txt"), b"late").unwrap();
        s.commit().unwrap();
        assert_eq!(
            names(&dir),
            ["keep.txt", "late.txt", "sub", "x.txt", "y.txt"]
        );
        assert_eq!(fs::read(dir.join("x.txt")).unwrap(), b"new");
        assert_eq!(fs::read(dir.join("keep.txt")).unwrap(), b"keep");
        assert_eq!(fs::read(dir.join("sub").join("deep.txt")).unwrap(), b"deep");
        assert_eq!(names(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn file_in_the_way_is_an_error() {
        let path = scratch("file");
        fs::write(&path, b"").unwrap();
        assert!(Staging::prepare(&path).is_err());
        assert!(path.is_file());
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn leftover_names() {
        let pid = u32::MAX - 1;
        assert_eq!(
            tagged_pid(
                &staging_name(OsStr::new("o.batched-svd-staging-1"), pid),
                b".o.batched-svd-staging-1",
                STAGING_TAG
            ),
            Some(pid)
        );
        assert!(is_stale_temporary(OsStr::new(
            ".s.npy.batched-svd-tmp-4294967294"
        )));
        assert!(!is_stale_temporary(OsStr::new(".s.npy.batched-svd-tmp-")));
        assert!(!is_stale_temporary(OsStr::new("s.npy")));
        let own = format!(".s.npy{TEMP_TAG}{}", std::process::id());
        assert!(is_stale_temporary(OsStr::new(&own)));
    }
}
