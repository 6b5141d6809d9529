//! All-or-nothing output: files are written under temporary names inside the output
//! directory and renamed to their final names only once every one of them was written.
//!
//! Dropping a [`Staging`] that was not committed removes its temporary files and the
//! directories it created, so an early return on any error leaves nothing behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// An output directory being filled.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    /// Directories created by this run, outermost first.
    created: Vec<PathBuf>,
    /// Written temporaries and their final names, in commit order.
    pending: Vec<(PathBuf, PathBuf)>,
    committed: bool,
}

impl Staging {
    /// Creates `dir` (and missing parents) if needed and checks that it is a writable
    /// directory.
    ///
    /// # Errors
    /// If `dir` exists but is not a directory, cannot be created, or is not writable.
    pub fn prepare(dir: &Path) -> Result<Self, CliError> {
        let mut staging = Self {
            dir: dir.to_path_buf(),
            created: Vec::new(),
            pending: Vec::new(),
            committed: false,
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(CliError::other(format!(
                    "output path '{}' exists and is not a directory",
                    dir.display()
                )));
            }
            Err(_) => staging.create_dir()?,
        }
        staging.check_writable()?;
        Ok(staging)
    }

    /// Creates the directory and its missing parents, remembering which ones it created.
    fn create_dir(&mut self) -> Result<(), CliError> {
        let missing: Vec<PathBuf> = self
            .dir
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

    /// Creates and removes a probe file, so that an unwritable directory is reported before
    /// any computing.
    fn check_writable(&self) -> Result<(), CliError> {
        let probe = self
            .dir
            .join(format!(".batched-svd.{}.probe", std::process::id()));
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .and_then(|_| fs::remove_file(&probe))
            .map_err(|e| {
                CliError::other(format!(
                    "output directory '{}' is not writable: {}",
                    self.dir.display(),
                    crate::error::io_reason(&e)
                ))
            })
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
        let target = self.dir.join(name);
        let temp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        // Registered first, so that a half-written temporary is removed too.
        self.pending.push((temp.clone(), target.clone()));
        write(&temp).map_err(|e| CliError::io("cannot write", &target, &e))
    }

    /// Renames every temporary to its final name, in the order they were written.
    ///
    /// # Errors
    /// If a rename fails; the files already renamed by this call are removed again.
    pub fn commit(mut self) -> Result<(), CliError> {
        let mut renamed: Vec<PathBuf> = Vec::new();
        for (temp, target) in &self.pending {
            if let Err(e) = fs::rename(temp, target) {
                for done in &renamed {
                    let _ = fs::remove_file(done);
                }
                return Err(CliError::io("cannot write", target, &e));
            }
            renamed.push(target.clone());
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for (temp, _) in &self.pending {
            let _ = fs::remove_file(temp);
        }
        // Innermost first; `remove_dir` only removes empty directories, so nothing that
        // someone else put there meanwhile is lost.
        for dir in self.created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
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
    fn commit_renames_and_keeps_directory() {
        let dir = scratch("commit");
        let mut s = Staging::prepare(&dir).unwrap();
        s.write("x.txt", |p| fs::write(p, b"x")).unwrap();
        s.commit().unwrap();
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.txt")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_in_the_way_is_an_error() {
        let path = scratch("file");
        fs::write(&path, b"").unwrap();
        assert!(Staging::prepare(&path).is_err());
        assert!(path.is_file());
        fs::remove_file(&path).unwrap();
    }
}
