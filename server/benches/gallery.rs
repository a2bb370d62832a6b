//! Gallery benchmark, server side: `cargo bench -p server --bench gallery` (or
//! `scripts/bench gallery`).
//!
//! Seeds 100,000 products (50,000 of them on one day) into a fresh PostgreSQL, then times, in
//! this run: the overview (count, landmarks), the summary (months, facets), the first page, the 1,000th page,
//! a filtered page (model + rating ≥ 3 + tag), a search, and the JSON bytes of a page. With
//! `GALLERY_PLANS=<file>` it also writes the `EXPLAIN ANALYZE` plans of the main queries there
//! (`docs/gallery-plans.md` is made this way). Nothing here passes or fails.

use std::time::Instant;

use app::dto::{GalleryPageDto, TileDto};
use factory::gallery::seed::{fill, SeedOptions};
use factory::gallery::{self, Filter, Rejected, Search, Sort, View};
use factory::providers::Providers;
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};

const PRODUCTS: u64 = 100_000;
const RUNS: usize = 40;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

struct Timing {
    p50: f64,
    p95: f64,
}

async fn time<F, Fut, T>(runs: usize, mut f: F) -> Timing
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    f().await; // warm
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Timing {
        p50: percentile(&ms, 50.0),
        p95: percentile(&ms, 95.0),
    }
}

#[tokio::main]
async fn main() {
    let db = TestDb::new().await;
    let files = tempfile::tempdir().unwrap();
    let engine = Engine::new(
        db.pool(),
        Providers::builtin(),
        EngineSettings::new(files.path()),
    );
    let rss_before = rss_mib();
    let seeded = fill(
        &mut *db.conn().await,
        engine.media(),
        &SeedOptions {
            count: PRODUCTS,
            dense_day: 50_000,
            ..SeedOptions::default()
        },
    )
    .await
    .unwrap();
    println!(
        "seeded {} products in {:.1} s\n",
        seeded.products, seeded.seconds
    );

    // Every product, rejected included, so that there are exactly 1,000 pages.
    let everything = View::new(
        Filter {
            rejected: Rejected::Include,
            ..Filter::default()
        },
        Sort::Newest,
    )
    .unwrap();
    let overview = engine.gallery_overview(&everything).await.unwrap();
    let last = overview.landmarks.len() - 1;
    let page_1000 = overview.landmarks[last.min(999)].encode();
    let snapshot = Some(overview.snapshot);

    let sample: (String, String) = ("fal-ai/flux/dev".into(), "keeper".into());
    let filtered = View::new(
        Filter {
            models: vec![sample.0.clone()],
            min_rating: Some(3),
            tags: vec![sample.1.clone()],
            ..Filter::default()
        },
        Sort::Newest,
    )
    .unwrap();
    let search = View::new(
        Filter {
            search: Search::parse("red fox").unwrap(),
            ..Filter::default()
        },
        Sort::Relevance,
    )
    .unwrap();

    let t_overview = time(5, || engine.gallery_overview(&everything)).await;
    let t_first = time(RUNS, || {
        engine.gallery_page(&everything, None, snapshot, 100)
    })
    .await;
    let t_deep = time(RUNS, || {
        engine.gallery_page(&everything, Some(&page_1000), snapshot, 100)
    })
    .await;
    let t_filtered = time(RUNS, || engine.gallery_page(&filtered, None, None, 100)).await;
    let t_search = time(RUNS, || engine.gallery_page(&search, None, None, 100)).await;
    let t_search_overview = time(5, || engine.gallery_overview(&search)).await;
    let t_summary = time(5, || engine.gallery_summary(&everything, snapshot)).await;
    let filtered_count = engine.gallery_overview(&filtered).await.unwrap().total;

    let page = engine
        .gallery_page(&everything, None, snapshot, 100)
        .await
        .unwrap();
    let dto = GalleryPageDto {
        next: page.next.map(|c| c.encode()),
        tiles: page.tiles.into_iter().map(TileDto::from).collect(),
    };
    let bytes = serde_json::to_vec(&dto).unwrap().len();
    let rss_after = rss_mib();

    println!("| {PRODUCTS} products | p50 ms | p95 ms | goal |");
    println!("|---|---:|---:|---|");
    let row = |name: &str, t: &Timing, goal: &str| {
        println!("| {name} | {:.2} | {:.2} | {goal} |", t.p50, t.p95);
    };
    row(
        "overview (count, 1000 landmarks)",
        &t_overview,
        "once per filter, before the grid",
    );
    row(
        "summary (months, facets), beside the grid",
        &t_summary,
        "once per filter",
    );
    row("first page (100)", &t_first, "p95 < 20 ms");
    row(
        &format!("page {} (100)", last.min(999) + 1),
        &t_deep,
        &format!(
            "within 1.2× of the first: {:.2}×",
            t_deep.p50 / t_first.p50.max(1e-9)
        ),
    );
    row(
        &format!("filtered page: model + rating ≥ 3 + tag ({filtered_count} match)"),
        &t_filtered,
        "p95 < 20 ms",
    );
    row(
        "search \"red fox\", best match first (page)",
        &t_search,
        "p95 < 50 ms",
    );
    row(
        "search \"red fox\" overview",
        &t_search_overview,
        "once per search",
    );
    println!("\nJSON per 100-tile page: {bytes} bytes (goal < 30 KB)");
    println!(
        "bench process resident memory (engine in-process): {rss_before:.0} MiB before seeding, {rss_after:.0} MiB after"
    );

    if let Ok(path) = std::env::var("GALLERY_PLANS") {
        let mut conn = db.conn().await;
        let deep = gallery::Cursor::decode(&page_1000, Sort::Newest).unwrap();
        let mut doc = String::from(
            "# Gallery query plans at 100,000 products\n\n\
             Made by `GALLERY_PLANS=docs/gallery-plans.md scripts/bench gallery` \
             (`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)` on the seeded benchmark database). \
             Every page is an index scan that stops after 101 rows.\n",
        );
        for (title, view, start) in [
            ("First page, newest first", &everything, None),
            ("Page 1,000 from its landmark", &everything, Some(&deep)),
            ("Filtered: model + rating ≥ 3 + tag", &filtered, None),
            ("Search \"red fox\", best match first", &search, None),
        ] {
            let plan = gallery::explain_page(&mut conn, view, start, None)
                .await
                .unwrap();
            doc.push_str(&format!("\n## {title}\n\n```\n{}\n```\n", plan.join("\n")));
        }
        std::fs::write(&path, doc).unwrap();
        println!("plans written to {path}");
    }
}
