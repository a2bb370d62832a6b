//! The engine's scene work that reaches past the database: a scene exported with its models'
//! files, and render jobs queued and announced.

use super::Engine;
use crate::jobs::Job;
use crate::render::engines::{self, builtin, EngineStatus, Order};
use crate::render::jobs::{self, RenderError, RenderOrder};
use crate::scenes::export::{export, Include};
use crate::scenes::store::{self, SceneError};
use crate::scenes::SceneDoc;

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

    /// A quick picture of a scene being edited (not saved yet), from camera `camera` (its first
    /// when not given), drawn by the built-in engine: PNG bytes.
    pub async fn preview_scene(
        &self,
        project_id: i64,
        mut doc: SceneDoc,
        camera: Option<&str>,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, RenderError> {
        doc.check().map_err(SceneError::from)?;
        let camera = doc
            .cameras()
            .find(|c| camera.is_none_or(|name| name == c.name))
            .map(|c| c.name.clone())
            .ok_or_else(|| {
                RenderError::Invalid("Add a camera to the scene to see it from there.".into())
            })?;
        let mut conn = self.conn().await?;
        store::check_assets(&mut conn, project_id, &doc).await?;
        let glbs = jobs::asset_glbs(&mut conn, &self.media, &doc)
            .await
            .map_err(RenderError::Invalid)?;
        drop(conn);
        tokio::task::spawn_blocking(move || {
            let glb = export(&doc, &glbs, Include::MODELS).map_err(|e| e.to_string())?;
            let scene = jobs::SceneInput {
                scene_id: 0,
                revision: 0,
                camera,
                doc,
                glb: None,
            };
            builtin::draw(&Order {
                scene: &scene,
                glb: &glb,
                width: width.clamp(16, 1024),
                height: height.clamp(16, 1024),
                format: jobs::OutputFormat::Png,
                samples: 1,
            })
        })
        .await
        .map_err(|e| RenderError::Invalid(e.to_string()))?
        .map_err(RenderError::Invalid)
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
