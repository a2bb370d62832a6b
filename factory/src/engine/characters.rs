//! The engine's character work that reaches past the database: portraits into the queue, and
//! the sheet as a PDF with the newest portrait read from media.

use super::Engine;
use crate::characters::pdf::{sheet_pdf, PortraitImage};
use crate::characters::portraits::{self, PortraitError, PortraitOrder, Queued};
use crate::characters::{store, CharacterError};

impl Engine {
    /// Queues a portrait of character `id` and wakes the worker.
    pub async fn queue_portrait(
        &self,
        id: i64,
        order: &PortraitOrder,
    ) -> Result<Queued, PortraitError> {
        let mut conn = self.conn().await.map_err(CharacterError::from)?;
        let limits = self.item_limits();
        let queued = portraits::queue(
            &mut conn,
            &self.providers,
            limits,
            self.settings.max_attempts,
            id,
            order,
        )
        .await?;
        for job in &queued.jobs {
            self.events.publish(job.event());
        }
        self.wake.notify_one();
        Ok(queued)
    }

    /// Character `id`'s sheet as a PDF, with its newest portrait when it has one: the
    /// character's name and the document.
    pub async fn character_pdf(&self, id: i64) -> Result<(String, Vec<u8>), CharacterError> {
        let mut conn = self.conn().await?;
        let saved = store::get(&mut conn, id).await?;
        let picture = portraits::newest_picture(&mut conn, id).await?;
        drop(conn);
        let portrait = match picture.and_then(|p| {
            self.media
                .original_key(p.project_id, &p.content_hash, p.ext())
                .map(|key| (p.id, key))
        }) {
            Some((product, key)) => match self.media.read_async(&key).await {
                Ok(bytes) => Some((product, bytes)),
                Err(e) => {
                    // The sheet is still worth having without its picture.
                    tracing::warn!(product, error = %e, "a portrait's file could not be read for the PDF");
                    None
                }
            },
            None => None,
        };
        let name = saved.sheet.name.clone();
        let pdf = tokio::task::spawn_blocking(move || {
            let image = portrait.and_then(|(product, bytes)| {
                PortraitImage::decode(&bytes)
                    .inspect_err(|e| {
                        tracing::warn!(product, error = %e, "a portrait could not be decoded for the PDF")
                    })
                    .ok()
            });
            sheet_pdf(&saved.sheet, image.as_ref())
        })
        .await
        .expect("making a PDF does not panic");
        Ok((name, pdf))
    }
}
