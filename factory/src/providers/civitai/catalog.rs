//! Civitai's public catalog (`https://civitai.com/api/v1`): the models a person can pick in the
//! model browser, and the versions jobs name by AIR. No key is needed.
//!
//! `GET /models?query=&types=&baseModels=&sort=&limit=&cursor=` pages with
//! `metadata.nextCursor`; `GET /model-versions/{id}` names one version. Errors are
//! `{"error": ...}`.

use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::air::Air;
use crate::providers::http;
use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;

pub const DEFAULT_CATALOG_URL: &str = "https://civitai.com/api/v1";
const NAME: &str = "Civitai's catalog";
/// Results per page.
pub const PAGE_SIZE: u32 = 20;
const MAX_QUERY: usize = 100;

/// What kind of model to search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Checkpoint,
    Lora,
}

impl ModelKind {
    fn api_type(self) -> &'static str {
        match self {
            ModelKind::Checkpoint => "Checkpoint",
            ModelKind::Lora => "LORA",
        }
    }
}

/// The order results come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    HighestRated,
    MostDownloaded,
    Newest,
}

impl Sort {
    fn api_value(self) -> &'static str {
        match self {
            Sort::HighestRated => "Highest Rated",
            Sort::MostDownloaded => "Most Downloaded",
            Sort::Newest => "Newest",
        }
    }
}

/// The base models the browser filters by, as the catalog names them.
pub const BASE_MODELS: &[&str] = &["SD 1.5", "SDXL 1.0", "Pony", "Illustrious", "Flux.1 D"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub kind: ModelKind,
    /// One of [`BASE_MODELS`], or any.
    pub base_model: Option<String>,
    pub sort: Sort,
    /// Where the previous page ended.
    pub cursor: Option<String>,
}

/// One version of a model, with what the form needs to use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogVersion {
    pub id: u64,
    pub name: String,
    pub model_name: String,
    pub base_model: String,
    /// `None` when the catalog's base model maps to no ecosystem the generator runs.
    pub air: Option<String>,
    /// A still image to show (https only).
    pub preview_url: Option<String>,
    /// Words the LoRA was trained on, to put in the prompt.
    pub trained_words: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogModel {
    pub id: u64,
    pub name: String,
    pub kind: ModelKind,
    pub creator: Option<String>,
    pub nsfw: bool,
    /// Newest first.
    pub versions: Vec<CatalogVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub models: Vec<CatalogModel>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    client: reqwest::Client,
    base: Url,
}

/// `SDXL 1.0` -> `sdxl`, the AIR ecosystem the generator runs it as.
pub fn ecosystem(base_model: &str) -> Option<&'static str> {
    let b = base_model.to_ascii_lowercase();
    Some(match b.as_str() {
        _ if b.starts_with("sd 1") => "sd1",
        _ if b.starts_with("sdxl") => "sdxl",
        _ if b.starts_with("pony") => "pony",
        _ if b.starts_with("illustrious") => "illustrious",
        _ if b.starts_with("flux.1") => "flux1",
        _ => return None,
    })
}

fn air_type(api_type: &str) -> Option<&'static str> {
    Some(match api_type {
        "Checkpoint" => "checkpoint",
        "LORA" => "lora",
        "LoCon" | "DoRA" => "lycoris",
        _ => return None,
    })
}

fn safe_image_url(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    let ok =
        parsed.scheme() == "https" || (parsed.scheme() == "http" && http::is_loopback(&parsed));
    ok.then(|| url.to_string())
}

/// One version out of the catalog's JSON (`model` is the model it belongs to).
fn version_of(
    v: &Value,
    model_id: u64,
    model_name: &str,
    api_type: &str,
) -> Option<CatalogVersion> {
    let id = v["id"].as_u64()?;
    let base_model = v["baseModel"].as_str().unwrap_or("").to_string();
    let air = v["air"]
        .as_str()
        .and_then(|a| Air::parse(a).ok())
        .map(|a| a.to_string())
        .or_else(|| {
            Some(format!(
                "urn:air:{}:{}:civitai:{model_id}@{id}",
                ecosystem(&base_model)?,
                air_type(api_type)?
            ))
        });
    let preview_url = v["images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"].as_str().is_none_or(|t| t == "image"))
        .filter_map(|i| i["url"].as_str().and_then(safe_image_url))
        .next();
    let trained_words = v["trainedWords"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(|w| w.chars().take(100).collect()))
        .take(10)
        .collect();
    Some(CatalogVersion {
        id,
        name: v["name"].as_str().unwrap_or("").chars().take(200).collect(),
        model_name: model_name.chars().take(200).collect(),
        base_model,
        air,
        preview_url,
        trained_words,
    })
}

impl Catalog {
    pub fn new(
        base_url: Option<&str>,
        timeout: Option<std::time::Duration>,
    ) -> Result<Self, String> {
        Ok(Self {
            client: http::client(timeout.unwrap_or(http::DEFAULT_TIMEOUT)),
            base: http::base_url(NAME, base_url.unwrap_or(DEFAULT_CATALOG_URL))?,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    async fn get(&self, url: Url, what: &str) -> Result<Value, ProviderError> {
        // The catalog is public: no key goes with it, so there is none to scrub.
        let nobody = Secret::new("-").expect("not empty");
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| http::network_error(NAME, &nobody, &e))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::NotFound,
                format!("{what}: not in the catalog"),
            ));
        }
        if !response.status().is_success() {
            return Err(http::Refusal::read(response, &nobody)
                .await
                .into_error(NAME, what));
        }
        http::read_json(NAME, &nobody, response, what).await
    }

    /// One version, by id.
    pub async fn version(&self, id: u64) -> Result<CatalogVersion, ProviderError> {
        let url = http::endpoint(&self.base, &["model-versions", &id.to_string()]);
        let body = self.get(url, &format!("reading version {id}")).await?;
        let model_id = body["modelId"].as_u64().unwrap_or(0);
        let model_name = body["model"]["name"].as_str().unwrap_or("");
        let api_type = body["model"]["type"].as_str().unwrap_or("Checkpoint");
        version_of(&body, model_id, model_name, api_type).ok_or_else(|| {
            ProviderError::new(
                NAME,
                ErrorKind::BadOutput,
                format!("version {id} could not be read"),
            )
        })
    }

    /// One page of models matching `query`.
    pub async fn search(&self, query: &SearchQuery) -> Result<CatalogPage, ProviderError> {
        let text: String = query.text.trim().chars().take(MAX_QUERY).collect();
        let mut url = http::endpoint(&self.base, &["models"]);
        {
            let mut pairs = url.query_pairs_mut();
            if !text.is_empty() {
                pairs.append_pair("query", &text);
            }
            pairs.append_pair("types", query.kind.api_type());
            if let Some(base) = query
                .base_model
                .as_deref()
                .filter(|b| BASE_MODELS.contains(b))
            {
                pairs.append_pair("baseModels", base);
            }
            pairs.append_pair("sort", query.sort.api_value());
            pairs.append_pair("limit", &PAGE_SIZE.to_string());
            pairs.append_pair("nsfw", "false");
            if let Some(cursor) = query.cursor.as_deref().filter(|c| c.len() <= 200) {
                pairs.append_pair("cursor", cursor);
            }
        }
        let body = self.get(url, "searching").await?;
        let models = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let id = m["id"].as_u64()?;
                let name = m["name"].as_str().unwrap_or("").to_string();
                let api_type = m["type"].as_str().unwrap_or("");
                let kind = match api_type {
                    "Checkpoint" => ModelKind::Checkpoint,
                    _ => ModelKind::Lora,
                };
                let versions = m["modelVersions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| version_of(v, id, &name, api_type))
                    .take(5)
                    .collect();
                Some(CatalogModel {
                    id,
                    name: name.chars().take(200).collect(),
                    kind,
                    creator: m["creator"]["username"].as_str().map(str::to_string),
                    nsfw: m["nsfw"].as_bool().unwrap_or(false),
                    versions,
                })
            })
            .collect();
        let next_cursor = match &body["metadata"]["nextCursor"] {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Ok(CatalogPage {
            models,
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_catalog_version_gets_an_air_and_a_still_preview() {
        let v = json!({
            "id": 128078, "name": "v1.0 VAE fix", "baseModel": "SDXL 1.0",
            "images": [
                {"url": "https://image.civitai.com/x/video.mp4", "type": "video"},
                {"url": "javascript:alert(1)", "type": "image"},
                {"url": "https://image.civitai.com/x/width=450/1.jpeg", "type": "image"}
            ],
            "trainedWords": ["sks style"]
        });
        let version = version_of(&v, 101055, "SD XL", "Checkpoint").unwrap();
        assert_eq!(
            version.air.as_deref(),
            Some("urn:air:sdxl:checkpoint:civitai:101055@128078")
        );
        assert_eq!(
            version.preview_url.as_deref(),
            Some("https://image.civitai.com/x/width=450/1.jpeg")
        );
        assert_eq!(version.trained_words, ["sks style"]);
        let odd = json!({"id": 5, "baseModel": "SVD", "images": []});
        assert_eq!(version_of(&odd, 1, "clip", "Checkpoint").unwrap().air, None);
    }
}
