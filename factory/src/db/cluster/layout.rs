//! Where a cluster lives: its directory (relocated where the service user can reach it when we
//! run as root), its data and log, and its socket directory (a short random one when the path
//! would be too long for a Unix socket); and who runs it.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{io_err, ClusterError, MAX_SOCKET_PATH, PORT, RELOCATED_ROOT, SERVICE_USERS};

/// The unprivileged user PostgreSQL runs as when we are root.
#[derive(Debug, Clone)]
pub(super) struct ServiceUser {
    pub uid: u32,
    pub gid: u32,
}

/// Where everything of one cluster lives.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// The cluster directory (the real one, after following a relocation link).
    pub root: PathBuf,
    /// `PGDATA`.
    pub pgdata: PathBuf,
    /// Directory of the Unix socket.
    pub socket_dir: PathBuf,
    pub log: PathBuf,
}

pub(super) fn service_user_if_root() -> Result<Option<ServiceUser>, ClusterError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    for name in SERVICE_USERS {
        if let Ok(Some(user)) = nix::unistd::User::from_name(name) {
            return Ok(Some(ServiceUser {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
            }));
        }
    }
    Err(ClusterError::NoServiceUser {
        users: SERVICE_USERS.join(", "),
    })
}

pub(super) fn resolve_layout(
    requested: &Path,
    owner: Option<&ServiceUser>,
) -> Result<Layout, ClusterError> {
    let root = match fs::symlink_metadata(requested) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::read_link(requested).map_err(io_err("reading the link", requested))?
        }
        Ok(_) => requested.to_path_buf(),
        Err(_) => match owner {
            Some(owner) if !reachable_by(requested, owner) => relocate(requested)?,
            _ => requested.to_path_buf(),
        },
    };
    let own_socket_dir = root.join("run");
    let socket_dir = if socket_path_fits(&own_socket_dir) {
        own_socket_dir
    } else {
        short_socket_dir(&root, owner)?
    };
    Ok(Layout {
        pgdata: root.join("data"),
        log: root.join("postgres.log"),
        socket_dir,
        root,
    })
}

/// Puts the cluster under [`RELOCATED_ROOT`] and links `requested` to it.
fn relocate(requested: &Path) -> Result<PathBuf, ClusterError> {
    let target = Path::new(RELOCATED_ROOT).join(short_hash(requested));
    fs::create_dir_all(&target).map_err(io_err("creating", &target))?;
    if let Some(parent) = requested.parent() {
        fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
    }
    std::os::unix::fs::symlink(&target, requested).map_err(io_err("linking", requested))?;
    tracing::info!(
        link = %requested.display(),
        cluster = %target.display(),
        "the PostgreSQL user cannot reach the data dir; keeping the cluster where it can"
    );
    Ok(target)
}

/// Whether `user` can traverse every existing ancestor of `path` (ACLs aside).
pub(super) fn reachable_by(path: &Path, user: &ServiceUser) -> bool {
    path.ancestors().skip(1).all(|dir| match fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.mode();
            mode & 0o001 != 0
                || (meta.uid() == user.uid && mode & 0o100 != 0)
                || (meta.gid() == user.gid && mode & 0o010 != 0)
        }
        Err(_) => true, // will be created by us, with the service user as owner
    })
}

/// Where a record of the short socket directory is kept, inside the cluster directory.
const SOCKET_DIR_RECORD: &str = "socket-dir";

/// A socket directory under the system's temporary directory, for a cluster whose own path is
/// too long for a Unix socket. Its name is random, so nobody can prepare it in advance; it is
/// created (never followed through a symlink, never reused if someone else owns it) and
/// recorded in the cluster directory, so later starts use the same one.
fn short_socket_dir(root: &Path, owner: Option<&ServiceUser>) -> Result<PathBuf, ClusterError> {
    let record = root.join(SOCKET_DIR_RECORD);
    let ours = |meta: &fs::Metadata| {
        let uid = owner.map_or_else(|| nix::unistd::geteuid().as_raw(), |o| o.uid);
        meta.uid() == uid || meta.uid() == nix::unistd::geteuid().as_raw()
    };
    if let Ok(text) = fs::read_to_string(&record) {
        let dir = PathBuf::from(text.trim());
        let usable = dir.parent() == Some(std::env::temp_dir().as_path())
            && fs::symlink_metadata(&dir).is_ok_and(|meta| {
                meta.file_type().is_dir() && ours(&meta) && meta.mode() & 0o077 == 0
            });
        if usable {
            return Ok(dir);
        }
    }
    fs::create_dir_all(root).map_err(io_err("creating", root))?;
    for _ in 0..16 {
        let dir = std::env::temp_dir().join(format!("af-{:016x}", rand::random::<u64>()));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                fs::write(&record, dir.as_os_str().as_encoded_bytes())
                    .map_err(io_err("writing", &record))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("creating", &dir)(e)),
        }
    }
    Err(ClusterError::Unusable {
        path: std::env::temp_dir(),
        why: "no fresh directory could be made there for the database socket".into(),
    })
}

pub(super) fn socket_path_fits(socket_dir: &Path) -> bool {
    socket_dir
        .join(format!(".s.PGSQL.{PORT}"))
        .as_os_str()
        .len()
        <= MAX_SOCKET_PATH
}

/// 16 hex digits of FNV-1a over the path: stable across builds and platforms.
pub(super) fn short_hash(path: &Path) -> String {
    format!(
        "{:016x}",
        crate::hashing::fnv1a64(path.as_os_str().as_encoded_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_directory_too_deep_for_a_unix_socket_is_replaced_by_a_short_random_one() {
        let base = tempfile::tempdir().unwrap();
        let deep = base.path().join("x".repeat(120));
        let layout = resolve_layout(&deep, None).unwrap();
        assert!(socket_path_fits(&layout.socket_dir));
        assert!(layout.socket_dir.starts_with(std::env::temp_dir()));
        let name = layout.socket_dir.file_name().unwrap().to_string_lossy();
        assert!(
            !name.contains(&short_hash(&deep)),
            "not derived from the path: {name}"
        );
        let mode = fs::symlink_metadata(&layout.socket_dir).unwrap().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(
            resolve_layout(&deep, None).unwrap().socket_dir,
            layout.socket_dir,
            "the next start uses the same directory"
        );
        // Someone swaps it for a link to a place of their choosing: it is not followed.
        fs::remove_dir(&layout.socket_dir).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &layout.socket_dir).unwrap();
        let again = resolve_layout(&deep, None).unwrap().socket_dir;
        assert_ne!(again, layout.socket_dir);
        assert!(fs::symlink_metadata(&again).unwrap().is_dir());
        fs::remove_file(&layout.socket_dir).unwrap();
        fs::remove_dir(&again).unwrap();
        let shallow = resolve_layout(Path::new("/srv/af/postgres"), None).unwrap();
        assert_eq!(shallow.socket_dir, Path::new("/srv/af/postgres/run"));
    }

    #[test]
    fn the_relocation_hash_is_stable() {
        assert_eq!(
            short_hash(Path::new("/root/.local/share/art-factory/postgres")).len(),
            16
        );
        assert_eq!(short_hash(Path::new("/a")), short_hash(Path::new("/a")),);
        assert_ne!(short_hash(Path::new("/a")), short_hash(Path::new("/b")));
    }
}
