//! The engine handle: what a request handler needs to reach the engine.
//!
//! It is cheap to clone and is put into axum state and Leptos context once at start-up. The
//! operations here are the ones with effects beyond one table: they publish events after their
//! change commits and wake the worker.

mod assets;
mod characters;
mod pipelines;
mod plugins;
mod scenes;

pub use plugins::{PluginConfig, PluginReport, WorkflowSummary};

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use crate::batches::{self, Batch, LaunchError, LaunchRequest};
use crate::credentials::{Credentials, KeyError, KeyStatus};
use crate::db::{DbError, Pool, PooledConnection};
use crate::events::{EventBus, EventKind};
use crate::jobs::board;
use crate::jobs::queue::{self, Canceled};
use crate::jobs::worker::{self, WorkerConfig, WorkerHandle};
use crate::jobs::{Job, JobError, JobId};
use crate::media::MediaStore;
use crate::providers::civitai::catalog::Catalog;
use crate::providers::Providers;

/// Limits on what a launch may ask for.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Files live here (`projects/...`).
    pub data_dir: PathBuf,
    /// The most items one launch may queue.
    pub max_items: u64,
    /// Above this many items, a launch must be confirmed.
    pub confirm_items: u64,
    /// Attempts per job before it fails for good.
    pub max_attempts: i32,
}

impl EngineSettings {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_items: 1000,
            confirm_items: 100,
            max_attempts: 5,
        }
    }
}

#[derive(Clone)]
pub struct Engine {
    pool: Pool,
    providers: Providers,
    media: MediaStore,
    events: EventBus,
    wake: Arc<Notify>,
    settings: Arc<EngineSettings>,
    /// The hosted providers and their keys; none in tests that set providers up directly.
    credentials: Option<Arc<Credentials>>,
    /// Civitai's catalog, for the model browser (the public one unless the server set another).
    civitai_catalog: Catalog,
    /// Where a backup made from the app reads the database (none: backups are off).
    backup_source: Option<Arc<crate::backup::Source>>,
    /// Moves pipeline runs on, once started in this process.
    driver: Arc<OnceLock<crate::pipelines::driver::Driver>>,
    /// The plugin providers' configuration and last load.
    plugins: Arc<plugins::Plugins>,
}

impl Engine {
    pub fn new(pool: Pool, providers: Providers, settings: EngineSettings) -> Self {
        Self {
            media: MediaStore::new(settings.data_dir.clone()),
            pool,
            providers,
            events: EventBus::new(),
            wake: Arc::new(Notify::new()),
            settings: Arc::new(settings),
            credentials: None,
            civitai_catalog: Catalog::new(None, None).expect("the default catalog URL is valid"),
            backup_source: None,
            driver: Arc::new(OnceLock::new()),
            plugins: Arc::default(),
        }
    }

    /// Keeps the pictures in `media` (a bucket) instead of the data dir.
    pub fn with_media(mut self, media: MediaStore) -> Self {
        self.media = media;
        self
    }

    /// Lets the app make backups of its database and files.
    pub fn with_backups(mut self, source: crate::backup::Source) -> Self {
        self.backup_source = Some(Arc::new(source));
        self
    }

    /// Backs the whole library up into `backups/` in the data directory, while serving; with a
    /// passphrase, the provider keys stored in the app go in too, sealed under it.
    pub async fn backup_now(
        &self,
        passphrase: Option<crate::backup::Passphrase>,
    ) -> Result<crate::backup::Made, crate::backup::BackupError> {
        let name = format!(
            "art-factory-{}.zip",
            chrono::Utc::now().format("%Y-%m-%d-%H%M%S")
        );
        self.backup_as(&name, passphrase).await
    }

    async fn backup_as(
        &self,
        name: &str,
        passphrase: Option<crate::backup::Passphrase>,
    ) -> Result<crate::backup::Made, crate::backup::BackupError> {
        use crate::backup::BackupError;
        let source = self.backup_source.as_ref().ok_or_else(|| {
            BackupError::Refused("This server was started without backups.".into())
        })?;
        let keys = match passphrase {
            None => None,
            Some(passphrase) => {
                let credentials = self.credentials.as_ref().ok_or_else(|| {
                    BackupError::Refused("This server keeps no provider keys.".into())
                })?;
                let mut conn = self
                    .conn()
                    .await
                    .map_err(|e| BackupError::Database(e.to_string()))?;
                Some(
                    crate::backup::keys::seal_stored(&mut conn, credentials.vault(), passphrase)
                        .await?,
                )
            }
        };
        crate::backup::backup(
            source,
            &crate::backup::backups_dir(source.media.root()).join(name),
            keys,
        )
        .await
    }

    /// The scheduled backups' settings and next due time.
    pub async fn backup_schedule(&self) -> Result<crate::backup::schedule::Schedule, DbError> {
        Ok(crate::backup::schedule::load(&mut *self.conn().await?).await?)
    }

    /// Turns daily backups on or off, keeping the last `keep_last` of them.
    pub async fn set_backup_schedule(
        &self,
        enabled: bool,
        keep_last: i32,
    ) -> Result<crate::backup::schedule::Schedule, DbError> {
        Ok(crate::backup::schedule::save(&mut *self.conn().await?, enabled, keep_last).await?)
    }

    /// Makes the scheduled backup if it is due and this process claims it, then deletes the
    /// scheduled backups beyond the number to keep. Answers the backup made, if one was.
    pub async fn run_due_backup(&self) -> Result<Option<crate::backup::Made>, DbError> {
        use crate::backup::schedule;
        if self.backup_source.is_none() {
            return Ok(None);
        }
        let Some(keep) = schedule::claim(&mut *self.conn().await?).await? else {
            return Ok(None);
        };
        let made = self
            .backup_as(&schedule::file_name(chrono::Utc::now()), None)
            .await;
        let error = match &made {
            Ok(_) => {
                let source = self.backup_source.as_ref().expect("checked above");
                schedule::prune(
                    &crate::backup::backups_dir(source.media.root()),
                    keep as usize,
                )
                .err()
                .map(|e| format!("the backup was made; deleting older ones failed: {e}"))
            }
            Err(e) => Some(e.to_string()),
        };
        if let Some(error) = &error {
            tracing::warn!("scheduled backup: {error}");
        }
        schedule::record(&mut *self.conn().await?, error.as_deref()).await?;
        Ok(made.ok())
    }

    /// The newest backup in `backups/`, if any: its name, size and time.
    pub fn last_backup(&self) -> Option<crate::backup::Listed> {
        let source = self.backup_source.as_ref()?;
        crate::backup::list(&crate::backup::backups_dir(source.media.root()))
            .into_iter()
            .next()
    }

    /// Bytes per project (see [`crate::storage`]).
    pub async fn storage_usage(&self) -> Result<Vec<crate::storage::ProjectUsage>, DbError> {
        Ok(crate::storage::usage(&mut *self.conn().await?, &self.media).await?)
    }

    /// Rejected products older than `days`: counted (`dry_run`) or sent to the trash.
    pub async fn trash_rejected(&self, days: u32, dry_run: bool) -> Result<i64, DbError> {
        Ok(crate::storage::trash_rejected(&mut *self.conn().await?, days, dry_run).await?)
    }

    /// The files checked against the rows; with `repair`, what can be fixed is.
    pub async fn check_storage(&self, repair: bool) -> Result<crate::storage::Check, DbError> {
        Ok(crate::storage::check(&mut *self.conn().await?, &self.media, repair).await?)
    }

    pub fn with_civitai_catalog(mut self, catalog: Catalog) -> Self {
        self.civitai_catalog = catalog;
        self
    }

    pub fn civitai_catalog(&self) -> &Catalog {
        &self.civitai_catalog
    }

    /// Lets the app manage hosted providers' keys. `credentials` must feed this engine's
    /// [`Providers`].
    /// Manages the hosted providers' keys, and holds their rate limits across every process on
    /// this database.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        credentials.share_limits(&self.pool);
        self.credentials = Some(Arc::new(credentials));
        self
    }

    fn credentials(&self) -> Result<&Credentials, KeyError> {
        self.credentials
            .as_deref()
            .ok_or_else(|| KeyError::Invalid("Keys are not managed in this app.".into()))
    }

    /// Sets up every hosted provider with a key in force (configuration, or stored in the app).
    pub async fn install_providers(&self) -> Result<Vec<String>, KeyError> {
        let installed = self
            .credentials()?
            .install(&mut *self.conn().await?)
            .await?;
        self.wake.notify_one();
        Ok(installed)
    }

    /// Where the data key lives, for the Settings page.
    pub fn data_key_origin(&self) -> Result<String, KeyError> {
        Ok(self.credentials()?.data_key_origin().to_string())
    }

    pub async fn key_statuses(&self) -> Result<Vec<KeyStatus>, KeyError> {
        self.credentials()?.statuses(&mut *self.conn().await?).await
    }

    /// Tests and stores a key; the provider takes work at once (unless configuration overrides
    /// the stored key).
    pub async fn set_key(&self, provider: &str, key: &str) -> Result<(), KeyError> {
        let credentials = self.credentials()?;
        credentials
            .set(&mut *self.conn().await?, provider, key)
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    pub async fn remove_key(&self, provider: &str) -> Result<(), KeyError> {
        self.credentials()?
            .remove(&mut *self.conn().await?, provider)
            .await
    }

    /// Sets a hosted provider's rates (per minute) from now on.
    pub async fn set_rate_limits(
        &self,
        provider: &str,
        limits: crate::providers::limits::RateLimits,
    ) -> Result<(), KeyError> {
        let credentials = self.credentials()?;
        credentials
            .set_limits(&mut *self.conn().await?, provider, limits)
            .await
    }

    pub async fn test_key(&self, provider: &str) -> Result<(), KeyError> {
        self.credentials()?
            .test(&mut *self.conn().await?, provider)
            .await
    }

    /// A connection from the pool, waiting at most the pool's timeout.
    pub async fn conn(&self) -> Result<PooledConnection, DbError> {
        crate::db::get_conn(&self.pool).await
    }

    /// Whether the database answers a trivial query right now (for `/healthz`).
    pub async fn database_reachable(&self) -> bool {
        match self.conn().await {
            Ok(mut conn) => crate::db::ping(&mut conn).await.is_ok(),
            Err(_) => false,
        }
    }

    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    /// Relays events to and from the other processes on this database (at `url`), so each
    /// process's pages see the jobs and products any of them makes.
    pub async fn start_event_relay(
        &self,
        url: &str,
    ) -> Result<crate::events::relay::RelayHandle, DbError> {
        crate::events::relay::start(&self.events, self.pool.clone(), url).await
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Starts claiming and running jobs in this process.
    pub fn start_worker(&self, config: WorkerConfig, grace: Duration) -> WorkerHandle {
        worker::start(
            self.pool.clone(),
            self.providers.clone(),
            self.media.clone(),
            self.events.clone(),
            self.wake.clone(),
            config,
            grace,
        )
    }

    /// Keeps an uploaded or pasted picture as a product of `project_id`.
    pub async fn upload(
        &self,
        project_id: i64,
        bytes: Vec<u8>,
    ) -> Result<crate::products::Product, crate::uploads::UploadError> {
        let mut conn = self.conn().await?;
        let product = crate::uploads::store(&mut conn, &self.media, project_id, bytes).await?;
        self.events.publish(product.created_event());
        Ok(product)
    }

    /// Imports one file into a project (both phases; see [`crate::import`]). A new product is
    /// announced like a generated one, so open galleries show it.
    pub async fn import_file(
        &self,
        project_id: i64,
        name: &str,
        bytes: Vec<u8>,
        modified: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<crate::import::Outcome, crate::projects::ProjectError> {
        let mut conn = self.conn().await?;
        crate::projects::get(&mut conn, project_id).await?;
        let outcome =
            crate::import::import_one(&mut conn, &self.media, project_id, name, bytes, modified)
                .await;
        if let crate::import::Outcome::Imported { product_id, .. } = &outcome {
            if let Ok(Some(product)) = crate::products::get(&mut conn, *product_id).await {
                self.events.publish(product.created_event());
            }
        }
        Ok(outcome)
    }

    /// Streams the ZIP of `selection` into `out` (see [`crate::export`]).
    pub async fn export(
        &self,
        selection: crate::export::Selection,
        out: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<crate::export::Summary, crate::export::ExportError> {
        crate::export::export(&self.pool, &self.media, selection, out).await
    }

    pub fn item_limits(&self) -> batches::ItemLimits {
        batches::ItemLimits {
            cap: self.settings.max_items,
            confirm_above: self.settings.confirm_items,
        }
    }

    /// Checks a launch as [`Engine::launch`] would and answers what it would queue and cost,
    /// writing nothing.
    pub async fn check_launch(
        &self,
        request: &LaunchRequest,
    ) -> Result<batches::Checked, LaunchError> {
        let mut conn = self.conn().await?;
        batches::check(&mut conn, &self.providers, self.item_limits(), request).await
    }

    /// Validates and queues a batch, then wakes the worker.
    pub async fn launch(&self, request: &LaunchRequest) -> Result<(Batch, Vec<Job>), LaunchError> {
        let (batch, jobs, _) = self.launch_priced(request).await?;
        Ok((batch, jobs))
    }

    /// [`Engine::launch`], also answering the cost estimate (`None`: the model has no price).
    pub async fn launch_priced(
        &self,
        request: &LaunchRequest,
    ) -> Result<(Batch, Vec<Job>, Option<crate::costs::Estimate>), LaunchError> {
        let renders = self
            .providers
            .get(&request.provider)
            .and_then(|p| p.info().model(&request.model).map(|m| m.capability))
            == Some(crate::providers::Capability::Render);
        if renders {
            return Err(LaunchError::Invalid(vec![batches::FieldError {
                field: "provider".into(),
                message: format!(
                    "“{}” draws scenes, not prompts: queue a render from a scene (the Scenes page, \
                     or POST /api/v1/renderjobs).",
                    request.provider
                ),
            }]));
        }
        let mut conn = self.conn().await?;
        let launched = batches::launch_priced(
            &mut conn,
            &self.providers,
            self.item_limits(),
            self.settings.max_attempts,
            request,
        )
        .await?;
        for job in &launched.1 {
            self.events.publish(job.event());
        }
        self.wake.notify_one();
        Ok(launched)
    }

    pub async fn cancel_job(&self, id: JobId) -> Result<Canceled, JobError> {
        let canceled = queue::cancel(&mut *self.conn().await?, id).await?;
        match &canceled {
            Canceled::Now(job) => {
                self.events.publish(job.event());
            }
            Canceled::Requested(job) => {
                self.events.publish(job.event());
                // A waiting job with a request at a provider is claimed at once to cancel it
                // there.
                if job.state().is_waiting() {
                    self.wake.notify_one();
                }
            }
        }
        Ok(canceled)
    }

    pub async fn retry_job(&self, id: JobId) -> Result<Job, JobError> {
        let job = queue::retry(&mut *self.conn().await?, id).await?;
        self.events.publish(job.event());
        self.wake.notify_one();
        Ok(job)
    }

    pub async fn move_job_to_front(&self, id: JobId) -> Result<Job, JobError> {
        let job = queue::move_to_front(&mut *self.conn().await?, id).await?;
        self.events.publish(job.event());
        Ok(job)
    }

    /// Cancels every unfinished job of a batch; returns how many changed.
    pub async fn cancel_batch(&self, batch_id: i64) -> Result<usize, JobError> {
        let changed = queue::cancel_batch(&mut *self.conn().await?, batch_id).await?;
        self.publish_jobs(&changed);
        Ok(changed.len())
    }

    /// Queues a batch's failed jobs again; returns how many.
    pub async fn retry_failed_in_batch(&self, batch_id: i64) -> Result<usize, JobError> {
        let retried = queue::retry_failed_in_batch(&mut *self.conn().await?, batch_id).await?;
        self.publish_jobs(&retried);
        Ok(retried.len())
    }

    fn publish_jobs(&self, jobs: &[Job]) {
        for job in jobs {
            self.events.publish(job.event());
        }
        if jobs.iter().any(|j| j.state().is_waiting()) {
            self.wake.notify_one();
        }
    }

    /// A page of the Queue page's batches.
    pub async fn queue_batches(
        &self,
        section: board::Section,
        after: Option<board::BatchCursor>,
        limit: i64,
    ) -> Result<board::BatchPage, JobError> {
        Ok(board::batches(&mut *self.conn().await?, section, after, limit).await?)
    }

    /// One batch's summary (counts by state, progress, first thumbnails); `None`: no such batch.
    pub async fn batch_summary(&self, id: i64) -> Result<Option<board::BatchSummary>, JobError> {
        let found = board::summaries(&mut *self.conn().await?, &[id]).await?;
        Ok(found.into_iter().next())
    }

    /// A page of one batch's jobs, those in `states` when any are given.
    pub async fn queue_batch_jobs(
        &self,
        batch_id: i64,
        states: &[crate::jobs::JobState],
        after: Option<board::JobCursor>,
        limit: i64,
    ) -> Result<board::JobPage, JobError> {
        Ok(board::batch_jobs(&mut *self.conn().await?, batch_id, states, after, limit).await?)
    }

    pub async fn set_queue_paused(&self, paused: bool) -> Result<(), JobError> {
        queue::set_paused(&mut *self.conn().await?, paused).await?;
        self.events.publish(EventKind::QueuePaused { paused });
        if !paused {
            self.wake.notify_one();
        }
        Ok(())
    }
}
