//! A real S3 API on loopback for the tests: moto's server mode (PyPI `moto[server]`, which
//! `scripts/setup` installs), started once per test process like the throwaway PostgreSQL and
//! stopped when the process exits. Each test gets a bucket of its own.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::media::{BucketSettings, MediaStore};
use crate::secret::Secret;

/// Where the server is looked for when `moto_server` is not on the PATH.
pub const MOTO_VAR: &str = "ART_FACTORY_MOTO_SERVER";

static ENDPOINT: OnceLock<String> = OnceLock::new();
static CHILD: Mutex<Option<Child>> = Mutex::new(None);
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The S3 server's address, starting it on first use.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(start)
}

fn program() -> String {
    if let Ok(path) = std::env::var(MOTO_VAR) {
        return path;
    }
    // Where scripts/setup makes its virtualenv.
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")));
    let venv = cache
        .map(|c| c.join("art-factory/moto/bin/moto_server"))
        .filter(|p| p.exists());
    match venv {
        Some(path) => path.display().to_string(),
        None => "moto_server".to_string(),
    }
}

fn start() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(program());
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; the server dies with this test process.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    // The death signal comes when the *thread* that started the child ends, so a thread that
    // lives as long as the process starts it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(command.spawn());
        loop {
            std::thread::park();
        }
    });
    let child = rx
        .recv()
        .expect("the starter thread answers")
        .unwrap_or_else(|e| {
            panic!(
                "the S3 tests need moto's S3 server ({e}): run scripts/setup, which installs \
             `moto[server]` from PyPI, or point {MOTO_VAR} at a moto_server"
            )
        });
    *CHILD.lock().unwrap() = Some(child);
    // SAFETY: registering a plain `extern "C" fn` with no captured state.
    unsafe { libc::atexit(stop) };
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    format!("http://{address}")
}

extern "C" fn stop() {
    if let Ok(mut child) = CHILD.lock() {
        if let Some(mut child) = child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A bucket name no test has used, not created yet.
pub fn unused_name() -> String {
    format!(
        "af-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates the bucket `name` on the test server.
pub async fn create(name: &str) {
    let created = reqwest::Client::new()
        .put(format!("{}/{name}", endpoint()))
        .send()
        .await
        .expect("create a bucket");
    assert!(created.status().is_success(), "{}", created.status());
}

/// The settings that reach the bucket `name` (under the prefix `library/`).
pub fn settings(name: &str) -> BucketSettings {
    BucketSettings {
        url: format!("s3://{name}/library"),
        endpoint: Some(endpoint().to_string()),
        region: "us-east-1".into(),
        access_key_id: Some("test-access-key".into()),
        secret_access_key: Secret::new("test-secret-key-do-not-print"),
        presign: None,
    }
}

/// A new, empty bucket on the test server, and the settings that reach it.
pub async fn bucket() -> BucketSettings {
    let name = unused_name();
    create(&name).await;
    settings(&name)
}

/// A media store in a new bucket, with `root` as its data dir.
pub async fn media_store(root: &std::path::Path) -> MediaStore {
    let bucket = bucket().await.open().expect("the test bucket opens");
    MediaStore::in_bucket(root, bucket)
}
