//! Scheduled backups: daily, keeping the last N that the schedule made (backups made by hand
//! are never deleted by it).
//!
//! The settings and the next due time are one row. A process claims the due backup with one
//! statement that moves the due time a day on, so with several processes on one database
//! exactly one makes it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The name every scheduled backup starts with (only these are pruned).
const PREFIX: &str = "scheduled-";
pub const MAX_KEEP: i32 = 365;

#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Schedule {
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
    #[diesel(sql_type = Integer)]
    pub keep_last: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub next_due_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            enabled: false,
            keep_last: 7,
            next_due_at: None,
            last_error: None,
        }
    }
}

pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<Schedule> {
    let rows: Vec<Schedule> =
        sql_query("SELECT enabled, keep_last, next_due_at, last_error FROM backup_schedule")
            .load(conn)
            .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Turns the schedule on or off and sets how many to keep (1 to [`MAX_KEEP`]). Turning it on
/// makes the first backup due a day later; leaving it on keeps the due time.
pub async fn save(
    conn: &mut AsyncPgConnection,
    enabled: bool,
    keep_last: i32,
) -> QueryResult<Schedule> {
    let rows: Vec<Schedule> = sql_query(
        "INSERT INTO backup_schedule AS s (enabled, keep_last, next_due_at)
         VALUES ($1, $2, CASE WHEN $1 THEN now() + interval '1 day' END)
         ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled,
             keep_last = EXCLUDED.keep_last,
             next_due_at = CASE WHEN NOT EXCLUDED.enabled THEN NULL
                                WHEN s.enabled THEN s.next_due_at
                                ELSE EXCLUDED.next_due_at END,
             updated_at = now()
         RETURNING enabled, keep_last, next_due_at, last_error",
    )
    .bind::<Bool, _>(enabled)
    .bind::<Integer, _>(keep_last.clamp(1, MAX_KEEP))
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Claims the due backup, if one is due: answers how many scheduled backups to keep.
pub async fn claim(conn: &mut AsyncPgConnection) -> QueryResult<Option<i32>> {
    let rows: Vec<Schedule> = sql_query(
        "UPDATE backup_schedule SET next_due_at = now() + interval '1 day'
         WHERE enabled AND next_due_at <= now()
         RETURNING enabled, keep_last, next_due_at, last_error",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|s| s.keep_last))
}

/// Records how the last scheduled backup went (`None`: it was made).
pub async fn record(conn: &mut AsyncPgConnection, error: Option<&str>) -> QueryResult<()> {
    sql_query("UPDATE backup_schedule SET last_error = $1")
        .bind::<Nullable<Text>, _>(error)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The file name of a scheduled backup made at `at`.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}.zip", at.format("%Y-%m-%d-%H%M%S"))
}

/// Deletes the oldest scheduled backups in `dir` beyond the newest `keep`; answers what went.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut scheduled: Vec<PathBuf> = super::list(dir)
        .into_iter()
        .map(|l| l.path)
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX))
        })
        .collect();
    // Names sort by time; the list's modification times can tie within a second.
    scheduled.sort();
    scheduled.reverse();
    let gone: Vec<PathBuf> = scheduled.into_iter().skip(keep).collect();
    for path in &gone {
        std::fs::remove_file(path)?;
    }
    Ok(gone)
}
