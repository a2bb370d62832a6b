//! Backups from Settings: make one now (while the app serves), and the last one made.

use leptos::prelude::*;

use crate::dto::BackupDto;
use crate::error::AppError;

#[cfg(feature = "ssr")]
impl From<factory::backup::BackupError> for AppError {
    fn from(e: factory::backup::BackupError) -> Self {
        match e {
            factory::backup::BackupError::Refused(why) => AppError::Conflict(why),
            other => {
                tracing::error!(error = %other, "a backup failed");
                AppError::Internal("The backup failed; the server log says why.".into())
            }
        }
    }
}

/// The newest backup in the data directory's `backups/`, if any.
#[server(endpoint = "backups/last")]
pub async fn last_backup() -> Result<Option<BackupDto>, AppError> {
    super::respond(async move { Ok(super::engine()?.last_backup().map(Into::into)) }).await
}

/// Backs the library up now; answers the new backup.
#[server(endpoint = "backups/now")]
pub async fn backup_now() -> Result<BackupDto, AppError> {
    super::respond(async move {
        let made = super::engine()?.backup_now().await?;
        Ok(BackupDto {
            path: made.path.display().to_string(),
            bytes: made.bytes,
            made_at: made.manifest.created_at,
        })
    })
    .await
}
