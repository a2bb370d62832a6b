//! The gallery's engine calls: one per request, each a query or a triage change, plus the file
//! work that moving and purging products needs.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Text};
use diesel::{sql_query, QueryableByName};
use diesel_async::RunQueryDsl;

use super::tags::{self, TagCount};
use super::triage::{self, check_ids, Change, Purged};
use super::{Cursor, GalleryError, Overview, Page, Summary, Tile, View};
use crate::Engine;

/// What emptying the trash did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emptied {
    pub products: usize,
    pub files_removed: usize,
}

impl Engine {
    pub async fn gallery_overview(&self, view: &View) -> Result<Overview, GalleryError> {
        super::overview(&mut *self.conn().await?, view).await
    }

    pub async fn gallery_summary(
        &self,
        view: &View,
        snapshot: Option<i64>,
    ) -> Result<Summary, GalleryError> {
        super::summary(&mut *self.conn().await?, view, snapshot).await
    }

    /// A page from `start` (an encoded cursor: a landmark or a page's `next`).
    pub async fn gallery_page(
        &self,
        view: &View,
        start: Option<&str>,
        snapshot: Option<i64>,
        limit: i64,
    ) -> Result<Page, GalleryError> {
        let start = start
            .filter(|s| !s.is_empty())
            .map(|s| Cursor::decode(s, view.sort))
            .transpose()?;
        super::page(
            &mut *self.conn().await?,
            view,
            start.as_ref(),
            snapshot,
            limit,
        )
        .await
    }

    pub async fn gallery_fresh(
        &self,
        view: &View,
        snapshot: i64,
    ) -> Result<Vec<Tile>, GalleryError> {
        super::fresh(&mut *self.conn().await?, view, snapshot, 100).await
    }

    /// Applies a triage change. Moving copies each product's files into the target project
    /// before its row moves, so no product is ever without its file.
    pub async fn triage(&self, ids: &[i64], change: &Change) -> Result<usize, GalleryError> {
        check_ids(ids)?;
        let mut conn = self.conn().await?;
        if let Change::MoveTo(target) = change {
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = BigInt)]
                project_id: i64,
                #[diesel(sql_type = Text)]
                content_hash: String,
                #[diesel(sql_type = Text)]
                ext: String,
            }
            let rows: Vec<Row> = sql_query(
                "SELECT DISTINCT project_id, content_hash, substring(path from '[^.]+$') AS ext
                 FROM products WHERE id = ANY($1) AND project_id <> $2",
            )
            .bind::<Array<BigInt>, _>(ids)
            .bind::<BigInt, _>(*target)
            .load(&mut *conn)
            .await?;
            let media = self.media().clone();
            let target = *target;
            tokio::task::spawn_blocking(move || {
                for row in rows {
                    media.copy_to_project(row.project_id, target, &row.content_hash, &row.ext)?;
                }
                std::io::Result::Ok(())
            })
            .await
            .map_err(|e| super::FilterError(format!("moving the files failed: {e}")))?
            .map_err(|e| super::FilterError(format!("moving the files failed: {e}")))?;
        }
        triage::apply(&mut conn, ids, change).await
    }

    pub async fn tag_products(&self, ids: &[i64], name: &str) -> Result<usize, GalleryError> {
        tags::add(&mut *self.conn().await?, ids, name).await
    }

    pub async fn untag_products(&self, ids: &[i64], name: &str) -> Result<usize, GalleryError> {
        tags::remove(&mut *self.conn().await?, ids, name).await
    }

    pub async fn suggest_tags(&self, prefix: &str) -> Result<Vec<TagCount>, GalleryError> {
        tags::suggest(&mut *self.conn().await?, prefix, 10).await
    }

    pub async fn list_tags(&self) -> Result<Vec<TagCount>, GalleryError> {
        tags::list(&mut *self.conn().await?).await
    }

    pub async fn rename_tag(&self, from: &str, to: &str) -> Result<(), GalleryError> {
        tags::rename(&mut *self.conn().await?, from, to).await
    }

    pub async fn tags_of(&self, ids: &[i64]) -> Result<Vec<(i64, String)>, GalleryError> {
        tags::of_products(&mut *self.conn().await?, ids).await
    }

    /// Deletes what is in the trash (everything, or what has been there longer than
    /// `older_than`), then the files no remaining product uses.
    pub async fn empty_trash(&self, older_than: Option<Duration>) -> Result<Emptied, GalleryError> {
        let purged: Vec<Purged> = triage::empty_trash(&mut *self.conn().await?, older_than).await?;
        let media = self.media().clone();
        let products = purged.len();
        let files_removed = tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            let mut seen = std::collections::HashSet::new();
            for p in purged.iter().filter(|p| !p.file_still_used) {
                let ext = p.path.rsplit('.').next().unwrap_or("");
                if seen.insert((p.project_id, p.content_hash.clone())) {
                    match media.remove(p.project_id, &p.content_hash, ext) {
                        Ok(()) => removed += 1,
                        Err(e) => tracing::warn!("could not remove {}: {e}", p.content_hash),
                    }
                }
            }
            removed
        })
        .await
        .unwrap_or(0);
        Ok(Emptied {
            products,
            files_removed,
        })
    }

    /// The person's last gallery view (a URL query string), if any.
    pub async fn gallery_settings(&self) -> Result<Option<String>, GalleryError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            query: String,
        }
        let rows: Vec<Row> = sql_query("SELECT query FROM gallery_settings")
            .load(&mut *self.conn().await?)
            .await?;
        Ok(rows.into_iter().next().map(|r| r.query))
    }

    pub async fn save_gallery_settings(&self, query: &str) -> Result<(), GalleryError> {
        if query.len() > 4000 {
            return Err(super::FilterError("That gallery view is too long to keep.".into()).into());
        }
        sql_query(
            "INSERT INTO gallery_settings (id, query) VALUES (true, $1)
             ON CONFLICT (id) DO UPDATE SET query = EXCLUDED.query, updated_at = now()",
        )
        .bind::<Text, _>(query)
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }
}
