//! Engine benchmark: `cargo bench -p server --bench engine` (or `scripts/bench`).
//!
//! Prints a table of what the engine issue sets goals for, all measured in this run on this
//! machine: queue throughput and claim-to-start latency with a provider that does nothing,
//! event latency from a committed change to a WebSocket client, thumbnail time for a 1024² PNG
//! (and the same through `vips thumbnail` when libvips-tools is installed, as a ratio), and the
//! offline generator at 1024². Times on a shared 2-core machine are noisy: compare ratios and
//! runs, not single numbers. Nothing here passes or fails.

use std::process::Command;
use std::time::{Duration, Instant};

use app::dto::LiveMessage;
use factory::jobs::queue;
use factory::jobs::worker::WorkerConfig;
use factory::media::ThumbSize;
use factory::projects::{self, Description, ProjectName};
use factory::providers::{local, GenerationRequest, Providers};
use factory::testing::noop::{self, noop};
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};
use futures::StreamExt;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

struct Row(String, String, String);

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let db = TestDb::new().await;
    let files = tempfile::tempdir().unwrap();
    let providers = Providers::builtin();
    providers.add(noop());
    let mut settings = EngineSettings::new(files.path());
    settings.max_items = 100_000;
    settings.confirm_items = 100_000;
    let engine = Engine::new(db.pool(), providers, settings);
    let project = projects::create(
        &mut *db.conn().await,
        &ProjectName::parse("Bench").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    let worker_config = WorkerConfig {
        max_concurrent: 32,
        default_concurrency: 32,
        idle_poll: Duration::from_millis(200),
        ..WorkerConfig::default()
    };
    let mut rows = Vec::new();

    // 1. Throughput: one big batch through the queue.
    let jobs = 3000;
    engine.set_queue_paused(true).await.unwrap();
    engine.launch(&noop::launch(project, jobs)).await.unwrap();
    let worker = engine.start_worker(worker_config.clone(), Duration::from_secs(5));
    let started = Instant::now();
    engine.set_queue_paused(false).await.unwrap();
    loop {
        let totals = queue::totals(&mut *db.conn().await).await.unwrap();
        if totals.succeeded >= jobs as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    rows.push(Row(
        "queue throughput (no-op provider, 32 in flight)".into(),
        format!("{:.0} jobs/s", jobs as f64 / elapsed),
        "≥ 1000 jobs/s".into(),
    ));

    // 2. Claim-to-start latency and 3. event latency: single jobs into an idle worker, watched
    // by a real WebSocket client.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server::http::router(
        engine.clone(),
        server::http::leptos_options(std::path::Path::new("target/site"), addr),
        server::http::Shutdown::never(),
        server::http::auth::Auth::off(),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let mut claim_ms = Vec::new();
    let mut event_ms = Vec::new();
    for _ in 0..300 {
        let (_, launched) = engine.launch(&noop::launch(project, 1)).await.unwrap();
        let id = launched[0].id;
        loop {
            let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = socket.next().await
            else {
                continue;
            };
            let received = chrono::Utc::now();
            if let Ok(LiveMessage::Job { job, .. }) = serde_json::from_str::<LiveMessage>(&text) {
                if job.id == id && job.state == app::dto::JobState::Succeeded {
                    event_ms.push(
                        (received - job.updated_at).num_microseconds().unwrap() as f64 / 1000.0,
                    );
                    break;
                }
            }
        }
        let job = queue::get(&mut *db.conn().await, id).await.unwrap();
        claim_ms.push(
            (job.started_at.unwrap() - job.created_at)
                .num_microseconds()
                .unwrap() as f64
                / 1000.0,
        );
    }
    worker.shut_down(Duration::from_secs(2)).await;
    let claim_ms = sorted(claim_ms);
    let event_ms = sorted(event_ms);
    rows.push(Row(
        "claim-to-start latency p50 / p95".into(),
        format!(
            "{:.1} / {:.1} ms",
            percentile(&claim_ms, 0.5),
            percentile(&claim_ms, 0.95)
        ),
        "—".into(),
    ));
    rows.push(Row(
        "event latency, commit → WebSocket client, p50 / p95".into(),
        format!(
            "{:.1} / {:.1} ms",
            percentile(&event_ms, 0.5),
            percentile(&event_ms, 0.95)
        ),
        "p95 < 250 ms (aim < 20)".into(),
    ));

    // 4. The offline generator at 1024².
    let request = GenerationRequest {
        model: "aurora".into(),
        prompt: "a lighthouse on a cliff at dusk".into(),
        negative_prompt: String::new(),
        seed: 42,
        params: serde_json::json!({"width": 1024, "height": 1024, "detail": 4})
            .as_object()
            .unwrap()
            .clone(),
        networks: Vec::new(),
        input_image: None,
        scene: None,
        made_from: None,
    };
    let mut generate_ms = Vec::new();
    let mut png = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        png = local::generate_png(&request).unwrap();
        generate_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let generate_ms = sorted(generate_ms);
    rows.push(Row(
        "offline generator, 1024² PNG, p50".into(),
        format!("{:.1} ms", percentile(&generate_ms, 0.5)),
        "< 100 ms".into(),
    ));

    // 5. Thumbnail: 1024² PNG -> 256 px WebP, ours and vips.
    let mut ours = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        factory::media::thumbnail(&png, ThumbSize::Small).unwrap();
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let ours = percentile(&sorted(ours), 0.5);
    rows.push(Row(
        "thumbnail 1024² PNG → 256 px WebP, p50".into(),
        format!("{ours:.1} ms"),
        "≤ 15 ms".into(),
    ));
    // vips per file, without its process start-up: one run over many copies minus one run over
    // a single copy.
    let copies: Vec<std::path::PathBuf> = (0..21)
        .map(|i| {
            let path = files.path().join(format!("bench-{i}.png"));
            std::fs::write(&path, &png).unwrap();
            path
        })
        .collect();
    let vips_run = |inputs: &[std::path::PathBuf]| -> Option<f64> {
        let t = Instant::now();
        let out = Command::new("vipsthumbnail")
            .args(inputs)
            .args(["--size", "256", "-o", "%s-vips.webp[Q=80]"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| t.elapsed().as_secs_f64() * 1000.0)
    };
    let vips = (0..5)
        .map(|_| Some(vips_run(&copies)? - vips_run(&copies[..1])?))
        .collect::<Option<Vec<f64>>>();
    match vips {
        Some(batches) => {
            let per_file = percentile(&sorted(batches), 0.5) / (copies.len() - 1) as f64;
            rows.push(Row(
                "same through `vipsthumbnail` (per file, start-up excluded)".into(),
                format!("{per_file:.1} ms"),
                "—".into(),
            ));
            rows.push(Row(
                "ours / vips".into(),
                format!("{:.2}×", ours / per_file),
                "≤ 1.5×".into(),
            ));
        }
        None => rows.push(Row(
            "`vipsthumbnail`".into(),
            "not installed (apt-get install libvips-tools)".into(),
            "—".into(),
        )),
    }

    // 5. Prompt expansion: 10,000 items from nested variants and two wildcards.
    let lists: std::collections::HashMap<String, Vec<String>> = [
        (
            "colors/warm".to_string(),
            (0..25)
                .map(|i| format!("{{warm|hot}} tone {i}"))
                .collect::<Vec<_>>(),
        ),
        (
            "place".to_string(),
            (0..10).map(|i| format!("place {i}")).collect(),
        ),
    ]
    .into_iter()
    .collect();
    let template = "a {red|green|blue|gold|grey} {fox {running|sleeping}|owl|cat} in \
                    __colors/warm__ at __place__";
    let expansion = factory::prompt::Expansion {
        mode: factory::prompt::Mode::Combinatorial,
        count: 1,
        batch_seed: 7,
        cap: 100_000,
    };
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let expanded = expansion.expand(template, &lists).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        count = expanded.items.len();
    }
    let expand_p50 = percentile(&sorted(times), 0.5);
    // Baseline in the same run: building the same number of prompt strings by plain formatting.
    let mut base = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let strings: Vec<String> = (0..count)
            .map(|i| format!("a prompt number {i} with words"))
            .collect();
        std::hint::black_box(&strings);
        base.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let base_p50 = percentile(&sorted(base), 0.5);
    rows.push(Row(
        format!("prompt expansion, {count} items (nested variants, 2 wildcards), p50"),
        format!("{expand_p50:.1} ms"),
        "< 50 ms".into(),
    ));
    rows.push(Row(
        "  baseline: formatting as many strings, p50".into(),
        format!("{base_p50:.1} ms ({:.1}×)", expand_p50 / base_p50.max(1e-9)),
        "—".into(),
    ));

    // 6. The live preview's server function, over HTTP like the browser calls it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = server::http::leptos_options(std::path::Path::new("target/site"), addr);
    let router = server::http::router(
        engine.clone(),
        options,
        server::http::Shutdown::never(),
        server::http::auth::Auth::off(),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let body = format!(
        "project_id={project}&prompt={}&mode=combinatorial&count=1",
        "a%20%7Bred%7Cblue%7D%20%7Bcat%7Cfox%7Cowl%7D%20%7B1-2%24%24x%7Cy%7Cz%7D"
    );
    let mut trips = Vec::new();
    for i in 0..120 {
        let t = Instant::now();
        let response = client
            .post(format!("http://{addr}/api/generate/preview"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
        if i >= 20 {
            trips.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let trips = sorted(trips);
    rows.push(Row(
        "preview server function round trip p50 / p95".into(),
        format!(
            "{:.1} / {:.1} ms",
            percentile(&trips, 0.5),
            percentile(&trips, 0.95)
        ),
        "p95 < 100 ms".into(),
    ));

    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(10);
    let value_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(10);
    println!("\n{:width$}  {:value_width$}  goal", "measure", "this run");
    println!("{}", "-".repeat(width + value_width + 20));
    for Row(measure, value, goal) in rows {
        println!("{measure:width$}  {value:value_width$}  {goal}");
    }
}
