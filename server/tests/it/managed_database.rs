//! The real binary on its own managed PostgreSQL: data survives a clean restart and a kill -9.

use std::process::Command;

use crate::support::{encode, ServerProcess as Server};

#[tokio::test(flavor = "multi_thread")]
async fn a_project_survives_a_clean_restart_and_a_kill_9_of_the_server() {
    let data_dir = tempfile::tempdir().unwrap();
    let pid_file = data_dir.path().join("postgres/data/postmaster.pid");

    let first = Server::start(data_dir.path(), &[]);
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

    let second = Server::start(data_dir.path(), &[]);
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

    let third = Server::start(data_dir.path(), &[]);
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
    let first = Server::start(data_dir.path(), &[]);
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
