//! The Queue page's view: batches in the order they run, counted per state, paged by key; a
//! batch's jobs paged the same way; batch-wide cancel and retry; a bounded live snapshot.

use diesel::sql_query;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use factory::jobs::board::{self, BatchCursor, JobCursor, Section};
use factory::jobs::{queue, JobState};
use serde_json::json;

use super::{launch, run_batch, setup};

/// Every batch of a section, page after page of `limit`.
async fn all_batches(setup: &super::Setup, section: Section, limit: i64) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut after: Option<BatchCursor> = None;
    loop {
        let page = setup
            .engine
            .queue_batches(section, after, limit)
            .await
            .unwrap();
        pages.push(page.batches.iter().map(|b| b.id).collect());
        match page.next {
            Some(next) => after = Some(next),
            None => return pages,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_are_listed_in_run_order_with_counts_and_move_between_sections() {
    let setup = setup().await;
    let (a, _) = launch(&setup, "first", 3).await;
    let (b, _) = launch(&setup, "second", 2).await;
    let (c, c_jobs) = launch(&setup, "third", 2).await;

    assert_eq!(
        all_batches(&setup, Section::Active, 2).await,
        vec![vec![a.id, b.id], vec![c.id]],
        "oldest first, two to a page"
    );
    let page = setup
        .engine
        .queue_batches(Section::Active, None, 10)
        .await
        .unwrap();
    let first = &page.batches[0];
    assert_eq!((first.counts.queued, first.counts.unfinished()), (3, 3));
    assert_eq!(first.template, "first");
    assert_eq!(first.project_name, "Tests");
    assert_eq!(first.progress(), 0.0);

    // Moving a job to the front moves its batch to the top, and the job to the top of it.
    setup.engine.move_job_to_front(c_jobs[1].id).await.unwrap();
    assert_eq!(
        all_batches(&setup, Section::Active, 10).await,
        vec![vec![c.id, a.id, b.id]]
    );
    let jobs = setup
        .engine
        .queue_batch_jobs(c.id, &[], None, 1)
        .await
        .unwrap();
    assert_eq!(jobs.jobs[0].job.id, c_jobs[1].id);
    let rest = setup
        .engine
        .queue_batch_jobs(c.id, &[], jobs.next, 1)
        .await
        .unwrap();
    assert_eq!(rest.jobs[0].job.id, c_jobs[0].id);
    assert_eq!(rest.next, None);

    // Cancelling a batch finishes it: it leaves the active list for the finished one.
    assert_eq!(setup.engine.cancel_batch(b.id).await.unwrap(), 2);
    assert_eq!(
        setup.engine.cancel_batch(b.id).await.unwrap(),
        0,
        "nothing left to cancel"
    );
    assert_eq!(
        all_batches(&setup, Section::Active, 10).await,
        vec![vec![c.id, a.id]]
    );
    let finished = setup
        .engine
        .queue_batches(Section::Finished, None, 10)
        .await
        .unwrap();
    assert_eq!(finished.batches.len(), 1);
    assert_eq!(finished.batches[0].counts.canceled, 2);
    assert_eq!(finished.batches[0].progress(), 1.0);

    // A batch's failed jobs are retried together; the others are left alone.
    let mut conn = setup.db.conn().await;
    sql_query(
        "UPDATE jobs SET state = 'failed', error = 'boom' WHERE batch_id = $1 AND item_index < 2",
    )
    .bind::<BigInt, _>(a.id)
    .execute(&mut *conn)
    .await
    .unwrap();
    let failed = setup
        .engine
        .queue_batch_jobs(a.id, &[JobState::Failed], None, 10)
        .await
        .unwrap();
    assert_eq!(failed.jobs.len(), 2, "the state filter");
    assert_eq!(setup.engine.retry_failed_in_batch(a.id).await.unwrap(), 2);
    let page = board::summaries(&mut conn, &[a.id]).await.unwrap();
    assert_eq!((page[0].counts.queued, page[0].counts.failed), (3, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_batches_show_their_pictures_newest_first() {
    let setup = setup().await;
    let params = json!({"width": 64, "height": 64});
    let (older, _) = run_batch(
        &setup,
        "local",
        "waves",
        "a {red|blue} fox",
        params.clone(),
        1,
    )
    .await;
    let (newer, _) = run_batch(&setup, "local", "waves", "a cat", params, 2).await;
    let page = setup
        .engine
        .queue_batches(Section::Finished, None, 10)
        .await
        .unwrap();
    let ids: Vec<i64> = page.batches.iter().map(|b| b.id).collect();
    assert_eq!(ids, vec![newer, older]);
    assert_eq!(page.batches[0].counts.succeeded, 2);
    assert_eq!(page.batches[0].thumbs.len(), 2);
    assert!(page.batches[0].thumbs[0].product_id > page.batches[0].thumbs[1].product_id);
    let jobs = setup
        .engine
        .queue_batch_jobs(older, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(jobs.jobs.len(), 2);
    assert!(
        jobs.jobs.iter().all(|j| j.thumb.is_some()),
        "each finished job has its picture"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_queued_jobs_page_exactly_and_the_live_snapshot_stays_small() {
    let setup = setup().await;
    let (batch, jobs) = launch(&setup, "many", 1).await;
    let mut conn = setup.db.conn().await;
    sql_query(
        "INSERT INTO jobs (batch_id, project_id, item_index, provider, model, input, seed)
         SELECT batch_id, project_id, g, provider, model, input, g
         FROM jobs, generate_series(1, 10000) AS g WHERE id = $1",
    )
    .bind::<BigInt, _>(jobs[0].id)
    .execute(&mut *conn)
    .await
    .unwrap();

    let snapshot = queue::list_live(&mut conn, 100, 100).await.unwrap();
    assert_eq!(snapshot.len(), 100, "the front of the queue, not all of it");
    assert_eq!(queue::totals(&mut conn).await.unwrap().queued, 10_001);

    let page = setup
        .engine
        .queue_batches(Section::Active, None, 20)
        .await
        .unwrap();
    assert_eq!(page.batches[0].counts.queued, 10_001);

    // Paging by key visits every job exactly once, in order.
    let mut seen = Vec::new();
    let mut after: Option<JobCursor> = None;
    loop {
        let page = setup
            .engine
            .queue_batch_jobs(batch.id, &[], after, 500)
            .await
            .unwrap();
        assert!(
            page.jobs.len() <= board::MAX_PAGE as usize,
            "a page is capped"
        );
        seen.extend(page.jobs.iter().map(|j| j.job.item_index));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (0..=10_000).collect::<Vec<i32>>());
}
