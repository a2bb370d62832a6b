//! A provider's rate limits, held for the whole provider rather than job by job, and for every
//! process sharing the database together.
//!
//! Every hosted provider sits behind a [`Gate`] ([`Limited`] wraps it): a GCRA limit on
//! submissions and another on every other API call, at the provider's published rates, and a
//! pause that a 429 imposes on all of them. A gate shared with the database ([`Gate::share`],
//! what the app does) keeps its GCRA state in `provider_rate_state`: each call reserves its
//! turn with one statement ([`reserve`]) on the database's clock, so any number of processes
//! together never call faster than the limit. An unshared gate (tests of one adapter) uses an
//! in-process `governor` limiter, as does a shared one while the database does not answer.
//!
//! The first 429 pauses every task of this process at once, until the reset the provider
//! announced (capped); the pause is also written to `provider_pauses`, so that every process
//! sharing the database stops claiming for that provider and applies the same pause to its own
//! gate ([`load_pauses`]). No request goes out before the reset.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::sql_types::{Double, Text, Timestamptz};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{
    CancelOutcome, ErrorKind, GenerationRequest, ModelInfo, Output, PollStatus, Provider,
    ProviderError, ProviderInfo, RequestRef, Submitted,
};

/// How fast a provider may be called, per minute (`None`: no limit), and how many of its jobs
/// may be in flight at once (`None`: the worker's default cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimits {
    pub submissions_per_minute: Option<u32>,
    pub calls_per_minute: Option<u32>,
    pub concurrency: Option<u32>,
}

impl RateLimits {
    /// The limits a provider publishes (Replicate: 600 creations and 3000 other calls a
    /// minute); fal limits concurrency instead, which the worker's cap already holds.
    pub fn published(provider: &str) -> Self {
        match provider {
            super::replicate::ID => Self {
                submissions_per_minute: Some(600),
                calls_per_minute: Some(3000),
                concurrency: None,
            },
            _ => Self::default(),
        }
    }
}

/// A provider's limits in this process. The rates can change while it runs (the Settings
/// page); a call already waiting keeps the limiter it started with.
pub struct Gate {
    limits: Mutex<RateLimits>,
    /// The database the GCRA state is kept in, and the provider's id there.
    shared: OnceLock<(crate::db::Pool, String)>,
    submissions: Mutex<Option<Arc<DefaultDirectRateLimiter>>>,
    calls: Mutex<Option<Arc<DefaultDirectRateLimiter>>>,
    paused_until: Mutex<Option<Instant>>,
    /// The longest pause a 429 may impose.
    longest_pause: Duration,
}

/// A burst of a second's worth: the published rate, never a minute's calls at once.
fn burst(per_minute: u32) -> u32 {
    per_minute.div_ceil(60).max(1)
}

fn limiter(per_minute: Option<u32>) -> Option<Arc<DefaultDirectRateLimiter>> {
    let per_minute = NonZeroU32::new(per_minute?)?;
    let burst = NonZeroU32::new(burst(per_minute.get())).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(Duration::from_secs(60) / per_minute.get())?.allow_burst(burst);
    Some(Arc::new(RateLimiter::direct(quota)))
}

impl Gate {
    pub fn new(limits: RateLimits, longest_pause: Duration) -> Self {
        Self {
            limits: Mutex::new(limits),
            shared: OnceLock::new(),
            submissions: Mutex::new(limiter(limits.submissions_per_minute)),
            calls: Mutex::new(limiter(limits.calls_per_minute)),
            paused_until: Mutex::new(None),
            longest_pause,
        }
    }

    /// The rates in force.
    pub fn limits(&self) -> RateLimits {
        *self.limits.lock().unwrap()
    }

    /// Changes the rates from now on.
    pub fn set_limits(&self, limits: RateLimits) {
        *self.limits.lock().unwrap() = limits;
        *self.submissions.lock().unwrap() = limiter(limits.submissions_per_minute);
        *self.calls.lock().unwrap() = limiter(limits.calls_per_minute);
    }

    /// Applies a pause another process recorded (see [`load_pauses`]).
    pub fn pause_until(&self, until: DateTime<Utc>) {
        if let Ok(left) = (until - Utc::now()).to_std() {
            self.pause(left);
        }
    }

    /// When the current pause ends, if one is on.
    pub fn paused_until(&self) -> Option<Instant> {
        self.paused_until
            .lock()
            .unwrap()
            .filter(|until| *until > Instant::now())
    }

    /// Pauses every call for `wait` (capped), or longer if a pause already runs longer.
    /// Returns when the pause ends.
    pub fn pause(&self, wait: Duration) -> Instant {
        let until = Instant::now() + wait.min(self.longest_pause);
        let mut current = self.paused_until.lock().unwrap();
        let until = current.map_or(until, |c| c.max(until));
        *current = Some(until);
        until
    }

    async fn wait_out_pause(&self) {
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// Keeps the GCRA state in the database from now on, so every process sharing it holds
    /// the provider's limits together. Once per gate; later calls change nothing.
    pub fn share(&self, pool: crate::db::Pool, provider: &str) {
        let _ = self.shared.set((pool, provider.to_string()));
    }

    /// Waits until a submission may go out.
    pub async fn before_submission(&self) {
        let per_minute = self.limits().submissions_per_minute;
        self.take_turn(Bucket::Submit, per_minute, &self.submissions)
            .await;
    }

    /// Waits until any other call may go out.
    pub async fn before_call(&self) {
        let per_minute = self.limits().calls_per_minute;
        self.take_turn(Bucket::Call, per_minute, &self.calls).await;
    }

    async fn take_turn(
        &self,
        bucket: Bucket,
        per_minute: Option<u32>,
        local: &Mutex<Option<Arc<DefaultDirectRateLimiter>>>,
    ) {
        self.wait_out_pause().await;
        let Some(per_minute) = per_minute else {
            return;
        };
        let shared_wait = match self.shared.get() {
            None => None,
            Some((pool, provider)) => {
                let reserved = match crate::db::get_conn(pool).await {
                    Ok(mut conn) => reserve(&mut conn, provider, bucket, per_minute)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                reserved
                    .inspect_err(|e| {
                        tracing::warn!("the shared rate limit could not be read ({e}); this process keeps its own for now")
                    })
                    .ok()
            }
        };
        match shared_wait {
            Some(wait) => tokio::time::sleep(wait).await,
            None => {
                let limiter = local.lock().unwrap().clone();
                if let Some(limiter) = limiter {
                    limiter.until_ready().await;
                }
            }
        }
        // A pause may have started while this waited for its turn.
        self.wait_out_pause().await;
    }

    /// Notes what a call answered: a 429 pauses the provider until its announced reset.
    fn after<T>(&self, result: &Result<T, ProviderError>) {
        if let Err(error) = result {
            if error.kind == ErrorKind::RateLimited {
                self.pause(error.retry_after.unwrap_or(DEFAULT_PAUSE));
            }
        }
    }
}

/// The pause after a 429 that names no reset.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(10);

/// The two GCRA buckets of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Submit,
    Call,
}

impl Bucket {
    fn as_str(self) -> &'static str {
        match self {
            Bucket::Submit => "submit",
            Bucket::Call => "call",
        }
    }
}

#[derive(QueryableByName)]
struct Turn {
    #[diesel(sql_type = Double)]
    wait: f64,
}

/// Reserves the next turn of `provider`'s `bucket` at `per_minute` (a burst of a second's
/// worth) in one statement, and answers how long the caller waits before its call may go.
///
/// GCRA on the database's clock: `tat` is when the bucket would be empty again. A call takes
/// the turn at `max(tat, now)` and moves `tat` one emission interval on; it may go once that
/// turn is within the burst tolerance of now. The row lock of the upsert orders concurrent
/// callers from any process, and every caller's wait counts from the same clock.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    provider: &str,
    bucket: Bucket,
    per_minute: u32,
) -> QueryResult<Duration> {
    let per_minute = per_minute.max(1);
    let interval = 60.0 / f64::from(per_minute);
    let tolerance = interval * f64::from(burst(per_minute) - 1);
    let turn: Turn = sql_query(
        "INSERT INTO provider_rate_state AS s (provider, bucket, tat)
         VALUES ($1, $2, now() + make_interval(secs => $3))
         ON CONFLICT (provider, bucket) DO UPDATE
             SET tat = GREATEST(s.tat, now()) + make_interval(secs => $3)
         RETURNING GREATEST(
             EXTRACT(EPOCH FROM (tat - now()))::float8 - $3 - $4, 0) AS wait",
    )
    .bind::<Text, _>(provider)
    .bind::<Text, _>(bucket.as_str())
    .bind::<Double, _>(interval)
    .bind::<Double, _>(tolerance)
    .get_result(conn)
    .await?;
    Ok(Duration::from_secs_f64(turn.wait.clamp(0.0, 3600.0)))
}

/// A provider behind its [`Gate`].
pub struct Limited {
    inner: Arc<dyn Provider>,
    gate: Arc<Gate>,
}

impl Limited {
    pub fn new(inner: Arc<dyn Provider>, gate: Arc<Gate>) -> Self {
        Self { inner, gate }
    }
}

#[async_trait::async_trait]
impl Provider for Limited {
    fn info(&self) -> &ProviderInfo {
        self.inner.info()
    }

    fn gate(&self) -> Option<&Arc<Gate>> {
        Some(&self.gate)
    }

    fn model_version(&self, model: &str) -> Option<String> {
        self.inner.model_version(model)
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        self.gate.before_submission().await;
        let result = self.inner.submit(request).await;
        self.gate.after(&result);
        result
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        self.gate.before_call().await;
        let result = self.inner.poll(request).await;
        self.gate.after(&result);
        result
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        self.gate.before_call().await;
        let result = self.inner.cancel(request).await;
        self.gate.after(&result);
        result
    }

    async fn verify_key(&self) -> Result<(), ProviderError> {
        self.gate.before_call().await;
        let result = self.inner.verify_key().await;
        self.gate.after(&result);
        result
    }

    async fn describe_model(&self, reference: &str) -> Result<ModelInfo, ProviderError> {
        self.gate.before_call().await;
        let result = self.inner.describe_model(reference).await;
        self.gate.after(&result);
        result
    }

    /// Outputs come from the provider's file hosts, which its API limits do not cover.
    async fn fetch(&self, output: &Output) -> Result<Vec<u8>, ProviderError> {
        self.inner.fetch(output).await
    }
}

/// A provider's pause, as every process sees it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Pause {
    #[diesel(sql_type = Text)]
    pub provider: String,
    #[diesel(sql_type = Timestamptz)]
    pub until: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub reason: String,
}

/// Records that `provider` is paused until `until` (never shortening a longer pause), and
/// returns the pause in force.
pub async fn record_pause(
    conn: &mut AsyncPgConnection,
    provider: &str,
    until: DateTime<Utc>,
    reason: &str,
) -> QueryResult<Pause> {
    sql_query(
        "INSERT INTO provider_pauses (provider, until, reason) VALUES ($1, $2, $3)
         ON CONFLICT (provider) DO UPDATE SET
             until = GREATEST(provider_pauses.until, EXCLUDED.until),
             reason = CASE WHEN EXCLUDED.until >= provider_pauses.until
                           THEN EXCLUDED.reason ELSE provider_pauses.reason END,
             updated_at = now()
         RETURNING provider, until, reason",
    )
    .bind::<Text, _>(provider)
    .bind::<Timestamptz, _>(until)
    .bind::<Text, _>(reason)
    .get_result(conn)
    .await
}

/// The pauses still running, by provider.
pub async fn load_pauses(conn: &mut AsyncPgConnection) -> QueryResult<HashMap<String, Pause>> {
    let pauses: Vec<Pause> = sql_query(
        "SELECT provider, until, reason FROM provider_pauses WHERE until > now() ORDER BY provider",
    )
    .load(conn)
    .await?;
    Ok(pauses
        .into_iter()
        .map(|p| (p.provider.clone(), p))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pause_holds_every_call_and_never_shortens_a_longer_one() {
        let gate = Gate::new(RateLimits::default(), Duration::from_secs(600));
        let until = gate.pause(Duration::from_millis(200));
        assert_eq!(gate.pause(Duration::from_millis(10)), until);
        let started = Instant::now();
        gate.before_call().await;
        assert!(Instant::now() >= until, "waited for the reset");
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert_eq!(gate.paused_until(), None);
    }

    #[tokio::test]
    async fn a_pause_is_capped() {
        let gate = Gate::new(RateLimits::default(), Duration::from_millis(50));
        let until = gate.pause(Duration::from_secs(86_400));
        assert!(until <= Instant::now() + Duration::from_millis(50));
    }

    #[tokio::test]
    async fn calls_are_spaced_to_the_quota() {
        let gate = Gate::new(
            RateLimits {
                submissions_per_minute: Some(1200),
                calls_per_minute: None,
                concurrency: None,
            },
            Duration::from_secs(1),
        );
        // 1200 a minute is 20 a second, with a burst of 20: the 41st call waits about a second.
        let started = Instant::now();
        for _ in 0..41 {
            gate.before_submission().await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        assert!(
            gate.calls.lock().unwrap().is_none(),
            "no limit on other calls"
        );
        gate.set_limits(RateLimits::default());
        assert_eq!(gate.limits(), RateLimits::default());
        assert!(
            gate.submissions.lock().unwrap().is_none(),
            "no limit any more"
        );
    }
}
