//! The scale path: three `art-factory worker` processes and two `serve --no-workers` on one
//! PostgreSQL run a 1,000-job batch on the offline generator and 300 jobs against the fal
//! stand-in with a rate limit and a cap, while one worker is killed with SIGKILL: every job is
//! done once, fal never sees more than the rate or the cap across the processes, and browsers
//! on either web process see every job finish.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use factory::testing::TestDb;
use serde_json::{json, Value};

use crate::processes::worker;
use crate::support::ServerProcess;

const LOCAL_JOBS: i64 = 1000;
const FAL_JOBS: i64 = 300;
/// fal's limits for the run: 600 submissions a minute (10 a second, a burst of 10), 6 at once.
const FAL_PER_MINUTE: f64 = 600.0;
const FAL_CAP: usize = 6;

#[derive(QueryableByName)]
struct Tally {
    #[diesel(sql_type = BigInt)]
    succeeded: i64,
    #[diesel(sql_type = BigInt)]
    products: i64,
    #[diesel(sql_type = BigInt)]
    jobs_with_products: i64,
    #[diesel(sql_type = BigInt)]
    fal_in_flight: i64,
    #[diesel(sql_type = BigInt)]
    extra_attempts: i64,
}

async fn tally(db: &TestDb) -> Tally {
    diesel::sql_query(
        "SELECT (SELECT count(*) FROM jobs WHERE state = 'succeeded') AS succeeded,
                (SELECT count(*) FROM products WHERE job_id IS NOT NULL) AS products,
                (SELECT count(DISTINCT job_id) FROM products) AS jobs_with_products,
                (SELECT count(*) FROM jobs WHERE provider = 'fal'
                   AND state IN ('submitting', 'running', 'downloading')
                   AND lease_expires_at >= now()) AS fal_in_flight,
                (SELECT coalesce(sum(attempts - 1), 0)::bigint FROM jobs) AS extra_attempts",
    )
    .get_result(&mut *db.conn().await)
    .await
    .unwrap()
}

/// A browser's live feed on `web`: the ids of the jobs it saw succeed (in job events, and in
/// the snapshots a client that fell behind gets instead).
fn watch(web: &ServerProcess) -> (Arc<Mutex<HashSet<i64>>>, tokio::task::JoinHandle<()>) {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let url = web.url("/events");
    let task = {
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut feed = reqwest::Client::new()
                .get(url)
                .header("sec-fetch-site", "same-origin")
                .send()
                .await
                .unwrap();
            let mut pending = String::new();
            while let Ok(Some(chunk)) = feed.chunk().await {
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = pending.find("\n\n") {
                    let event: String = pending.drain(..end + 2).collect();
                    let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
                        continue;
                    };
                    let message: Value = serde_json::from_str(data).unwrap();
                    let jobs = match message["type"].as_str() {
                        Some("job") => vec![message["job"].clone()],
                        Some("snapshot") => message["jobs"].as_array().cloned().unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    let mut seen = seen.lock().unwrap();
                    for job in jobs.iter().filter(|j| j["state"] == "succeeded") {
                        seen.insert(job["id"].as_i64().unwrap());
                    }
                }
            }
        })
    };
    (seen, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn five_processes_run_1300_jobs_once_within_fals_limits_and_survive_a_kill() {
    let db = TestDb::new().await;
    let data_dir = tempfile::tempdir().unwrap();
    let standin = FalStandIn::start(StandInOptions {
        queue_time: Duration::from_millis(20),
        run_time: Duration::from_millis(60),
        ..StandInOptions::default()
    })
    .await;
    let key = StandInOptions::default().key;
    let base_url = standin.base_url();
    let per_minute = format!("fal={FAL_PER_MINUTE}");
    let cap = format!("fal={FAL_CAP}");
    let fal = [
        "--fal-key",
        key.as_str(),
        "--fal-base-url",
        base_url.as_str(),
        "--submissions-per-minute",
        per_minute.as_str(),
        "--provider-concurrency",
        cap.as_str(),
    ];
    let web_args: Vec<&str> = ["--no-workers"].into_iter().chain(fal).collect();
    let webs = [
        ServerProcess::start_with_database(data_dir.path(), db.url(), &web_args),
        ServerProcess::start_with_database(data_dir.path(), db.url(), &web_args),
    ];
    let feeds: Vec<_> = webs.iter().map(watch).collect();
    let mut workers: Vec<_> = (0..3).map(|_| worker(&db, data_dir.path(), &fal)).collect();

    // A script launches both batches through the first web process's REST API.
    let client = reqwest::Client::new();
    let made: Value = client
        .post(webs[0].url("/api/v1/projects"))
        .json(&json!({"name": "Scale"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project = made["id"].as_i64().unwrap();
    let started = Instant::now();
    for (provider, model, params, count) in [
        (
            "local",
            "waves",
            json!({"width": 64, "height": 64, "detail": 1}),
            LOCAL_JOBS,
        ),
        (
            "fal",
            "fal-ai/flux/schnell",
            json!({"image_size": "square"}),
            FAL_JOBS,
        ),
    ] {
        let launched = client
            .post(webs[0].url("/api/v1/launches"))
            .json(
                &json!({"project_id": project, "provider": provider, "model": model,
                "prompt": format!("a lighthouse, {provider}"), "params": params,
                "count": count, "confirmed": true}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(launched.status(), 201, "{}", launched.text().await.unwrap());
    }

    // One worker dies a fifth of the way through; the others take its jobs over.
    let total = LOCAL_JOBS + FAL_JOBS;
    let mut most_fal_in_flight = 0;
    let mut killed = false;
    let done = factory::testing::eventually(Duration::from_secs(400), async || {
        let t = tally(&db).await;
        most_fal_in_flight = most_fal_in_flight.max(t.fal_in_flight);
        if !killed && t.succeeded >= total / 5 {
            workers[0].kill().unwrap();
            workers[0].wait().unwrap();
            killed = true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        (t.succeeded == total).then_some(t)
    })
    .await;
    let elapsed = started.elapsed();
    for worker in &mut workers[1..] {
        let _ = worker.kill();
        let _ = worker.wait();
    }

    // Every job once: one product each, fal asked once per job, nothing run twice.
    assert_eq!(done.products, total, "every job made its one product");
    assert_eq!(done.jobs_with_products, total, "no job made two");
    let per_seed = standin.submissions_per_seed();
    let duplicated: i64 = diesel::sql_query(
        "SELECT count(*) AS n FROM jobs WHERE provider = 'fal' AND possibly_duplicated",
    )
    .get_result::<Count>(&mut *db.conn().await)
    .await
    .unwrap()
    .n;
    let submitted: usize = per_seed.values().sum();
    assert!(
        submitted as i64 <= FAL_JOBS + duplicated,
        "{submitted} fal submissions for {FAL_JOBS} jobs ({duplicated} flagged)"
    );
    assert!(standin.resubmitted_after_poll().is_empty());
    // The killed worker ran at most 2 jobs (--workers 2): only those ran again.
    assert!(
        done.extra_attempts <= 2,
        "{} extra attempts",
        done.extra_attempts
    );

    // fal's limits held across the five processes.
    let times: Vec<Instant> = standin
        .requests()
        .into_iter()
        .filter(|(_, line)| line.starts_with("POST ") && line.ends_with(" 200"))
        .map(|(at, _)| at)
        .collect();
    let interval = 60.0 / FAL_PER_MINUTE;
    let burst = (FAL_PER_MINUTE / 60.0).ceil();
    let mut over = 0.0f64;
    for i in 0..times.len() {
        for j in i..times.len().min(i + 400) {
            let window = (times[j] - times[i]).as_secs_f64() + 0.06;
            over = over.max((j - i + 1) as f64 - burst - (window / interval).floor());
        }
    }
    assert!(
        over <= 0.0,
        "fal was called faster than {FAL_PER_MINUTE} a minute (by {over})"
    );
    assert!(
        most_fal_in_flight as usize <= FAL_CAP,
        "{most_fal_in_flight} fal jobs in flight under a cap of {FAL_CAP}"
    );

    // Browsers on either web process saw every job finish, but those the killed worker had
    // finished and not yet announced (at most the 2 it ran).
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen: Vec<usize> = loop {
        let seen: Vec<usize> = feeds.iter().map(|(s, _)| s.lock().unwrap().len()).collect();
        if seen.iter().all(|n| *n as i64 >= total) || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (_, task) in &feeds {
        task.abort();
    }
    println!(
        "5 processes: {total} jobs in {:.1} s ({:.0} jobs/s); fal: {submitted} submissions, at most \
         {most_fal_in_flight} in flight; feeds saw {seen:?} jobs succeed",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    for n in seen {
        assert!(
            n as i64 >= total - 2,
            "a feed saw {n} of {total} jobs succeed"
        );
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}
