//! Triage: rating, favourites, rejecting, moving and the trash, for one product or a selection,
//! each one statement over the ids.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Bool, Nullable, SmallInt, Text};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::filter::FilterError;
use super::GalleryError;

/// The most products one action may change; more is refused with the way out.
pub const MAX_BULK: usize = 10_000;
/// How long the trash keeps a product before it may be purged.
pub const TRASH_DAYS: i64 = 30;

/// Refuses an empty selection or one over [`MAX_BULK`].
pub fn check_ids(ids: &[i64]) -> Result<(), FilterError> {
    if ids.is_empty() {
        return Err(FilterError("Select at least one product first.".into()));
    }
    if ids.len() > MAX_BULK {
        return Err(FilterError(format!(
            "{} products are selected; one action changes at most {MAX_BULK}. Narrow the \
             filter or select fewer, and repeat.",
            ids.len()
        )));
    }
    Ok(())
}

/// One change to a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// 0 to 5, or `None` to clear.
    Rate(Option<i16>),
    Favourite(bool),
    Reject(bool),
    /// Into the trash (`true`) or back out.
    Trash(bool),
    MoveTo(i64),
}

/// Applies `change` to `ids`; returns how many products changed.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    change: &Change,
) -> Result<usize, GalleryError> {
    check_ids(ids)?;
    let ids = ids.to_vec();
    let changed = match change {
        Change::Rate(rating) => {
            if rating.is_some_and(|r| !(0..=5).contains(&r)) {
                return Err(FilterError("A rating is 0 to 5.".into()).into());
            }
            sql_query("UPDATE products SET rating = $2 WHERE id = ANY($1)")
                .bind::<Array<BigInt>, _>(ids)
                .bind::<Nullable<SmallInt>, _>(*rating)
                .execute(conn)
                .await?
        }
        Change::Favourite(on) => {
            sql_query("UPDATE products SET favourite = $2 WHERE id = ANY($1)")
                .bind::<Array<BigInt>, _>(ids)
                .bind::<Bool, _>(*on)
                .execute(conn)
                .await?
        }
        Change::Reject(on) => {
            sql_query("UPDATE products SET rejected = $2 WHERE id = ANY($1)")
                .bind::<Array<BigInt>, _>(ids)
                .bind::<Bool, _>(*on)
                .execute(conn)
                .await?
        }
        Change::Trash(true) => {
            sql_query(
                "UPDATE products SET deleted_at = now()
                 WHERE id = ANY($1) AND deleted_at IS NULL",
            )
            .bind::<Array<BigInt>, _>(ids)
            .execute(conn)
            .await?
        }
        Change::Trash(false) => {
            sql_query("UPDATE products SET deleted_at = NULL WHERE id = ANY($1)")
                .bind::<Array<BigInt>, _>(ids)
                .execute(conn)
                .await?
        }
        Change::MoveTo(project) => move_to(conn, ids, *project).await?,
    };
    Ok(changed)
}

/// Moves products to another project. Their files live under their project, so the row moves
/// only where the file can follow: the caller copies files first (see `Engine::move_products`).
async fn move_to(
    conn: &mut AsyncPgConnection,
    ids: Vec<i64>,
    project: i64,
) -> Result<usize, GalleryError> {
    #[derive(QueryableByName)]
    struct Live {
        #[diesel(sql_type = Bool)]
        live: bool,
    }
    let target: Vec<Live> =
        sql_query("SELECT archived_at IS NULL AS live FROM projects WHERE id = $1")
            .bind::<BigInt, _>(project)
            .load(conn)
            .await?;
    match target.into_iter().next() {
        None => Err(FilterError(format!("There is no project {project}.")).into()),
        Some(t) if !t.live => Err(FilterError(
            "That project is archived; restore it before moving products into it.".into(),
        )
        .into()),
        Some(_) => Ok(sql_query(
            "UPDATE products SET project_id = $2 WHERE id = ANY($1) AND project_id <> $2",
        )
        .bind::<Array<BigInt>, _>(ids)
        .bind::<BigInt, _>(project)
        .execute(conn)
        .await?),
    }
}

/// A product whose row left the database, and whether another row still uses its file.
#[derive(Debug, Clone, QueryableByName)]
pub struct Purged {
    #[diesel(sql_type = BigInt)]
    pub project_id: i64,
    #[diesel(sql_type = Text)]
    pub content_hash: String,
    #[diesel(sql_type = Text)]
    pub path: String,
    #[diesel(sql_type = Bool)]
    pub file_still_used: bool,
}

/// Deletes the rows in the trash (all, or those in it longer than `older_than`) and returns
/// them, so that the caller removes the files no remaining row uses.
pub async fn empty_trash(
    conn: &mut AsyncPgConnection,
    older_than: Option<Duration>,
) -> Result<Vec<Purged>, GalleryError> {
    let seconds = older_than.map_or(0, |d| d.as_secs() as i64);
    Ok(sql_query(
        "WITH gone AS (
             DELETE FROM products
             WHERE deleted_at IS NOT NULL AND deleted_at <= now() - make_interval(secs => $1)
             RETURNING project_id, content_hash, path)
         SELECT g.project_id, g.content_hash, g.path,
                EXISTS (SELECT 1 FROM products p
                        WHERE p.project_id = g.project_id AND p.content_hash = g.content_hash
                          AND NOT (p.deleted_at IS NOT NULL
                                   AND p.deleted_at <= now() - make_interval(secs => $1)))
                    AS file_still_used
         FROM gone g",
    )
    .bind::<BigInt, _>(seconds)
    .load(conn)
    .await?)
}
