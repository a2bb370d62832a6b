//! Settings server functions: provider keys, thin wrappers over the engine's credentials. A key
//! travels only inward (browser to server to provider); what comes back is a hint.

use leptos::prelude::*;

use crate::dto::ProviderKeyDto;
use crate::error::AppError;

#[server(endpoint = "settings/keys")]
pub async fn provider_keys() -> Result<Vec<ProviderKeyDto>, AppError> {
    super::respond(async move {
        let statuses = super::engine()?.key_statuses().await?;
        Ok(statuses.into_iter().map(Into::into).collect())
    })
    .await
}

/// Where the data key that seals the stored keys is kept.
#[server(endpoint = "settings/data-key")]
pub async fn data_key_location() -> Result<String, AppError> {
    super::respond(async move { Ok(super::engine()?.data_key_origin()?) }).await
}

/// Tests the key with the provider and stores it (sealed) only if the provider accepts it.
#[server(endpoint = "settings/keys/set")]
pub async fn set_provider_key(provider: String, key: String) -> Result<(), AppError> {
    super::respond(async move { Ok(super::engine()?.set_key(&provider, &key).await?) }).await
}

#[server(endpoint = "settings/keys/remove")]
pub async fn remove_provider_key(provider: String) -> Result<(), AppError> {
    super::respond(async move { Ok(super::engine()?.remove_key(&provider).await?) }).await
}

#[server(endpoint = "settings/keys/test")]
pub async fn test_provider_key(provider: String) -> Result<(), AppError> {
    super::respond(async move { Ok(super::engine()?.test_key(&provider).await?) }).await
}

/// A number typed in the limits form, or `None` when left empty. `what` says what it counts
/// and what empty means.
#[cfg(feature = "ssr")]
fn whole_number(field: &str, what: &str, text: &str) -> Result<Option<u32>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>().map(Some).map_err(|_| {
        AppError::invalid(
            field,
            format!("Write a whole number of {what}; got “{text}”."),
        )
    })
}

#[cfg(feature = "ssr")]
const PER_MINUTE: &str = "calls a minute, or leave it empty for no limit";

/// Sets a provider's rates (per minute) and its cap on jobs at once, from now on.
#[server(endpoint = "settings/limits/set")]
pub async fn set_rate_limits(
    provider: String,
    submissions: String,
    calls: String,
    concurrency: String,
) -> Result<(), AppError> {
    super::respond(async move {
        let limits = factory::providers::limits::RateLimits {
            submissions_per_minute: whole_number("submissions", PER_MINUTE, &submissions)?,
            calls_per_minute: whole_number("calls", PER_MINUTE, &calls)?,
            concurrency: whole_number(
                "concurrency",
                "jobs at once, or leave it empty for the default",
                &concurrency,
            )?,
        };
        super::engine()?
            .set_rate_limits(&provider, limits)
            .await
            .map_err(|e| match e {
                factory::credentials::KeyError::Invalid(m) => AppError::invalid("submissions", m),
                other => other.into(),
            })
    })
    .await
}
