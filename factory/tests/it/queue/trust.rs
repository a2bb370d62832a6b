//! What keeps a paid request from being made twice, or running for ever: a lease token per claim
//! renewed for the whole task, submissions whose outcome is unknown flagged before they are
//! sent again, a real attempt limit, and cancel reaching the provider from every state.

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_query;
use diesel_async::RunQueryDsl;
use factory::events::EventKind;
use factory::jobs::claim::{claim, renew_lease, Claimer, LeaseStatus};
use factory::jobs::queue::Canceled;
use factory::jobs::transitions::{self, Failure};
use factory::jobs::worker::WorkerConfig;
use factory::jobs::{Job, JobState};
use factory::products;
use factory::providers::fal::{FalConfig, FalProvider};
use factory::providers::{ErrorKind, GenerationRequest, Provider, ProviderError};
use factory::secret::Secret;
use factory::testing::fal_standin::{FalStandIn, Outage, StandInOptions, SubmitFault};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::scripted;

const MODEL: &str = "fal-ai/flux/schnell";

fn fal(base_url: &str, key: &str, timeout: Option<Duration>) -> FalProvider {
    FalProvider::new(FalConfig {
        key: Secret::new(key).unwrap(),
        base_url: Some(base_url.to_string()),
        timeout,
    })
    .unwrap()
}

fn fal_request(seed: i64, steps: i64) -> GenerationRequest {
    GenerationRequest {
        model: MODEL.into(),
        prompt: "a lighthouse".into(),
        negative_prompt: String::new(),
        seed,
        params: json!({"image_size": "square", "num_inference_steps": steps})
            .as_object()
            .unwrap()
            .clone(),
        networks: Vec::new(),
        input_image: None,
        scene: None,
        made_from: None,
    }
}

fn fal_launch(setup: &Setup, count: u32) -> factory::batches::LaunchRequest {
    factory::batches::LaunchRequest {
        params: json!({"image_size": "square"}).as_object().unwrap().clone(),
        ..request(setup, "fal", MODEL, "a harbour at dusk", count)
    }
}

async fn fal_setup(standin: &FalStandIn, max_attempts: i32) -> Setup {
    let key = StandInOptions::default().key;
    let provider: Arc<dyn Provider> = Arc::new(fal(&standin.base_url(), &key, None));
    setup_with_providers(max_attempts, vec![provider]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submission_that_stalls_for_twice_the_lease_is_sent_once_and_finishes_once() {
    let lease = Duration::from_secs(1);
    let standin = FalStandIn::start(StandInOptions {
        submit_delay: lease * 2,
        ..StandInOptions::default()
    })
    .await;
    let setup = fal_setup(&standin, 5).await;
    let worker = start_with(
        &setup,
        WorkerConfig {
            lease,
            ..fast_worker()
        },
    );
    let mut events = setup.engine.events().subscribe();
    let (batch, jobs) = setup.engine.launch(&fal_launch(&setup, 1)).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;

    assert_eq!(done[0].state(), JobState::Succeeded, "{done:#?}");
    assert_eq!(
        standin.submissions_per_seed().get(&jobs[0].seed),
        Some(&1),
        "submitted exactly once"
    );
    assert_eq!(done[0].attempts, 1, "claimed once");
    assert!(!done[0].possibly_duplicated);
    let mut succeeded = 0;
    while let Ok(event) = events.try_recv() {
        if let EventKind::Job(job) = event.kind {
            succeeded += usize::from(job.state() == JobState::Succeeded);
        }
    }
    assert_eq!(succeeded, 1, "finished once");
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_claim_fences_off_every_write_of_the_earlier_one_even_from_the_same_worker() {
    let setup = setup().await;
    launch(&setup, "ok", 1).await;
    let first = claim_as(&setup, "same-worker").await.unwrap();
    expire_lease(&setup, first.id).await;
    let second = claim_as(&setup, "same-worker").await.unwrap();
    assert_eq!(second.id, first.id);
    assert_ne!(second.lease_token, first.lease_token);

    let mut conn = setup.db.conn().await;
    let stale = first.lease();
    assert!(transitions::begin_submit(&mut conn, stale)
        .await
        .unwrap()
        .is_none());
    assert!(
        transitions::record_request_id(&mut conn, stale, "req-stale")
            .await
            .unwrap()
            .is_none()
    );
    let failure = Failure {
        message: "stale".into(),
        retryable: true,
        retry_in: Duration::ZERO,
        keep_request: false,
        possibly_duplicated: false,
    };
    assert!(transitions::fail_or_retry(&mut conn, stale, &failure)
        .await
        .unwrap()
        .is_none());
    assert!(transitions::mark_canceled(&mut conn, stale)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        renew_lease(&mut conn, stale, Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseStatus::Lost
    );

    // The current claim is untouched and works.
    let current = job(&setup, first.id).await;
    assert_eq!(current.state(), JobState::Submitting);
    assert_eq!(current.provider_request_id, None);
    assert!(
        transitions::record_request_id(&mut conn, second.lease(), "req-current")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_never_claims_a_job_it_is_still_running_even_when_its_lease_looks_expired() {
    let setup = setup().await;
    launch(&setup, "ok", 1).await;
    let held = claim_as(&setup, "w").await.unwrap();
    expire_lease(&setup, held.id).await;
    let (providers, remote_providers) = (all(), remote());
    let claimer = Claimer {
        worker: "w",
        lease: Duration::from_secs(30),
        providers: &providers,
        remote_providers: &remote_providers,
        running: &[held.id],
    };
    let mut conn = setup.db.conn().await;
    assert!(claim(&mut conn, &claimer, 5).await.unwrap().is_empty());
    let other = Claimer {
        running: &[],
        ..claimer
    };
    assert_eq!(claim(&mut conn, &other, 5).await.unwrap().len(), 1);
}

/// A port that reads one whole request and then, instead of answering, either closes the
/// connection at once (a reset) or says nothing at all (a stall).
async fn faulty_port(reset: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_request(&mut socket).await;
                if reset {
                    let _ = socket.set_zero_linger();
                    drop(socket);
                } else {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    let _ = socket.shutdown().await;
                }
            });
        }
    });
    format!("http://{addr}")
}

/// Reads the head and the `Content-Length` body of one HTTP request.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n @ 1..) = socket.read(&mut buf).await else {
            return;
        };
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return;
            }
        }
    }
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn a_submission_says_whether_the_provider_may_have_accepted_it_for_every_kind_of_failure() {
    let key = StandInOptions::default().key;
    let standin = FalStandIn::start(StandInOptions {
        refuse_first_submissions: 1,
        ..StandInOptions::default()
    })
    .await;
    let short = Some(Duration::from_millis(500));
    let submit = async |base: &str, key: &str, steps: i64| -> ProviderError {
        fal(base, key, short)
            .submit(&fal_request(1, steps))
            .await
            .expect_err("the submission fails")
    };
    // fal's own refusal, naming its reason (the first submission is refused this way).
    let scheduling = submit(&standin.base_url(), &key, 4).await;
    standin.fault_next_submissions([SubmitFault::BadGateway, SubmitFault::Garbled]);
    let cases: Vec<(&str, ProviderError, bool)> = vec![
        ("fal refusing with its reason", scheduling, false),
        (
            "a 502 from a proxy",
            submit(&standin.base_url(), &key, 4).await,
            true,
        ),
        (
            "a 200 that cannot be read",
            submit(&standin.base_url(), &key, 4).await,
            true,
        ),
        (
            "a connection reset after sending",
            submit(&faulty_port(true).await, &key, 4).await,
            true,
        ),
        (
            "no answer in time",
            submit(&faulty_port(false).await, &key, 4).await,
            true,
        ),
        (
            "connection refused",
            submit(&closed_port(), &key, 4).await,
            false,
        ),
        (
            "no such host",
            submit("https://art-factory-test.invalid", &key, 4).await,
            false,
        ),
        (
            "a 422 rejecting the input",
            submit(&standin.base_url(), &key, 40).await,
            false,
        ),
        (
            "a 401 rejecting the key",
            submit(&standin.base_url(), "wrong:key", 4).await,
            false,
        ),
    ];
    for (what, error, maybe_accepted) in &cases {
        assert_eq!(
            error.maybe_accepted, *maybe_accepted,
            "{what}: {error} ({:?})",
            error.kind
        );
    }
    let retryable: Vec<bool> = cases.iter().map(|(_, e, _)| e.retryable()).collect();
    assert_eq!(
        retryable,
        [true, true, true, true, true, true, true, false, false],
        "{cases:#?}"
    );
    assert_eq!(cases[6].1.kind, ErrorKind::Network, "{}", cases[6].1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_submission_may_have_been_accepted_is_flagged_and_says_so_before_any_retry() {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    standin.fault_next_submissions([SubmitFault::BadGateway]);
    let setup = fal_setup(&standin, 2).await;
    let mut events = setup.engine.events().subscribe();
    let worker = start(&setup);
    let (batch, jobs) = setup.engine.launch(&fal_launch(&setup, 2)).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;

    assert!(done.iter().all(|j| j.state() == JobState::Succeeded));
    let submissions = standin.submissions_per_seed();
    let flagged: Vec<&Job> = done.iter().filter(|j| j.possibly_duplicated).collect();
    assert_eq!(flagged.len(), 1, "only the job that met the 502: {done:#?}");
    assert_eq!(submissions[&flagged[0].seed], 2, "it was sent twice");
    let clean = done.iter().find(|j| !j.possibly_duplicated).unwrap();
    assert_eq!(submissions[&clean.seed], 1);
    let _ = jobs;

    // Before the retry, the job said why: the person saw it waiting, flagged, with the reason.
    let mut warned = None;
    while let Ok(event) = events.try_recv() {
        if let EventKind::Job(job) = event.kind {
            if job.state() == JobState::RetryWait {
                warned = Some(job);
            }
        }
    }
    let warned = warned.expect("the flagged job waited to retry");
    assert!(warned.possibly_duplicated);
    let error = warned.error.unwrap();
    assert!(
        error.contains("HTTP 502") && error.contains("billed, twice"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submission_that_never_left_is_retried_without_a_flag() {
    let provider: Arc<dyn Provider> =
        Arc::new(fal(&closed_port(), &StandInOptions::default().key, None));
    let setup = setup_with_providers(1, vec![provider]).await;
    let worker = start(&setup);
    let (batch, _) = setup.engine.launch(&fal_launch(&setup, 1)).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Failed);
    assert!(!done[0].possibly_duplicated, "{done:#?}");
    assert!(
        done[0]
            .error
            .as_deref()
            .unwrap()
            .contains("could not be reached"),
        "{done:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_endpoint_that_answers_503_for_ever_fails_the_job_after_its_attempts_with_capped_waits(
) {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    // A day's Retry-After, as a misconfigured proxy might send.
    standin.set_status_outage(Some(Outage {
        status: 503,
        retry_after: Some("86400".into()),
    }));
    let setup = fal_setup(&standin, 3).await;
    let cap = Duration::from_millis(300);
    let config = WorkerConfig {
        retry_after_cap: cap,
        poll_failures_allowed: 1,
        ..fast_worker()
    };
    let mut events = setup.engine.events().subscribe();
    let worker = start_with(&setup, config.clone());
    let (batch, jobs) = setup.engine.launch(&fal_launch(&setup, 1)).await.unwrap();
    let failed = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;

    let job = &failed[0];
    assert_eq!(job.state(), JobState::Failed, "{failed:#?}");
    assert_eq!(job.attempts, 3, "every retry of the polling counted");
    let error = job.error.as_deref().unwrap();
    assert!(
        error.contains("HTTP 503"),
        "failed with the last error: {error}"
    );
    assert_eq!(
        standin.submissions_per_seed()[&jobs[0].seed],
        1,
        "polled again and again, never submitted again"
    );
    assert!(job.provider_request_id.is_some(), "the request is kept");
    let mut waits = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let EventKind::Job(job) = event.kind {
            if job.state() == JobState::RetryWait {
                waits.push((job.run_after - job.updated_at).to_std().unwrap());
            }
        }
    }
    assert_eq!(waits.len(), 2, "two retries before the last attempt");
    assert!(
        waits.iter().all(|w| *w <= cap + Duration::from_millis(50)),
        "Retry-After is capped: {waits:?}"
    );

    // Retried by hand once fal is back: it polls the same request and finishes.
    standin.set_status_outage(None);
    let worker = start_with(&setup, config);
    setup.engine.retry_job(job.id).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Succeeded, "{done:#?}");
    assert_eq!(standin.submissions_per_seed()[&jobs[0].seed], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_used_up_its_attempts_is_failed_at_claim_time_with_its_last_error() {
    let setup = setup_with(2).await;
    let (_, jobs) = launch(&setup, "ok", 2).await;
    // Both jobs are claimed twice by workers that die; one had recorded an error before.
    for round in 0..2 {
        let worker = format!("dead-{round}");
        let held = [
            claim_as(&setup, &worker).await.unwrap(),
            claim_as(&setup, &worker).await.unwrap(),
        ];
        for job in held {
            expire_lease(&setup, job.id).await;
        }
    }
    sql_query("UPDATE jobs SET error = 'Scripted: overloaded' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(jobs[1].id)
        .execute(&mut *setup.db.conn().await)
        .await
        .unwrap();
    let mut given_up = Vec::new();
    while let Some(job) = claim_as(&setup, "alive").await {
        given_up.push(job);
    }
    assert_eq!(given_up.len(), 2);
    for job in &given_up {
        assert_eq!(job.state(), JobState::Failed);
        assert_eq!(job.attempts, 2, "not run a third time");
        assert_eq!(job.lease_owner, None);
    }
    let error = |id| {
        given_up
            .iter()
            .find(|j| j.id == id)
            .unwrap()
            .error
            .clone()
            .unwrap()
    };
    assert!(
        error(jobs[0].id).contains("Gave up after 2 attempts"),
        "{}",
        error(jobs[0].id)
    );
    assert_eq!(error(jobs[1].id), "Scripted: overloaded");
    assert_eq!(setup.scripted.submissions("ok"), 0);

    // A person can still retry it.
    let retried = setup.engine.retry_job(jobs[0].id).await.unwrap();
    assert_eq!((retried.state(), retried.attempts), (JobState::Queued, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_job_waiting_to_retry_its_provider_request_cancels_it_at_the_provider() {
    let setup = setup().await;
    let (_, jobs) = launch(&setup, "hang", 1).await;
    // It reached the provider, then its polling failed: it waits to poll again, a minute away,
    // while the provider keeps running (and billing) it.
    let held = claim_as(&setup, "w1").await.unwrap();
    let provider = setup.engine.providers().get(scripted::ID).unwrap().clone();
    let request_id = match provider.submit(&held.request().unwrap()).await.unwrap() {
        factory::providers::Submitted::Queued { request_id } => request_id,
        other => panic!("{other:?}"),
    };
    let mut conn = setup.db.conn().await;
    transitions::record_request_id(&mut conn, held.lease(), &request_id)
        .await
        .unwrap()
        .unwrap();
    let failure = Failure {
        message: "Scripted: status unavailable".into(),
        retryable: true,
        retry_in: Duration::from_secs(60),
        keep_request: true,
        possibly_duplicated: false,
    };
    let waiting = transitions::fail_or_retry(&mut conn, held.lease(), &failure)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting.state(), JobState::RetryWait);
    // Even with the queue paused.
    setup.engine.set_queue_paused(true).await.unwrap();

    let worker = start(&setup);
    let canceled = setup.engine.cancel_job(jobs[0].id).await.unwrap();
    assert!(matches!(canceled, Canceled::Requested(_)), "{canceled:?}");
    let done = wait_for_jobs(&setup, waiting.batch_id, |jobs| {
        jobs[0].state() == JobState::Canceled
    })
    .await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Canceled);
    assert_eq!(setup.scripted.cancels(), [request_id]);
}
