//! What the adapters of servers a person runs (AUTOMATIC1111, ComfyUI) share: no key, any
//! address on the network, and failures named by host and port with a hint.

use reqwest::Url;

use crate::providers::{ErrorKind, ProviderError};

/// A configured server address: http or https with a host. `example` shows the usual one.
pub fn server_address(provider: &str, text: &str, example: &str) -> Result<Url, String> {
    Url::parse(text.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            format!("{provider}: “{text}” is not a server address; write it like {example}")
        })
}

/// A call to the server that failed on the way, by host and port; `hint` follows “could not be
/// reached” (`is it running?`). Only a failure to connect proves nothing arrived.
pub fn unreachable(provider: &str, base: &Url, e: &reqwest::Error, hint: &str) -> ProviderError {
    let what = if e.is_timeout() {
        "did not answer in time".to_string()
    } else if e.is_connect() {
        format!("could not be reached ({hint})")
    } else {
        "broke the connection".to_string()
    };
    let host = base.host_str().unwrap_or("?");
    let port = base.port_or_known_default().unwrap_or(0);
    let error = ProviderError::new(
        provider,
        ErrorKind::Network,
        format!("the server at {host}:{port} {what}"),
    );
    if e.is_connect() {
        error
    } else {
        error.maybe_accepted()
    }
}

/// A body of at most `cap` bytes.
pub async fn read_body(
    provider: &str,
    base: &Url,
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, ProviderError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(provider, base, &e, "is it running?"))?
    {
        if bytes.len() + chunk.len() > cap {
            return Err(ProviderError::new(
                provider,
                ErrorKind::BadOutput,
                "its answer was too large",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
