//! One job's task: submit it (or resume its request), poll the provider, download and store the
//! outputs, record the end — every write presenting the claim's [`Lease`], while
//! [`super::lease::keep`] renews it beside the task.

use tokio::sync::watch;

use super::{lease, Context};
use crate::db;
use crate::events::EventKind;
use crate::jobs::transitions::{self, backoff, Failure};
use crate::jobs::{Job, JobState, Lease};
use crate::media::png::{embed_metadata, png_size, ImageMetadata};
use crate::media::ImageFormat;
use crate::products::NewProduct;
use crate::providers::limits;
use crate::providers::{
    CancelOutcome, ErrorKind, GenerationRequest, Output, PollStatus, Provider, ProviderError,
    RequestRef, Submitted,
};

/// How a job's task ended.
#[derive(Debug)]
enum Outcome {
    Succeeded,
    /// A failed attempt was recorded: `retry_wait` (it will run again) or `failed`.
    Failed(JobState),
    Canceled,
    /// The lease is gone or the database failed: nothing more was written, and a later claim
    /// takes the job over.
    Abandoned(String),
}

/// A step of the task: its result, or the outcome the task ended with.
type Step<T> = Result<T, Outcome>;

/// Runs `job` to an outcome while keeping its lease; drops the work the moment the lease is lost.
pub(super) async fn run(ctx: &Context, job: Job) {
    let (id, lease) = (job.id, job.lease());
    let (cancel, cancel_requested) = watch::channel(job.cancel_requested);
    let mut task = Task {
        ctx,
        lease,
        cancel_requested,
    };
    let outcome = tokio::select! {
        outcome = task.drive(job) => outcome,
        lost = lease::keep(ctx, lease, cancel) => Outcome::Abandoned(lost),
    };
    match outcome {
        Outcome::Abandoned(why) => {
            tracing::warn!(job = id, "left the job for a later claim: {why}")
        }
        Outcome::Failed(state) => tracing::debug!(job = id, %state, "attempt failed"),
        Outcome::Succeeded | Outcome::Canceled => tracing::debug!(job = id, "{outcome:?}"),
    }
}

struct Task<'a> {
    ctx: &'a Context,
    lease: Lease,
    /// Becomes `true` when a person asks to cancel (the lease ticker reads it from the row).
    cancel_requested: watch::Receiver<bool>,
}

impl Task<'_> {
    async fn drive(&mut self, job: Job) -> Outcome {
        self.ctx.events.publish(job.event());
        let Some(provider) = self.ctx.providers.get(&job.provider) else {
            let error = ProviderError::new(
                &job.provider,
                ErrorKind::InvalidInput,
                "this provider is not set up in this app",
            );
            return self.fail(&job, &error, false, false).await;
        };
        if job.cancel_requested {
            return self.cancel(provider.as_ref(), &job).await;
        }
        let mut request = match job.request() {
            Ok(request) => request,
            Err(e) => {
                let error = ProviderError::new(
                    &provider.info().name,
                    ErrorKind::InvalidInput,
                    format!("stored input is unreadable: {e}"),
                );
                return self.fail(&job, &error, false, false).await;
            }
        };
        if job.provider_request_id.is_none() {
            if let Some(input) = request.input_image.as_mut() {
                let loaded = match self.conn().await {
                    Ok(mut conn) => {
                        crate::uploads::load_input(&mut conn, &self.ctx.media, input.product_id)
                            .await
                    }
                    Err(outcome) => return outcome,
                };
                match loaded {
                    Ok(data) => input.data = Some(std::sync::Arc::new(data)),
                    Err(e) => {
                        let error =
                            ProviderError::new(&provider.info().name, ErrorKind::InvalidInput, e);
                        return self.fail(&job, &error, false, false).await;
                    }
                }
            }
        }
        if let Some(scene) = request.scene.as_mut() {
            let loaded = match self.conn().await {
                Ok(mut conn) => {
                    crate::render::jobs::load_scene(&mut conn, &self.ctx.media, scene).await
                }
                Err(outcome) => return outcome,
            };
            if let Err(e) = loaded {
                let error = ProviderError::new(&provider.info().name, ErrorKind::InvalidInput, e);
                return self.fail(&job, &error, false, false).await;
            }
        }
        let finished = async {
            let outputs = match job.provider_request_id.clone() {
                Some(request_id) => {
                    self.poll_until_done(provider.as_ref(), job, &request_id)
                        .await?
                }
                None => self.submit(provider.as_ref(), job, &request).await?,
            };
            self.download(provider.as_ref(), &request, outputs).await
        };
        match finished.await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    async fn submit(
        &mut self,
        provider: &dyn Provider,
        job: Job,
        request: &GenerationRequest,
    ) -> Step<Vec<Output>> {
        let lease = self.lease;
        let remote = provider.info().remote_queue;
        // Marking the submission as started only matters where a copy could be left at the
        // provider by a crash (the possibly-duplicated flag).
        let job = if remote {
            self.record(async |c| transitions::begin_submit(c, lease).await)
                .await?
        } else {
            job
        };
        let submitted = if remote {
            provider.submit(request).await
        } else {
            self.run_here(provider, job.clone(), request).await?
        };
        match submitted {
            Ok(Submitted::Finished(outputs)) => Ok(outputs),
            Ok(Submitted::Queued { request_id }) => {
                let job = self
                    .record(async |c| transitions::record_request_id(c, lease, &request_id).await)
                    .await?;
                self.poll_until_done(provider, job, &request_id).await
            }
            // Sent, and perhaps accepted: submitting again may pay twice, so say so.
            Err(e) => {
                self.note_rate_limit(provider, &e).await;
                Err(self.fail(&job, &e, false, remote && e.maybe_accepted).await)
            }
        }
    }

    /// Work done in this process: its progress recorded as it comes, and dropped (which stops
    /// it) when a person cancels.
    async fn run_here(
        &mut self,
        provider: &dyn Provider,
        mut job: Job,
        request: &GenerationRequest,
    ) -> Step<Result<Submitted, ProviderError>> {
        enum Event {
            Done(Result<Submitted, ProviderError>),
            Cancel,
            Progress,
        }
        let (progress, mut reports) = watch::channel(None);
        // Boxed by the trait: dropping it stops the work at once.
        let mut work = provider.run(request, &progress);
        let lease = self.lease;
        loop {
            let event = tokio::select! {
                done = &mut work => Event::Done(done),
                _ = self.cancel_requested.wait_for(|asked| *asked) => Event::Cancel,
                // The sender lives as long as this loop, so this never ends in an error.
                _ = reports.changed() => Event::Progress,
            };
            match event {
                Event::Done(done) => return Ok(done),
                Event::Cancel => {
                    drop(work);
                    return Err(self.mark_canceled().await);
                }
                Event::Progress => {
                    let Some((fraction, status)) = reports.borrow_and_update().clone() else {
                        continue;
                    };
                    if worth_recording(&job, Some(&status), fraction) {
                        job = self
                            .record(async |c| {
                                transitions::record_local_progress(c, lease, &status, fraction)
                                    .await
                            })
                            .await?;
                    }
                }
            }
        }
    }

    async fn poll_until_done(
        &mut self,
        provider: &dyn Provider,
        mut job: Job,
        request_id: &str,
    ) -> Step<Vec<Output>> {
        let (first, longest) = self.ctx.config.status_poll;
        let mut pause = first;
        let mut failures = 0;
        loop {
            if *self.cancel_requested.borrow() {
                return Err(self.cancel(provider, &job).await);
            }
            let request = RequestRef {
                model: &job.model,
                request_id,
            };
            match provider.poll(request).await {
                Ok(PollStatus::Completed(outputs)) => return Ok(outputs),
                Ok(PollStatus::CompletedWithCost(outputs, cost)) => {
                    self.record_cost(&job, cost).await;
                    return Ok(outputs);
                }
                Ok(PollStatus::Queued { position }) => {
                    failures = 0;
                    let status = match position {
                        Some(p) => format!("in the provider's queue (position {p})"),
                        None => "in the provider's queue".to_string(),
                    };
                    job = self.progress(job, Some(status), None).await?;
                }
                Ok(PollStatus::Running {
                    progress: p,
                    message,
                }) => {
                    failures = 0;
                    let status = message.unwrap_or_else(|| "generating".into());
                    job = self.progress(job, Some(status), p).await?;
                }
                Ok(PollStatus::Failed(e)) => return Err(self.fail(&job, &e, false, false).await),
                Ok(PollStatus::Canceled) => return Err(self.mark_canceled().await),
                Err(e) if e.retryable() && failures < self.ctx.config.poll_failures_allowed => {
                    self.note_rate_limit(provider, &e).await;
                    failures += 1;
                    tracing::debug!(job = job.id, "status poll failed ({failures}): {e}");
                }
                // Trouble reaching a request that still exists there: keep its id, so the retry
                // polls it again rather than paying for a new one. A request the provider no
                // longer knows is gone: a retry submits anew.
                Err(e) => {
                    self.note_rate_limit(provider, &e).await;
                    return Err(self.fail(&job, &e, e.retryable(), false).await);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.cancel_requested.wait_for(|asked| *asked) => {}
            }
            pause = pause.mul_f32(1.5).min(longest);
        }
    }

    async fn progress(&self, job: Job, status: Option<String>, progress: Option<f32>) -> Step<Job> {
        if !worth_recording(&job, status.as_deref(), progress) {
            return Ok(job);
        }
        let lease = self.lease;
        self.record(async |c| {
            transitions::record_progress(c, lease, status.as_deref(), progress).await
        })
        .await
    }

    async fn download(
        &self,
        provider: &dyn Provider,
        request: &GenerationRequest,
        outputs: Vec<Output>,
    ) -> Step<Outcome> {
        let lease = self.lease;
        let job = self
            .record(async |c| transitions::begin_download(c, lease).await)
            .await?;
        // The transition's row says whether a cancel came in since the last renewal.
        if job.cancel_requested || *self.cancel_requested.borrow() {
            return Err(self.cancel(provider, &job).await);
        }
        let mut rows = Vec::with_capacity(outputs.len());
        for (index, output) in outputs.iter().enumerate() {
            let bytes = match provider.fetch(output).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    let keep = job.provider_request_id.is_some();
                    return Err(self.fail(&job, &e, keep, false).await);
                }
            };
            let media = self.ctx.media.clone();
            let mut meta = metadata(&job, request);
            let project = job.project_id;
            let stored = tokio::task::spawn_blocking(move || {
                if crate::media::av::Container::sniff(&bytes).is_some()
                    && ImageFormat::sniff(&bytes).is_none()
                {
                    // A video or a sound. Without ffmpeg the provider's request is kept: it is
                    // fetched again, not paid again, once ffmpeg is installed.
                    return media
                        .put_av(project, &bytes)
                        .map(|stored| NewProduct::stored_av(project, stored))
                        .map_err(|e| {
                            use crate::media::{av::AvError, MediaError};
                            let transient = matches!(
                                e,
                                AvError::Io(_)
                                    | AvError::Missing(_)
                                    | AvError::Store(MediaError::Write { .. })
                            );
                            (transient, e.to_string())
                        });
                }
                let bytes = match ImageFormat::sniff(&bytes) {
                    Some(ImageFormat::Png) => {
                        // The size is the picture's, whatever was asked (an aspect ratio, say).
                        if let Some((width, height)) = png_size(&bytes) {
                            (meta.width, meta.height) = (width, height);
                        }
                        embed_metadata(&bytes, &meta).map_err(|e| (false, e.to_string()))?
                    }
                    _ => bytes,
                };
                // Storage that failed (a full disk, a bucket out of reach) is worth another
                // try; a file that is not a picture is not.
                media
                    .put(project, &bytes)
                    .map(|stored| NewProduct::stored(project, stored))
                    .map_err(|e| {
                        let transient = matches!(e, crate::media::MediaError::Write { .. });
                        (transient, e.to_string())
                    })
            })
            .await
            .map_err(|e| Outcome::Abandoned(e.to_string()))?;
            match stored {
                Ok(file) => rows.push(NewProduct::from_job(&job, request, index, file)),
                Err((false, why)) => {
                    let error = ProviderError::new(
                        &provider.info().name,
                        ErrorKind::BadOutput,
                        format!("the result was refused: {why}"),
                    );
                    return Err(self.fail(&job, &error, false, false).await);
                }
                // The provider's request is kept: the retry fetches the same result again
                // instead of paying for a new one.
                Err((true, why)) => {
                    let error = ProviderError::new(
                        &provider.info().name,
                        ErrorKind::Unavailable,
                        format!("the result could not be stored: {why}"),
                    );
                    return Err(self.fail(&job, &error, true, false).await);
                }
            }
        }
        let mut conn = self.conn().await?;
        let (job, products) = match transitions::complete(&mut conn, lease, rows).await {
            Ok(Some(done)) => done,
            Ok(None) => {
                return Err(Outcome::Abandoned(
                    "the lease was lost before completing".into(),
                ))
            }
            Err(e) => return Err(Outcome::Abandoned(e.to_string())),
        };
        for product in &products {
            self.ctx.events.publish(product.created_event());
        }
        self.ctx.events.publish(job.event());
        Ok(Outcome::Succeeded)
    }

    /// A 429 pauses the whole provider: the gate has paused this process already; the pause is
    /// recorded for every process sharing the database, and announced.
    async fn note_rate_limit(&self, provider: &dyn Provider, error: &ProviderError) {
        if error.kind != ErrorKind::RateLimited {
            return;
        }
        let Some(until) = provider.gate().and_then(|g| g.paused_until()) else {
            return;
        };
        let left = until.saturating_duration_since(std::time::Instant::now());
        let until = chrono::Utc::now() + left;
        let reason = format!("{}: rate limited", provider.info().name);
        let recorded = async {
            let mut conn = db::get_conn(&self.ctx.pool)
                .await
                .map_err(|e| e.to_string())?;
            limits::record_pause(&mut conn, &provider.info().id, until, &reason)
                .await
                .map_err(|e| e.to_string())
        };
        match recorded.await {
            Ok(pause) => {
                self.ctx.events.publish(EventKind::ProviderPaused(pause));
            }
            Err(e) => tracing::warn!(
                "could not record the pause of {}: {e}",
                provider.info().name
            ),
        }
    }

    /// Records a failed attempt: a retry later (retryable, attempts left) or a final failure.
    /// `keep_request`: the provider still holds the request, poll it again rather than paying
    /// for a new one. `possibly_duplicated`: a submission that may have been accepted.
    async fn fail(
        &self,
        job: &Job,
        error: &ProviderError,
        keep_request: bool,
        possibly_duplicated: bool,
    ) -> Outcome {
        let config = &self.ctx.config;
        let retry_in = match error.retry_after {
            Some(asked) => asked.min(config.retry_after_cap),
            None => backoff(
                job.attempts,
                config.retry_base,
                config.retry_cap,
                rand::random::<f64>(),
            ),
        };
        let mut message = error.to_string();
        if possibly_duplicated {
            message.push_str(&format!(
                " The request had been sent, and {} may have accepted it all the same: \
                 this image may be made, and billed, twice.",
                error.provider
            ));
        }
        let failure = Failure {
            message,
            retryable: error.retryable(),
            retry_in,
            keep_request,
            possibly_duplicated,
        };
        let lease = self.lease;
        match self
            .record(async |c| transitions::fail_or_retry(c, lease, &failure).await)
            .await
        {
            Ok(job) => {
                tracing::info!(job = job.id, state = %job.state(), "{}", failure.message);
                Outcome::Failed(job.state())
            }
            Err(outcome) => outcome,
        }
    }

    /// Cancels at the provider (when the job reached one), then records it.
    async fn cancel(&self, provider: &dyn Provider, job: &Job) -> Outcome {
        if let Some(request_id) = &job.provider_request_id {
            let request = RequestRef {
                model: &job.model,
                request_id,
            };
            match provider.cancel(request).await {
                Ok(CancelOutcome::Requested | CancelOutcome::NotFound) => {}
                Ok(CancelOutcome::AlreadyFinished) => tracing::info!(
                    job = job.id,
                    "cancelled after the provider had finished; its result is discarded"
                ),
                Err(e) => {
                    tracing::warn!(job = job.id, "the provider did not confirm the cancel: {e}")
                }
            }
        }
        self.mark_canceled().await
    }

    async fn mark_canceled(&self) -> Outcome {
        let lease = self.lease;
        match self
            .record(async |c| transitions::mark_canceled(c, lease).await)
            .await
        {
            Ok(_) => Outcome::Canceled,
            Err(outcome) => outcome,
        }
    }

    /// Keeps what the provider says the job cost (priced by the table in force). A failure here
    /// is only logged: the picture matters more than its bill.
    async fn record_cost(&self, job: &Job, cost: crate::providers::ReportedCost) {
        let recorded = async {
            let mut conn = db::get_conn(&self.ctx.pool).await?;
            let prices = crate::costs::prices(&mut conn).await?;
            let price = crate::costs::price_for(&prices, &job.provider, &job.model);
            if let Some(micros) = crate::costs::reported_micros(price, cost) {
                crate::costs::record_job_cost(&mut conn, job.id, micros).await?;
            }
            Ok::<_, crate::db::DbError>(())
        };
        if let Err(e) = recorded.await {
            tracing::warn!(job = job.id, "could not record the job's cost: {e}");
        }
    }

    async fn conn(&self) -> Step<db::PooledConnection> {
        db::get_conn(&self.ctx.pool)
            .await
            .map_err(|e| Outcome::Abandoned(e.to_string()))
    }

    /// Runs one lease-guarded transition and publishes the job's new state. No row means the
    /// lease was lost; a database error abandons the job (its lease runs out, a later claim
    /// resumes it).
    async fn record(
        &self,
        transition: impl AsyncFnOnce(
            &mut diesel_async::AsyncPgConnection,
        ) -> diesel::QueryResult<Option<Job>>,
    ) -> Step<Job> {
        let mut conn = self.conn().await?;
        match transition(&mut conn).await {
            Ok(Some(job)) => {
                self.ctx.events.publish(job.event());
                Ok(job)
            }
            Ok(None) => Err(Outcome::Abandoned("the lease was lost".into())),
            Err(e) => Err(Outcome::Abandoned(e.to_string())),
        }
    }
}

/// Whether a progress report changes what the job shows: new words, or a step of 1% or more.
fn worth_recording(job: &Job, status: Option<&str>, progress: Option<f32>) -> bool {
    status != job.provider_status.as_deref()
        || progress.is_some_and(|p| job.progress.is_none_or(|old| (p - old).abs() >= 0.01))
}

fn metadata(job: &Job, request: &GenerationRequest) -> ImageMetadata {
    let side = |name: &str| {
        request
            .params
            .get(name)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as u32
    };
    ImageMetadata {
        prompt: request.prompt.clone(),
        negative_prompt: request.negative_prompt.clone(),
        provider: job.provider.clone(),
        model: job.model.clone(),
        seed: job.seed,
        width: side("width"),
        height: side("height"),
        params: request.params.clone(),
        bindings: job.bindings.as_object().cloned().unwrap_or_default(),
    }
}
