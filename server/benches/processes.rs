//! Queue throughput with 1, 2 and 3 worker processes on one database:
//! `cargo bench -p server --bench processes` (or `scripts/bench processes`).
//!
//! Each worker process is this benchmark's own binary started again in worker mode: its own
//! runtime, pool and dispatcher, running the engine's worker exactly as `art-factory worker`
//! does, with a provider that finishes every job at once (so what is measured is the queue:
//! claims, lease renewals, transitions, events). The parent queues a batch with the queue
//! paused, starts the processes, resumes, and times until every job succeeded. The table
//! compares each row with one process, measured in the same run. Nothing passes or fails.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use factory::jobs::queue;
use factory::jobs::worker::WorkerConfig;
use factory::projects::{self, Description, ProjectName};
use factory::providers::Providers;
use factory::testing::noop::{self, noop};
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};

/// Jobs per row.
const JOBS: u32 = 4000;
/// Jobs in flight per process.
const IN_FLIGHT: usize = 32;
const ROLE: &str = "ART_FACTORY_BENCH_ROLE";

fn engine(pool: factory::db::Pool, data_dir: &std::path::Path) -> Engine {
    let providers = Providers::builtin();
    providers.add(noop());
    let mut settings = EngineSettings::new(data_dir);
    settings.max_items = 100_000;
    settings.confirm_items = 100_000;
    Engine::new(pool, providers, settings)
}

/// Worker mode: runs the queue on `DATABASE_URL` until stdin closes.
async fn work() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let data_dir = tempfile::tempdir().unwrap();
    let pool = factory::db::pool(&url, IN_FLIGHT + 4).unwrap();
    let engine = engine(pool, data_dir.path());
    let worker = engine.start_worker(
        WorkerConfig {
            max_concurrent: IN_FLIGHT,
            default_concurrency: IN_FLIGHT,
            idle_poll: Duration::from_millis(50),
            ..WorkerConfig::default()
        },
        Duration::from_secs(5),
    );
    println!("ready");
    // The parent closes our stdin to stop us.
    tokio::task::spawn_blocking(|| std::io::stdin().lines().for_each(drop))
        .await
        .unwrap();
    worker.shut_down(Duration::from_secs(5)).await;
}

fn start_worker(url: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(ROLE, "worker")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    child
}

#[tokio::main]
async fn main() {
    if std::env::var(ROLE).as_deref() == Ok("worker") {
        return work().await;
    }
    let db = TestDb::new().await;
    let files = tempfile::tempdir().unwrap();
    let engine = engine(db.pool(), files.path());
    let project = projects::create(
        &mut *db.conn().await,
        &ProjectName::parse("Bench").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    let mut rows: Vec<(usize, f64)> = Vec::new();
    for processes in 1..=3 {
        engine.set_queue_paused(true).await.unwrap();
        let before = queue::totals(&mut *db.conn().await)
            .await
            .unwrap()
            .succeeded;
        engine.launch(&noop::launch(project, JOBS)).await.unwrap();
        let mut children: Vec<Child> = (0..processes).map(|_| start_worker(db.url())).collect();
        let started = Instant::now();
        engine.set_queue_paused(false).await.unwrap();
        loop {
            let totals = queue::totals(&mut *db.conn().await).await.unwrap();
            if totals.succeeded - before >= i64::from(JOBS) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        for child in &mut children {
            drop(child.stdin.take());
        }
        for mut child in children {
            child.wait().unwrap();
        }
        rows.push((processes, seconds));
    }

    let one = f64::from(JOBS) / rows[0].1;
    println!();
    println!("Queue throughput by worker processes (no-op provider, {IN_FLIGHT} jobs in flight each, {JOBS} jobs a row)");
    println!();
    println!("| worker processes | seconds | jobs/s | vs. 1 process |");
    println!("|---:|---:|---:|---:|");
    for (processes, seconds) in rows {
        let rate = f64::from(JOBS) / seconds;
        println!(
            "| {processes} | {seconds:.2} | {rate:.0} | {:.2}× |",
            rate / one
        );
    }
    println!();
    println!(
        "Machine: {} cores. The processes share the cores with PostgreSQL and this process.",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
