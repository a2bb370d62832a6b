//! The crash test, with real processes: a batch runs while the server is killed with SIGKILL
//! again and again; at the end every job has succeeded exactly once, with exactly one product.
//!
//! This run uses the offline generator. The same test against a stand-in remote-queue provider
//! (counting submissions per job, to show a committed request id is never submitted twice) comes
//! with the hosted provider adapters.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::support::{form_body, ServerProcess};

const JOBS: usize = 120;

async fn batch(
    server: &ServerProcess,
    batch_id: i64,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let results: (Vec<serde_json::Value>, Vec<serde_json::Value>) = server
        .post("generate/batch", format!("batch_id={batch_id}"))
        .await
        .json()
        .await
        .unwrap();
    results
}

async fn wait_for(
    server: &ServerProcess,
    batch_id: i64,
    done: impl Fn(&[serde_json::Value]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (jobs, _) = batch(server, batch_id).await;
        if done(&jobs) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for the batch");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn succeeded(jobs: &[serde_json::Value]) -> usize {
    jobs.iter().filter(|j| j["state"] == "succeeded").count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_killed_with_sigkill_again_and_again_ends_with_every_job_done_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let args = [
        "--workers",
        "4",
        "--provider-concurrency",
        "local=2",
        "--max-batch",
        "500",
    ];
    let mut server = ServerProcess::start(data_dir.path(), &args);
    let project: serde_json::Value = server
        .post("projects/create", "name=Crash&description=".into())
        .await
        .json()
        .await
        .unwrap();
    let project_id = project["id"].to_string();
    let count = JOBS.to_string();
    let form = form_body(&[
        ("form[project_id]", &project_id),
        ("form[provider]", "local"),
        ("form[model]", "geometric"),
        ("form[prompt]", "shapes that survive crashes"),
        ("form[negative_prompt]", ""),
        ("form[params]", r#"{"width":128,"height":128,"detail":2}"#),
        ("form[count]", &count),
        ("form[seed_mode]", "random"),
    ]);
    let launched = server.post("generate/launch", form).await;
    assert_eq!(launched.status(), 200, "{}", launched.text().await.unwrap());
    let batch_id = launched.json::<serde_json::Value>().await.unwrap()["batch_id"]
        .as_i64()
        .unwrap();

    let mut kills = 0;
    for threshold in [10, 40, 75, 100] {
        wait_for(&server, batch_id, |jobs| succeeded(jobs) >= threshold).await;
        server.signal(nix::sys::signal::Signal::SIGKILL);
        server.wait();
        kills += 1;
        server = ServerProcess::start(data_dir.path(), &args);
    }
    wait_for(&server, batch_id, |jobs| {
        jobs.iter().all(|j| {
            matches!(
                j["state"].as_str(),
                Some("succeeded" | "failed" | "canceled")
            )
        })
    })
    .await;

    let (jobs, products) = batch(&server, batch_id).await;
    assert_eq!(jobs.len(), JOBS);
    assert_eq!(succeeded(&jobs), JOBS, "every job succeeded");
    let mut per_job: HashMap<i64, usize> = HashMap::new();
    for product in &products {
        *per_job
            .entry(product["job_id"].as_i64().unwrap())
            .or_default() += 1;
    }
    assert_eq!(products.len(), JOBS, "one product per job");
    assert!(per_job.values().all(|n| *n == 1), "no job has two products");
    let resubmitted = jobs
        .iter()
        .filter(|j| j["attempts"].as_i64() > Some(1))
        .count();
    let flagged = jobs
        .iter()
        .filter(|j| j["possibly_duplicated"] == true)
        .count();
    println!("crash test: {kills} kills, {resubmitted} jobs run again after a crash, {flagged} flagged possibly duplicated");
    assert_eq!(
        flagged, 0,
        "the offline generator keeps nothing remotely, so nothing is flagged"
    );

    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(server.wait().success());
}
