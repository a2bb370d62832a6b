//! Pipelines in PostgreSQL: versions on every saved edit, refusals that save nothing, and the
//! step cache: shared, hidden while a product is in the trash, gone when it is deleted.

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use factory::gallery::triage::Change;
use factory::pipelines::store::{self, PipelineError, PipelineName};
use factory::pipelines::{plan, preview, Graph, KeyInputs, StepKind};
use serde_json::json;

use crate::queue::setup_with_providers;

mod runs;

fn graph(prompt: &str) -> Graph {
    serde_json::from_value(json!({"steps": [
        {"name": "hero", "kind": "generate", "provider": "local", "model": "aurora",
         "prompt": prompt},
        {"name": "small", "kind": "crop_resize", "width": 32, "height": 32,
         "inputs": {"image": [{"step": "hero", "output": "image"}]}}
    ]}))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_saved_edit_is_a_version_and_a_bad_graph_saves_nothing() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let mut conn = setup.db.conn().await;
    let name = PipelineName::parse("  Lighthouses ").unwrap();
    let made = store::create(&mut conn, setup.project, &name, &graph("a lighthouse"))
        .await
        .unwrap();
    assert_eq!(
        (made.name.as_str(), made.latest_version),
        ("Lighthouses", 1)
    );

    let v2 = store::save(&mut conn, made.id, &graph("a lighthouse in fog"))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let same = store::save(&mut conn, made.id, &graph("a lighthouse in fog"))
        .await
        .unwrap();
    assert_eq!(same.version, 2, "an unchanged graph makes no version");
    let first = store::version(&mut conn, made.id, Some(1)).await.unwrap();
    assert_eq!(
        first.graph,
        graph("a lighthouse"),
        "old versions stay as they were"
    );
    let listed: Vec<i32> = store::versions(&mut conn, made.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(listed, [2, 1]);

    let mut broken = graph("x");
    broken.steps[1].inputs.clear();
    let err = store::save(&mut conn, made.id, &broken).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("step “small”, input “image” is not connected"),
        "{err}"
    );
    assert_eq!(store::latest(&mut conn, made.id).await.unwrap().version, 2);

    let err = store::create(&mut conn, setup.project, &name, &graph("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::NameTaken(_)), "{err}");
    let copy = store::duplicate(
        &mut conn,
        made.id,
        &PipelineName::parse("Lighthouses, again").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        store::latest(&mut conn, copy.id).await.unwrap().graph,
        graph("a lighthouse in fog")
    );
    let names: Vec<String> = store::list(&mut conn, setup.project)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Lighthouses", "Lighthouses, again"]);
    assert!(matches!(
        store::get(&mut conn, 999_999).await,
        Err(PipelineError::NotFound(999_999))
    ));
    assert!(PipelineName::parse(" ").is_err());
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_hides_entries_while_a_product_is_in_the_trash_and_forgets_deleted_ones() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let made = crate::export::two_triaged_products(&setup).await;
    let g = graph("a lighthouse");
    let order = g.check().unwrap();
    let none = |_: &str, _: &str| None;
    let keys: Vec<_> = plan(
        &g,
        &order,
        &KeyInputs {
            run_seed: 1,
            run_id: 1,
            model_version: &none,
            input_picture: None,
        },
    )
    .into_iter()
    .map(|p| p.key)
    .collect();
    let mut conn = setup.db.conn().await;
    assert!(store::cached(&mut conn, &keys).await.unwrap().is_empty());
    store::remember(&mut conn, &keys[0], &[made[0].id])
        .await
        .unwrap();
    store::remember(&mut conn, &keys[1], &[made[0].id, made[1].id])
        .await
        .unwrap();
    let hits = store::cached(&mut conn, &keys).await.unwrap();
    assert_eq!(hits[&keys[1]], [made[0].id, made[1].id]);

    // In the trash: the step would run again; restored: cached again.
    setup
        .engine
        .triage(&[made[1].id], &Change::Trash(true))
        .await
        .unwrap();
    let hits = store::cached(&mut conn, &keys).await.unwrap();
    assert!(hits.contains_key(&keys[0]) && !hits.contains_key(&keys[1]));
    setup
        .engine
        .triage(&[made[1].id], &Change::Trash(false))
        .await
        .unwrap();
    assert_eq!(store::cached(&mut conn, &keys).await.unwrap().len(), 2);

    // Deleted for good: the entry is gone.
    setup
        .engine
        .triage(&[made[1].id], &Change::Trash(true))
        .await
        .unwrap();
    setup.engine.empty_trash(None).await.unwrap();
    let left: Count = diesel::sql_query("SELECT count(*) AS n FROM step_cache")
        .get_result(&mut *conn)
        .await
        .unwrap();
    assert_eq!(left.n, 1, "only the entry of the product still there");
}

fn no_versions(_: &str, _: &str) -> Option<String> {
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_runs_only_what_the_cache_cannot_answer_and_prices_only_that() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let made = crate::export::two_triaged_products(&setup).await;
    let mut conn = setup.db.conn().await;
    let g = graph("a lighthouse");

    let fresh = preview(&mut conn, &g, &run_inputs(7, 1)).await.unwrap();
    assert_eq!(fresh.to_run, 2);
    assert!(fresh.steps.iter().all(|s| s.cached.is_none()));
    assert_eq!(
        (fresh.cost_micros, fresh.unpriced.len()),
        (0, 0),
        "the offline generator is free"
    );

    // As a finished run leaves it: every step cached, nothing to run, nothing to pay.
    for (step, product) in fresh.steps.iter().zip(&made) {
        store::remember(&mut conn, &step.key, &[product.id])
            .await
            .unwrap();
    }
    let again = preview(&mut conn, &g, &run_inputs(7, 2)).await.unwrap();
    assert_eq!(again.to_run, 0);
    assert_eq!(again.steps[1].cached, Some(vec![made[1].id]));

    // A downstream edit runs that step only; a new run seed runs the seeded step and what
    // follows it.
    let mut smaller = g.clone();
    if let StepKind::CropResize { width, .. } = &mut smaller.steps[1].kind {
        *width = 16;
    }
    let edited = preview(&mut conn, &smaller, &run_inputs(7, 3))
        .await
        .unwrap();
    let running: Vec<&str> = edited
        .steps
        .iter()
        .filter(|s| s.cached.is_none())
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(running, ["small"]);
    assert_eq!(
        preview(&mut conn, &g, &run_inputs(8, 4))
            .await
            .unwrap()
            .to_run,
        2
    );

    // A hosted model is priced for the pictures it will make, and only while it has to run.
    let hosted: Graph = serde_json::from_value(json!({"steps": [
        {"name": "hero", "kind": "generate", "provider": "fal", "model": "fal-ai/flux/schnell",
         "prompt": "a lighthouse", "params": {"image_size": "square_hd"}},
        {"name": "more", "kind": "variations", "provider": "fal",
         "model": "fal-ai/flux/dev/image-to-image", "prompt": "in fog", "count": 4,
         "inputs": {"image": [{"step": "hero", "output": "image"}]}},
        {"name": "odd", "kind": "image_to_image", "provider": "elsewhere", "model": "m",
         "prompt": "x", "inputs": {"image": [{"step": "hero", "output": "image"}]}}
    ]}))
    .unwrap();
    let priced = preview(&mut conn, &hosted, &run_inputs(7, 5))
        .await
        .unwrap();
    assert_eq!(priced.steps[1].provider_images, 4);
    assert!(priced.cost_micros > 0);
    assert_eq!(priced.unpriced, ["odd"]);
    store::remember(&mut conn, &priced.steps[0].key, &[made[0].id])
        .await
        .unwrap();
    let less = preview(&mut conn, &hosted, &run_inputs(7, 6))
        .await
        .unwrap();
    assert!(
        less.cost_micros < priced.cost_micros,
        "a cached step costs nothing"
    );
}

/// The key inputs of run `run_id` with `run_seed`, on providers that report no model versions.
fn run_inputs(run_seed: i64, run_id: i64) -> KeyInputs<'static> {
    KeyInputs {
        run_seed,
        run_id,
        model_version: &no_versions,
        input_picture: None,
    }
}
