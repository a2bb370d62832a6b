//! The self-managed PostgreSQL cluster (the embedded default).
//!
//! With no `DATABASE_URL`, the server keeps its own cluster in `<data dir>/postgres`, made with
//! the machine's PostgreSQL binaries on first start and reused afterwards. It listens on a Unix
//! socket inside the cluster directory only (no TCP port), so nothing else on the machine can
//! reach it, and authentication can be `trust`.
//!
//! Recovery without manual steps is the point of this module. A lock file next to the cluster
//! (`<data dir>/postgres.lock`, held with `flock` for as long as a server uses the cluster) tells
//! a live server apart from a crashed one: the kernel drops the lock when its holder dies, even
//! on `kill -9`. So when we hold the lock and still find a postmaster running, it is an orphan
//! of a crashed server and is stopped; when we find a `postmaster.pid` whose process is gone or
//! is not PostgreSQL (a pid reused after a reboot), the file is stale and is removed.
//!
//! PostgreSQL refuses to run as root. Started as root, the cluster runs as an unprivileged system
//! user (`postgres`), and when that user cannot reach the data dir (a home directory is mode
//! 0700), the cluster is kept in `/var/lib/art-factory/clusters/<hash>` with `<data dir>/postgres`
//! a symbolic link to it; the home directory's permissions are left alone.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::binaries::{self, BinariesError, PgBinaries};

mod layout;
mod process;

use layout::{resolve_layout, service_user_if_root, Layout, ServiceUser};
use process::{is_alive, is_postgres_process, read_pid_file, same_dir, wait_until};

/// The database the app uses inside its own cluster.
pub const DATABASE: &str = "art_factory";
/// The cluster's superuser (the app owns the cluster, so it connects as superuser).
pub const SUPERUSER: &str = "art_factory";
/// Where clusters go when the data dir is out of reach of the PostgreSQL user (root only).
const RELOCATED_ROOT: &str = "/var/lib/art-factory/clusters";
/// Unix socket paths are limited to about 104 bytes on macOS and 108 on Linux.
const MAX_SOCKET_PATH: usize = 100;
const PORT: u16 = 5432;
/// System users that may run PostgreSQL when we are root, in order of preference.
const SERVICE_USERS: [&str; 2] = ["postgres", "_postgres"];

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `<data dir>/postgres`.
    pub dir: PathBuf,
    /// Where the PostgreSQL binaries are, when not found by searching.
    pub bin_dir: Option<PathBuf>,
    /// Only a throwaway cluster (tests) may turn this off; user data always has it on.
    pub fsync: bool,
}

impl ClusterOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            bin_dir: None,
            fsync: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Binaries(#[from] BinariesError),
    #[error(
        "Another art-factory server is already using the database in {0}. Stop it first, \
         or start this one with a different --data-dir."
    )]
    InUse(PathBuf),
    #[error(
        "PostgreSQL cannot run as root, and no unprivileged system user to run it was found \
         (looked for: {users}). Run art-factory as a normal user, create a `postgres` user \
         (it comes with the postgresql package), or set DATABASE_URL."
    )]
    NoServiceUser { users: String },
    #[error("{action} failed for {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {output}")]
    Command { command: String, output: String },
    #[error(
        "PostgreSQL did not start. The last lines of its log ({log}):\n{tail}\n\
         If the data directory is damaged, move {pgdata} aside and start again to create a new one."
    )]
    Start {
        log: PathBuf,
        pgdata: PathBuf,
        tail: String,
    },
    #[error("could not prepare the database `{DATABASE}`: {0}")]
    Database(String),
    #[error(
        "{path} is not a directory the managed database can use ({why}). \
         Remove or rename it, or choose another --data-dir."
    )]
    Unusable { path: PathBuf, why: String },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io {
        action,
        path,
        source,
    }
}

/// A started cluster. Dropping it leaves PostgreSQL running (and the lock released); call
/// [`RunningCluster::stop`] for a clean stop.
#[derive(Debug)]
pub struct RunningCluster {
    layout: Layout,
    bins: PgBinaries,
    owner: Option<ServiceUser>,
    url: String,
    _lock: File,
}

impl RunningCluster {
    /// Creates the cluster if needed, recovers from a crash if needed, starts PostgreSQL, and
    /// makes sure the app's database exists. Blocks for a second or two; call it once at start.
    pub async fn start(options: ClusterOptions) -> Result<Self, ClusterError> {
        let cluster = tokio::task::spawn_blocking(move || Self::start_blocking(&options))
            .await
            .map_err(|e| ClusterError::Database(e.to_string()))??;
        cluster.ensure_database().await?;
        Ok(cluster)
    }

    fn start_blocking(options: &ClusterOptions) -> Result<Self, ClusterError> {
        let lock = take_lock(&options.dir)?;
        let owner = service_user_if_root()?;
        let layout = resolve_layout(&options.dir, owner.as_ref())?;
        let existing_major = fs::read_to_string(layout.pgdata.join("PG_VERSION"))
            .ok()
            .and_then(|v| v.trim().split('.').next()?.parse().ok());
        let bins = binaries::select(options.bin_dir.as_deref(), existing_major, &layout.root)?;
        let cluster = Self {
            url: connection_string(&layout.socket_dir, DATABASE),
            layout,
            bins,
            owner,
            _lock: lock,
        };
        cluster.prepare_directories()?;
        if existing_major.is_none() {
            cluster.initdb(options.fsync)?;
        }
        cluster.write_settings(options.fsync)?;
        cluster.recover_from_crash()?;
        cluster.pg_ctl_start()?;
        tracing::info!(
            cluster = %cluster.layout.root.display(),
            version = %cluster.bins.version,
            "managed PostgreSQL is running"
        );
        Ok(cluster)
    }

    /// A libpq key-value connection string for the app's database, over the Unix socket.
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// A connection string for another database in this cluster.
    pub fn url_for(&self, database: &str) -> String {
        connection_string(&self.layout.socket_dir, database)
    }

    pub fn root(&self) -> &Path {
        &self.layout.root
    }

    pub fn pgdata(&self) -> &Path {
        &self.layout.pgdata
    }

    pub fn binaries(&self) -> &PgBinaries {
        &self.bins
    }

    /// The postmaster's pid, from `postmaster.pid`, while it runs.
    pub fn postmaster_pid(&self) -> Option<i32> {
        read_pid_file(&self.layout.pgdata.join("postmaster.pid")).map(|(pid, _)| pid)
    }

    /// Stops PostgreSQL, waiting for a clean shutdown (fast mode: sessions are ended,
    /// everything committed is on disk).
    pub async fn stop(self) -> Result<(), ClusterError> {
        tokio::task::spawn_blocking(move || self.stop_blocking())
            .await
            .map_err(|e| ClusterError::Database(e.to_string()))?
    }

    /// [`Self::stop`] for places with no runtime (an exit hook).
    pub fn stop_blocking(&self) -> Result<(), ClusterError> {
        self.run_tool(
            "pg_ctl",
            &[
                "stop",
                "-D",
                path_str(&self.layout.pgdata),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
            ],
        )?;
        tracing::info!(cluster = %self.layout.root.display(), "managed PostgreSQL stopped");
        Ok(())
    }

    fn prepare_directories(&self) -> Result<(), ClusterError> {
        for dir in [
            &self.layout.root,
            &self.layout.pgdata,
            &self.layout.socket_dir,
        ] {
            self.make_private_dir(dir)?;
        }
        Ok(())
    }

    /// Creates `dir` (mode 0700, owned by the service user when root) or checks an existing one.
    fn make_private_dir(&self, dir: &Path) -> Result<(), ClusterError> {
        match fs::symlink_metadata(dir) {
            Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
                return Err(ClusterError::Unusable {
                    path: dir.to_path_buf(),
                    why: "it is not a plain directory".into(),
                });
            }
            Ok(_) => {}
            Err(_) => fs::create_dir_all(dir).map_err(io_err("creating", dir))?,
        }
        if let Some(owner) = &self.owner {
            std::os::unix::fs::chown(dir, Some(owner.uid), Some(owner.gid))
                .map_err(io_err("changing the owner of", dir))?;
        } else {
            let meta = fs::metadata(dir).map_err(io_err("reading", dir))?;
            if meta.uid() != nix::unistd::geteuid().as_raw() {
                return Err(ClusterError::Unusable {
                    path: dir.to_path_buf(),
                    why: "it belongs to another user".into(),
                });
            }
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("setting permissions of", dir))
    }

    fn initdb(&self, fsync: bool) -> Result<(), ClusterError> {
        tracing::info!(pgdata = %self.layout.pgdata.display(), "creating the PostgreSQL cluster");
        let mut args = vec![
            "-D",
            path_str(&self.layout.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ];
        if !fsync {
            args.push("--no-sync");
        }
        self.run_tool("initdb", &args)?;
        let conf = self.layout.pgdata.join("postgresql.conf");
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_err("opening", &conf))?;
        writeln!(
            file,
            "\n# Settings art-factory manages are rewritten at every start:\ninclude_if_exists = 'art-factory.conf'"
        )
        .map_err(io_err("writing", &conf))
    }

    /// Rewrites the settings art-factory owns, so a moved data dir or changed option applies.
    fn write_settings(&self, fsync: bool) -> Result<(), ClusterError> {
        let on_off = |b: bool| if b { "on" } else { "off" };
        let settings = format!(
            "# Written by art-factory at every start; changes here are overwritten.\n\
             listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{socket}'\n\
             unix_socket_permissions = 0700\n\
             fsync = {fsync}\n\
             full_page_writes = {fsync}\n\
             synchronous_commit = {fsync}\n\
             logging_collector = off\n",
            socket = self
                .layout
                .socket_dir
                .display()
                .to_string()
                .replace('\'', "''"),
            fsync = on_off(fsync),
        );
        let path = self.layout.pgdata.join("art-factory.conf");
        fs::write(&path, settings).map_err(io_err("writing", &path))?;
        if let Some(owner) = &self.owner {
            std::os::unix::fs::chown(&path, Some(owner.uid), Some(owner.gid))
                .map_err(io_err("changing the owner of", &path))?;
        }
        Ok(())
    }

    /// Clears what a crash leaves behind. We hold the lock, so no live server uses this cluster:
    /// a running postmaster is an orphan, and a pid file naming anything else is stale.
    fn recover_from_crash(&self) -> Result<(), ClusterError> {
        let pid_file = self.layout.pgdata.join("postmaster.pid");
        if let Some((pid, data_dir)) = read_pid_file(&pid_file) {
            if is_postgres_process(pid) && same_dir(&data_dir, &self.layout.pgdata) {
                tracing::warn!(
                    pid,
                    "stopping a PostgreSQL left running by a crashed server"
                );
                if self.stop_blocking().is_err() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGQUIT,
                    );
                }
                wait_until(Duration::from_secs(30), || !is_alive(pid));
            } else {
                tracing::warn!(pid, "removing a stale postmaster.pid left by a crash");
                let _ = fs::remove_file(&pid_file);
            }
        }
        let socket_lock = self.layout.socket_dir.join(format!(".s.PGSQL.{PORT}.lock"));
        if let Some((pid, _)) = read_pid_file(&socket_lock) {
            if !is_postgres_process(pid) {
                let _ = fs::remove_file(&socket_lock);
                let _ = fs::remove_file(self.layout.socket_dir.join(format!(".s.PGSQL.{PORT}")));
            }
        }
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), ClusterError> {
        // After a kill -9 of the postmaster its children need a moment to notice and release
        // the shared memory; PostgreSQL refuses to start until they have. Retry briefly.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let attempt = self.run_tool(
                "pg_ctl",
                &[
                    "start",
                    "-D",
                    path_str(&self.layout.pgdata),
                    "-l",
                    path_str(&self.layout.log),
                    "-w",
                    "-t",
                    "60",
                    "-s",
                ],
            );
            match attempt {
                Ok(_) => return Ok(()),
                Err(_) if Instant::now() < deadline && self.log_says_retry() => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(_) => {
                    return Err(ClusterError::Start {
                        log: self.layout.log.clone(),
                        pgdata: self.layout.pgdata.clone(),
                        tail: log_tail(&self.layout.log, 15),
                    })
                }
            }
        }
    }

    fn log_says_retry(&self) -> bool {
        let tail = log_tail(&self.layout.log, 5);
        tail.contains("pre-existing shared memory block") || tail.contains("already exists")
    }

    /// Runs a PostgreSQL tool as the cluster's owner, in its own process group so that a
    /// Ctrl-C in the terminal reaches the server (which stops PostgreSQL cleanly) and not
    /// PostgreSQL directly.
    fn run_tool(&self, tool: &str, args: &[&str]) -> Result<String, ClusterError> {
        let mut command = Command::new(self.bins.tool(tool));
        command
            .args(args)
            .current_dir(&self.layout.root)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .process_group(0);
        if let Some(owner) = &self.owner {
            command.uid(owner.uid).gid(owner.gid);
        }
        let rendered = format!("{tool} {}", args.join(" "));
        let out = command.output().map_err(|e| ClusterError::Command {
            command: rendered.clone(),
            output: e.to_string(),
        })?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(ClusterError::Command {
                command: rendered,
                output: text.trim().to_string(),
            })
        }
    }

    async fn ensure_database(&self) -> Result<(), ClusterError> {
        let fail = |e: &dyn std::fmt::Display| ClusterError::Database(e.to_string());
        let mut conn = AsyncPgConnection::establish(&self.url_for("postgres"))
            .await
            .map_err(|e| fail(&e))?;
        let exists: Vec<Exists> = sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(DATABASE)
            .load(&mut conn)
            .await
            .map_err(|e| fail(&e))?;
        if exists.is_empty() {
            sql_query(format!("CREATE DATABASE {DATABASE}"))
                .execute(&mut conn)
                .await
                .map_err(|e| fail(&e))?;
        }
        Ok(())
    }
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    one: i32,
}

/// A libpq key-value connection string over a Unix socket. Values are quoted, so paths with
/// spaces (macOS "Application Support") work.
pub fn connection_string(socket_dir: &Path, database: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"));
    format!(
        "host={} port={PORT} user={SUPERUSER} dbname={}",
        quote(&socket_dir.display().to_string()),
        quote(database)
    )
}

/// Takes `<dir>.lock` exclusively, or says another server has the cluster.
fn take_lock(dir: &Path) -> Result<File, ClusterError> {
    let lock_path = dir.with_extension("lock");
    if let Some(parent) = lock_path.parent() {
        fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io_err("opening", &lock_path))?;
    // A lock released a moment ago can still be held for an instant by a child another thread
    // of this process forked and has not yet exec'd (the open file is shared until exec closes
    // it): a server that holds the lock holds it for its whole life, so a short wait tells the
    // two apart.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(ClusterError::InUse(dir.to_path_buf()))
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err("locking", &lock_path)(e)),
        }
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn path_str(path: &Path) -> &str {
    // Paths we build come from the data dir, which the config layer has already checked is
    // valid UTF-8; a lossy fallback would point PostgreSQL at the wrong directory.
    path.to_str().expect("cluster paths are UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_quote_paths_with_spaces_and_quotes() {
        let url = connection_string(Path::new("/Users/a b/it's"), "art_factory");
        assert_eq!(
            url,
            r"host='/Users/a b/it\'s' port=5432 user=art_factory dbname='art_factory'"
        );
    }
}
