//! The test harness: a real PostgreSQL, one fresh database per test.
//!
//! The first test in a process starts a throwaway cluster (the same [`RunningCluster`] code the
//! app uses, in a temporary directory, with fsync off) and migrates a template database once.
//! Every [`TestDb`] is then a `CREATE DATABASE ... TEMPLATE` copy, which takes milliseconds, so
//! tests never share rows. When the process exits, the cluster is stopped and its directory
//! removed.
//!
//! `ART_FACTORY_TEST_DATABASE_URL` points the harness at a server you run instead (a URL to its
//! maintenance database). The harness only ever creates and drops databases whose names it
//! generated in this process (`af_test_<pid>_...`); it never touches any other database.

pub mod a1111_standin;
pub mod civitai_standin;
pub mod comfyui_standin;
pub mod declared_standin;
pub mod fal_standin;
pub mod fixtures;
pub mod gltf_cases;
pub mod keyring;
pub mod noop;
pub mod replicate_standin;
mod scenes;

pub use scenes::{blender_processes, sample_scene};
pub mod s3;
pub mod standin;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::cluster::{ClusterOptions, RunningCluster};
use crate::db::{self, Pool};

pub const SERVER_URL_VAR: &str = "ART_FACTORY_TEST_DATABASE_URL";

/// A database made for one test, dropped when the value is dropped.
pub struct TestDb {
    name: String,
    url: String,
    pool: Pool,
}

impl TestDb {
    /// A new, migrated, empty database.
    pub async fn new() -> Self {
        let server = server().await;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}_{n}", server.prefix);
        let mut conn = AsyncPgConnection::establish(&server.admin_url)
            .await
            .expect("connect to the test server");
        sql_query(format!(
            "CREATE DATABASE {name} TEMPLATE {}",
            server.template
        ))
        .execute(&mut conn)
        .await
        .expect("clone the template database");
        let url = (server.url_for)(&name);
        let pool = db::pool(&url, 8).expect("pool for the test database");
        TestDb { name, url, pool }
    }

    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn conn(&self) -> db::PooledConnection {
        db::get_conn(&self.pool).await.expect("test connection")
    }

    /// `pg_dump` of this database (schema and data, plain SQL), as a person backing it up would
    /// run it.
    pub fn dump(&self) -> String {
        let binaries = crate::db::binaries::discover(&crate::db::binaries::candidate_dirs(None));
        let pg_dump = binaries
            .iter()
            .map(|b| b.tool("pg_dump"))
            .find(|tool| tool.exists())
            .expect("pg_dump beside a PostgreSQL installation");
        let output = std::process::Command::new(pg_dump)
            .arg("--dbname")
            .arg(&self.url)
            .output()
            .expect("run pg_dump");
        assert!(
            output.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("a plain SQL dump is text")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(server) = SERVER.get() else { return };
        let admin_url = server.admin_url.clone();
        let name = std::mem::take(&mut self.name);
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread
        // with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = AsyncPgConnection::establish(&admin_url).await.ok()?;
                sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);
static SERVER: OnceLock<TestServer> = OnceLock::new();
static INIT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
/// The throwaway cluster, stopped by the exit hook.
static OWNED_CLUSTER: Mutex<Option<(RunningCluster, tempfile::TempDir)>> = Mutex::new(None);

struct TestServer {
    /// Where CREATE/DROP DATABASE is issued.
    admin_url: String,
    /// Builds the URL of a database on the same server.
    url_for: Box<dyn Fn(&str) -> String + Send + Sync>,
    /// Names this process may create and drop start with this.
    prefix: String,
    template: String,
}

async fn server() -> &'static TestServer {
    INIT.get_or_init(|| async {
        let server = match std::env::var(SERVER_URL_VAR) {
            Ok(url) => external_server(url),
            Err(_) => throwaway_cluster().await,
        };
        create_template(&server).await;
        let _ = SERVER.set(server);
    })
    .await;
    SERVER.get().expect("initialised above")
}

fn names() -> (String, String) {
    let prefix = format!("af_test_{}", std::process::id());
    let template = format!("{prefix}_template");
    (prefix, template)
}

fn external_server(url: String) -> TestServer {
    let (prefix, template) = names();
    let base = url.clone();
    TestServer {
        admin_url: url,
        url_for: Box::new(move |db| replace_database(&base, db)),
        prefix,
        template,
    }
}

async fn throwaway_cluster() -> TestServer {
    let dir = tempfile::Builder::new()
        .prefix("af-test-cluster-")
        .tempdir()
        .expect("temporary directory for the test cluster");
    let options = ClusterOptions {
        dir: dir.path().join("postgres"),
        bin_dir: None,
        fsync: false,
    };
    let cluster = RunningCluster::start(options)
        .await
        .expect("start the throwaway test cluster");
    let admin_url = cluster.url_for("postgres");
    let socket_url = cluster.url_for("DBNAME");
    *OWNED_CLUSTER.lock().unwrap() = Some((cluster, dir));
    // SAFETY: registering a plain `extern "C" fn` with no captured state.
    unsafe { libc::atexit(stop_owned_cluster) };
    let (prefix, template) = names();
    TestServer {
        admin_url,
        url_for: Box::new(move |db| socket_url.replace("DBNAME", db)),
        prefix,
        template,
    }
}

extern "C" fn stop_owned_cluster() {
    if let Ok(mut guard) = OWNED_CLUSTER.lock() {
        if let Some((cluster, dir)) = guard.take() {
            let _ = cluster.stop_blocking();
            drop(dir);
        }
    }
}

async fn create_template(server: &TestServer) {
    let mut conn = AsyncPgConnection::establish(&server.admin_url)
        .await
        .expect("connect to the test server");
    sql_query(format!("CREATE DATABASE {}", server.template))
        .execute(&mut conn)
        .await
        .expect("create the template database");
    // The migration connection is closed when this returns: PostgreSQL copies a template only
    // while nobody is connected to it.
    db::run_migrations(&(server.url_for)(&server.template))
        .await
        .expect("migrate the template");
}

/// Asks `check` until it answers `Some`, pausing briefly between asks; panics once `within` has
/// passed. Tests wait for what they can observe with this, never with a bare sleep.
pub async fn eventually<T>(within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(done) = check().await {
            return done;
        }
        assert!(
            Instant::now() < deadline,
            "the condition was not met within {within:?}"
        );
        tokio::time::sleep(POLL_PAUSE).await;
    }
}

/// [`eventually`] for code with no runtime (a child process, a thread).
pub fn eventually_blocking<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(done) = check() {
            return done;
        }
        assert!(
            Instant::now() < deadline,
            "the condition was not met within {within:?}"
        );
        std::thread::sleep(POLL_PAUSE);
    }
}

const POLL_PAUSE: Duration = Duration::from_millis(20);

/// Swaps the database name in a `postgres://` URL or a key-value string.
fn replace_database(url: &str, database: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
        let host_part = match base[scheme_end..].find('/') {
            Some(i) => &base[..scheme_end + i],
            None => base,
        };
        match query {
            Some(q) => format!("{host_part}/{database}?{q}"),
            None => format!("{host_part}/{database}"),
        }
    } else {
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={database}", kept.join(" "))
    }
}

/// Every file under `dir` (none when it does not exist), following symbolic links (as root,
/// the test cluster may be linked from elsewhere).
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_in_urls_and_key_value_strings() {
        assert_eq!(
            replace_database("postgres://u:p@h:5/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            replace_database("host=/tmp dbname=postgres user=u", "x"),
            "host=/tmp user=u dbname=x"
        );
    }
}
