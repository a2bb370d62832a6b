//! Backups from Settings: make one now (while the app serves; the provider keys in too when a
//! passphrase is given), the last one made, and the daily schedule.

use leptos::prelude::*;

use crate::dto::{BackupDto, BackupScheduleDto};
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

/// Backs the library up now; with a passphrase, the provider keys stored in the app go in too,
/// sealed under it. Answers the new backup.
#[server(endpoint = "backups/now")]
pub async fn backup_now(passphrase: Option<String>) -> Result<BackupDto, AppError> {
    super::respond(async move {
        let passphrase = passphrase
            .map(factory::backup::Passphrase::new)
            .transpose()
            .map_err(|why| AppError::invalid("passphrase", why))?;
        let made = super::engine()?.backup_now(passphrase).await?;
        Ok(BackupDto {
            path: made.path.display().to_string(),
            bytes: made.bytes,
            made_at: made.manifest.created_at,
        })
    })
    .await
}

#[server(endpoint = "backups/schedule")]
pub async fn backup_schedule() -> Result<BackupScheduleDto, AppError> {
    super::respond(async move { Ok(super::engine()?.backup_schedule().await?.into()) }).await
}

/// Turns daily backups on or off, keeping the last `keep_last` (1 to 365) the schedule made.
#[server(endpoint = "backups/schedule/set")]
pub async fn set_backup_schedule(
    enabled: bool,
    keep_last: i32,
) -> Result<BackupScheduleDto, AppError> {
    super::respond(async move {
        if !(1..=365).contains(&keep_last) {
            return Err(AppError::invalid(
                "keep_last",
                "Keep between 1 and 365 daily backups.",
            ));
        }
        Ok(super::engine()?
            .set_backup_schedule(enabled, keep_last)
            .await?
            .into())
    })
    .await
}
