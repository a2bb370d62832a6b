//! The gallery's queries on PostgreSQL: keyset pages by landmark, every filter against a
//! reference computed in Rust, search, triage, tags and the trash.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Nullable, SmallInt, Text, Timestamptz};
use diesel::{sql_query, QueryableByName};
use diesel_async::RunQueryDsl;
use factory::gallery::seed::{fill, SeedOptions};
use factory::gallery::triage::Change;
use factory::gallery::{Filter, Rejected, Search, Sort, View};
use factory::providers::Providers;
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};

struct Setup {
    db: TestDb,
    engine: Engine,
    _files: tempfile::TempDir,
}

async fn seeded(count: u64) -> Setup {
    let db = TestDb::new().await;
    let files = tempfile::tempdir().unwrap();
    let engine = Engine::new(
        db.pool(),
        Providers::builtin(),
        EngineSettings::new(files.path()),
    );
    let options = SeedOptions {
        count,
        ..SeedOptions::default()
    };
    fill(&mut *db.conn().await, engine.media(), &options)
        .await
        .unwrap();
    Setup {
        db,
        engine,
        _files: files,
    }
}

/// Every product as the reference sees it.
#[derive(Debug, Clone, QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    project_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    provider: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    model: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    rating: Option<i16>,
    #[diesel(sql_type = Bool)]
    favourite: bool,
    #[diesel(sql_type = Bool)]
    rejected: bool,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    tags: String,
}

async fn rows(s: &Setup) -> Vec<Row> {
    sql_query(
        "SELECT p.id, p.project_id, p.provider, p.model, p.rating, p.favourite, p.rejected,
                p.created_at,
                coalesce((SELECT string_agg(lower(t.name), ',') FROM product_tags pt
                          JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id = p.id), '') AS tags
         FROM products p WHERE p.deleted_at IS NULL",
    )
    .load(&mut *s.db.conn().await)
    .await
    .unwrap()
}

/// Every product of the view, page by page from the overview's landmarks.
async fn all_pages(s: &Setup, view: &View) -> Vec<i64> {
    let overview = s.engine.gallery_overview(view).await.unwrap();
    let mut ids = Vec::new();
    for landmark in &overview.landmarks {
        let page = s
            .engine
            .gallery_page(view, Some(&landmark.encode()), Some(overview.snapshot), 100)
            .await
            .unwrap();
        ids.extend(page.tiles.iter().map(|t| t.id));
    }
    assert_eq!(
        ids.len() as i64,
        overview.total,
        "the landmarks cover the total"
    );
    ids
}

/// Which products a filter should return, as the reference says.
type Matches = Box<dyn Fn(&Row) -> bool>;

fn view(filter: Filter, sort: Sort) -> View {
    View::new(filter, sort).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_by_landmark_stay_exact_while_products_arrive() {
    let s = seeded(730).await;
    let newest = view(Filter::default(), Sort::Newest);
    let overview = s.engine.gallery_overview(&newest).await.unwrap();
    assert_eq!(
        overview.landmarks.len() as i64,
        (overview.total + 99) / 100,
        "a landmark per page"
    );
    assert!(overview.landmarks.len() >= 7);
    // Products arrive between pages; the snapshot keeps the pages as they were.
    let mut ids = Vec::new();
    for (i, landmark) in overview.landmarks.iter().enumerate() {
        if i == 3 {
            fill(
                &mut *s.db.conn().await,
                s.engine.media(),
                &SeedOptions {
                    count: 50,
                    seed: 99,
                    now: Utc::now() + chrono::Duration::days(400),
                    ..SeedOptions::default()
                },
            )
            .await
            .unwrap();
        }
        let page = s
            .engine
            .gallery_page(
                &newest,
                Some(&landmark.encode()),
                Some(overview.snapshot),
                100,
            )
            .await
            .unwrap();
        ids.extend(page.tiles.iter().map(|t| (t.created_at, t.id)));
    }
    assert_eq!(ids.len() as i64, overview.total);
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first, ties by id");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "no repeats"
    );
    // What arrived is what `fresh` offers above the view.
    let fresh = s
        .engine
        .gallery_fresh(&newest, overview.snapshot)
        .await
        .unwrap();
    let now = s.engine.gallery_overview(&newest).await.unwrap();
    assert_eq!(fresh.len() as i64, now.total - overview.total);
    assert!(fresh.iter().all(|t| t.id > overview.snapshot));
    assert!(fresh.len() > 40);
    // `next` cursors walk the same order as the landmarks.
    let mut walked = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let page = s
            .engine
            .gallery_page(&newest, start.as_deref(), Some(overview.snapshot), 64)
            .await
            .unwrap();
        walked.extend(page.tiles.iter().map(|t| (t.created_at, t.id)));
        match page.next {
            Some(next) => start = Some(next.encode()),
            None => break,
        }
    }
    assert_eq!(walked, ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_filter_and_sort_returns_exactly_the_matching_products() {
    let s = seeded(900).await;
    let all = rows(&s).await;
    let project = all[0].project_id;
    let some_day = all[2].created_at;
    // A model and tag that a well-rated product has, the tag in other capitals.
    let sample = all
        .iter()
        .find(|r| r.rating.unwrap_or(-1) >= 3 && !r.tags.is_empty() && !r.rejected)
        .unwrap();
    let model = sample.model.clone().unwrap();
    let tag = sample.tags.split(',').next().unwrap().to_string();
    let cases: Vec<(Filter, Matches)> = vec![
        (Filter::default(), Box::new(|r: &Row| !r.rejected)),
        (
            Filter {
                rejected: Rejected::Only,
                ..Filter::default()
            },
            Box::new(|r: &Row| r.rejected),
        ),
        (
            Filter {
                rejected: Rejected::Include,
                ..Filter::default()
            },
            Box::new(|_: &Row| true),
        ),
        (
            Filter {
                project: Some(project),
                favourites: true,
                ..Filter::default()
            },
            Box::new(move |r: &Row| r.project_id == project && r.favourite && !r.rejected),
        ),
        (
            Filter {
                models: vec![model.clone()],
                min_rating: Some(3),
                tags: vec![tag.to_uppercase()],
                ..Filter::default()
            },
            Box::new({
                let (model, tag) = (model.clone(), tag.clone());
                move |r: &Row| {
                    r.model.as_deref() == Some(&model)
                        && r.rating.unwrap_or(-1) >= 3
                        && r.tags.split(',').any(|t| t == tag)
                        && !r.rejected
                }
            }),
        ),
        (
            Filter {
                providers: vec!["fal".into(), "civitai".into()],
                from: Some(some_day - chrono::Duration::days(60)),
                until: Some(some_day),
                ..Filter::default()
            },
            Box::new(move |r: &Row| {
                matches!(r.provider.as_deref(), Some("fal" | "civitai"))
                    && r.created_at >= some_day - chrono::Duration::days(60)
                    && r.created_at < some_day
                    && !r.rejected
            }),
        ),
    ];
    for (filter, matches) in cases {
        let mut expected: Vec<i64> = all.iter().filter(|r| matches(r)).map(|r| r.id).collect();
        expected.sort();
        assert!(!expected.is_empty(), "{filter:?} matches something");
        for sort in [Sort::Newest, Sort::Oldest, Sort::Rating, Sort::Random(42)] {
            let v = view(filter.clone(), sort);
            let got = all_pages(&s, &v).await;
            let mut sorted = got.clone();
            sorted.sort();
            assert_eq!(sorted, expected, "{filter:?} {sort:?}");
            if let Sort::Random(_) = sort {
                assert_eq!(
                    got,
                    all_pages(&s, &v).await,
                    "the same seed, the same order"
                );
            }
        }
        // The facet counts add up to the total under the same filter.
        let newest = view(filter.clone(), Sort::Newest);
        let overview = s.engine.gallery_overview(&newest).await.unwrap();
        let summary = s
            .engine
            .gallery_summary(&newest, Some(overview.snapshot))
            .await
            .unwrap();
        let sum = |f: &[(String, i64)]| f.iter().map(|(_, n)| n).sum::<i64>();
        assert_eq!(sum(&summary.facets.providers), overview.total);
        assert_eq!(
            summary.facets.ratings.iter().map(|(_, n)| n).sum::<i64>(),
            overview.total
        );
        assert_eq!(
            summary.months.iter().map(|m| m.count).sum::<i64>(),
            overview.total
        );
    }
    // Rating order: highest first, unrated last.
    let by_rating = all_pages(&s, &view(Filter::default(), Sort::Rating)).await;
    let rating_of = |id: i64| {
        all.iter()
            .find(|r| r.id == id)
            .unwrap()
            .rating
            .unwrap_or(-1)
    };
    assert!(by_rating
        .windows(2)
        .all(|w| rating_of(w[0]) >= rating_of(w[1])));
}

#[tokio::test(flavor = "multi_thread")]
async fn search_ranks_whole_words_first_finds_typos_and_seeds_and_takes_any_text() {
    let s = seeded(300).await;
    let mut conn = s.db.conn().await;
    let project: i64 = rows(&s).await[0].project_id;
    for (prompt, seed) in [
        ("a red fox in the snow, watercolor", 111),
        ("red fox, red fox, portrait of a red fox", 222),
        ("lighthouse at dusk", 333),
    ] {
        sql_query(
            "INSERT INTO products (project_id, content_hash, path, mime, bytes, prompt, seed)
             VALUES ($1, repeat('a', 64), 'x/a.png', 'image/png', 1, $2, $3)",
        )
        .bind::<BigInt, _>(project)
        .bind::<Text, _>(prompt)
        .bind::<BigInt, _>(seed)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    let search = |text: &str| Filter {
        search: Search::parse(text).unwrap(),
        ..Filter::default()
    };
    let v = view(search("red fox"), Sort::Relevance);
    let page = s.engine.gallery_page(&v, None, None, 100).await.unwrap();
    assert!(page.tiles.len() >= 2);
    assert!(
        page.tiles[0].prompt.starts_with("red fox, red fox"),
        "{:?}",
        page.tiles[0]
    );
    assert!(page
        .tiles
        .iter()
        .all(|t| t.prompt.to_lowercase().contains("fox")));
    let overview = s.engine.gallery_overview(&v).await.unwrap();
    assert_eq!(overview.terms, vec!["fox", "red"]);
    // A misspelling still finds it, through the trigram index.
    let v = view(search("lighthuose"), Sort::Relevance);
    let page = s.engine.gallery_page(&v, None, None, 100).await.unwrap();
    assert!(
        page.tiles.iter().any(|t| t.prompt == "lighthouse at dusk"),
        "{:?}",
        page.tiles.iter().map(|t| &t.prompt).collect::<Vec<_>>()
    );
    // A seed is exact.
    for text in ["222", "seed:222"] {
        let page = s
            .engine
            .gallery_page(&view(search(text), Sort::Newest), None, None, 100)
            .await
            .unwrap();
        assert_eq!(page.tiles.len(), 1, "{text}");
    }
    // Operators and quotes are text, never an error.
    for text in ["&|!:*()'", "fox & | !", "'", "\"red", "-fox", "or"] {
        let v = view(search(text), Sort::Relevance);
        s.engine.gallery_overview(&v).await.unwrap();
        s.engine.gallery_page(&v, None, None, 100).await.unwrap();
    }
    assert!(Search::parse(&"x".repeat(201)).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn triage_tags_and_the_trash() {
    let s = seeded(200).await;
    let ids: Vec<i64> = rows(&s).await.iter().take(3).map(|r| r.id).collect();
    let e = &s.engine;
    assert_eq!(e.triage(&ids, &Change::Rate(Some(5))).await.unwrap(), 3);
    assert!(e.triage(&ids, &Change::Rate(Some(6))).await.is_err());
    e.triage(&ids[..1], &Change::Favourite(true)).await.unwrap();
    let top = Filter {
        min_rating: Some(5),
        ..Filter::default()
    };
    assert!(all_pages(&s, &view(top.clone(), Sort::Newest))
        .await
        .contains(&ids[0]));
    // Reject hides; undo brings it back.
    e.triage(&ids[..1], &Change::Reject(true)).await.unwrap();
    assert!(!all_pages(&s, &view(top.clone(), Sort::Newest))
        .await
        .contains(&ids[0]));
    e.triage(&ids[..1], &Change::Reject(false)).await.unwrap();

    // Tags: case-insensitive, suggested, renamed and merged.
    e.tag_products(&ids, "Red Fox").await.unwrap();
    e.tag_products(&ids[..1], "red fox").await.unwrap();
    assert!(e.tag_products(&ids, &"x".repeat(10_000)).await.is_err());
    assert!(e.tag_products(&ids, "  ").await.is_err());
    let suggested = e.suggest_tags("red").await.unwrap();
    assert_eq!(suggested[0].name, "Red Fox");
    assert_eq!(suggested[0].count, 3);
    e.tag_products(&ids[..1], "keeper").await.unwrap();
    e.rename_tag("red fox", "Keeper").await.unwrap();
    let tags = e.tags_of(&ids).await.unwrap();
    assert_eq!(
        tags.iter().filter(|(id, _)| *id == ids[0]).count(),
        1,
        "merged, once: {tags:?}"
    );
    assert!(e.rename_tag("no such tag", "x").await.is_err());

    // Trash: hidden, listed in the trash, restorable; emptying removes rows and the files no
    // other product uses.
    e.triage(&ids[..2], &Change::Trash(true)).await.unwrap();
    let visible = all_pages(&s, &view(Filter::default(), Sort::Newest)).await;
    assert!(!visible.contains(&ids[0]));
    let trash = Filter {
        trash: true,
        rejected: Rejected::Include,
        ..Filter::default()
    };
    assert_eq!(
        all_pages(&s, &view(trash.clone(), Sort::Newest))
            .await
            .len(),
        2
    );
    e.triage(&ids[..1], &Change::Trash(false)).await.unwrap();
    assert!(all_pages(&s, &view(Filter::default(), Sort::Newest))
        .await
        .contains(&ids[0]));
    let emptied = e
        .empty_trash(Some(std::time::Duration::from_secs(3600)))
        .await
        .unwrap();
    assert_eq!(emptied.products, 0, "not 30 days old yet");
    let emptied = e.empty_trash(None).await.unwrap();
    assert_eq!(emptied.products, 1);
    assert_eq!(
        emptied.files_removed, 0,
        "the seeded rows share their files"
    );

    // Bad input: clear refusals.
    let many: Vec<i64> = (1..=50_000).collect();
    let error = e.triage(&many, &Change::Rate(Some(1))).await.unwrap_err();
    assert!(error.to_string().contains("at most 10000"), "{error}");
    let v = view(Filter::default(), Sort::Newest);
    for bad in ["garbage", "bi4xLjE", "eC4xLjEuMi4zLjQ", &"Z".repeat(300)] {
        let error = e.gallery_page(&v, Some(bad), None, 100).await.unwrap_err();
        assert!(error.to_string().contains("reload the gallery"), "{error}");
    }
    let rating_cursor = e
        .gallery_overview(&view(Filter::default(), Sort::Rating))
        .await
        .unwrap()
        .landmarks[0]
        .encode();
    assert!(e
        .gallery_page(&v, Some(&rating_cursor), None, 100)
        .await
        .unwrap_err()
        .to_string()
        .contains("another sort order"));
    for filter in [
        Filter {
            kind: Some("spreadsheet".into()),
            ..Filter::default()
        },
        Filter {
            tags: vec!["t".repeat(10_000)],
            ..Filter::default()
        },
        Filter {
            min_rating: Some(9),
            ..Filter::default()
        },
    ] {
        assert!(View::new(filter, Sort::Newest).is_err());
    }
}
