//! The two small languages of a manifest: `{{name}}` placeholders in the request body and
//! paths, and JSON paths (`output[*].url`, `data[0].b64_json`) that say where an answer keeps
//! a value.

use serde_json::{Map, Value};

/// The names of the `{{name}}` placeholders in `text`, in order.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        names.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    names
}

/// Calls `f` on every string in `value`.
pub fn walk_strings(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| walk_strings(v, f)),
        Value::Object(map) => map.values().for_each(|v| walk_strings(v, f)),
        _ => {}
    }
}

/// A value as it reads inside a longer string.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Replaces the placeholders of `text`. A string that is exactly one placeholder becomes the
/// value itself (a number stays a number); inside a longer string a value is written as text.
/// A placeholder `vars` lacks (an optional parameter left out) is dropped as null.
fn fill_string(text: &str, vars: &Map<String, Value>) -> Value {
    let names = placeholders(text);
    if let [only] = names.as_slice() {
        if text.trim() == format!("{{{{{only}}}}}") {
            return vars.get(only).cloned().unwrap_or(Value::Null);
        }
    }
    let mut out = text.to_string();
    for name in names {
        let value = vars.get(&name).map(as_text).unwrap_or_default();
        out = out.replacen(&format!("{{{{{name}}}}}"), &value, 1);
    }
    Value::String(out)
}

/// The body template with its placeholders filled. Values are put in as JSON values, never
/// spliced into JSON text, so a prompt cannot change the body's shape.
pub fn fill(template: &Value, vars: &Map<String, Value>) -> Value {
    match template {
        Value::String(s) => fill_string(s, vars),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, vars)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, vars)))
                .filter(|(_, v)| !v.is_null())
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A request path's segments, with `{{request_id}}` filled in (each segment is encoded when
/// the URL is made, so an id cannot add segments).
pub fn fill_path(path: &str, request_id: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("{{request_id}}", request_id))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Every,
}

/// Where in a JSON answer a value is: keys separated by dots, each optionally followed by
/// `[n]` (one element) or `[*]` (every element).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
    text: String,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        if text.trim().is_empty() {
            return Err("a path cannot be empty".into());
        }
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !key.is_empty() {
                if !key
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!(
                        "“{key}” is not a key; use letters, digits, “_” and “-”"
                    ));
                }
                steps.push(Step::Key(key.to_string()));
            } else if rest.is_empty() {
                return Err("a path has an empty part (two dots, or a dot at an end)".into());
            }
            while !rest.is_empty() {
                let close = rest
                    .find(']')
                    .ok_or_else(|| "a “[” is not closed".to_string())?;
                let inside = &rest[1..close];
                steps.push(match inside {
                    "*" => Step::Every,
                    n => Step::Index(
                        n.parse()
                            .map_err(|_| format!("“[{n}]” is neither an index nor [*]"))?,
                    ),
                });
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(format!("“{rest}” follows a “]”; separate keys with dots"));
                }
            }
        }
        Ok(Self {
            steps,
            text: text.to_string(),
        })
    }

    /// Every value the path reaches.
    pub fn all<'a>(&self, value: &'a Value) -> Vec<&'a Value> {
        let mut at = vec![value];
        for step in &self.steps {
            at = at
                .into_iter()
                .flat_map(|v| -> Vec<&Value> {
                    match step {
                        Step::Key(k) => v.get(k).into_iter().collect(),
                        Step::Index(i) => v.get(*i).into_iter().collect(),
                        Step::Every => v.as_array().map(|a| a.iter().collect()).unwrap_or_default(),
                    }
                })
                .collect();
        }
        at
    }

    pub fn first<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        self.all(value).into_iter().next()
    }

    /// The first value as text (a number's digits), when there is one.
    pub fn text_in(&self, value: &Value) -> Option<String> {
        match self.first(value)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
