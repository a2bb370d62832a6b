//! Crashes and other processes: what a dead worker leaves behind is resumed, never repeated.

use std::time::Duration;

use diesel::sql_query;
use diesel_async::RunQueryDsl;
use factory::jobs::claim::{claim, release_orphaned_leases, Claimer};
use factory::jobs::transitions;
use factory::jobs::worker::WorkerConfig;
use factory::jobs::JobState;
use factory::products::{self, NewProduct};
use factory::providers::Providers;
use factory::testing::eventually;
use factory::{Engine, EngineSettings};

use super::*;
use crate::scripted;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_died_after_committing_its_request_id_resumes_polling_and_is_not_resubmitted(
) {
    let setup = setup().await;
    let (batch, _) = launch(&setup, "ok", 1).await;
    let job = claim_as(&setup, "dead").await.unwrap();
    let mut conn = setup.db.conn().await;
    transitions::begin_submit(&mut conn, job.lease())
        .await
        .unwrap()
        .unwrap();
    transitions::record_request_id(&mut conn, job.lease(), "req-77")
        .await
        .unwrap()
        .unwrap();
    expire_lease(&setup, job.id).await;

    let resumed = claim_as(&setup, "alive").await.unwrap();
    assert_eq!(resumed.state(), JobState::Running, "resumes polling");
    assert_eq!(resumed.provider_request_id.as_deref(), Some("req-77"));
    assert_eq!(
        resumed.attempts, 2,
        "resuming is an attempt too (it counts)"
    );
    assert!(!resumed.possibly_duplicated);
    assert!(
        resumed.lease_token > job.lease_token,
        "a new claim, a new token"
    );

    // The dead worker's late writes are refused.
    assert!(transitions::begin_download(&mut conn, job.lease())
        .await
        .unwrap()
        .is_none());
    let _ = batch;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_caught_between_sending_and_recording_its_request_id_is_flagged_as_possibly_duplicated(
) {
    let setup = setup().await;
    launch(&setup, "ok", 1).await;
    setup
        .engine
        .launch(&request(&setup, "local", "aurora", "ok", 1))
        .await
        .unwrap();
    let mut conn = setup.db.conn().await;
    for provider in [scripted::ID, "local"] {
        let only = [provider.to_string()];
        let job = claim_next(&mut conn, "dead", Duration::from_secs(30), &only, &remote())
            .await
            .unwrap()
            .unwrap();
        transitions::begin_submit(&mut conn, job.lease())
            .await
            .unwrap()
            .unwrap();
        expire_lease(&setup, job.id).await;
    }
    let mut flagged = std::collections::HashMap::new();
    for _ in 0..2 {
        let job = claim_next(
            &mut conn,
            "alive",
            Duration::from_secs(30),
            &all(),
            &remote(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            job.state(),
            JobState::Submitting,
            "submitted again: there is no request id to poll"
        );
        assert_eq!(job.attempts, 2);
        flagged.insert(job.provider.clone(), job.possibly_duplicated);
    }
    assert!(
        flagged[scripted::ID],
        "a remote queue may now hold it twice: flagged"
    );
    assert!(
        !flagged["local"],
        "the offline generator has no remote copy"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn completing_a_job_twice_stores_its_products_once() {
    let setup = setup().await;
    let worker = start(&setup);
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "once", 1))
        .await
        .unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    let mut conn = setup.db.conn().await;
    let existing = products::list_for_batch(&mut conn, batch.id).await.unwrap();
    // Replay the completion as a recovered worker would after a crash mid-download: it holds a
    // new claim, downloads the same bytes again and completes.
    let claimed: Vec<Job> = sql_query(
        "UPDATE jobs SET state = 'downloading', lease_owner = 'again',
                lease_token = lease_token + 1
         WHERE id = $1 RETURNING *",
    )
    .bind::<diesel::sql_types::BigInt, _>(done[0].id)
    .load(&mut conn)
    .await
    .unwrap();
    let bytes = std::fs::read(setup.engine.media().root().join(&existing[0].path)).unwrap();
    let stored = setup.engine.media().put(setup.project, &bytes).unwrap();
    let request = claimed[0].request().unwrap();
    let replay = NewProduct::from_job(
        &claimed[0],
        &request,
        0,
        NewProduct::stored(claimed[0].project_id, stored),
    );
    let (job, inserted) = transitions::complete(&mut conn, claimed[0].lease(), vec![replay])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state(), JobState::Succeeded);
    assert!(inserted.is_empty());
    assert_eq!(
        products::list_for_batch(&mut conn, batch.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn work_queued_by_another_process_wakes_this_worker_through_notify() {
    let setup = setup().await;
    // A second engine on the same database stands for another process: its own wake-up, its
    // own worker, which would otherwise look for work only once an hour.
    let files = tempfile::tempdir().unwrap();
    let other = Engine::new(
        setup.db.pool(),
        Providers::builtin(),
        EngineSettings::new(files.path()),
    );
    let sleepy = WorkerConfig {
        idle_poll: Duration::from_secs(3600),
        ..fast_worker()
    };
    let worker = other.start_worker(sleepy, Duration::from_secs(1));
    // Let the worker reach its first idle wait and start listening.
    eventually(Duration::from_secs(10), async || {
        let listening: Vec<Listening> = sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN art_factory_jobs%'",
        )
        .load(&mut *setup.db.conn().await)
        .await
        .unwrap();
        (listening[0].n > 0).then_some(())
    })
    .await;
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "from elsewhere", 2))
        .await
        .unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert!(done.iter().all(|j| j.state() == JobState::Succeeded));
}

#[derive(diesel::QueryableByName)]
struct Listening {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_crash_the_sole_user_of_the_database_releases_every_lease_at_once() {
    let setup = setup().await;
    launch(&setup, "ok", 2).await;
    let mut conn = setup.db.conn().await;
    let (providers, remote_providers) = (all(), remote());
    let claimer = |worker| Claimer {
        worker,
        lease: Duration::from_secs(30),
        providers: &providers,
        remote_providers: &remote_providers,
        running: &[],
    };
    let held = claim(&mut conn, &claimer("crashed"), 2).await.unwrap();
    assert_eq!(held.len(), 2);
    // Their leases run for 30 s: nobody else may take them yet.
    assert!(claim_as(&setup, "restarted").await.is_none());

    assert_eq!(release_orphaned_leases(&mut conn).await.unwrap(), 2);
    let resumed = claim(&mut conn, &claimer("restarted"), 5).await.unwrap();
    assert_eq!(
        resumed.iter().map(|j| j.id).collect::<Vec<_>>(),
        held.iter().map(|j| j.id).collect::<Vec<_>>()
    );
    assert!(resumed
        .iter()
        .all(|j| j.lease_owner.as_deref() == Some("restarted")));
}
