//! Events between two engines (two processes' worth) on one database: the pages of one see
//! every job and product the other's worker makes, through LISTEN/NOTIFY, and neither hears
//! its own events twice.

use std::collections::BTreeSet;
use std::time::Duration;

use factory::events::EventKind;
use factory::jobs::JobState;
use factory::providers::Providers;
use factory::{Engine, EngineSettings};

use crate::queue::{fast_worker, request, setup_with_providers};

#[tokio::test(flavor = "multi_thread")]
async fn a_web_process_sees_the_jobs_and_products_a_worker_process_makes() {
    let setup = setup_with_providers(3, Vec::new()).await;
    // "web": launches and watches; "worker": another engine on the same database runs the jobs.
    let web = &setup.engine;
    let worker_engine = Engine::new(
        setup.db.pool(),
        Providers::builtin(),
        EngineSettings::new(setup.engine.media().root()),
    );
    let web_relay = web.start_event_relay(setup.db.url()).await.unwrap();
    let worker_relay = worker_engine
        .start_event_relay(setup.db.url())
        .await
        .unwrap();
    let mut watching = web.events().subscribe();
    let mut own = worker_engine.events().subscribe();

    let (batch, _) = web
        .launch(&request(
            &setup,
            "local",
            "waves",
            "a heron, {dawn|dusk}",
            2,
        ))
        .await
        .unwrap();
    let worker = worker_engine.start_worker(fast_worker(), Duration::from_secs(2));

    let mut succeeded = BTreeSet::new();
    let mut products = BTreeSet::new();
    let mut job_events = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while succeeded.len() < 4 || products.len() < 4 {
            match watching.recv().await.unwrap().kind {
                EventKind::Job(job) if job.batch_id == batch.id => {
                    job_events.push(job.id);
                    if job.state() == JobState::Succeeded {
                        succeeded.insert(job.id);
                    }
                }
                EventKind::ProductCreated(product) => {
                    products.insert(product.id);
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the web engine hears every job finish and every product made elsewhere");
    worker.shut_down(Duration::from_secs(2)).await;

    // The worker's own subscribers heard each of its events once (its own notices are skipped).
    let mut heard = Vec::new();
    while let Ok(event) = own.try_recv() {
        if let EventKind::ProductCreated(product) = event.kind {
            heard.push(product.id);
        }
    }
    let distinct: BTreeSet<i64> = heard.iter().copied().collect();
    assert_eq!(
        heard.len(),
        distinct.len(),
        "no product event twice: {heard:?}"
    );
    assert_eq!(distinct, products);
    web_relay.stop();
    worker_relay.stop();
}
