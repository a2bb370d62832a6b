//! Several processes on one database: `serve --no-workers` queues and serves, `art-factory
//! worker` processes run the jobs, each job exactly once, a worker killed with SIGKILL loses
//! nothing (its leases expire and another takes its jobs over), and the web process's live
//! feed shows what the workers do (LISTEN/NOTIFY between the processes).

use std::process::{Child, Stdio};
use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use factory::providers::Providers;
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};

use crate::support::{command, local_launch, ServerProcess};

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    done: i64,
    #[diesel(sql_type = BigInt)]
    products: i64,
    #[diesel(sql_type = BigInt)]
    attempts: i64,
}

async fn counts(db: &TestDb, batch: i64) -> Counts {
    diesel::sql_query(
        "SELECT (SELECT count(*) FROM jobs WHERE batch_id = $1 AND state = 'succeeded') AS done,
                (SELECT count(*) FROM products p JOIN jobs j ON j.id = p.job_id
                 WHERE j.batch_id = $1) AS products,
                (SELECT coalesce(sum(attempts), 0)::bigint FROM jobs WHERE batch_id = $1) AS attempts",
    )
    .bind::<BigInt, _>(batch)
    .get_result(&mut *db.conn().await)
    .await
    .unwrap()
}

/// `art-factory worker` on `db` (with `extra` arguments), once it says it runs.
pub(crate) fn worker(db: &TestDb, data_dir: &std::path::Path, extra: &[&str]) -> Child {
    use std::io::{BufRead, BufReader};
    let mut args = vec!["worker", "--job-lease", "3", "--workers", "2"];
    args.extend_from_slice(extra);
    let mut child = command(&args, data_dir)
        .env("DATABASE_URL", db.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("Art Factory worker is running"),
        "{first}"
    );
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_in_other_processes_run_every_job_once_and_survive_a_kill() {
    let db = TestDb::new().await;
    let data_dir = tempfile::tempdir().unwrap();
    let web = ServerProcess::start_with_database(data_dir.path(), db.url(), &["--no-workers"]);
    // Queued through the engine on the same database (as the web process's form would).
    let engine = Engine::new(
        db.pool(),
        Providers::builtin(),
        EngineSettings::new(data_dir.path()),
    );
    let project = factory::projects::create(
        &mut *db.conn().await,
        &factory::projects::ProjectName::parse("Shared").unwrap(),
        &factory::projects::Description::default(),
    )
    .await
    .unwrap()
    .id;
    let (batch, _) = engine
        .launch(&local_launch(project, "a heron, {dawn|dusk|night}", 10))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        counts(&db, batch.id).await.done,
        0,
        "serve --no-workers runs nothing"
    );

    // A browser on the web process watches the live feed while other processes run the jobs.
    let mut feed = reqwest::Client::new()
        .get(web.url("/events"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let watched = {
        let text = text.clone();
        tokio::spawn(async move {
            while let Ok(Some(chunk)) = feed.chunk().await {
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk));
            }
        })
    };
    let mut first = worker(&db, data_dir.path(), &[]);
    let mut second = worker(&db, data_dir.path(), &[]);
    // One worker dies mid-batch; the other (and the expired leases) finish the rest.
    factory::testing::eventually(Duration::from_secs(60), async || {
        (counts(&db, batch.id).await.done >= 3).then_some(())
    })
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    // A process killed between a commit and its notification takes that one event with it
    // (the row is there; open pages show it at their next reload): at most one per job the
    // killed worker was running.
    let in_flight_at_kill = 2;
    let done = factory::testing::eventually(Duration::from_secs(90), async || {
        let c = counts(&db, batch.id).await;
        (c.done == 30).then_some(c)
    })
    .await;
    assert_eq!(
        done.products, 30,
        "every job made its one product, none twice"
    );
    assert!(done.attempts >= 30);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(second.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(
        second.wait().unwrap().success(),
        "a worker stops cleanly on SIGTERM"
    );

    let products_seen = |text: &str| text.matches("event: product_created").count();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let seen = text.lock().unwrap().clone();
        if products_seen(&seen) >= 30 - in_flight_at_kill || std::time::Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    watched.abort();
    assert!(
        products_seen(&seen) >= 30 - in_flight_at_kill,
        "the web process's feed shows every product the workers made: {}",
        &seen[seen.len().saturating_sub(3000)..]
    );
    assert!(seen.contains(r#""state":"succeeded""#), "job events too");

    // The web process serves what the workers made (same data directory, same database).
    let made = factory::products::list_for_batch(&mut *db.conn().await, batch.id)
        .await
        .unwrap();
    let first_product: app::dto::ProductDto = made.into_iter().next().unwrap().into();
    let image = reqwest::get(web.url(&first_product.url)).await.unwrap();
    assert_eq!(image.status(), 200);
    assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
}
