//! A canary key through every error path: a config file with a broken `fal_key` line, and a fal
//! that echoes the credentials it was sent in every refusal, log and failure. The key's text
//! appears in no log line, error, HTTP body, WebSocket frame or SSE event.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use factory::testing::fal_standin::{FalStandIn, Outage, StandInOptions, SubmitFault};
use futures::StreamExt;
use serde_json::Value;

use crate::support::{art_factory, form_body, run_command, ServerProcess};

const KEY_ID: &str = "canary-key-id-7f3a";
const KEY_SECRET: &str = "CANARYs3cr3tF4LK3Yvalue";

fn canary() -> String {
    format!("{KEY_ID}:{KEY_SECRET}")
}

/// Whether `text` holds the key or a recognisable part of it.
fn leaks(text: &str) -> bool {
    text.contains(KEY_SECRET) || text.contains(KEY_ID) || text.contains("CANARYs3cr3t")
}

#[test]
fn a_broken_key_line_in_the_config_file_is_reported_without_the_key() {
    let data_dir = tempfile::tempdir().unwrap();
    for broken in [
        format!("workers = 4\nfal_key = \"{}\n", canary()),
        format!("fal_key = {}\n", canary()),
        format!("fal_key = [\"{}\"]\n", canary()),
    ] {
        std::fs::write(data_dir.path().join("art-factory.toml"), &broken).unwrap();
        let output = art_factory(data_dir.path()).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stderr.contains("art-factory.toml"), "{stderr}");
        assert!(stderr.contains("line "), "{stderr}");
        assert!(!leaks(&stderr) && !leaks(&stdout), "{stderr}{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_echoed_by_fal_on_every_error_path_reaches_no_log_page_frame_or_event() {
    let standin = FalStandIn::start(StandInOptions {
        key: canary(),
        echo_key_in_errors: true,
        queue_time: Duration::from_millis(200),
        run_time: Duration::from_millis(400),
        ..StandInOptions::default()
    })
    .await;
    standin.fault_next_submissions([
        SubmitFault::Rejected(422),
        SubmitFault::Rejected(401),
        SubmitFault::Rejected(429),
        SubmitFault::Rejected(500),
        SubmitFault::BadGateway,
        SubmitFault::Garbled,
        SubmitFault::FailsLater,
    ]);
    // Status polls fail (echoing the key) until a few have been seen.
    standin.set_status_outage(Some(Outage {
        status: 503,
        retry_after: Some("1".into()),
    }));
    let data_dir = tempfile::tempdir().unwrap();
    let base_url = standin.base_url();
    let key = canary();
    let server = ServerProcess::start_logging(
        data_dir.path(),
        &["--fal-base-url", &base_url, "--max-retry-after", "1"],
        &[("FAL_KEY", &key)],
    );
    let client = reqwest::Client::new();
    let mut events = client.get(server.url("/events")).send().await.unwrap();
    let ws_url = server.url("/ws").replacen("http://", "ws://", 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();

    let project: Value = server
        .post("projects/create", "name=Canary&description=".into())
        .await
        .json()
        .await
        .unwrap();
    let project_id = project["id"].to_string();
    let launched = server
        .post(
            "generate/launch",
            form_body(&[
                ("form[project_id]", &project_id),
                ("form[provider]", "fal"),
                ("form[model]", "fal-ai/flux/schnell"),
                (
                    "form[prompt]",
                    "a lighthouse {at dawn|at dusk|in fog|in rain}",
                ),
                ("form[negative_prompt]", ""),
                ("form[params]", r#"{"image_size":"square"}"#),
                ("form[count]", "3"),
                ("form[seed_mode]", "derived"),
                ("form[seed]", "77"),
                ("form[mode]", "combinatorial"),
                ("form[confirmed]", "true"),
            ]),
        )
        .await;
    assert_eq!(launched.status(), 200);
    let batch_id = launched.json::<Value>().await.unwrap()["batch_id"].to_string();

    factory::testing::eventually(Duration::from_secs(60), async || {
        (standin.status_polls() >= 6).then_some(())
    })
    .await;
    standin.set_status_outage(None);
    let jobs = factory::testing::eventually(Duration::from_secs(120), async || {
        let (jobs, _): (Vec<Value>, Vec<Value>) = server
            .post("generate/batch", format!("batch_id={batch_id}"))
            .await
            .json()
            .await
            .unwrap();
        jobs.iter()
            .all(|j| matches!(j["state"].as_str(), Some("succeeded" | "failed")))
            .then_some(jobs)
    })
    .await;
    let failed: Vec<&str> = jobs.iter().filter_map(|j| j["error"].as_str()).collect();
    assert!(
        failed.iter().any(|e| e.contains("422"))
            && failed.iter().any(|e| e.contains("401"))
            && failed.iter().any(|e| e.contains("CUDA out of memory")),
        "the error paths were taken: {failed:#?}"
    );

    // Everything the person (or another program) could see.
    let mut seen = vec![server.log()];
    for page in ["/queue", &format!("/batches/{batch_id}/grid"), "/generate"] {
        seen.push(
            client
                .get(server.url(page))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    for endpoint in ["generate/batch", "generate/options"] {
        let body = format!("batch_id={batch_id}");
        seen.push(server.post(endpoint, body).await.text().await.unwrap());
    }
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(500), socket.next()).await
    {
        seen.push(frame.to_string());
    }
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(500), events.chunk()).await
    {
        seen.push(String::from_utf8_lossy(&chunk).into_owned());
    }
    assert!(seen.len() > 10, "{}", seen.len());
    assert!(
        seen[0].contains("(called with [redacted])") || seen[0].contains("[redacted]"),
        "the echoed key was met, and blanked: {}",
        &seen[0][..seen[0].len().min(2000)]
    );
    for (i, text) in seen.iter().enumerate() {
        assert!(!leaks(text), "source {i} leaked the key: {text}");
    }
    server.signal(nix::sys::signal::Signal::SIGTERM);
    tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_set_on_the_settings_page_reach_no_answer_log_or_file_in_clear() {
    // The stand-in echoes whatever key it was sent in its refusals.
    let standin = FalStandIn::start(StandInOptions {
        key: canary(),
        echo_key_in_errors: true,
        ..StandInOptions::default()
    })
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let base = standin.base_url();
    let server = ServerProcess::start_logging(data_dir.path(), &["--fal-base-url", &base], &[]);
    let wrong = "wrong-id-5e6f:WRONGs3cr3tvalue42";
    let refused = server
        .post(
            "settings/keys/set",
            form_body(&[("provider", "fal"), ("key", wrong)]),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.unwrap();
    assert!(text.contains("did not accept this key"), "{text}");
    assert!(
        !text.contains("WRONGs3cr3t") && !text.contains("wrong-id-5e6f"),
        "{text}"
    );

    let accepted = server
        .post(
            "settings/keys/set",
            form_body(&[("provider", "fal"), ("key", &canary())]),
        )
        .await;
    assert!(
        accepted.status().is_success(),
        "{}",
        accepted.text().await.unwrap()
    );
    stored_fal_key_shows_its_hint_only(&server).await;
    // A backup from Settings with the keys: a short passphrase is refused on its field.
    let short = server
        .post("backups/now", form_body(&[("passphrase", "too short")]))
        .await;
    assert_eq!(short.status(), 422);
    assert!(short.text().await.unwrap().contains("at least 10"));
    let made = server
        .post("backups/now", form_body(&[("passphrase", PASSPHRASE)]))
        .await;
    assert!(made.status().is_success(), "{}", made.text().await.unwrap());
    let log = server.log();
    assert!(!leaks(&log) && !log.contains("WRONGs3cr3t"), "{log}");
    assert!(!log.contains(PASSPHRASE), "{log}");
    // On disk (the backup included): sealed in the database, and the data key beside it, 0600.
    let key_file = data_dir.path().join("credentials.key");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for entry in crate::support::walk(data_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        let found = bytes
            .windows(KEY_SECRET.len())
            .any(|w| w == KEY_SECRET.as_bytes());
        assert!(!found, "the key is in clear in {}", entry.display());
    }
    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(server.wait().success());

    // The command line: a backup with the keys (the passphrase typed twice, here piped), then a
    // restore with them into an empty directory, whose app has the key in force.
    let archive = data_dir.path().join("cli-backup.zip");
    let out = command_with_stdin(
        &["backup", "--with-keys", "--out", archive.to_str().unwrap()],
        data_dir.path(),
        &format!("{PASSPHRASE}\n{PASSPHRASE}\n"),
    );
    assert!(out.contains("the keys for fal are in it"), "{out}");
    let restored_dir = tempfile::tempdir().unwrap();
    // The cluster's service user (when the tests run as root) must be able to enter it.
    std::fs::set_permissions(restored_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let restored = restored_dir.path().join("library");
    let out = command_with_stdin(
        &["restore", archive.to_str().unwrap(), "--with-keys"],
        &restored,
        &format!("{PASSPHRASE}\n"),
    );
    assert!(out.contains("restored the keys for fal"), "{out}");
    let server = ServerProcess::start(&restored, &["--fal-base-url", &base]);
    stored_fal_key_shows_its_hint_only(&server).await;
}

/// Settings lists the stored fal key, readable, by its last four characters and nothing more.
async fn stored_fal_key_shows_its_hint_only(server: &ServerProcess) {
    let listed = server
        .post("settings/keys", String::new())
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("\"hint\":\"alue\""), "{listed}");
    assert!(listed.contains("\"readable\":true"), "{listed}");
    assert!(!leaks(&listed), "{listed}");
}

const PASSPHRASE: &str = "lighthouse in the fog at dawn";

/// Runs an `art-factory` command on `data_dir` with `stdin` piped in; answers its stdout, after
/// checking it succeeded and that neither output shows a key or the passphrase.
fn command_with_stdin(args: &[&str], data_dir: &std::path::Path, stdin: &str) -> String {
    let output = run_command(args, data_dir, stdin);
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    );
    assert!(output.status.success(), "{args:?}: {out}\n{err}");
    assert!(
        !leaks(&out) && !leaks(&err) && !err.contains(PASSPHRASE),
        "{out}\n{err}"
    );
    out
}
