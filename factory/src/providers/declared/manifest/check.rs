//! Checking a manifest through, with the line of every problem, into what the provider needs.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::{line_of, Encoding, Manifest, ManifestError, Method, Param, ParamType};
use crate::providers::declared::template::{placeholders, JsonPath};
use crate::providers::{a1111, civitai, comfyui, fal, local, replicate};
use crate::providers::{Capability, ModelInfo, ParamKind, ParamSpec};

/// The ids of the providers built in, which a manifest may not take.
const BUILT_IN: [&str; 6] = [
    local::ID,
    fal::ID,
    replicate::ID,
    civitai::ID,
    a1111::ID,
    comfyui::ID,
];

/// A manifest checked through: everything the provider needs, resolved.
#[derive(Debug, Clone)]
pub struct Checked {
    pub id: String,
    pub name: String,
    pub description: String,
    pub base_url: reqwest::Url,
    pub file_hosts: Vec<String>,
    /// (header, prefix, environment variable).
    pub auth: Option<(String, String, String)>,
    pub submit_method: Method,
    pub submit_path: String,
    pub request_id: Option<JsonPath>,
    pub body: serde_json::Value,
    pub status: Option<CheckedStatus>,
    pub cancel: Option<(Method, String)>,
    pub images: JsonPath,
    pub encoding: Encoding,
    pub models: Vec<ModelInfo>,
}

#[derive(Debug, Clone)]
pub struct CheckedStatus {
    pub path: String,
    pub state: JsonPath,
    pub succeeded: Vec<String>,
    pub failed: Vec<String>,
    pub canceled: Vec<String>,
    pub queued: Vec<String>,
    pub error: Option<JsonPath>,
    pub progress: Option<JsonPath>,
}

struct Checker<'a> {
    text: &'a str,
}

impl Checker<'_> {
    fn at(&self, span: Range<usize>, message: impl Into<String>) -> ManifestError {
        ManifestError {
            line: line_of(self.text, span.start),
            message: message.into(),
        }
    }

    /// The line of the first occurrence of `needle`, or of `span`'s start.
    fn at_text(&self, needle: &str, span: Range<usize>, message: String) -> ManifestError {
        let from = span.start.min(self.text.len());
        let offset = self.text[from..]
            .find(needle)
            .map(|o| o + from)
            .or_else(|| self.text.find(needle))
            .unwrap_or(from);
        self.at(offset..offset, message)
    }

    fn path(&self, spanned: &Spanned<String>, what: &str) -> Result<JsonPath, ManifestError> {
        JsonPath::parse(spanned.get_ref()).map_err(|e| {
            self.at(
                spanned.span(),
                format!("{what} “{}”: {e}", spanned.get_ref()),
            )
        })
    }

    /// A request path: starts with `/`, and names only placeholders in `allowed`.
    fn request_path(
        &self,
        spanned: &Spanned<String>,
        what: &str,
        allowed: &[&str],
    ) -> Result<String, ManifestError> {
        let path = spanned.get_ref();
        if !path.starts_with('/') {
            return Err(self.at(spanned.span(), format!("{what} must start with “/”")));
        }
        for name in placeholders(path) {
            if !allowed.contains(&name.as_str()) {
                return Err(self.at(
                    spanned.span(),
                    format!(
                        "{what} names {{{{{name}}}}}; a path may name only {}",
                        allowed
                            .iter()
                            .map(|a| format!("{{{{{a}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(path.clone())
    }
}

fn number_in(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

impl Param {
    fn spec(&self, c: &Checker<'_>) -> Result<ParamSpec, ManifestError> {
        let name = self.name.get_ref();
        let default = self.default.get_ref();
        let wrong = |want: &str| {
            c.at(
                self.default.span(),
                format!("parameter “{name}”: the default must be {want}"),
            )
        };
        let kind = match self.kind {
            ParamType::Integer => {
                let toml::Value::Integer(d) = default else {
                    return Err(wrong("a whole number"));
                };
                let min = self.min.map_or(i64::MIN / 2, |m| m as i64);
                let max = self.max.map_or(i64::MAX / 2, |m| m as i64);
                ParamKind::Integer {
                    default: *d,
                    min,
                    max,
                    step: self.step.unwrap_or(1).max(1),
                }
            }
            ParamType::Float => ParamKind::Float {
                default: number_in(default).ok_or_else(|| wrong("a number"))?,
                min: self.min.unwrap_or(-1e9),
                max: self.max.unwrap_or(1e9),
            },
            ParamType::Bool => ParamKind::Bool {
                default: default.as_bool().ok_or_else(|| wrong("true or false"))?,
            },
            ParamType::Choice => {
                let d = default.as_str().ok_or_else(|| wrong("one of its values"))?;
                if !self.values.iter().any(|v| v == d) {
                    return Err(wrong("one of its values"));
                }
                ParamKind::Choice {
                    default: d.to_string(),
                    values: self.values.clone(),
                }
            }
        };
        let spec = ParamSpec {
            name: name.clone(),
            label: self.label.clone().unwrap_or_else(|| name.clone()),
            description: self.description.clone(),
            kind,
        };
        // The default itself must pass the parameter's own checks.
        let given = serde_json::Map::from_iter([(name.clone(), spec.default_value())]);
        crate::providers::params::validate(std::slice::from_ref(&spec), &given).map_err(|e| {
            let why = e.first().map_or("it is not valid", |e| e.message.as_str());
            c.at(self.default.span(), format!("parameter “{name}”: {why}"))
        })?;
        Ok(spec)
    }
}

/// Reads and checks a manifest. `file` names it in nothing here; callers add it.
pub fn check(text: &str) -> Result<Checked, ManifestError> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError {
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let c = Checker { text };
    let id = manifest.id.get_ref();
    let plain = !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    if !plain {
        return Err(c.at(
            manifest.id.span(),
            "the id must be 1 to 40 lower-case letters, digits and “-”",
        ));
    }
    if BUILT_IN.contains(&id.as_str()) {
        return Err(c.at(
            manifest.id.span(),
            format!("the id “{id}” is a built-in provider's; choose another"),
        ));
    }
    let base_url = crate::providers::http::base_url(&manifest.name, manifest.base_url.get_ref())
        .map_err(|e| c.at(manifest.base_url.span(), e))?;

    let mut params = Vec::new();
    for param in &manifest.params {
        let name = param.name.get_ref();
        let reserved = [
            "model",
            "prompt",
            "negative_prompt",
            "seed",
            "image",
            "request_id",
        ];
        if reserved.contains(&name.as_str()) || params.iter().any(|p: &ParamSpec| &p.name == name) {
            return Err(c.at(
                param.name.span(),
                format!("“{name}” is taken (by the request itself, or an earlier parameter)"),
            ));
        }
        params.push(param.spec(&c)?);
    }
    if manifest.models.is_empty() {
        return Err(c.at(0..0, "list at least one model under [[models]]"));
    }
    let mut models = Vec::new();
    for model in &manifest.models {
        if models
            .iter()
            .any(|m: &ModelInfo| m.id == *model.id.get_ref())
        {
            return Err(c.at(
                model.id.span(),
                format!("a second model “{}”", model.id.get_ref()),
            ));
        }
        models.push(ModelInfo {
            id: model.id.get_ref().clone(),
            name: model.name.clone(),
            description: model.description.clone(),
            capability: if model.image_input {
                Capability::ImageToImage
            } else {
                Capability::TextToImage
            },
            negative_prompt: model.negative_prompt,
            image_input: model.image_input.then(|| "image".to_string()),
            image_strength: None,
            networks: false,
            inputs: Default::default(),
            params: params.clone(),
        });
    }

    // The body: every placeholder must be one the request fills.
    let mut known: BTreeMap<&str, ()> = ["model", "prompt", "negative_prompt", "seed", "image"]
        .into_iter()
        .map(|k| (k, ()))
        .collect();
    for p in &params {
        known.insert(&p.name, ());
    }
    let body = serde_json::to_value(manifest.submit.body.get_ref())
        .map_err(|e| c.at(manifest.submit.body.span(), e.to_string()))?;
    let mut unknown = None;
    crate::providers::declared::template::walk_strings(&body, &mut |s: &str| {
        for name in placeholders(s) {
            if unknown.is_none() && !known.contains_key(name.as_str()) {
                unknown = Some(name);
            }
        }
    });
    if let Some(name) = unknown {
        return Err(c.at_text(
            &format!("{{{{{name}}}}}"),
            manifest.submit.body.span(),
            format!(
                "the body names {{{{{name}}}}}, which is neither a parameter nor one of \
                 {{{{model}}}}, {{{{prompt}}}}, {{{{negative_prompt}}}}, {{{{seed}}}}, {{{{image}}}}"
            ),
        ));
    }

    let submit_path = c.request_path(&manifest.submit.path, "the submit path", &[])?;
    let request_id = manifest
        .submit
        .request_id
        .as_ref()
        .map(|p| c.path(p, "request_id"))
        .transpose()?;
    let status =
        match (&manifest.status, &manifest.submit.request_id) {
            (Some(s), Some(_)) => Some(CheckedStatus {
                path: c.request_path(&s.path, "the status path", &["request_id"])?,
                state: c.path(&s.state, "state")?,
                succeeded: s.succeeded.clone(),
                failed: s.failed.clone(),
                canceled: s.canceled.clone(),
                queued: s.queued.clone(),
                error: s.error.as_ref().map(|p| c.path(p, "error")).transpose()?,
                progress: s
                    .progress
                    .as_ref()
                    .map(|p| c.path(p, "progress"))
                    .transpose()?,
            }),
            (None, Some(p)) => return Err(c.at(
                p.span(),
                "with a request_id the API answers later: add a [status] table saying where to ask",
            )),
            (Some(s), None) => return Err(c.at(
                s.path.span(),
                "a [status] needs the submit's request_id (where the first answer holds the id)",
            )),
            (None, None) => None,
        };
    let cancel = manifest
        .cancel
        .as_ref()
        .map(|k| {
            Ok((
                k.method,
                c.request_path(&k.path, "the cancel path", &["request_id"])?,
            ))
        })
        .transpose()?;
    let auth = manifest.auth.as_ref().map(|a| {
        (
            a.header.clone(),
            a.prefix.clone(),
            a.key_env.get_ref().clone(),
        )
    });
    Ok(Checked {
        id: id.clone(),
        name: manifest.name.clone(),
        description: manifest.description.clone(),
        base_url,
        file_hosts: manifest.file_hosts.clone(),
        auth,
        submit_method: manifest.submit.method,
        submit_path,
        request_id,
        body,
        status,
        cancel,
        images: c.path(&manifest.result.images, "images")?,
        encoding: manifest.result.encoding,
        models,
    })
}

/// The line of the `key_env` entry, for a missing key.
pub fn key_env_line(text: &str) -> usize {
    text.find("key_env").map_or(1, |o| line_of(text, o))
}
