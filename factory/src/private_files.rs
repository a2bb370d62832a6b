//! Files only their owner can read, written so that a crash cannot lose them.
//!
//! The data directory holds a person's images and, in its configuration, their keys: other
//! users of the machine must not read them, so directories the app creates are 0700 and files
//! 0600. A file is durable only once the directory entry that names it is on disk, and that
//! holds for every directory the app just created on its way there too: each new directory is
//! fsynced into its parent before anything is recorded about its contents.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Mode of every file the app writes.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory the app creates.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing ancestors, each 0700 and fsynced into its parent. Existing
/// directories are left as they are.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while fs::symlink_metadata(at).is_err() {
        missing.push(at);
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => break,
        }
    }
    for new in missing.into_iter().rev() {
        match DirBuilder::new().mode(DIR_MODE).create(new) {
            Ok(()) => {}
            // Another thread or process made it meanwhile: fine, it is there.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        if let Some(parent) = new.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    if !fs::metadata(dir)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a directory", dir.display()),
        ));
    }
    Ok(())
}

/// Opens a new file for writing, 0600; fails if it exists.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Flushes a directory's entries (a new file's name, a rename) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_directories_and_files_are_private_and_existing_ones_untouched() {
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).unwrap();
        let deep = shared.join("a/b/c");
        create_dir_all(&deep).unwrap();
        create_dir_all(&deep).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&shared), 0o755, "an existing directory keeps its mode");
        for dir in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&shared.join(dir)), 0o700, "{dir}");
        }
        let file = deep.join("f");
        create_new(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert!(create_new(&file).is_err(), "never overwrites");
        fs::write(root.path().join("plain"), b"x").unwrap();
        assert!(create_dir_all(&root.path().join("plain")).is_err());
    }
}
