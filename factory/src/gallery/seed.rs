//! Fills a data directory with many realistic products, for the gallery's tests and benchmark:
//! varied prompts, providers, models, seeds, ratings, favourites, rejects and tags, spread over
//! a year (optionally with one very dense day). Rows are distinct; their files are a few real
//! images shared between them, so a 100,000-product gallery costs seconds and megabytes.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, SmallInt, Text, Timestamptz};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use image::{ImageBuffer, Rgb};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::GalleryError;
use crate::media::MediaStore;
use crate::projects::{self, Description, Listing, ProjectName};

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub count: u64,
    /// This many of the products fall on one day (the 15th of the middle month).
    pub dense_day: u64,
    pub seed: u64,
    /// Products go to this many projects ("Gallery 1", ...), made if missing.
    pub projects: usize,
    /// The newest product is this old.
    pub now: DateTime<Utc>,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            count: 1000,
            dense_day: 0,
            seed: 7,
            projects: 3,
            now: Utc::now(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Seeded {
    pub products: u64,
    pub tags: usize,
    pub seconds: f64,
}

const SUBJECTS: &[&str] = &[
    "red fox",
    "lighthouse",
    "ancient library",
    "koi pond",
    "mountain village",
    "space station",
    "tea house",
    "desert caravan",
    "glass greenhouse",
    "clockwork owl",
    "sunken ship",
    "cherry orchard",
    "robot gardener",
    "northern lights",
    "cyberpunk alley",
    "stone bridge",
    "dragon skull",
    "paper lanterns",
    "snowy forest",
    "market square",
    "whale",
    "castle ruins",
    "hot air balloon",
    "bamboo grove",
    "knight in armour",
    "witch's cottage",
    "coral reef",
];
const STYLES: &[&str] = &[
    "oil painting",
    "watercolor",
    "35mm photo",
    "studio ghibli style",
    "ukiyo-e",
    "isometric",
    "pixel art",
    "charcoal sketch",
    "cinematic lighting",
    "volumetric fog",
    "art nouveau",
    "low poly",
    "golden hour",
    "macro photography",
    "matte painting",
    "line art",
];
const QUALIFIERS: &[&str] = &[
    "masterpiece",
    "best quality",
    "highly detailed",
    "8k",
    "soft light",
    "dramatic",
    "moody",
    "vibrant colors",
    "pastel",
    "minimalist",
    "intricate",
    "wide angle",
    "bokeh",
    "spring",
    "autumn",
    "winter",
    "at night",
    "in the rain",
];
const NEGATIVES: &[&str] = &[
    "",
    "blurry",
    "lowres, bad anatomy",
    "watermark, text",
    "jpeg artifacts",
    "extra fingers",
];
const MODELS: &[(&str, &str)] = &[
    ("fal", "fal-ai/flux/schnell"),
    ("fal", "fal-ai/flux/dev"),
    ("fal", "fal-ai/fast-sdxl"),
    ("replicate", "black-forest-labs/flux-schnell"),
    ("replicate", "black-forest-labs/flux-dev"),
    ("replicate", "stability-ai/sdxl"),
    ("civitai", "urn:air:sdxl:checkpoint:civitai:101055@128078"),
    ("civitai", "urn:air:sd1:checkpoint:civitai:4384@128713"),
    ("local", "procedural"),
];
const TAGS: &[&str] = &[
    "keeper",
    "portfolio",
    "wip",
    "print",
    "reference",
    "animals",
    "landscape",
    "architecture",
    "sci-fi",
    "fantasy",
    "night",
    "warm",
    "cool",
    "portrait",
    "texture",
    "concept",
    "client-a",
    "client-b",
    "favourite-style",
    "to-upscale",
    "experiment",
    "series-1",
    "series-2",
    "moody",
];

/// The shared files: a few gradients in distinct colours, stored in each project.
fn swatches(
    media: &MediaStore,
    project: i64,
) -> Result<Vec<(String, String, String)>, GalleryError> {
    let mut out = Vec::new();
    for i in 0..12u32 {
        let (r, g, b) = (
            (i * 53 % 256) as u8,
            (i * 97 % 256) as u8,
            (i * 151 % 256) as u8,
        );
        let image = ImageBuffer::from_fn(96, 96, |x, y| {
            Rgb([
                r.wrapping_add((x / 2) as u8),
                g.wrapping_add((y / 2) as u8),
                b.wrapping_add(((x + y) / 4) as u8),
            ])
        });
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| super::FilterError(e.to_string()))?;
        let stored = media
            .put(project, &png)
            .map_err(|e| super::FilterError(e.to_string()))?;
        out.push((stored.hash, stored.rel_path, stored.thumbhash));
    }
    Ok(out)
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// Inserts `options.count` products (in chunks of 5,000) and tags about a third of them.
pub async fn fill(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    options: &SeedOptions,
) -> Result<Seeded, GalleryError> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut projects_ids = Vec::new();
    for n in 1..=options.projects.max(1) {
        let name = ProjectName::parse(&format!("Gallery {n}")).expect("a valid name");
        let id = match projects::create(conn, &name, &Description::default()).await {
            Ok(project) => project.id,
            Err(_) => {
                projects::list(conn, Listing::Active)
                    .await
                    .map_err(|e| super::FilterError(e.to_string()))?
                    .into_iter()
                    .find(|p| p.name == name.as_str())
                    .ok_or_else(|| super::FilterError(format!("no project {name:?}")))?
                    .id
            }
        };
        let media = media.clone();
        let files = tokio::task::spawn_blocking(move || swatches(&media, id))
            .await
            .map_err(|e| super::FilterError(e.to_string()))??;
        projects_ids.push((id, files));
    }
    let span = Duration::days(365);
    let dense_at = options.now - Duration::days(182);
    let dense_at =
        dense_at - Duration::seconds(dense_at.timestamp().rem_euclid(86_400)) + Duration::hours(1);
    let mut inserted = 0u64;
    while inserted < options.count {
        let n = (options.count - inserted).min(5_000);
        let mut cols = Columns::default();
        for i in 0..n {
            let index = inserted + i;
            let (project, files) = &projects_ids[rng.random_range(0..projects_ids.len())];
            let (hash, path, thumbhash) = &files[rng.random_range(0..files.len())];
            let (provider, model) = MODELS[rng.random_range(0..MODELS.len())];
            let prompt = format!(
                "{}, {} {}, {}, {}",
                pick(&mut rng, QUALIFIERS),
                pick(&mut rng, &["a", "the", "an old", "a tiny", "a giant"]),
                pick(&mut rng, SUBJECTS),
                pick(&mut rng, STYLES),
                pick(&mut rng, QUALIFIERS)
            );
            let created = if index < options.dense_day {
                dense_at + Duration::milliseconds(rng.random_range(0..20 * 3_600_000))
            } else {
                options.now - Duration::seconds(rng.random_range(0..span.num_seconds()))
            };
            let rating = match rng.random_range(0..10) {
                0..=4 => None,
                r => Some((r - 5) as i16 + rng.random_range(0..2)),
            };
            cols.project.push(*project);
            cols.hash.push(hash.clone());
            cols.path.push(path.clone());
            cols.thumbhash.push(thumbhash.clone());
            cols.prompt.push(prompt);
            cols.negative.push(pick(&mut rng, NEGATIVES).to_string());
            cols.provider.push(provider.to_string());
            cols.model.push(model.to_string());
            cols.seed.push(rng.random_range(0..4_294_967_296i64));
            cols.rating.push(rating);
            cols.favourite.push(rng.random_range(0..20) == 0);
            cols.rejected.push(rng.random_range(0..25) == 0);
            cols.created.push(created);
            cols.width
                .push(if rng.random_bool(0.5) { 1024 } else { 768 });
        }
        cols.insert(conn).await?;
        inserted += n;
    }
    sql_query(
        "INSERT INTO tags (name) SELECT unnest($1::text[]) ON CONFLICT ((lower(name))) DO NOTHING",
    )
    .bind::<Array<Text>, _>(TAGS.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    // About one product in three gets a tag or two, chosen by a hash (no row is left tagless
    // by chance in a way a rerun would change).
    sql_query(
        "INSERT INTO product_tags (product_id, tag_id)
         SELECT p.id, t.id FROM products p JOIN tags t ON lower(t.name) = ANY($1)
         WHERE abs(hashint8extended(p.id, t.id)) % 60 = 0
         ON CONFLICT DO NOTHING",
    )
    .bind::<Array<Text>, _>(TAGS.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    sql_query("ANALYZE products").execute(conn).await?;
    sql_query("ANALYZE product_tags").execute(conn).await?;
    Ok(Seeded {
        products: inserted,
        tags: TAGS.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[derive(Default)]
struct Columns {
    project: Vec<i64>,
    hash: Vec<String>,
    path: Vec<String>,
    thumbhash: Vec<String>,
    prompt: Vec<String>,
    negative: Vec<String>,
    provider: Vec<String>,
    model: Vec<String>,
    seed: Vec<i64>,
    rating: Vec<Option<i16>>,
    favourite: Vec<bool>,
    rejected: Vec<bool>,
    created: Vec<DateTime<Utc>>,
    width: Vec<i32>,
}

impl Columns {
    async fn insert(self, conn: &mut AsyncPgConnection) -> Result<(), GalleryError> {
        #[derive(QueryableByName)]
        struct Done {
            #[diesel(sql_type = BigInt)]
            #[allow(dead_code)]
            n: i64,
        }
        let _: Vec<Done> = sql_query(
            "WITH ins AS (
               INSERT INTO products (project_id, kind, content_hash, path, mime, width, height,
                   bytes, prompt, negative_prompt, params, provider, model, seed, rating,
                   favourite, rejected, thumbhash, created_at)
               SELECT project, 'image', hash, path, 'image/png', width, width, 20000, prompt,
                   negative, jsonb_build_object('steps', 4 + (seed % 28)), provider, model, seed,
                   rating, favourite, rejected, thumbhash, created
               FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::text[], $9::int8[], $10::int2[],
                           $11::bool[], $12::bool[], $13::timestamptz[], $14::int4[])
                    AS r(project, hash, path, thumbhash, prompt, negative, provider, model, seed,
                         rating, favourite, rejected, created, width)
               RETURNING 1)
             SELECT count(*) AS n FROM ins",
        )
        .bind::<Array<BigInt>, _>(self.project)
        .bind::<Array<Text>, _>(self.hash)
        .bind::<Array<Text>, _>(self.path)
        .bind::<Array<Text>, _>(self.thumbhash)
        .bind::<Array<Text>, _>(self.prompt)
        .bind::<Array<Text>, _>(self.negative)
        .bind::<Array<Text>, _>(self.provider)
        .bind::<Array<Text>, _>(self.model)
        .bind::<Array<BigInt>, _>(self.seed)
        .bind::<Array<Nullable<SmallInt>>, _>(self.rating)
        .bind::<Array<diesel::sql_types::Bool>, _>(self.favourite)
        .bind::<Array<diesel::sql_types::Bool>, _>(self.rejected)
        .bind::<Array<Timestamptz>, _>(self.created)
        .bind::<Array<Integer>, _>(self.width)
        .load(conn)
        .await?;
        Ok(())
    }
}
