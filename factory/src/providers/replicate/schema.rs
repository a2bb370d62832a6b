//! A Replicate model's published input schema, turned into the parameter schema the Generate
//! form renders.
//!
//! Every Cog model publishes an OpenAPI document with its version; the input is
//! `components.schemas.Input`, one property per input, ordered by `x-order`. A property is an
//! integer, number or boolean with its default and bounds, a string (free text, or an enum given
//! inline or through `allOf: [{$ref: "#/components/schemas/<name>"}]`), or a file (`format:
//! uri`). `prompt`, `seed` and `num_outputs` are filled by the app itself, `negative_prompt`
//! becomes the form's negative prompt, and an image input makes the model image-to-image.
//! Optional inputs the form cannot offer (free text, lists) keep the model's own default and
//! are named in the model's description; a required one makes the model unusable here, and the
//! error says which field.

use serde_json::{Map, Value};

use crate::providers::{Capability, ModelInfo, ParamKind, ParamSpec};

/// Inputs the app fills itself.
const FILLED: &[&str] = &["prompt", "seed", "num_outputs"];
/// Names an image input goes by.
const IMAGE_INPUTS: &[&str] = &["image", "input_image", "init_image", "image_prompt"];
/// Names the strength of an image-to-image generation goes by.
const STRENGTHS: &[&str] = &["prompt_strength", "strength", "image_strength"];
/// The most parameters a model may bring into the form.
const MAX_PARAMS: usize = 64;
const MAX_DESCRIPTION: usize = 400;
/// Bounds for numbers the schema leaves open.
const OPEN_INT: (i64, i64) = (-2_147_483_648, 2_147_483_647);
const OPEN_FLOAT: (f64, f64) = (-1e9, 1e9);

/// A field the form cannot offer and the model cannot do without.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{model} cannot be used here: {reason}")]
pub struct SchemaError {
    pub model: String,
    pub reason: String,
}

/// What the model's version says about itself, besides its inputs.
pub struct Published<'a> {
    /// `owner/name:version`, the id jobs are sent with.
    pub id: String,
    pub name: String,
    pub description: &'a str,
    pub openapi_schema: &'a Value,
}

pub fn model_info(published: Published<'_>) -> Result<ModelInfo, SchemaError> {
    let fail = |reason: String| SchemaError {
        model: published.name.clone(),
        reason,
    };
    let schemas = &published.openapi_schema["components"]["schemas"];
    let input = &schemas["Input"];
    let properties = input["properties"]
        .as_object()
        .ok_or_else(|| fail("its published schema has no Input properties".into()))?;
    let required: Vec<&str> = input["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !properties.contains_key("prompt") {
        return Err(fail(
            "it takes no `prompt` input, and the form needs one".into(),
        ));
    }
    let mut ordered: Vec<(&String, &Value)> = properties.iter().collect();
    ordered.sort_by_key(|(name, p)| (p["x-order"].as_i64().unwrap_or(i64::MAX), name.to_string()));

    let mut params = Vec::new();
    let mut negative_prompt = false;
    let mut image_input = None;
    let mut image_required = false;
    let mut left_default = Vec::new();
    for (name, property) in ordered {
        if FILLED.contains(&name.as_str()) {
            continue;
        }
        let is_required = required.contains(&name.as_str());
        let resolved = resolve(property, schemas);
        let text = |key: &str| resolved.get(key).and_then(Value::as_str);
        if name == "negative_prompt" && text("type") == Some("string") {
            negative_prompt = true;
            continue;
        }
        if text("format") == Some("uri") && IMAGE_INPUTS.contains(&name.as_str()) {
            image_input = Some(name.clone());
            image_required = is_required;
            continue;
        }
        match param(name, &resolved) {
            Ok(spec) => params.push(spec),
            Err(why) if is_required => {
                return Err(fail(format!("its required input `{name}` {why}")));
            }
            Err(_) => left_default.push(name.clone()),
        }
    }
    if params.len() > MAX_PARAMS {
        return Err(fail(format!(
            "it has {} inputs; the form offers at most {MAX_PARAMS}",
            params.len()
        )));
    }
    let mut description: String = published
        .description
        .chars()
        .take(MAX_DESCRIPTION)
        .collect();
    if !left_default.is_empty() {
        description.push_str(&format!(
            " (Left at the model's defaults, which the form cannot set: {}.)",
            left_default.join(", ")
        ));
    }
    Ok(ModelInfo {
        id: published.id,
        name: published.name,
        description: description.trim().to_string(),
        capability: if image_required {
            Capability::ImageToImage
        } else {
            Capability::TextToImage
        },
        negative_prompt,
        image_strength: image_input.as_ref().and_then(|_| {
            params
                .iter()
                .map(|p| p.name.clone())
                .find(|n| STRENGTHS.contains(&n.as_str()))
        }),
        image_input,
        networks: false,
        inputs: Default::default(),
        params,
    })
}

/// The property with an `allOf`/`$ref` enum folded in (Cog's way of naming enums).
fn resolve(property: &Value, schemas: &Value) -> Map<String, Value> {
    let mut merged = property.as_object().cloned().unwrap_or_default();
    let refs = property["allOf"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(property.get("$ref").map(|_| property));
    for part in refs {
        let Some(name) = part["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            continue;
        };
        // The enum's own title and description ("An enumeration.") say less than the input's.
        let target = schemas[name].as_object().into_iter().flatten();
        for (k, v) in target.filter(|(k, _)| *k != "title" && *k != "description") {
            merged.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    merged
}

/// One input as a form parameter, or why it cannot be one.
fn param(name: &str, p: &Map<String, Value>) -> Result<ParamSpec, String> {
    let label = p
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let words = name.replace('_', " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        });
    let description: String = p
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(MAX_DESCRIPTION)
        .collect();
    let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
    let number = |key: &str| p.get(key).and_then(Value::as_f64);
    let kind = match (kind, p.get("enum").and_then(Value::as_array)) {
        ("string", Some(values)) => {
            let values: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if values.is_empty() {
                return Err("is an empty list of choices".into());
            }
            let default = p
                .get("default")
                .and_then(Value::as_str)
                .filter(|d| values.iter().any(|v| v == d))
                .map(str::to_string)
                .unwrap_or_else(|| values[0].clone());
            ParamKind::Choice { default, values }
        }
        ("integer", Some(values)) => {
            let mut values: Vec<i64> = values.iter().filter_map(Value::as_i64).collect();
            values.sort_unstable();
            values.dedup();
            let (Some(&min), Some(&max)) = (values.first(), values.last()) else {
                return Err("is an empty list of choices".into());
            };
            let step = if values.len() > 1 {
                values[1] - values[0]
            } else {
                1
            };
            let progression =
                values.windows(2).all(|w| w[1] - w[0] == step) && (step == 1 || min % step == 0);
            if !progression {
                return Err(format!(
                    "is a choice of whole numbers ({values:?}) the form cannot offer exactly"
                ));
            }
            let default = p.get("default").and_then(Value::as_i64).unwrap_or(min);
            ParamKind::Integer {
                default,
                min,
                max,
                step: step.max(1),
            }
        }
        ("integer", None) => {
            let min = number("minimum").map_or(OPEN_INT.0, |v| v.ceil() as i64);
            let max = number("maximum").map_or(OPEN_INT.1, |v| v.floor() as i64);
            if min > max {
                return Err(format!("has no whole number between {min} and {max}"));
            }
            let default = p
                .get("default")
                .and_then(Value::as_i64)
                .unwrap_or(min.max(0).min(max));
            ParamKind::Integer {
                default: default.clamp(min, max),
                min,
                max,
                step: p
                    .get("multipleOf")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
                    .max(1),
            }
        }
        ("number", _) => {
            let min = number("minimum").unwrap_or(OPEN_FLOAT.0);
            let max = number("maximum").unwrap_or(OPEN_FLOAT.1);
            if min > max {
                return Err(format!("has no number between {min} and {max}"));
            }
            let default = number("default").unwrap_or(min.max(0.0).min(max));
            ParamKind::Float {
                default: default.clamp(min, max),
                min,
                max,
            }
        }
        ("boolean", _) => ParamKind::Bool {
            default: p.get("default").and_then(Value::as_bool).unwrap_or(false),
        },
        ("string", None) if p.get("format").and_then(Value::as_str) == Some("uri") => {
            return Err("is a file, which the form cannot send yet".into())
        }
        ("string", None) => return Err("is free text, which the form cannot set".into()),
        ("", _) => return Err("has no type".into()),
        (other, _) => return Err(format!("is of type `{other}`, which the form cannot set")),
    };
    Ok(ParamSpec {
        name: name.to_string(),
        label,
        description,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of a real Cog schema (stability-ai/sdxl's, shortened); the stand-in serves
    /// the same file.
    pub(crate) fn sdxl_schema() -> Value {
        serde_json::from_str(include_str!(
            "../../testing/fixtures/replicate-sdxl-openapi.json"
        ))
        .unwrap()
    }

    fn published(schema: &Value) -> Published<'_> {
        Published {
            id: "stability-ai/sdxl:7762fd07".into(),
            name: "stability-ai/sdxl".into(),
            description: "A text-to-image generative AI model",
            openapi_schema: schema,
        }
    }

    #[test]
    fn a_cog_schema_becomes_typed_parameters_in_the_models_order() {
        let schema = sdxl_schema();
        let info = model_info(published(&schema)).unwrap();
        let names: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "width",
                "height",
                "scheduler",
                "num_inference_steps",
                "guidance_scale",
                "prompt_strength",
                "refine",
                "apply_watermark",
                "lora_scale",
                "disable_safety_checker"
            ]
        );
        assert!(info.negative_prompt);
        assert_eq!(info.image_input.as_deref(), Some("image"));
        assert_eq!(info.image_strength.as_deref(), Some("prompt_strength"));
        assert_eq!(
            info.capability,
            Capability::TextToImage,
            "the image is optional"
        );
        let scheduler = &info.params[2];
        assert_eq!(scheduler.description, "scheduler");
        match &scheduler.kind {
            ParamKind::Choice { default, values } => {
                assert_eq!(default, "K_EULER");
                assert_eq!(values.len(), 7);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            info.params[4].kind,
            ParamKind::Float {
                default: 7.5,
                min: 1.0,
                max: 50.0
            }
        );
        assert_eq!(info.params[3].label, "Num Inference Steps");
        assert!(
            info.description.contains("replicate_weights"),
            "an optional free-text input is named as left at its default: {}",
            info.description
        );
    }

    #[test]
    fn a_required_input_the_form_cannot_offer_names_its_field() {
        let mut schema = sdxl_schema();
        schema["components"]["schemas"]["Input"]["required"] =
            json!(["prompt", "replicate_weights"]);
        let error = model_info(published(&schema)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`replicate_weights` is free text"),
            "{error}"
        );
        let no_prompt = json!({"components": {"schemas": {"Input": {"properties": {"text": {"type": "string"}}}}}});
        let error = model_info(published(&no_prompt)).unwrap_err();
        assert!(error.to_string().contains("no `prompt`"), "{error}");
        let error = model_info(published(&json!({}))).unwrap_err();
        assert!(error.to_string().contains("no Input properties"), "{error}");
    }

    #[test]
    fn whole_number_choices_map_when_evenly_spaced_and_are_named_when_not() {
        let choice = |values: Value| {
            let p = json!({"type": "integer", "enum": values, "default": 768});
            param("width", p.as_object().unwrap())
        };
        assert_eq!(
            choice(json!([512, 768, 1024])).unwrap().kind,
            ParamKind::Integer {
                default: 768,
                min: 512,
                max: 1024,
                step: 256
            }
        );
        assert!(choice(json!([1, 2, 4])).unwrap_err().contains("[1, 2, 4]"));
    }
}
