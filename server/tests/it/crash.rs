//! The crash tests, with real processes: a batch runs while the server is killed with SIGKILL
//! again and again; at the end every job has succeeded exactly once, with exactly one product.
//!
//! One run uses the offline generator; the other a stand-in fal.ai queue server in this test
//! process, which counts submissions per job (each job has its own seed) and records whether a
//! request was submitted again after an earlier one for the same job had been polled, that is
//! after its id had been committed. That must never happen; a job caught between sending and
//! committing may be submitted twice, and must then be flagged possibly duplicated.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use factory::testing::civitai_standin::{CivitaiStandIn, CivitaiStandInOptions};
use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use factory::testing::replicate_standin::{ReplicateStandIn, ReplicateStandInOptions};
use factory::testing::standin::StandIn;
use serde_json::Value;

use crate::support::{form_body, ServerProcess};

const JOBS: usize = 120;
const FIRST_SEED: i64 = 10_000;
/// Makes `JOBS` items of distinct prompts: 5 × 4 × 6.
const PROMPT: &str = "{red|green|blue|gold|grey} shapes {that|which|and|so} survive {crashes|kills|restarts|faults|power cuts|panics}";

async fn wait_for(server: &ServerProcess, batch_id: i64, done: impl Fn(&[Value]) -> bool) {
    factory::testing::eventually(Duration::from_secs(180), async || {
        let (jobs, _) = server.batch(batch_id).await;
        done(&jobs).then_some(())
    })
    .await
}

fn succeeded(jobs: &[Value]) -> usize {
    jobs.iter().filter(|j| j["state"] == "succeeded").count()
}

/// What a run left behind.
struct Outcome {
    jobs: Vec<Value>,
    kills: usize,
}

impl Outcome {
    fn flagged(&self) -> Vec<i64> {
        self.jobs
            .iter()
            .filter(|j| j["possibly_duplicated"] == true)
            .map(|j| j["seed"].as_i64().unwrap())
            .collect()
    }

    fn run_again(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| j["attempts"].as_i64() > Some(1))
            .count()
    }
}

/// Launches `JOBS` images (per-item seeds derived from batch seed `FIRST_SEED`) and kills the server four times mid-batch;
/// checks that every job succeeded once with one product.
async fn run_through_crashes(
    data_dir: &Path,
    args: &[&str],
    provider: &str,
    model: &str,
    params: &str,
) -> Outcome {
    let mut server = ServerProcess::start(data_dir, args);
    let project: Value = server
        .post("projects/create", "name=Crash&description=".into())
        .await
        .json()
        .await
        .unwrap();
    let project_id = project["id"].to_string();
    let count = "1".to_string();
    let seed = FIRST_SEED.to_string();
    let form = form_body(&[
        ("form[project_id]", &project_id),
        ("form[provider]", provider),
        ("form[model]", model),
        ("form[prompt]", PROMPT),
        ("form[negative_prompt]", ""),
        ("form[params]", params),
        ("form[count]", &count),
        ("form[seed_mode]", "derived"),
        ("form[seed]", &seed),
        ("form[mode]", "combinatorial"),
        ("form[confirmed]", "true"),
    ]);
    let launched = server.post("generate/launch", form).await;
    assert_eq!(launched.status(), 200, "{}", launched.text().await.unwrap());
    let batch_id = launched.json::<Value>().await.unwrap()["batch_id"]
        .as_i64()
        .unwrap();

    let mut kills = 0;
    for threshold in [10, 40, 75, 100] {
        wait_for(&server, batch_id, |jobs| succeeded(jobs) >= threshold).await;
        server.signal(nix::sys::signal::Signal::SIGKILL);
        server.wait();
        kills += 1;
        server = ServerProcess::start(data_dir, args);
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

    let (jobs, products) = server.batch(batch_id).await;
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

    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(server.wait().success());
    Outcome { jobs, kills }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_on_the_offline_generator_killed_again_and_again_ends_with_every_job_done_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let args = [
        "--workers",
        "4",
        "--provider-concurrency",
        "local=2",
        "--max-items",
        "500",
    ];
    let params = r#"{"width":128,"height":128,"detail":2}"#;
    let outcome = run_through_crashes(data_dir.path(), &args, "local", "geometric", params).await;
    println!(
        "crash test (offline): {} kills, {} jobs run again after a crash, {} flagged possibly duplicated",
        outcome.kills,
        outcome.run_again(),
        outcome.flagged().len()
    );
    assert!(
        outcome.flagged().is_empty(),
        "the offline generator keeps nothing remotely, so nothing is flagged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_at_a_remote_queue_killed_again_and_again_never_submits_a_committed_request_twice()
{
    let options = StandInOptions {
        queue_time: Duration::from_millis(100),
        run_time: Duration::from_millis(200),
        // Widens the window between fal accepting a request and the app committing its id.
        submit_delay: Duration::from_millis(40),
        ..StandInOptions::default()
    };
    let standin = FalStandIn::start(options.clone()).await;
    crash_at_fal(&standin, &options, 16, &[], "fal stand-in").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_at_replicate_killed_again_and_again_never_submits_a_committed_request_twice() {
    let options = ReplicateStandInOptions {
        start_time: Duration::from_millis(100),
        run_time: Duration::from_millis(200),
        submit_delay: Duration::from_millis(40),
        ..ReplicateStandInOptions::default()
    };
    let standin = ReplicateStandIn::start(options.clone()).await;
    let base_url = standin.api_url();
    let args = [
        "--replicate-token",
        options.token.as_str(),
        "--replicate-base-url",
        &base_url,
    ];
    let params = r#"{"aspect_ratio":"1:1","num_inference_steps":4}"#;
    crash_at(
        &standin,
        "black-forest-labs/flux-schnell",
        params,
        16,
        &args,
        "Replicate stand-in",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_at_civitai_killed_again_and_again_never_submits_a_committed_request_twice() {
    let options = CivitaiStandInOptions {
        queue_time: Duration::from_millis(100),
        run_time: Duration::from_millis(200),
        submit_delay: Duration::from_millis(40),
        ..CivitaiStandInOptions::default()
    };
    let standin = CivitaiStandIn::start(options.clone()).await;
    let (base_url, catalog_url) = (standin.api_url(), standin.catalog_url());
    let args = [
        "--civitai-token",
        options.token.as_str(),
        "--civitai-base-url",
        &base_url,
        "--civitai-catalog-url",
        &catalog_url,
    ];
    let params = r#"{"steps":20,"width":512,"height":512}"#;
    crash_at(
        &standin,
        "urn:air:sdxl:checkpoint:civitai:101055@128078",
        params,
        16,
        &args,
        "Civitai stand-in",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_whose_submissions_stall_past_the_lease_killed_again_and_again_never_resubmits_a_committed_request(
) {
    // Every submission takes longer than a whole lease: only the lease ticker keeps the job
    // from being claimed and submitted again while it waits.
    let options = StandInOptions {
        queue_time: Duration::from_millis(100),
        run_time: Duration::from_millis(200),
        submit_delay: Duration::from_secs(4),
        ..StandInOptions::default()
    };
    let standin = FalStandIn::start(options.clone()).await;
    crash_at_fal(
        &standin,
        &options,
        40,
        &["--job-lease", "3"],
        "stalling submissions",
    )
    .await;
}

async fn crash_at_fal(
    standin: &FalStandIn,
    options: &StandInOptions,
    concurrency: usize,
    extra_args: &[&str],
    what: &str,
) {
    let base_url = standin.base_url();
    let mut args = vec![
        "--fal-key",
        options.key.as_str(),
        "--fal-base-url",
        &base_url,
    ];
    args.extend_from_slice(extra_args);
    let params = r#"{"image_size":"square","num_inference_steps":4}"#;
    crash_at(
        standin,
        "fal-ai/flux/schnell",
        params,
        concurrency,
        &args,
        what,
    )
    .await;
}

/// Runs the crash test against `standin` (provider `standin.provider()`, configured by
/// `provider_args`) with `concurrency` jobs in flight, and checks what reached it: no committed
/// request submitted again, every job submitted twice flagged possibly duplicated.
async fn crash_at(
    standin: &dyn StandIn,
    model: &str,
    params: &str,
    concurrency: usize,
    provider_args: &[&str],
    what: &str,
) {
    let data_dir = tempfile::tempdir().unwrap();
    let workers = concurrency.to_string();
    let per_provider = format!("{}={concurrency}", standin.provider());
    let mut args = vec![
        "--workers",
        &workers,
        "--provider-concurrency",
        &per_provider,
        "--max-items",
        "500",
    ];
    args.extend_from_slice(provider_args);
    let outcome =
        run_through_crashes(data_dir.path(), &args, standin.provider(), model, params).await;
    let submissions = standin.submissions_per_seed();
    let seeds: Vec<i64> = outcome
        .jobs
        .iter()
        .map(|j| j["seed"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seeds.iter().collect::<std::collections::HashSet<_>>().len(),
        JOBS,
        "each job has its own seed, so the stand-in can count per job"
    );
    assert!(
        seeds
            .iter()
            .all(|s| submissions.get(s).is_some_and(|n| *n >= 1)),
        "every job reached the provider"
    );
    assert!(
        standin.resubmitted_after_poll().is_empty(),
        "jobs submitted again after their request id was committed: {:?}",
        standin.resubmitted_after_poll()
    );
    let flagged = outcome.flagged();
    let submitted_twice: Vec<i64> = seeds.into_iter().filter(|s| submissions[s] > 1).collect();
    for seed in &submitted_twice {
        assert!(
            flagged.contains(seed),
            "seed {seed} was submitted twice but not flagged possibly duplicated"
        );
    }
    println!(
        "crash test ({what}): {} kills, {} submissions for {JOBS} jobs, {} jobs submitted twice, \
         {} flagged possibly duplicated, 0 committed requests resubmitted",
        outcome.kills,
        submissions.values().sum::<usize>(),
        submitted_twice.len(),
        flagged.len()
    );
}
