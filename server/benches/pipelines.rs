//! Pipeline benchmark: `cargo bench -p server --bench pipelines` (or `scripts/bench pipelines`).
//!
//! A 200-step pipeline: the time to work out every step's cache key, and to look every key up
//! in the step cache (one query), per step. Then a 30-step pipeline run for real (the offline
//! generator, the worker and the pipeline driver): a first run; the same run after a restart
//! (a new engine on a new connection pool: nothing in memory); and each scripted edit saved as
//! a new version and run, with the steps executed beside the steps that edit should run (worked
//! out from the graph). Prints tables; nothing here passes or fails.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use factory::jobs::worker::WorkerConfig;
use factory::pipelines::runs::{self, RunRequest, RunState};
use factory::pipelines::store;
use factory::pipelines::{plan, preview, Graph, KeyInputs, SeedRule, StepKind};
use factory::projects::{self, Description, ProjectName};
use factory::providers::Providers;
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};
use serde_json::json;

fn no_versions(_: &str, _: &str) -> Option<String> {
    None
}

/// `n` steps: a generate, then image-to-image and crops hanging off earlier steps (a tree with
/// branches), variations every 10th step and a contact sheet every 25th.
fn pipeline(n: usize) -> Graph {
    let mut steps = vec![
        json!({"name": "s0", "kind": "generate", "provider": "local",
        "model": "aurora", "prompt": "a lighthouse, {dawn|dusk}", "params": {"width": 64, "height": 64}}),
    ];
    for i in 1..n {
        let from = format!("s{}", (i - 1) / 2);
        let name = format!("s{i}");
        // Variations and sheets are leaves: only single pictures feed the other steps.
        let single = |k: usize| k == 0 || (!k.is_multiple_of(10) && !k.is_multiple_of(25));
        let from = if single((i - 1) / 2) {
            from
        } else {
            "s0".into()
        };
        let step = if i.is_multiple_of(25) {
            json!({"name": name, "kind": "contact_sheet", "columns": 3, "title": format!("sheet {i}"),
                   "inputs": {"images": [{"step": "s0", "output": "image"},
                                         {"step": from, "output": "image"}]}})
        } else if i.is_multiple_of(10) {
            json!({"name": name, "kind": "variations", "provider": "local", "model": "remix",
                   "prompt": format!("variation {i}"), "count": 3,
                   "inputs": {"image": [{"step": from, "output": "image"}]}})
        } else if i.is_multiple_of(3) {
            json!({"name": name, "kind": "crop_resize", "width": 32 + i as u32, "height": 32,
                   "inputs": {"image": [{"step": from, "output": "image"}]}})
        } else {
            json!({"name": name, "kind": "image_to_image", "provider": "local", "model": "remix",
                   "prompt": format!("step {i}"),
                   "inputs": {"image": [{"step": from, "output": "image"}]}})
        };
        steps.push(step);
    }
    serde_json::from_value(json!({ "steps": steps })).unwrap()
}

/// `name` and every step that depends on it, directly or not.
fn downstream(graph: &Graph, name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([name.to_string()]);
    loop {
        let before = out.len();
        for step in &graph.steps {
            let fed = step
                .inputs
                .values()
                .flatten()
                .any(|link| out.contains(&link.step));
            if fed {
                out.insert(step.name.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

fn prompt_of<'a>(graph: &'a mut Graph, name: &str) -> &'a mut String {
    let i = graph.index_of(name).unwrap();
    match &mut graph.steps[i].kind {
        StepKind::Generate { call }
        | StepKind::ImageToImage { call }
        | StepKind::Variations { call, .. } => &mut call.prompt,
        _ => panic!("{name} has no prompt"),
    }
}

#[tokio::main]
async fn main() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::new(
        db.pool(),
        Providers::builtin(),
        EngineSettings::new(data.path()),
    );
    let project = projects::create(
        &mut *db.conn().await,
        &ProjectName::parse("Bench").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    let png = factory::media::png::encode_rgb(8, 8, &[120; 8 * 8 * 3]).unwrap();
    let product = engine.upload(project, png).await.unwrap().id;

    // 200 steps: keys, then lookups.
    let big = pipeline(200);
    let order = big.check().unwrap();
    let inputs = KeyInputs {
        run_seed: 1,
        run_id: 1,
        model_version: &no_versions,
        input_picture: None,
    };
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(plan(&big, &order, &inputs));
    }
    let key_us = started.elapsed().as_secs_f64() * 1e6 / (rounds * big.steps.len()) as f64;
    let keys: Vec<_> = plan(&big, &order, &inputs)
        .into_iter()
        .map(|p| p.key)
        .collect();
    let mut conn = db.conn().await;
    for key in &keys {
        store::remember(&mut conn, key, &[product]).await.unwrap();
    }
    let rounds = 50;
    let started = Instant::now();
    for _ in 0..rounds {
        let hits = store::cached(&mut conn, &keys).await.unwrap();
        assert_eq!(hits.len(), keys.len());
    }
    let lookup_us = started.elapsed().as_secs_f64() * 1e6 / (rounds * keys.len()) as f64;
    let started = Instant::now();
    let whole = preview(&mut conn, &big, &run_inputs(1, 2)).await.unwrap();
    let preview_ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "\n200-step pipeline ({} steps, cache warm)\n",
        big.steps.len()
    );
    println!("| measure | time | goal |");
    println!("|---|---:|---:|");
    println!("| cache key per step (all 200 keys, pure) | {key_us:.1} µs | |");
    println!("| cache lookup per step (one query for 200 keys) | {lookup_us:.1} µs | |");
    println!(
        "| key + lookup per step | {:.1} µs | < 1,000 µs |",
        key_us + lookup_us
    );
    println!(
        "| whole preview (check, keys, lookup, prices) | {preview_ms:.1} ms | |\n| steps it would run | {} | 0 |",
        whole.to_run
    );
    drop(conn);

    // 30 steps, run for real.
    let small = pipeline(30);
    let worker = engine.start_worker(fast_worker(), Duration::from_secs(2));
    engine.start_pipeline_driver();
    let made = store::create(
        &mut *db.conn().await,
        project,
        &factory::pipelines::PipelineName::parse("Thirty").unwrap(),
        &small,
    )
    .await
    .unwrap();
    let everything: BTreeSet<String> = small.steps.iter().map(|s| s.name.clone()).collect();
    println!("\n30-step pipeline, run for real (offline generator, 64×64)\n");
    println!("| run | steps executed | steps that should run | same | time |");
    println!("|---|---:|---:|---|---:|");
    let row = |what: &str, ran: &BTreeSet<String>, expected: &BTreeSet<String>, secs: f64| {
        println!(
            "| {what} | {} | {} | {} | {secs:.1} s |",
            ran.len(),
            expected.len(),
            if ran == expected { "yes" } else { "NO" }
        )
    };
    // Run seed 11: the 200-step section above cached the same first steps for run seed 1.
    let (ran, secs) = run(&engine, made.id, 11).await;
    row("first run", &ran, &everything, secs);

    // A restart: the first engine's worker and driver stop; a new engine on a new pool runs it.
    engine.stop_pipeline_driver();
    worker.shut_down(Duration::from_secs(2)).await;
    let engine = Engine::new(
        db.pool(),
        Providers::builtin(),
        EngineSettings::new(data.path()),
    );
    let _worker = engine.start_worker(fast_worker(), Duration::from_secs(2));
    engine.start_pipeline_driver();
    let (ran, secs) = run(&engine, made.id, 11).await;
    row("unchanged, after a restart", &ran, &BTreeSet::new(), secs);

    let (ran, secs) = run(&engine, made.id, 12).await;
    row("new run seed", &ran, &everything, secs);

    let mut edits: Vec<(&str, Graph, BTreeSet<String>)> = Vec::new();
    let mut g = small.clone();
    prompt_of(&mut g, "s4").push_str(", in fog");
    edits.push(("prompt of s4 (one branch)", g, downstream(&small, "s4")));
    let mut g = small.clone();
    let sheet = g.index_of("s25").unwrap();
    if let StepKind::ContactSheet { title, .. } = &mut g.steps[sheet].kind {
        *title = "renamed".into();
    }
    edits.push((
        "title of s25 (downstream only)",
        g,
        downstream(&small, "s25"),
    ));
    let mut g = small.clone();
    let first = g.index_of("s0").unwrap();
    if let StepKind::Generate { call } = &mut g.steps[first].kind {
        call.model = "waves".into();
    }
    edits.push(("model of s0 (the first step)", g, downstream(&small, "s0")));
    let mut g = small.clone();
    let i = g.index_of("s7").unwrap();
    g.steps[i].seed = SeedRule::Fixed { seed: 99 };
    edits.push(("fixed seed on s7", g, downstream(&small, "s7")));
    let mut g = small.clone();
    g.steps.reverse();
    for step in &mut g.steps {
        step.name = format!("step-{}", step.name);
        for link in step.inputs.values_mut().flatten() {
            link.step = format!("step-{}", link.step);
        }
    }
    edits.push(("steps renumbered and renamed", g, BTreeSet::new()));
    for (what, graph, expected) in edits {
        // Each edit is made to the original and run with the first run's seed.
        store::save(&mut *db.conn().await, made.id, &graph)
            .await
            .unwrap();
        let (ran, secs) = run(&engine, made.id, 11).await;
        row(what, &ran, &expected, secs);
    }
}

fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        idle_poll: Duration::from_millis(50),
        ..WorkerConfig::default()
    }
}

/// Runs the pipeline's latest version with `run_seed` until it ends; answers the steps executed
/// (not answered from the cache) and the seconds it took.
async fn run(engine: &Engine, pipeline_id: i64, run_seed: i64) -> (BTreeSet<String>, f64) {
    let started = Instant::now();
    let run = engine
        .run_pipeline(&RunRequest {
            pipeline_id,
            version: None,
            run_seed: Some(run_seed),
            input_product: None,
        })
        .await
        .unwrap();
    let run = factory::testing::eventually(Duration::from_secs(300), async || {
        let run = runs::get(&mut engine.conn().await.unwrap(), run.id)
            .await
            .unwrap();
        (run.state() != RunState::Running).then_some(run)
    })
    .await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(run.state(), RunState::Succeeded, "run {}", run.id);
    let steps = runs::steps(&mut engine.conn().await.unwrap(), run.id)
        .await
        .unwrap();
    let ran = steps
        .into_iter()
        .filter(|s| s.started_at.is_some())
        // Renamed steps are reported by their original names.
        .map(|s| s.name.trim_start_matches("step-").to_string())
        .collect();
    (ran, secs)
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
