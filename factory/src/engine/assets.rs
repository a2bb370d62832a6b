//! The engine's asset work: an upload checked, stored and announced like any new product.

use super::Engine;
use crate::assets::store::{self, Asset, AssetError};

impl Engine {
    /// Reads, checks and stores an uploaded model in `project_id` (see [`store::upload`]); a new
    /// model appears in open galleries at once.
    pub async fn upload_asset(
        &self,
        project_id: i64,
        files: Vec<(String, Vec<u8>)>,
        name: Option<&str>,
    ) -> Result<Asset, AssetError> {
        let mut conn = self.conn().await?;
        let asset = store::upload(&mut conn, &self.media, project_id, files, name).await?;
        let product = store::product(&mut conn, asset.id).await?;
        self.events.publish(product.created_event());
        Ok(asset)
    }
}
