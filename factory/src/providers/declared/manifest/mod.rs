//! A declarative provider's manifest (`<data dir>/providers/<name>.toml`): where the API is,
//! how to authenticate, what to send, and where the answers keep the request id, the status and
//! the pictures. Read and checked as a whole; every problem names the manifest's line.
//!
//! ```toml
//! id = "acme"
//! name = "Acme Images"
//! base_url = "https://api.acme.example"
//! file_hosts = ["cdn.acme.example"]
//!
//! [auth]
//! header = "Authorization"
//! prefix = "Bearer "
//! key_env = "ACME_API_KEY"
//!
//! [submit]
//! path = "/v1/generations"
//! request_id = "id"
//! [submit.body]
//! model = "{{model}}"
//! prompt = "{{prompt}}"
//! seed = "{{seed}}"
//! size = "{{width}}x{{height}}"
//!
//! [status]
//! path = "/v1/generations/{{request_id}}"
//! state = "status"
//! succeeded = ["succeeded"]
//! failed = ["failed"]
//! error = "error.message"
//! progress = "progress"
//!
//! [result]
//! images = "output[*].url"
//! encoding = "url"
//!
//! [[models]]
//! id = "acme-2"
//! name = "Acme 2"
//!
//! [[params]]
//! name = "width"
//! type = "integer"
//! default = 1024
//! min = 256
//! max = 2048
//! step = 64
//! ```

mod check;

use serde::Deserialize;
use toml::Spanned;

pub use check::{check, key_env_line, Checked, CheckedStatus};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub base_url: Spanned<String>,
    /// Hosts (and their subdomains) pictures may be downloaded from besides the API's.
    #[serde(default)]
    pub file_hosts: Vec<String>,
    pub auth: Option<Auth>,
    pub submit: Submit,
    pub status: Option<Status>,
    pub cancel: Option<Cancel>,
    pub result: ResultSpec,
    pub models: Vec<Model>,
    #[serde(default)]
    pub params: Vec<Param>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub header: String,
    #[serde(default)]
    pub prefix: String,
    /// The environment variable holding the key; the key itself never goes in a manifest.
    pub key_env: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Post,
    Put,
    Get,
    Delete,
}

fn post() -> Method {
    Method::Post
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submit {
    #[serde(default = "post")]
    pub method: Method,
    pub path: Spanned<String>,
    /// Where the answer holds the request id; without it the answer holds the pictures.
    pub request_id: Option<Spanned<String>>,
    pub body: Spanned<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub path: Spanned<String>,
    pub state: Spanned<String>,
    pub succeeded: Vec<String>,
    pub failed: Vec<String>,
    #[serde(default)]
    pub canceled: Vec<String>,
    #[serde(default)]
    pub queued: Vec<String>,
    pub error: Option<Spanned<String>>,
    pub progress: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    #[serde(default = "post")]
    pub method: Method,
    pub path: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Url,
    Base64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    pub images: Spanned<String>,
    pub encoding: Encoding,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub negative_prompt: bool,
    /// Whether the model takes an input picture (sent where the body says `{{image}}`).
    #[serde(default)]
    pub image_input: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    Integer,
    Float,
    Bool,
    Choice,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: Spanned<String>,
    pub label: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub default: Spanned<toml::Value>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub step: Option<i64>,
    #[serde(default)]
    pub values: Vec<String>,
}

/// A manifest that cannot be used: its line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ManifestError {
    pub line: usize,
    pub message: String,
}

/// The line (from 1) a byte offset falls on.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
