//! The engine's pipeline runs: start, re-run, cancel, and the driver that moves them on.

use super::Engine;
use crate::pipelines::driver::{self, Advanced, Context};
use crate::pipelines::runs::{self, Run, RunError, RunRequest};

impl Engine {
    fn driver_context(&self) -> Context {
        Context {
            providers: self.providers.clone(),
            media: self.media.clone(),
            limits: self.item_limits(),
            max_attempts: self.settings.max_attempts,
        }
    }

    /// Starts moving pipeline runs on in this process (with the worker: what a crash left
    /// unfinished carries on at once). Other processes may drive the same runs.
    pub fn start_pipeline_driver(&self) {
        let _ = self.driver.set(driver::start(
            self.pool.clone(),
            self.driver_context(),
            self.events.clone(),
            self.wake.clone(),
        ));
    }

    pub fn stop_pipeline_driver(&self) {
        if let Some(driver) = self.driver.get() {
            driver.stop();
        }
    }

    fn kick_driver(&self) {
        if let Some(driver) = self.driver.get() {
            driver.kick();
        }
    }

    /// Checks and starts a run of a pipeline; the driver runs its steps.
    pub async fn run_pipeline(&self, request: &RunRequest) -> Result<Run, RunError> {
        let limits = self.item_limits();
        let run = runs::start(&mut *self.conn().await?, &self.providers, limits, request).await?;
        self.kick_driver();
        Ok(run)
    }

    /// Runs `run_id` again from the step called `step`: it and every step after it run whatever
    /// the cache holds.
    pub async fn rerun_pipeline(&self, run_id: i64, step: &str) -> Result<Run, RunError> {
        let limits = self.item_limits();
        let mut conn = self.conn().await?;
        let run = runs::rerun_from(&mut conn, &self.providers, limits, run_id, step).await?;
        self.kick_driver();
        Ok(run)
    }

    /// Cancels a run and the jobs of its steps still in the queue.
    pub async fn cancel_run(&self, run_id: i64) -> Result<(), RunError> {
        let batches = runs::cancel(&mut *self.conn().await?, run_id).await?;
        for batch in batches {
            self.cancel_batch(batch).await.map_err(|e| match e {
                crate::jobs::JobError::Database(e) => RunError::Db(e),
                other => RunError::Input(other.to_string()),
            })?;
        }
        Ok(())
    }

    /// Moves one run on as far as it goes now, publishing what it made (what the driver does on
    /// each wake-up; for callers that run no driver).
    pub async fn advance_run(&self, run_id: i64) -> Result<Advanced, RunError> {
        let ctx = self.driver_context();
        let advanced = driver::advance(&mut *self.conn().await?, &ctx, run_id).await?;
        if !advanced.jobs.is_empty() {
            self.wake.notify_one();
        }
        for job in &advanced.jobs {
            self.events.publish(job.event());
        }
        for product in &advanced.products {
            self.events.publish(product.created_event());
        }
        Ok(advanced)
    }
}
