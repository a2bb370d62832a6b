//! What generations cost: a price table per provider model (shipped in
//! `factory/data/prices.json`, overridden on the Settings page), the estimate of a launch before
//! it is queued, what providers report once a job is done, and per-project budgets (in total and
//! per calendar month, UTC) that refuse a launch which would pass them.
//!
//! Amounts are whole micro-dollars (`i64`), so sums never drift.

use chrono::{Datelike, TimeZone, Utc};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::DbError;
use crate::providers::ReportedCost;

pub const MICROS_PER_USD: f64 = 1_000_000.0;
/// Civitai's currency: 1,000 Buzz is one dollar.
pub const BUZZ_PER_USD: f64 = 1000.0;

/// How a provider bills a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Image,
    /// Per million pixels of output.
    Megapixel,
    /// Per second of GPU time (Replicate's community models).
    GpuSecond,
    /// Per second of video or sound made.
    OutputSecond,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Image => "image",
            Unit::Megapixel => "megapixel",
            Unit::GpuSecond => "gpu_second",
            Unit::OutputSecond => "output_second",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Unit::Image,
            Unit::Megapixel,
            Unit::GpuSecond,
            Unit::OutputSecond,
        ]
        .into_iter()
        .find(|u| u.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub provider: String,
    /// A model id, or `*` for the provider's other models.
    pub model: String,
    pub unit: Unit,
    pub usd: f64,
    /// For GPU-second prices: how long one image usually takes; for output-second prices, how
    /// long a clip is when its parameters do not say.
    #[serde(default)]
    pub typical_seconds: Option<f64>,
    /// Set on this machine rather than shipped.
    #[serde(default)]
    pub edited: bool,
}

#[derive(Deserialize)]
struct Shipped {
    prices: Vec<Price>,
}

/// The prices shipped with the app.
pub fn shipped() -> Vec<Price> {
    serde_json::from_str::<Shipped>(include_str!("../data/prices.json"))
        .expect("the shipped price table is valid JSON")
        .prices
}

#[derive(QueryableByName)]
struct PriceRow {
    #[diesel(sql_type = Text)]
    provider: String,
    #[diesel(sql_type = Text)]
    model: String,
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = Double)]
    usd: f64,
}

/// The prices in force: the shipped table with this machine's edits over it.
pub async fn prices(conn: &mut AsyncPgConnection) -> Result<Vec<Price>, DbError> {
    let rows: Vec<PriceRow> =
        sql_query("SELECT provider, model, unit, usd FROM model_prices ORDER BY provider, model")
            .load(conn)
            .await?;
    let mut prices = shipped();
    for row in rows {
        let Some(unit) = Unit::parse(&row.unit) else {
            continue;
        };
        match prices
            .iter_mut()
            .find(|p| p.provider == row.provider && p.model == row.model)
        {
            Some(p) => {
                p.unit = unit;
                p.usd = row.usd;
                p.edited = true;
            }
            None => prices.push(Price {
                provider: row.provider,
                model: row.model,
                unit,
                usd: row.usd,
                typical_seconds: None,
                edited: true,
            }),
        }
    }
    Ok(prices)
}

/// The price of `model` at `provider`: its own, else the provider's `*`.
pub fn price_for<'a>(prices: &'a [Price], provider: &str, model: &str) -> Option<&'a Price> {
    let at = |m: &str| {
        prices
            .iter()
            .find(|p| p.provider == provider && p.model == m)
    };
    at(model).or_else(|| at("*"))
}

/// Sets a price on this machine. `usd` must be a plain non-negative amount.
pub async fn set_price(
    conn: &mut AsyncPgConnection,
    provider: &str,
    model: &str,
    unit: Unit,
    usd: f64,
) -> Result<(), CostError> {
    if !usd.is_finite() || !(0.0..1000.0).contains(&usd) {
        return Err(CostError::Invalid(format!(
            "A price is a number of dollars from 0 to 999; got {usd}."
        )));
    }
    if provider.trim().is_empty() || model.trim().is_empty() || model.len() > 300 {
        return Err(CostError::Invalid(
            "Name the provider and the model.".into(),
        ));
    }
    sql_query(
        "INSERT INTO model_prices (provider, model, unit, usd) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, model) DO UPDATE SET unit = EXCLUDED.unit, usd = EXCLUDED.usd,
             updated_at = now()",
    )
    .bind::<Text, _>(provider)
    .bind::<Text, _>(model)
    .bind::<Text, _>(unit.as_str())
    .bind::<Double, _>(usd)
    .execute(conn)
    .await
    .map_err(DbError::from)?;
    Ok(())
}

/// Goes back to the shipped price.
pub async fn reset_price(
    conn: &mut AsyncPgConnection,
    provider: &str,
    model: &str,
) -> Result<(), DbError> {
    sql_query("DELETE FROM model_prices WHERE provider = $1 AND model = $2")
        .bind::<Text, _>(provider)
        .bind::<Text, _>(model)
        .execute(conn)
        .await?;
    Ok(())
}

/// The output's size in millions of pixels, from the parameters the model is sent: `width`
/// and `height`, fal's `image_size` presets, Replicate's `megapixels`; one otherwise.
pub fn megapixels(params: &Map<String, Value>) -> f64 {
    let number = |k: &str| params.get(k).and_then(Value::as_f64);
    if let (Some(w), Some(h)) = (number("width"), number("height")) {
        return w * h / 1e6;
    }
    match params.get("image_size").and_then(Value::as_str) {
        Some("square_hd") => return 1024.0 * 1024.0 / 1e6,
        Some("square") => return 512.0 * 512.0 / 1e6,
        Some("portrait_4_3" | "landscape_4_3") => return 768.0 * 1024.0 / 1e6,
        Some("portrait_16_9" | "landscape_16_9") => return 576.0 * 1024.0 / 1e6,
        _ => {}
    }
    match params.get("megapixels").and_then(Value::as_str) {
        Some(mp) => mp.parse().unwrap_or(1.0),
        None => 1.0,
    }
}

/// How many seconds of video or sound the parameters ask for: `duration` (a number, or fal's
/// `"5"`) or `seconds_total` (Stable Audio); `None` when they do not say.
pub fn output_seconds(params: &Map<String, Value>) -> Option<f64> {
    ["duration", "seconds_total", "duration_seconds"]
        .iter()
        .filter_map(|k| params.get(*k))
        .find_map(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
        .filter(|s| s.is_finite() && *s > 0.0)
}

/// What a launch is expected to cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub per_image_micros: i64,
    pub total_micros: i64,
    /// How it was worked out (`4 × $0.0030 per result`).
    pub basis: String,
}

pub fn estimate(price: &Price, params: &Map<String, Value>, items: u64) -> Estimate {
    let (per_image, basis) = match price.unit {
        Unit::Image => (price.usd, format!("{} per result", usd_f(price.usd))),
        Unit::OutputSecond => {
            let seconds = output_seconds(params)
                .or(price.typical_seconds)
                .unwrap_or(5.0);
            (
                price.usd * seconds,
                format!("{} per second of output × {seconds:.0} s", usd_f(price.usd)),
            )
        }
        Unit::Megapixel => {
            let mp = megapixels(params);
            (
                price.usd * mp,
                format!("{} per megapixel × {mp:.2} MP", usd_f(price.usd)),
            )
        }
        Unit::GpuSecond => {
            let seconds = price.typical_seconds.unwrap_or(10.0);
            (
                price.usd * seconds,
                format!("{} per GPU second × about {seconds:.0} s", usd_f(price.usd)),
            )
        }
    };
    let per_image_micros = (per_image * MICROS_PER_USD).round() as i64;
    Estimate {
        per_image_micros,
        total_micros: per_image_micros.saturating_mul(items as i64),
        basis: format!("{items} × {}", basis),
    }
}

/// What a provider reported a job cost, in micro-dollars (GPU time is priced by the model's
/// price when that is per GPU second).
pub fn reported_micros(price: Option<&Price>, cost: ReportedCost) -> Option<i64> {
    let usd = match cost {
        ReportedCost::Buzz(buzz) => buzz / BUZZ_PER_USD,
        ReportedCost::GpuSeconds(seconds) => match price {
            Some(p) if p.unit == Unit::GpuSecond => seconds * p.usd,
            Some(p) if p.unit == Unit::Image => p.usd,
            // Replicate reports GPU time; the bill is for the clip, estimated when launched.
            Some(p) if p.unit == Unit::OutputSecond => return None,
            _ => return None,
        },
    };
    (usd.is_finite() && usd >= 0.0).then(|| (usd * MICROS_PER_USD).round() as i64)
}

/// Records what a job cost.
pub async fn record_job_cost(
    conn: &mut AsyncPgConnection,
    job_id: i64,
    micros: i64,
) -> Result<(), DbError> {
    sql_query("UPDATE jobs SET cost_micros = $2 WHERE id = $1")
        .bind::<BigInt, _>(job_id)
        .bind::<BigInt, _>(micros)
        .execute(conn)
        .await?;
    Ok(())
}

/// `$4.80`, or `$0.0030` for amounts under ten cents.
pub fn usd(micros: i64) -> String {
    usd_f(micros as f64 / MICROS_PER_USD)
}

fn usd_f(usd: f64) -> String {
    if usd.abs() >= 0.1 || usd == 0.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Budget {
    pub total_micros: Option<i64>,
    pub month_micros: Option<i64>,
}

/// What a project has spent or committed: done jobs at what they cost (reported, else
/// estimated), waiting and running ones at their estimate; jobs that failed or were cancelled
/// without a reported cost count nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Spending {
    pub total_micros: i64,
    pub month_micros: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CostError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(QueryableByName)]
struct BudgetRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    total_micros: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    month_micros: Option<i64>,
}

pub async fn budget(conn: &mut AsyncPgConnection, project_id: i64) -> Result<Budget, DbError> {
    read_budget(conn, project_id, "").await
}

async fn read_budget(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    lock: &str,
) -> Result<Budget, DbError> {
    let rows: Vec<BudgetRow> = sql_query(format!(
        "SELECT total_micros, month_micros FROM project_budgets WHERE project_id = $1 {lock}"
    ))
    .bind::<BigInt, _>(project_id)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .next()
        .map(|r| Budget {
            total_micros: r.total_micros,
            month_micros: r.month_micros,
        })
        .unwrap_or_default())
}

/// The project's budget, holding its row until the transaction ends (launches check one at a
/// time).
pub async fn lock_budget(conn: &mut AsyncPgConnection, project_id: i64) -> Result<Budget, DbError> {
    read_budget(conn, project_id, "FOR UPDATE").await
}

/// Sets the estimated cost of each job of a batch.
pub async fn record_estimate(
    conn: &mut AsyncPgConnection,
    batch_id: i64,
    per_image_micros: i64,
) -> Result<(), DbError> {
    sql_query("UPDATE jobs SET estimated_cost_micros = $2 WHERE batch_id = $1")
        .bind::<BigInt, _>(batch_id)
        .bind::<BigInt, _>(per_image_micros)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_budget(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    budget: Budget,
) -> Result<(), CostError> {
    if [budget.total_micros, budget.month_micros]
        .iter()
        .flatten()
        .any(|m| *m < 0)
    {
        return Err(CostError::Invalid("A budget cannot be negative.".into()));
    }
    crate::projects::get(conn, project_id)
        .await
        .map_err(|e| CostError::Invalid(e.to_string()))?;
    sql_query(
        "INSERT INTO project_budgets (project_id, total_micros, month_micros) VALUES ($1, $2, $3)
         ON CONFLICT (project_id) DO UPDATE SET total_micros = EXCLUDED.total_micros,
             month_micros = EXCLUDED.month_micros, updated_at = now()",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<Nullable<BigInt>, _>(budget.total_micros)
    .bind::<Nullable<BigInt>, _>(budget.month_micros)
    .execute(conn)
    .await
    .map_err(DbError::from)?;
    Ok(())
}

#[derive(QueryableByName)]
struct SpendingRow {
    #[diesel(sql_type = BigInt)]
    total_micros: i64,
    #[diesel(sql_type = BigInt)]
    month_micros: i64,
}

pub async fn spending(conn: &mut AsyncPgConnection, project_id: i64) -> Result<Spending, DbError> {
    let now = Utc::now();
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .expect("the first of a month exists");
    let row: SpendingRow = sql_query(
        "WITH counted AS (
             SELECT created_at,
                    CASE WHEN cost_micros IS NOT NULL THEN cost_micros
                         WHEN state IN ('failed', 'canceled') THEN 0
                         ELSE coalesce(estimated_cost_micros, 0) END AS micros
             FROM jobs WHERE project_id = $1)
         SELECT coalesce(sum(micros), 0)::BIGINT AS total_micros,
                coalesce(sum(micros) FILTER (WHERE created_at >= $2), 0)::BIGINT AS month_micros
         FROM counted",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<diesel::sql_types::Timestamptz, _>(month_start)
    .get_result(conn)
    .await?;
    Ok(Spending {
        total_micros: row.total_micros,
        month_micros: row.month_micros,
    })
}

/// Whether a launch costing `batch_micros` fits the budget; if not, the numbers that say why.
pub fn check(budget: Budget, spent: Spending, batch_micros: i64) -> Result<(), String> {
    let over = |limit: Option<i64>, used: i64, what: &str| {
        let limit = limit?;
        let left = (limit - used).max(0);
        (batch_micros > left).then(|| {
            format!(
                "This batch: {}; left {what}: {} (budget {}, spent {}). Queue fewer images, \
                 choose a cheaper model, or raise the budget on the Projects page.",
                usd(batch_micros),
                usd(left),
                usd(limit),
                usd(used)
            )
        })
    };
    match over(budget.month_micros, spent.month_micros, "this month").or_else(|| {
        over(
            budget.total_micros,
            spent.total_micros,
            "in the project budget",
        )
    }) {
        Some(message) => Err(message),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_shipped_table_prices_every_provider_and_megapixels_follow_the_size() {
        let prices = shipped();
        for provider in ["fal", "replicate", "civitai", "local"] {
            assert!(price_for(&prices, provider, "any/model").is_some() || provider == "fal");
        }
        let schnell = price_for(&prices, "fal", "fal-ai/flux/schnell").unwrap();
        let e = estimate(schnell, &params(json!({"image_size": "square_hd"})), 4);
        assert_eq!(e.per_image_micros, 3146);
        assert_eq!(e.total_micros, 4 * 3146);
        assert!(
            e.basis.starts_with("4 × $0.0030 per megapixel × 1.05 MP"),
            "{}",
            e.basis
        );
        assert_eq!(
            megapixels(&params(json!({"width": 512, "height": 768}))),
            0.393216
        );
        assert_eq!(megapixels(&params(json!({"megapixels": "0.25"}))), 0.25);
        let community = price_for(&prices, "replicate", "someone/model:abc").unwrap();
        assert_eq!(community.unit, Unit::GpuSecond);
        assert_eq!(
            reported_micros(Some(community), ReportedCost::GpuSeconds(2.5)),
            Some(3500)
        );
        assert_eq!(reported_micros(None, ReportedCost::Buzz(1.2)), Some(1200));
    }

    #[test]
    fn a_launch_over_the_monthly_or_total_budget_is_refused_with_the_numbers() {
        let budget = Budget {
            total_micros: Some(10_000_000),
            month_micros: Some(5_000_000),
        };
        let spent = Spending {
            total_micros: 3_000_000,
            month_micros: 2_900_000,
        };
        assert!(check(budget, spent, 2_000_000).is_ok());
        let message = check(budget, spent, 4_800_000).unwrap_err();
        assert!(
            message.starts_with("This batch: $4.80; left this month: $2.10"),
            "{message}"
        );
        let total_only = Budget {
            month_micros: None,
            ..budget
        };
        let message = check(total_only, spent, 7_500_000).unwrap_err();
        assert!(
            message.contains("left in the project budget: $7.00"),
            "{message}"
        );
        assert!(check(Budget::default(), spent, i64::MAX).is_ok());
    }
}
