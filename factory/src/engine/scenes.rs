//! The engine's scene work that reaches past the database: a scene exported with its models'
//! files, and render jobs queued and announced.

use super::Engine;
use crate::jobs::Job;
use crate::render::engines::{self, EngineStatus};
use crate::render::jobs::{self, RenderError, RenderOrder};
use crate::scenes::export::{export, Include};
use crate::scenes::store;

impl Engine {
    /// Queues a render (see [`jobs::queue`]) and wakes the worker.
    pub async fn queue_render(&self, order: &RenderOrder) -> Result<Job, RenderError> {
        let mut conn = self.conn().await?;
        let job = jobs::queue(
            &mut conn,
            &self.providers,
            self.item_limits(),
            self.settings.max_attempts,
            order,
        )
        .await?;
        self.events.publish(job.event());
        self.wake.notify_one();
        Ok(job)
    }

    /// Which render engines this process has.
    pub fn render_engines(&self) -> Vec<EngineStatus> {
        engines::statuses(&self.providers)
    }

    /// Scene `id` as one GLB (models, lights and cameras): its name and the file.
    pub async fn export_scene(&self, id: i64) -> Result<(String, Vec<u8>), RenderError> {
        let mut conn = self.conn().await?;
        let scene = store::get(&mut conn, id).await?;
        let glbs = jobs::asset_glbs(&mut conn, &self.media, &scene.doc)
            .await
            .map_err(RenderError::Invalid)?;
        drop(conn);
        let doc = scene.doc;
        let name = doc.name.clone();
        let glb = tokio::task::spawn_blocking(move || export(&doc, &glbs, Include::ALL))
            .await
            .map_err(|e| RenderError::Invalid(e.to_string()))?
            .map_err(|e| RenderError::Invalid(e.to_string()))?;
        Ok((name, glb))
    }
}
