//! Where the library's bytes are and keeping them tidy: bytes per project and kind (originals,
//! thumbnails, the trash's share), rejected products older than N days sent to the trash (a
//! dry run counts them first), and a check of the files against the rows — files no product
//! names, originals gone missing, thumbnails to make again — that repairs what it can.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::media::{Key, MediaStore, ThumbSize, THUMB_SIZES};
use crate::schema::{products, projects};

/// One project's bytes on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectUsage {
    pub project_id: i64,
    pub name: String,
    pub products: i64,
    pub originals: u64,
    pub thumbnails: u64,
    /// The originals only products in the trash use (freed by emptying it).
    pub trash: u64,
}

/// Bytes per project, largest first.
pub async fn usage(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
) -> QueryResult<Vec<ProjectUsage>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = BigInt)]
        products: i64,
        #[diesel(sql_type = BigInt)]
        trash: i64,
    }
    // A file counts toward the trash when every product using it is in the trash.
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT pr.id, pr.name,
                (SELECT count(*) FROM products p WHERE p.project_id = pr.id AND p.deleted_at IS NULL) AS products,
                coalesce((SELECT sum(f.bytes) FROM (
                    SELECT max(p.bytes) AS bytes FROM products p WHERE p.project_id = pr.id
                    GROUP BY p.content_hash HAVING bool_and(p.deleted_at IS NOT NULL)) f), 0)::bigint AS trash
         FROM projects pr ORDER BY pr.id",
    )
    .load(conn)
    .await?;
    // One listing of the whole library (one request per 1,000 files on a bucket), summed by
    // project and kind. A store that cannot be listed shows no bytes rather than failing the page.
    let mut bytes: HashMap<(i64, bool), u64> = HashMap::new();
    for (key, size) in media.list_async().await.unwrap_or_default() {
        let mut parts = key.as_str().split('/').skip(1);
        if let (Some(Ok(project)), Some(kind)) = (parts.next().map(str::parse), parts.next()) {
            *bytes.entry((project, kind == "products")).or_default() += size;
        }
    }
    let mut out: Vec<ProjectUsage> = rows
        .into_iter()
        .map(|r| ProjectUsage {
            originals: bytes.get(&(r.id, true)).copied().unwrap_or_default(),
            thumbnails: bytes.get(&(r.id, false)).copied().unwrap_or_default(),
            project_id: r.id,
            name: r.name,
            products: r.products,
            trash: r.trash as u64,
        })
        .collect();
    out.sort_by_key(|u| std::cmp::Reverse(u.originals + u.thumbnails));
    Ok(out)
}

/// Rejected products older than `days` (not yet in the trash): counted, or moved to the trash
/// (from where they can still be restored until it is emptied). Returns how many.
pub async fn trash_rejected(
    conn: &mut AsyncPgConnection,
    days: u32,
    dry_run: bool,
) -> QueryResult<i64> {
    let filter = products::table
        .filter(products::rejected.eq(true))
        .filter(products::deleted_at.is_null())
        .filter(products::created_at.le(chrono::Utc::now() - chrono::Duration::days(days as i64)));
    if dry_run {
        filter.count().get_result(conn).await
    } else {
        diesel::update(filter)
            .set(products::deleted_at.eq(chrono::Utc::now()))
            .execute(conn)
            .await
            .map(|n| n as i64)
    }
}

/// What a check of the files found, and what it repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Files under `projects/` no product names (moved to `trash/orphans/` on repair).
    pub orphans: Vec<Key>,
    /// Products whose original is gone (nothing can bring it back but a backup).
    pub missing_originals: Vec<i64>,
    /// Products whose thumbnails were missing (made again from the original on repair).
    pub missing_thumbnails: Vec<i64>,
    pub repaired: bool,
}

/// Compares the files with the rows; with `repair`, makes missing thumbnails again and moves
/// files nobody uses into `trash/orphans/` (kept, never deleted here).
pub async fn check(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    repair: bool,
) -> QueryResult<Check> {
    let rows: Vec<(i64, i64, String, String)> = products::table
        .inner_join(projects::table)
        .select((
            products::id,
            products::project_id,
            products::content_hash,
            products::path,
        ))
        .load(conn)
        .await?;
    let media = media.clone();
    let failed = |e: String| diesel::result::Error::QueryBuilderError(e.into());
    tokio::task::spawn_blocking(move || check_files(&media, &rows, repair))
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(|e| failed(format!("the pictures could not be listed: {e}")))
}

/// One listing of the store answers every "is it there" (not a request per file).
fn check_files(
    media: &MediaStore,
    rows: &[(i64, i64, String, String)],
    repair: bool,
) -> std::io::Result<Check> {
    let mut report = Check {
        repaired: repair,
        ..Check::default()
    };
    let stored: HashSet<Key> = media.list()?.into_iter().map(|(key, _)| key).collect();
    let exists = |key: &Key| stored.contains(key);
    let mut known: HashSet<Key> = HashSet::new();
    let mut seen_original: HashMap<(i64, String), bool> = HashMap::new();
    for (id, project, hash, path) in rows {
        let ext = path.rsplit('.').next().unwrap_or_default();
        known.extend(media.keys_of(*project, hash, ext));
        let Some(original) = media.original_key(*project, hash, ext) else {
            continue;
        };
        let present = *seen_original
            .entry((*project, hash.clone()))
            .or_insert_with(|| exists(&original));
        if !present {
            report.missing_originals.push(*id);
            continue;
        }
        let thumbs_missing = THUMB_SIZES.iter().any(|size: &ThumbSize| {
            media
                .thumb_key(*project, hash, *size)
                .is_some_and(|key| !exists(&key))
        });
        if thumbs_missing {
            report.missing_thumbnails.push(*id);
            if repair {
                let _ = media.finish(*project, hash, ext);
            }
        }
    }
    report.orphans = stored.difference(&known).cloned().collect();
    report.orphans.sort();
    if repair {
        for orphan in &report.orphans {
            let _ = media.set_aside(orphan);
        }
    }
    Ok(report)
}
