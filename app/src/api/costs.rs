//! Cost server functions: a launch's estimate, project budgets, the price table.

use leptos::prelude::*;

use crate::dto::{BudgetDto, EstimateDto, PriceDto, PriceUnit};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::costs;

/// Dollars typed in a form (`4.80`, `$4.80`, empty for no limit) as micro-dollars.
#[cfg(feature = "ssr")]
fn dollars(field: &str, text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim().trim_start_matches('$').trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(usd) if usd.is_finite() && (0.0..1e9).contains(&usd) => {
            Ok(Some((usd * costs::MICROS_PER_USD).round() as i64))
        }
        _ => Err(AppError::invalid(
            field,
            format!("Write an amount in dollars, like 25 or 4.80, or leave it empty for no limit; got “{text}”."),
        )),
    }
}

/// What `items` images of `model` with `params` (JSON) would cost; `None` when there is no
/// price for the model.
#[server(endpoint = "costs/estimate")]
pub async fn estimate_launch(
    provider: String,
    model: String,
    params: String,
    items: u64,
) -> Result<Option<EstimateDto>, AppError> {
    super::respond(async move {
        let params: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&params).unwrap_or_default();
        let mut conn = super::engine()?.conn().await?;
        let prices = costs::prices(&mut conn).await?;
        Ok(costs::price_for(&prices, &provider, &model).map(|price| {
            let e = costs::estimate(price, &params, items);
            EstimateDto {
                total: costs::usd(e.total_micros),
                basis: e.basis,
            }
        }))
    })
    .await
}

#[server(endpoint = "costs/budget")]
pub async fn project_budget(project_id: i64) -> Result<BudgetDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let budget = costs::budget(&mut conn, project_id).await?;
        let spent = costs::spending(&mut conn, project_id).await?;
        let usd = |m: Option<i64>| m.map(|m| m as f64 / costs::MICROS_PER_USD);
        Ok(BudgetDto {
            total_usd: usd(budget.total_micros),
            month_usd: usd(budget.month_micros),
            spent_total: costs::usd(spent.total_micros),
            spent_month: costs::usd(spent.month_micros),
        })
    })
    .await
}

#[server(endpoint = "costs/set_budget")]
pub async fn set_project_budget(
    project_id: i64,
    total: String,
    month: String,
) -> Result<(), AppError> {
    super::respond(async move {
        let budget = costs::Budget {
            total_micros: dollars("total", &total)?,
            month_micros: dollars("month", &month)?,
        };
        let mut conn = super::engine()?.conn().await?;
        Ok(costs::set_budget(&mut conn, project_id, budget).await?)
    })
    .await
}

#[server(endpoint = "costs/prices")]
pub async fn price_table() -> Result<Vec<PriceDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(costs::prices(&mut conn)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    })
    .await
}

#[server(endpoint = "costs/set_price")]
pub async fn set_price(
    provider: String,
    model: String,
    unit: PriceUnit,
    usd: String,
) -> Result<(), AppError> {
    super::respond(async move {
        let usd: f64 = usd.trim().trim_start_matches('$').parse().map_err(|_| {
            AppError::invalid(
                "usd",
                format!("Write the price in dollars, like 0.003; got “{usd}”."),
            )
        })?;
        let mut conn = super::engine()?.conn().await?;
        costs::set_price(&mut conn, &provider, &model, unit.into(), usd)
            .await
            .map_err(|e| match e {
                costs::CostError::Invalid(m) => AppError::invalid("usd", m),
                other => other.into(),
            })
    })
    .await
}

#[server(endpoint = "costs/reset_price")]
pub async fn reset_price(provider: String, model: String) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(costs::reset_price(&mut conn, &provider, &model).await?)
    })
    .await
}
