//! The real binary on its own managed PostgreSQL: data survives a clean restart and a kill -9.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::encode;

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `art-factory serve` on a free port and waits until it says where it listens.
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_art-factory"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start art-factory");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Art Factory is running at ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server announces its address within a minute");
        Server { child, base }
    }

    async fn post(&self, endpoint: &str, body: String) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/{endpoint}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn project_names(&self) -> Vec<String> {
        let list: Vec<serde_json::Value> = self
            .post("projects/list", "archived=false".into())
            .await
            .json()
            .await
            .unwrap();
        list.iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    fn wait(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_survives_a_clean_restart_and_a_kill_9_of_the_server() {
    let data_dir = tempfile::tempdir().unwrap();
    let pid_file = data_dir.path().join("postgres/data/postmaster.pid");

    let first = Server::start(data_dir.path());
    let created = first
        .post(
            "projects/create",
            format!("name={}&description=", encode("Kept Safe")),
        )
        .await;
    assert_eq!(created.status(), 200);
    first.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(first.wait().success(), "SIGTERM is a clean exit");
    assert!(
        !pid_file.exists(),
        "the managed PostgreSQL was stopped with the server"
    );

    let second = Server::start(data_dir.path());
    assert_eq!(second.project_names().await, ["Kept Safe"]);
    second
        .post(
            "projects/create",
            format!("name={}&description=", encode("Written Before The Crash")),
        )
        .await;
    second.signal(nix::sys::signal::Signal::SIGKILL);
    second.wait();
    assert!(
        pid_file.exists(),
        "kill -9 left PostgreSQL running (or its pid file behind)"
    );

    let third = Server::start(data_dir.path());
    let mut names = third.project_names().await;
    names.sort();
    assert_eq!(names, ["Kept Safe", "Written Before The Crash"]);
    third.signal(nix::sys::signal::Signal::SIGINT);
    assert!(third.wait().success(), "Ctrl-C is a clean exit");
    assert!(!pid_file.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_server_on_the_same_data_dir_exits_with_a_clear_message() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = Server::start(data_dir.path());
    let second = Command::new(env!("CARGO_BIN_EXE_art-factory"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already using the database"), "{stderr}");
    assert_eq!(
        first.project_names().await.len(),
        0,
        "the first server still answers"
    );
    first.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(first.wait().success());
}
