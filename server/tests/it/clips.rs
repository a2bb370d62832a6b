//! Video jobs with the real binary: minutes-long at the provider (seconds here), they report
//! progress and time left from fal's logs; a server killed with SIGKILL while they run polls
//! them after the restart, never submits them again; and their videos are served with ranges
//! (a browser seeks) beside their looping previews.

use std::time::Duration;

use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use serde_json::Value;

use crate::support::{form_body, ServerProcess};

/// LTX takes a seed, so the stand-in tells the jobs apart by it.
const MODEL: &str = "fal-ai/ltx-video";

#[tokio::test(flavor = "multi_thread")]
async fn video_jobs_report_time_left_survive_a_kill_without_resubmitting_and_serve_ranges() {
    let options = StandInOptions {
        queue_time: Duration::from_millis(100),
        clip_run_time: Some(Duration::from_secs(5)),
        ..StandInOptions::default()
    };
    let standin = FalStandIn::start(options.clone()).await;
    let base_url = standin.base_url();
    let args = [
        "--fal-key",
        options.key.as_str(),
        "--fal-base-url",
        base_url.as_str(),
    ];
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &args);
    let project: Value = server
        .post("projects/create", "name=Clips&description=".into())
        .await
        .json()
        .await
        .unwrap();
    let project_id = project["id"].to_string();
    let form = form_body(&[
        ("form[project_id]", &project_id),
        ("form[provider]", "fal"),
        ("form[model]", MODEL),
        ("form[prompt]", "waves on a {pier|beach|reef}"),
        ("form[negative_prompt]", ""),
        ("form[params]", r#"{"num_inference_steps":30}"#),
        ("form[count]", "1"),
        ("form[seed_mode]", "derived"),
        ("form[seed]", "77"),
        ("form[mode]", "combinatorial"),
        ("form[confirmed]", "false"),
    ]);
    let launched = server.post("generate/launch", form).await;
    assert_eq!(launched.status(), 200, "{}", launched.text().await.unwrap());
    let batch_id = launched.json::<Value>().await.unwrap()["batch_id"]
        .as_i64()
        .unwrap();

    // Every job is running at fal with a progress figure from its log, and a time left.
    let running = factory::testing::eventually(Duration::from_secs(60), async || {
        let (jobs, _) = server.batch(batch_id).await;
        jobs.iter()
            .all(|j| {
                j["state"] == "running"
                    && j["progress"].as_f64().is_some_and(|p| p > 0.05)
                    && j["eta_secs"].as_i64().is_some()
            })
            .then_some(jobs)
    })
    .await;
    assert_eq!(running.len(), 3);
    for job in &running {
        let status = job["provider_status"].as_str().unwrap_or_default();
        assert!(status.contains("%|"), "the log's progress bar: {status}");
        let left = job["eta_secs"].as_i64().unwrap();
        assert!((0..=60).contains(&left), "{left} s left");
    }

    server.signal(nix::sys::signal::Signal::SIGKILL);
    server.wait();
    let server = ServerProcess::start(data.path(), &args);
    let (jobs, products) = factory::testing::eventually(Duration::from_secs(90), async || {
        let (jobs, products) = server.batch(batch_id).await;
        jobs.iter()
            .all(|j| j["state"] == "succeeded")
            .then_some((jobs, products))
    })
    .await;
    // Polled after the restart, never sent again.
    let submissions = standin.submissions_per_seed();
    for job in &jobs {
        let seed = job["seed"].as_i64().unwrap();
        assert_eq!(submissions.get(&seed), Some(&1), "job {}", job["id"]);
        assert_eq!(job["possibly_duplicated"], false);
    }
    assert!(standin.resubmitted_after_poll().is_empty());
    assert_eq!(products.len(), 3);
    assert!(products.iter().all(|p| p["kind"] == "video"));

    // The original, in ranges; its preview, whole.
    let client = reqwest::Client::new();
    let url = server.url(products[0]["url"].as_str().unwrap());
    let whole = client.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    let full = whole.bytes().await.unwrap();
    let ranged = |range: &'static str| client.get(&url).header("range", range).send();
    let head = ranged("bytes=0-99").await.unwrap();
    assert_eq!(head.status(), 206);
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes 0-99/{}", full.len()).as_str()
    );
    assert_eq!(head.bytes().await.unwrap(), full[..100]);
    let tail = ranged("bytes=-64").await.unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap(), full[full.len() - 64..]);
    let beyond = client
        .get(&url)
        .header("range", format!("bytes={}-", full.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    let thumb = products[0]["thumb_url"].as_str().unwrap();
    let preview = thumb.replace("-256.webp", "-preview.webp");
    let preview = client.get(server.url(&preview)).send().await.unwrap();
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["content-type"], "image/webp");
    let bytes = preview.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert!(bytes.windows(4).any(|w| w == b"ANIM"), "an animated WebP");
}
