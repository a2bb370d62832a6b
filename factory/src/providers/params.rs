//! Model parameters: a schema each model declares, which the UI renders as a form and which
//! checks input before anything is queued.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One parameter of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// The key in the provider's input (`num_inference_steps`).
    pub name: String,
    /// What a person reads (`Steps`).
    pub label: String,
    pub description: String,
    pub kind: ParamKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKind {
    Integer {
        default: i64,
        min: i64,
        max: i64,
        /// Values must be a multiple of this (image sides often must be multiples of 8).
        step: i64,
    },
    Float {
        default: f64,
        min: f64,
        max: f64,
    },
    Bool {
        default: bool,
    },
    Choice {
        default: String,
        values: Vec<String>,
    },
}

impl ParamSpec {
    pub fn integer(
        name: &str,
        label: &str,
        description: &str,
        default: i64,
        min: i64,
        max: i64,
        step: i64,
    ) -> Self {
        Self::new(
            name,
            label,
            description,
            ParamKind::Integer {
                default,
                min,
                max,
                step,
            },
        )
    }

    pub fn float(
        name: &str,
        label: &str,
        description: &str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Self {
        Self::new(
            name,
            label,
            description,
            ParamKind::Float { default, min, max },
        )
    }

    pub fn boolean(name: &str, label: &str, description: &str, default: bool) -> Self {
        Self::new(name, label, description, ParamKind::Bool { default })
    }

    pub fn choice(
        name: &str,
        label: &str,
        description: &str,
        default: &str,
        values: &[&str],
    ) -> Self {
        let values = values.iter().map(|v| v.to_string()).collect();
        Self::new(
            name,
            label,
            description,
            ParamKind::Choice {
                default: default.into(),
                values,
            },
        )
    }

    fn new(name: &str, label: &str, description: &str, kind: ParamKind) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            description: description.into(),
            kind,
        }
    }

    pub fn default_value(&self) -> Value {
        match &self.kind {
            ParamKind::Integer { default, .. } => Value::from(*default),
            ParamKind::Float { default, .. } => Value::from(*default),
            ParamKind::Bool { default } => Value::from(*default),
            ParamKind::Choice { default, .. } => Value::from(default.clone()),
        }
    }

    /// Checks one value; the error says what is allowed.
    fn check(&self, value: &Value) -> Result<Value, String> {
        match &self.kind {
            ParamKind::Integer { min, max, step, .. } => {
                let n = as_integer(value)
                    .ok_or_else(|| format!("{} must be a whole number.", self.label))?;
                if n < *min || n > *max {
                    return Err(format!(
                        "{} must be between {min} and {max}; got {n}.",
                        self.label
                    ));
                }
                if *step > 1 && n % step != 0 {
                    return Err(format!(
                        "{} must be a multiple of {step}; got {n}.",
                        self.label
                    ));
                }
                Ok(Value::from(n))
            }
            ParamKind::Float { min, max, .. } => {
                let x =
                    as_float(value).ok_or_else(|| format!("{} must be a number.", self.label))?;
                if !x.is_finite() || x < *min || x > *max {
                    return Err(format!(
                        "{} must be between {min} and {max}; got {x}.",
                        self.label
                    ));
                }
                Ok(Value::from(x))
            }
            ParamKind::Bool { .. } => match value {
                Value::Bool(b) => Ok(Value::from(*b)),
                Value::String(s) if s == "true" || s == "false" => Ok(Value::from(s == "true")),
                _ => Err(format!("{} must be true or false.", self.label)),
            },
            ParamKind::Choice { values, .. } => {
                let s = value.as_str().ok_or_else(|| {
                    format!("{} must be one of: {}.", self.label, values.join(", "))
                })?;
                if values.iter().any(|v| v == s) {
                    Ok(Value::from(s))
                } else {
                    Err(format!(
                        "{} must be one of: {}; got “{s}”.",
                        self.label,
                        values.join(", ")
                    ))
                }
            }
        }
    }
}

/// Form inputs arrive as strings; JSON clients send numbers. Both are accepted.
fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_float(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A problem with one parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    pub field: String,
    pub message: String,
}

/// Checks `given` against `specs`: unknown names and bad values are errors (all of them, so a
/// form can mark every wrong field at once); missing ones get their defaults. Returns the full,
/// normalised parameter set.
pub fn validate(
    specs: &[ParamSpec],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<ParamError>> {
    let mut errors = Vec::new();
    for name in given.keys() {
        if !specs.iter().any(|s| &s.name == name) {
            let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            errors.push(ParamError {
                field: name.clone(),
                message: format!(
                    "This model has no parameter “{name}” (it has: {}).",
                    known.join(", ")
                ),
            });
        }
    }
    let mut resolved = Map::new();
    for spec in specs {
        match given.get(&spec.name) {
            None | Some(Value::Null) => {
                resolved.insert(spec.name.clone(), spec.default_value());
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                resolved.insert(spec.name.clone(), spec.default_value());
            }
            Some(value) => match spec.check(value) {
                Ok(v) => {
                    resolved.insert(spec.name.clone(), v);
                }
                Err(message) => errors.push(ParamError {
                    field: spec.name.clone(),
                    message,
                }),
            },
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn specs() -> Vec<ParamSpec> {
        vec![
            ParamSpec::integer("width", "Width", "", 512, 64, 2048, 8),
            ParamSpec::float("strength", "Strength", "", 0.5, 0.0, 1.0),
            ParamSpec::boolean("tiled", "Tiled", "", false),
            ParamSpec::choice("style", "Style", "", "aurora", &["aurora", "waves"]),
        ]
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn missing_parameters_get_defaults_and_form_strings_are_converted() {
        let out = validate(&specs(), &map(json!({"width": "1024", "tiled": "true"}))).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"width": 1024, "strength": 0.5, "tiled": true, "style": "aurora"})
        );
    }

    #[test]
    fn every_bad_field_is_reported_with_what_is_allowed() {
        let errors = validate(
            &specs(),
            &map(json!({"width": 2050, "strength": "lots", "style": "cubist", "colour": 1})),
        )
        .unwrap_err();
        let by_field = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .unwrap()
                .message
                .clone()
        };
        assert_eq!(
            by_field("width"),
            "Width must be between 64 and 2048; got 2050."
        );
        assert_eq!(by_field("strength"), "Strength must be a number.");
        assert_eq!(
            by_field("style"),
            "Style must be one of: aurora, waves; got “cubist”."
        );
        assert!(by_field("colour").contains("no parameter “colour”"));
        assert_eq!(errors.len(), 4);
    }

    #[test]
    fn integers_must_respect_their_step() {
        let errors = validate(&specs(), &map(json!({"width": 1001}))).unwrap_err();
        assert_eq!(
            errors[0].message,
            "Width must be a multiple of 8; got 1001."
        );
    }
}
