//! Runs against a real database, the real worker and the offline generator: steps run in
//! dependency order as jobs, a second run is answered from the cache, an edit runs only what it
//! changed, a failure stops only its dependants, and a run can start from a picture.

use std::collections::HashMap;
use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use factory::pipelines::runs::{self, Run, RunError, RunRequest, RunState, StepState};
use factory::pipelines::store::{self, PipelineName};
use factory::pipelines::Graph;
use factory::testing::eventually;
use serde_json::json;

use crate::queue::{setup_with_providers, start, Setup};

/// generate -> three variations of it -> a contact sheet of those, all offline.
fn sheet_pipeline(columns: u32, always_run_hero: bool) -> Graph {
    serde_json::from_value(json!({"steps": [
        {"name": "hero", "kind": "generate", "provider": "local", "model": "aurora",
         "prompt": "a {red|blue} lighthouse", "params": {"width": 96, "height": 64},
         "always_run": always_run_hero},
        {"name": "more", "kind": "variations", "provider": "local", "model": "remix",
         "prompt": "in fog", "count": 3,
         "inputs": {"image": [{"step": "hero", "output": "image"}]}},
        {"name": "sheet", "kind": "contact_sheet", "columns": columns, "title": "Fog",
         "inputs": {"images": [{"step": "more", "output": "images"}]}}
    ]}))
    .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn jobs_made(setup: &Setup) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM jobs")
        .get_result::<Count>(&mut *setup.db.conn().await)
        .await
        .unwrap()
        .n
}

/// Waits for the run to end and answers each step's state and products, by name.
async fn finished(setup: &Setup, run: &Run) -> (Run, HashMap<String, (StepState, Vec<i64>)>) {
    let run = eventually(Duration::from_secs(60), async || {
        let run = runs::get(&mut *setup.db.conn().await, run.id)
            .await
            .unwrap();
        (run.state() != RunState::Running).then_some(run)
    })
    .await;
    let steps = runs::steps(&mut *setup.db.conn().await, run.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name.clone(), (s.state(), s.product_ids.clone())))
        .collect();
    (run, steps)
}

fn request(pipeline_id: i64, run_seed: i64) -> RunRequest {
    RunRequest {
        pipeline_id,
        version: None,
        run_seed: Some(run_seed),
        input_product: None,
    }
}

fn states(steps: &HashMap<String, (StepState, Vec<i64>)>) -> Vec<(&str, StepState)> {
    let mut states: Vec<(&str, StepState)> =
        steps.iter().map(|(n, (s, _))| (n.as_str(), *s)).collect();
    states.sort_by_key(|(name, _)| *name);
    states
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_makes_each_step_once_and_the_cache_answers_what_did_not_change() {
    use StepState::{Cached, Succeeded};
    let setup = setup_with_providers(5, Vec::new()).await;
    let _worker = start(&setup);
    setup.engine.start_pipeline_driver();
    let name = PipelineName::parse("Fog").unwrap();
    let made = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        &name,
        &sheet_pipeline(3, false),
    )
    .await
    .unwrap();

    let first = setup
        .engine
        .run_pipeline(&request(made.id, 7))
        .await
        .unwrap();
    let (run, steps) = finished(&setup, &first).await;
    assert_eq!(run.state(), RunState::Succeeded);
    assert_eq!(
        states(&steps),
        [
            ("hero", Succeeded),
            ("more", Succeeded),
            ("sheet", Succeeded)
        ]
    );
    assert_eq!(
        (
            steps["hero"].1.len(),
            steps["more"].1.len(),
            steps["sheet"].1.len()
        ),
        (1, 3, 1)
    );
    assert_eq!(
        jobs_made(&setup).await,
        4,
        "one generation and three variations"
    );
    let sheet = factory::products::get(&mut *setup.db.conn().await, steps["sheet"].1[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sheet.model.as_deref(), Some("contact_sheet"));
    assert_eq!(sheet.parent_id, Some(steps["more"].1[0]));
    let seeds: Vec<Option<i64>> = {
        let mut conn = setup.db.conn().await;
        let mut seeds = Vec::new();
        for id in &steps["more"].1 {
            seeds.push(
                factory::products::get(&mut conn, *id)
                    .await
                    .unwrap()
                    .unwrap()
                    .seed,
            );
        }
        seeds
    };
    assert_eq!(
        seeds.iter().collect::<std::collections::HashSet<_>>().len(),
        3,
        "each variation has its own seed: {seeds:?}"
    );

    // The same run seed again: everything from the cache, at once, no job.
    let again = setup
        .engine
        .run_pipeline(&request(made.id, 7))
        .await
        .unwrap();
    assert_eq!(
        again.state(),
        RunState::Succeeded,
        "finished when it started"
    );
    let (_, steps_again) = finished(&setup, &again).await;
    assert_eq!(
        states(&steps_again),
        [("hero", Cached), ("more", Cached), ("sheet", Cached)]
    );
    assert_eq!(steps_again["sheet"].1, steps["sheet"].1);
    assert_eq!(jobs_made(&setup).await, 4);

    // An edit of the last step: a new version, and only that step runs.
    let v2 = store::save(
        &mut *setup.db.conn().await,
        made.id,
        &sheet_pipeline(2, false),
    )
    .await
    .unwrap();
    assert_eq!(v2.version, 2);
    let edited = setup
        .engine
        .run_pipeline(&request(made.id, 7))
        .await
        .unwrap();
    assert_eq!(edited.version, 2, "a run records the version it ran");
    let (_, steps_edited) = finished(&setup, &edited).await;
    assert_eq!(
        states(&steps_edited),
        [("hero", Cached), ("more", Cached), ("sheet", Succeeded)]
    );
    assert_ne!(steps_edited["sheet"].1, steps["sheet"].1);
    assert_eq!(jobs_made(&setup).await, 4);

    // A re-run from the variations runs them and the sheet again, not the first step.
    let rerun = setup
        .engine
        .rerun_pipeline(edited.id, "more")
        .await
        .unwrap();
    assert_eq!(rerun.rerun_of, Some(edited.id));
    let (_, steps_rerun) = finished(&setup, &rerun).await;
    assert_eq!(
        states(&steps_rerun),
        [("hero", Cached), ("more", Succeeded), ("sheet", Succeeded)]
    );
    assert_eq!(jobs_made(&setup).await, 7);
    let err = setup
        .engine
        .rerun_pipeline(edited.id, "nowhere")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no step “nowhere”"), "{err}");

    // A new run seed makes new pictures: the seeded steps and what follows them run.
    let reseeded = setup
        .engine
        .run_pipeline(&request(made.id, 8))
        .await
        .unwrap();
    let (_, steps_reseeded) = finished(&setup, &reseeded).await;
    assert_eq!(
        states(&steps_reseeded),
        [
            ("hero", Succeeded),
            ("more", Succeeded),
            ("sheet", Succeeded)
        ]
    );
    assert_eq!(jobs_made(&setup).await, 11);

    // "Always run": the step runs on every run, and so does everything after it.
    store::save(
        &mut *setup.db.conn().await,
        made.id,
        &sheet_pipeline(2, true),
    )
    .await
    .unwrap();
    for expected_jobs in [15, 19] {
        let run = setup
            .engine
            .run_pipeline(&request(made.id, 7))
            .await
            .unwrap();
        let (run, _) = finished(&setup, &run).await;
        assert_eq!(run.state(), RunState::Succeeded);
        assert_eq!(jobs_made(&setup).await, expected_jobs);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_step_stops_only_the_steps_after_it() {
    let setup = setup_with_providers(1, Vec::new()).await;
    let _worker = start(&setup);
    setup.engine.start_pipeline_driver();
    let graph: Graph = serde_json::from_value(json!({"steps": [
        {"name": "doomed", "kind": "generate", "provider": "scripted", "model": "m",
         "prompt": "refused"},
        {"name": "after doomed", "kind": "crop_resize", "width": 8, "height": 8,
         "inputs": {"image": [{"step": "doomed", "output": "image"}]}},
        {"name": "fine", "kind": "generate", "provider": "local", "model": "waves",
         "prompt": "calm", "params": {"width": 64, "height": 64}},
        {"name": "after fine", "kind": "upscale", "method": "lanczos", "factor": 2.0,
         "inputs": {"image": [{"step": "fine", "output": "image"}]}}
    ]}))
    .unwrap();
    let made = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        &PipelineName::parse("Half").unwrap(),
        &graph,
    )
    .await
    .unwrap();
    let run = setup
        .engine
        .run_pipeline(&request(made.id, 1))
        .await
        .unwrap();
    let (run, steps) = finished(&setup, &run).await;
    assert_eq!(run.state(), RunState::Failed);
    assert_eq!(
        states(&steps),
        [
            ("after doomed", StepState::Blocked),
            ("after fine", StepState::Succeeded),
            ("doomed", StepState::Failed),
            ("fine", StepState::Succeeded),
        ]
    );
    let listed = runs::steps(&mut *setup.db.conn().await, run.id)
        .await
        .unwrap();
    let blocked = listed.iter().find(|s| s.name == "after doomed").unwrap();
    assert_eq!(
        blocked.error.as_deref(),
        Some("Not run: it takes the outputs of “doomed”, which failed.")
    );
    let upscaled = factory::products::get(&mut *setup.db.conn().await, steps["after fine"].1[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((upscaled.width, upscaled.height), (Some(128), Some(128)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_starts_from_a_picture_and_is_refused_with_what_to_do() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let pictures = crate::export::two_triaged_products(&setup).await;
    let (picture, other) = (&pictures[0], &pictures[1]);
    let graph: Graph = serde_json::from_value(json!({"steps": [
        {"name": "picture", "kind": "input"},
        {"name": "thumb", "kind": "crop_resize", "width": 16, "height": 16, "fit": "cover",
         "inputs": {"image": [{"step": "picture", "output": "image"}]}}
    ]}))
    .unwrap();
    let made = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        &PipelineName::parse("Thumbs").unwrap(),
        &graph,
    )
    .await
    .unwrap();
    let err = setup
        .engine
        .run_pipeline(&request(made.id, 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("starts from a picture"), "{err}");
    let err = setup
        .engine
        .run_pipeline(&RunRequest {
            input_product: Some(999_999),
            ..request(made.id, 1)
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("There is no picture #999999"),
        "{err}"
    );

    let run = setup
        .engine
        .run_pipeline(&RunRequest {
            input_product: Some(picture.id),
            ..request(made.id, 1)
        })
        .await
        .unwrap();
    // No driver runs here: the caller moves the run on itself.
    let advanced = setup.engine.advance_run(run.id).await.unwrap();
    assert_eq!(
        advanced.finished.as_ref().map(Run::state),
        Some(RunState::Succeeded)
    );
    let thumb = &advanced.products[0];
    assert_eq!((thumb.width, thumb.height), (Some(16), Some(16)));
    assert_eq!(thumb.parent_id, Some(picture.id));

    // Another picture is another key; a bad step is refused before anything runs.
    let run = setup
        .engine
        .run_pipeline(&RunRequest {
            input_product: Some(other.id),
            ..request(made.id, 1)
        })
        .await
        .unwrap();
    let steps = runs::steps(&mut *setup.db.conn().await, run.id)
        .await
        .unwrap();
    assert_eq!(steps[1].state(), StepState::Waiting);

    let bad: Graph = serde_json::from_value(json!({"steps": [
        {"name": "odd", "kind": "generate", "provider": "local", "model": "aurora",
         "prompt": "x", "params": {"width": 99999}}
    ]}))
    .unwrap();
    let odd = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        &PipelineName::parse("Odd").unwrap(),
        &bad,
    )
    .await
    .unwrap();
    match setup.engine.run_pipeline(&request(odd.id, 1)).await {
        Err(RunError::Steps(problems)) => {
            assert_eq!(problems.len(), 1);
            assert!(problems[0].starts_with("Step “odd”: "), "{problems:?}");
        }
        other => panic!("expected the step refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pipeline_is_deleted_with_its_runs_but_not_while_one_runs_and_its_pictures_stay() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let name = PipelineName::parse("Gone").unwrap();
    let made = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        &name,
        &sheet_pipeline(3, false),
    )
    .await
    .unwrap();
    // Not driven yet: the run stays under way.
    let run = setup
        .engine
        .run_pipeline(&request(made.id, 3))
        .await
        .unwrap();
    let refused = store::delete(&mut *setup.db.conn().await, made.id)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("has a run under way; cancel it"),
        "{refused}"
    );
    let _worker = start(&setup);
    setup.engine.start_pipeline_driver();
    let (_, steps) = finished(&setup, &run).await;
    store::delete(&mut *setup.db.conn().await, made.id)
        .await
        .unwrap();
    assert!(matches!(
        store::get(&mut *setup.db.conn().await, made.id).await,
        Err(store::PipelineError::NotFound(_))
    ));
    assert!(matches!(
        runs::get(&mut *setup.db.conn().await, run.id).await,
        Err(RunError::NotFound(_))
    ));
    let sheet = steps["sheet"].1[0];
    assert!(
        factory::products::get(&mut *setup.db.conn().await, sheet)
            .await
            .unwrap()
            .is_some(),
        "what the runs made stays"
    );
    assert!(matches!(
        store::delete(&mut *setup.db.conn().await, made.id).await,
        Err(store::PipelineError::NotFound(_))
    ));
}
