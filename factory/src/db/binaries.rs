//! Finding the PostgreSQL server binaries on this machine.
//!
//! The managed cluster needs `initdb`, `pg_ctl` and `postgres` from one installation. They are
//! looked for, in order: a configured directory, `PATH`, `pg_config --bindir`, Debian's
//! `/usr/lib/postgresql/<major>/bin`, and the usual macOS locations (Homebrew, Postgres.app).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest major version the schema is written for.
pub const MIN_MAJOR: u32 = 13;

const TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// One PostgreSQL installation: a directory holding all of [`TOOLS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    pub dir: PathBuf,
    /// Major version, from `pg_ctl --version` (e.g. 15).
    pub major: u32,
    /// The whole version line, for messages.
    pub version: String,
}

impl PgBinaries {
    pub fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Checks `dir` holds a usable installation.
    pub fn probe(dir: &Path) -> Option<Self> {
        if !TOOLS.iter().all(|t| is_executable(&dir.join(t))) {
            return None;
        }
        let out = Command::new(dir.join("pg_ctl"))
            .arg("--version")
            .output()
            .ok()?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let major = parse_major(&version)?;
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        Some(Self {
            dir,
            major,
            version,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BinariesError {
    #[error(
        "PostgreSQL {MIN_MAJOR} or newer was not found on this machine (looked in: {searched}). \
         Install it (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql@16`), \
         point ART_FACTORY_POSTGRES_BIN_DIR at its bin directory, \
         or set DATABASE_URL to use a PostgreSQL server you run yourself."
    )]
    NotFound { searched: String },
    #[error(
        "The database in {cluster} was created by PostgreSQL {cluster_major}, but only version(s) {found} \
         are installed. Install PostgreSQL {cluster_major} next to it, or upgrade the cluster with pg_upgrade."
    )]
    VersionMismatch {
        cluster: String,
        cluster_major: u32,
        found: String,
    },
}

/// Parses the major version out of `pg_ctl (PostgreSQL) 15.18 (Debian ...)`.
pub fn parse_major(version_line: &str) -> Option<u32> {
    let after = version_line.split(')').nth(1)?.trim_start();
    let number: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
    number.parse().ok()
}

/// Every candidate directory, in search order (may contain duplicates and missing paths).
pub fn candidate_dirs(configured: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = configured {
        dirs.push(dir.to_path_buf());
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    dirs.extend(versioned_dirs("/usr/lib/postgresql", "", "bin"));
    dirs.extend(versioned_dirs("/opt/homebrew/opt", "postgresql@", "bin"));
    dirs.extend(versioned_dirs("/usr/local/opt", "postgresql@", "bin"));
    dirs.push(PathBuf::from("/opt/homebrew/bin"));
    dirs.push(PathBuf::from("/usr/local/bin"));
    dirs.extend(versioned_dirs(
        "/Applications/Postgres.app/Contents/Versions",
        "",
        "bin",
    ));
    dirs
}

/// `<root>/<prefix><version>/<sub>` for every version present, newest first.
fn versioned_dirs(root: &str, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version: u32 = name.strip_prefix(prefix)?.split('.').next()?.parse().ok()?;
            Some((version, e.path().join(sub)))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Every usable installation among `dirs`, in order, without duplicates.
pub fn discover(dirs: &[PathBuf]) -> Vec<PgBinaries> {
    let mut found: Vec<PgBinaries> = Vec::new();
    for dir in dirs {
        if let Some(bins) = PgBinaries::probe(dir) {
            if bins.major >= MIN_MAJOR && !found.iter().any(|f| f.dir == bins.dir) {
                found.push(bins);
            }
        }
    }
    found
}

/// Picks the installation to run a cluster with: the one matching the cluster's existing major
/// version if there is a cluster, otherwise the first found.
pub fn select(
    configured: Option<&Path>,
    existing_major: Option<u32>,
    cluster_dir: &Path,
) -> Result<PgBinaries, BinariesError> {
    select_from(&candidate_dirs(configured), existing_major, cluster_dir)
}

/// [`select`] among the given directories.
pub fn select_from(
    dirs: &[PathBuf],
    existing_major: Option<u32>,
    cluster_dir: &Path,
) -> Result<PgBinaries, BinariesError> {
    let found = discover(dirs);
    if found.is_empty() {
        let searched = dirs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(BinariesError::NotFound { searched });
    }
    match existing_major {
        None => Ok(found[0].clone()),
        Some(major) => found
            .iter()
            .find(|b| b.major == major)
            .cloned()
            .ok_or_else(|| BinariesError::VersionMismatch {
                cluster: cluster_dir.display().to_string(),
                cluster_major: major,
                found: found
                    .iter()
                    .map(|b| b.major.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A client tool (`pg_dump`, `pg_restore`) for the installation in `preferred`: there, beside
/// the real file its `pg_ctl` links to, or else in the first candidate directory that has it.
pub fn client_tool(preferred: &Path, name: &str) -> Option<PathBuf> {
    let mut dirs = vec![preferred.to_path_buf()];
    if let Some(real) = std::fs::canonicalize(preferred.join("pg_ctl"))
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(real);
    }
    dirs.extend(candidate_dirs(None));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_is_read_from_debian_and_homebrew_version_lines() {
        assert_eq!(
            parse_major("pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("pg_ctl (PostgreSQL) 16.4"), Some(16));
        assert_eq!(parse_major("pg_ctl (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("nonsense"), None);
    }

    #[test]
    fn with_no_postgresql_installed_the_error_says_how_to_install_it_or_use_database_url() {
        let empty = tempfile::tempdir().unwrap();
        let err = select_from(&[empty.path().to_path_buf()], None, Path::new("/x")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("brew install"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
        assert!(
            message.contains(&empty.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn an_existing_cluster_needs_binaries_of_its_own_major_version() {
        let dirs = candidate_dirs(None);
        let Some(installed) = discover(&dirs).into_iter().next() else {
            panic!("these tests need PostgreSQL installed (scripts/setup installs it)");
        };
        let err = select_from(&dirs, Some(9), Path::new("/data/postgres")).unwrap_err();
        assert!(matches!(
            err,
            BinariesError::VersionMismatch {
                cluster_major: 9,
                ..
            }
        ));
        assert!(err.to_string().contains(&installed.major.to_string()));
        assert_eq!(
            select_from(&dirs, Some(installed.major), Path::new("/x"))
                .unwrap()
                .major,
            installed.major
        );
    }
}
