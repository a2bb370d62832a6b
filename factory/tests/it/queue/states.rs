//! A job through its states, as people and the worker move it.

use std::time::Duration;

use factory::batches::{LaunchError, LaunchRequest, SeedChoice};
use factory::events::EventKind;
use factory::jobs::queue::{self, Canceled};
use factory::jobs::transitions::{self, Failure};
use factory::jobs::JobState;
use factory::media::png::{read_text, ART_FACTORY_KEY, PARAMETERS_KEY};
use factory::media::THUMB_SIZES;
use factory::products;
use factory::projects;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_on_the_offline_generator_stores_one_png_per_job_with_metadata_and_thumbnails() {
    let setup = setup().await;
    let worker = start(&setup);
    let (batch, jobs) = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "a lighthouse", 3))
        .await
        .unwrap();
    for job in &jobs {
        let bindings = serde_json::from_value(job.bindings.clone()).unwrap();
        assert_eq!(job.seed, factory::prompt::derive_seed(1000, &bindings));
    }
    assert_eq!(
        jobs.iter()
            .map(|j| j.seed)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        3,
        "each image of the same prompt has its own seed"
    );

    let done = wait_until_finished(&setup, batch.id).await;
    assert!(
        done.iter()
            .all(|j| j.state() == JobState::Succeeded && j.attempts == 1),
        "{done:#?}"
    );
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3, "exactly one product per job");
    for product in &stored {
        assert_eq!(
            (product.width, product.height, product.mime.as_str()),
            (Some(128), Some(96), "image/png")
        );
        let bytes = std::fs::read(setup.engine.media().root().join(&product.path)).unwrap();
        let parameters = read_text(&bytes, PARAMETERS_KEY).unwrap();
        assert!(parameters.starts_with("a lighthouse\n"), "{parameters}");
        assert!(parameters.contains(&format!("Seed: {}", product.seed.unwrap())));
        let record: serde_json::Value =
            serde_json::from_str(&read_text(&bytes, ART_FACTORY_KEY).unwrap()).unwrap();
        assert_eq!(record["provider"], "local");
        assert_eq!(record["model"], "aurora");
        let media = setup.engine.media();
        for size in THUMB_SIZES {
            let thumb = media
                .thumb_key(setup.project, &product.content_hash, size)
                .unwrap();
            assert!(media.exists(&thumb).unwrap(), "{thumb}");
        }
        assert!(product.thumbhash.is_some());
    }
    let hashes: std::collections::HashSet<_> = stored.iter().map(|p| &p.content_hash).collect();
    assert_eq!(hashes.len(), 3, "different seeds give different images");
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_carry_increasing_sequence_numbers_and_every_job_reaches_succeeded_once() {
    let setup = setup().await;
    let mut events = setup.engine.events().subscribe();
    let worker = start(&setup);
    let (batch, jobs) = launch(&setup, "ok", 4).await;
    wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;

    let mut last_seq = 0;
    let mut succeeded = std::collections::HashMap::new();
    let mut products_created = 0;
    let mut saw_progress = false;
    while let Ok(event) = events.try_recv() {
        assert!(event.seq > last_seq, "sequence numbers increase");
        last_seq = event.seq;
        match event.kind {
            EventKind::Job(job) if job.state() == JobState::Succeeded => {
                *succeeded.entry(job.id).or_insert(0) += 1
            }
            EventKind::Job(job) if job.state() == JobState::Running && job.progress > Some(0.0) => {
                saw_progress = true
            }
            EventKind::ProductCreated(_) => products_created += 1,
            _ => {}
        }
    }
    assert_eq!(succeeded.len(), jobs.len());
    assert!(succeeded.values().all(|n| *n == 1), "{succeeded:?}");
    assert_eq!(products_created, 4);
    assert!(
        saw_progress,
        "progress reported by the provider reaches the events"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_launches_are_refused_field_by_field_and_queue_nothing() {
    let setup = setup().await;
    let cases: Vec<(LaunchRequest, &str, &str)> = vec![
        (
            request(&setup, "local", "aurora", "   ", 1),
            "prompt",
            "Write a prompt first.",
        ),
        (
            request(&setup, "local", "aurora", &"x".repeat(4001), 1),
            "prompt",
            "at most 4000",
        ),
        (
            request(&setup, "local", "aurora", "ok", 0),
            "count",
            "between 1 and 20",
        ),
        (
            request(&setup, "local", "aurora", "ok", 21),
            "count",
            "between 1 and 20",
        ),
        (
            request(&setup, "nope", "aurora", "ok", 1),
            "provider",
            "no provider “nope”",
        ),
        (
            request(&setup, "local", "cubism", "ok", 1),
            "model",
            "no model “cubism”",
        ),
        (
            LaunchRequest {
                params: json!({"width": 4096, "height": "tall"})
                    .as_object()
                    .unwrap()
                    .clone(),
                ..request(&setup, "local", "aurora", "ok", 1)
            },
            "params.width",
            "between 64 and 2048",
        ),
        (
            LaunchRequest {
                seed: SeedChoice::Fixed(-1),
                ..request(&setup, "local", "aurora", "ok", 1)
            },
            "seed",
            "0 to 4294967295",
        ),
    ];
    for (launch, field, message) in cases {
        match setup.engine.launch(&launch).await {
            Err(LaunchError::Invalid(errors)) => {
                let error = errors
                    .iter()
                    .find(|e| e.field == field)
                    .unwrap_or_else(|| panic!("no {field} error in {errors:?}"));
                assert!(
                    error.message.contains(message),
                    "{field}: {}",
                    error.message
                );
            }
            other => panic!("{field}: expected a field error, got {other:?}"),
        }
    }
    let totals = queue::totals(&mut *setup.db.conn().await).await.unwrap();
    assert_eq!(totals.active(), 0, "nothing was queued");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archived_project_cannot_be_generated_into() {
    let setup = setup().await;
    projects::set_archived(&mut *setup.db.conn().await, setup.project, true)
        .await
        .unwrap();
    let err = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "x", 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("archived"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_job_is_submitted_once_and_polled_to_completion_with_its_request_id_kept() {
    let setup = setup().await;
    let done = run_scripted(&setup, "ok").await;
    assert_eq!(done[0].state(), JobState::Succeeded);
    assert_eq!(done[0].provider_request_id.as_deref(), Some("req-1"));
    assert_eq!(setup.scripted.submissions("ok"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn retryable_failures_back_off_and_then_succeed() {
    let setup = setup().await;
    let done = run_scripted(&setup, "flaky:2").await;
    assert_eq!(done[0].state(), JobState::Succeeded);
    assert_eq!(done[0].attempts, 3);
    assert_eq!(setup.scripted.submissions("flaky:2"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_waits_in_the_database_until_its_time_so_backoff_survives_a_restart() {
    let setup = setup().await;
    let (batch, _) = launch(&setup, "ok", 1).await;
    let mut conn = setup.db.conn().await;
    let job = claim_next(&mut conn, "w1", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    let failure = Failure {
        message: "Scripted: overloaded".into(),
        retryable: true,
        retry_in: Duration::from_secs(600),
        keep_request: false,
        possibly_duplicated: false,
    };
    let waiting = transitions::fail_or_retry(&mut conn, job.lease(), &failure)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting.state(), JobState::RetryWait);
    assert_eq!(waiting.error.as_deref(), Some("Scripted: overloaded"));
    let wait = waiting.run_after - waiting.updated_at;
    assert!(
        (599..=601).contains(&wait.num_seconds()),
        "run_after is now + 600 s: {wait}"
    );
    // A "restarted" worker (a new id, nothing in memory) does not take it early...
    assert!(
        claim_next(&mut conn, "w2", Duration::from_secs(30), &all(), &remote())
            .await
            .unwrap()
            .is_none()
    );
    // ...and takes it once due, as attempt 2.
    sql_query("UPDATE jobs SET run_after = now() WHERE batch_id = $1")
        .bind::<diesel::sql_types::BigInt, _>(batch.id)
        .execute(&mut conn)
        .await
        .unwrap();
    let again = claim_next(&mut conn, "w2", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id, again.attempts, again.state()),
        (job.id, 2, JobState::Submitting)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_last_attempt_a_job_fails_with_the_last_error_and_can_be_retried_by_hand() {
    let setup = setup_with(3).await;
    let worker = start(&setup);
    let (batch, _) = launch(&setup, "flaky:3", 1).await;
    let failed = wait_until_finished(&setup, batch.id).await;
    assert_eq!(failed[0].state(), JobState::Failed);
    assert_eq!(failed[0].attempts, 3);
    assert_eq!(
        failed[0].error.as_deref(),
        Some("Scripted: overloaded (try 3)")
    );

    setup.engine.retry_job(failed[0].id).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Succeeded);
    assert_eq!(done[0].error, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_that_cannot_succeed_on_retry_fails_at_once_with_the_providers_message() {
    let setup = setup().await;
    let done = run_scripted(&setup, "refused").await;
    assert_eq!(done[0].state(), JobState::Failed);
    assert_eq!(done[0].attempts, 1);
    assert_eq!(
        done[0].error.as_deref(),
        Some("Scripted: the prompt was refused by the content filter")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_works_while_queued_while_waiting_to_retry_and_while_running_at_the_provider() {
    let setup = setup().await;
    let mut conn = setup.db.conn().await;

    // Queued: cancelled on the spot.
    let (_, queued) = launch(&setup, "ok", 1).await;
    assert!(
        matches!(setup.engine.cancel_job(queued[0].id).await.unwrap(), Canceled::Now(ref j) if j.state() == JobState::Canceled)
    );

    // Waiting to retry: cancelled on the spot.
    let (_, retrying) = launch(&setup, "ok", 1).await;
    let claimed = claim_next(&mut conn, "w1", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, retrying[0].id);
    let failure = Failure {
        message: "x".into(),
        retryable: true,
        retry_in: Duration::from_secs(60),
        keep_request: false,
        possibly_duplicated: false,
    };
    transitions::fail_or_retry(&mut conn, claimed.lease(), &failure)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        setup.engine.cancel_job(claimed.id).await.unwrap(),
        Canceled::Now(_)
    ));

    // Running at the provider: the worker cancels it there, then records it.
    let worker = start(&setup);
    let (batch, _) = launch(&setup, "hang", 1).await;
    let running = wait_for_jobs(&setup, batch.id, |jobs| {
        jobs[0].provider_request_id.is_some()
    })
    .await;
    assert!(matches!(
        setup.engine.cancel_job(running[0].id).await.unwrap(),
        Canceled::Requested(_)
    ));
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Canceled);
    assert_eq!(
        setup.scripted.cancels(),
        [running[0].provider_request_id.clone().unwrap()]
    );

    // Finished: nothing to cancel, and it says so.
    let err = setup.engine.cancel_job(done[0].id).await.unwrap_err();
    assert!(err.to_string().contains("canceled"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_queue_stops_claims_until_it_is_resumed() {
    let setup = setup().await;
    setup.engine.set_queue_paused(true).await.unwrap();
    launch(&setup, "ok", 2).await;
    let mut conn = setup.db.conn().await;
    assert!(queue::is_paused(&mut conn).await.unwrap());
    assert!(
        claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
            .await
            .unwrap()
            .is_none()
    );
    setup.engine.set_queue_paused(false).await.unwrap();
    assert!(
        claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_moved_to_the_front_is_claimed_next() {
    let setup = setup().await;
    let (_, first) = launch(&setup, "ok", 3).await;
    let (_, later) = launch(&setup, "ok", 3).await;
    let last = later.last().unwrap().id;
    setup.engine.move_job_to_front(last).await.unwrap();
    let mut conn = setup.db.conn().await;
    let claimed = claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, last);
    let next = claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, first[0].id, "then the queue goes on in order");
    let err = setup
        .engine
        .move_job_to_front(claimed.id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("waiting"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_with_generations_cannot_be_deleted_and_says_why() {
    let setup = setup().await;
    setup
        .engine
        .launch(&request(&setup, "local", "aurora", "keep me", 2))
        .await
        .unwrap();
    let err = projects::delete(&mut *setup.db.conn().await, setup.project)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            factory::projects::ProjectError::NotEmpty { contents, .. }
                if contents.batches == 1 && contents.products == 0
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("archive the project instead"),
        "{err}"
    );
    assert!(projects::get(&mut *setup.db.conn().await, setup.project)
        .await
        .is_ok());
}
