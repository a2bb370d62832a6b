//! A model's parameters as form fields, and their values as the JSON a launch sends.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::components::field::{FieldError, INPUT, LABEL};
use crate::dto::{ModelDto, ParamDto, ParamKindDto};

fn default_value(param: &ParamDto) -> String {
    match &param.kind {
        ParamKindDto::Integer { default, .. } => default.to_string(),
        ParamKindDto::Float { default, .. } => default.to_string(),
        ParamKindDto::Bool { default } => default.to_string(),
        ParamKindDto::Choice { default, .. } => default.clone(),
    }
}

pub fn defaults(model: Option<&ModelDto>) -> BTreeMap<String, String> {
    model
        .map(|m| {
            m.params
                .iter()
                .map(|p| (p.name.clone(), default_value(p)))
                .collect()
        })
        .unwrap_or_default()
}

/// The form's parameter values as the JSON object the server expects (numbers as numbers).
pub fn params_json(model: Option<&ModelDto>, values: &BTreeMap<String, String>) -> String {
    let mut object = serde_json::Map::new();
    for param in model.map(|m| m.params.as_slice()).unwrap_or_default() {
        let raw = values.get(&param.name).cloned().unwrap_or_default();
        let value = match &param.kind {
            ParamKindDto::Integer { .. } => raw
                .trim()
                .parse::<i64>()
                .map(Into::into)
                .unwrap_or(raw.into()),
            ParamKindDto::Float { .. } => raw
                .trim()
                .parse::<f64>()
                .map(Into::into)
                .unwrap_or(raw.into()),
            ParamKindDto::Bool { .. } => (raw == "true").into(),
            ParamKindDto::Choice { .. } => raw.into(),
        };
        object.insert(param.name.clone(), value);
    }
    serde_json::Value::Object(object).to_string()
}

/// One model parameter as a labelled field.
#[component]
pub fn ParamField(
    param: ParamDto,
    values: RwSignal<BTreeMap<String, String>>,
    error: impl Fn() -> Option<crate::error::AppError> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = format!("param-{}", param.name);
    let error_id = format!("{id}-error");
    let name = StoredValue::new(param.name.clone());
    let value = move || values.with(|v| v.get(&name.get_value()).cloned().unwrap_or_default());
    let set = move |v: String| {
        values.update(|m| {
            m.insert(name.get_value(), v);
        })
    };
    let message = Signal::derive(move || {
        error().and_then(|e| e.for_field(&format!("params.{}", name.get_value())))
    });
    let input = match param.kind.clone() {
        ParamKindDto::Integer { min, max, step, .. } => view! {
            <input id=id.clone() type="number" min=min max=max step=step class=INPUT prop:value=value
                on:input=move |ev| set(event_target_value(&ev))
                aria-invalid=move || message.get().is_some().to_string() aria-describedby=error_id.clone() />
        }
        .into_any(),
        ParamKindDto::Float { min, max, .. } => view! {
            <input id=id.clone() type="number" min=min max=max step="any" class=INPUT prop:value=value
                on:input=move |ev| set(event_target_value(&ev))
                aria-invalid=move || message.get().is_some().to_string() aria-describedby=error_id.clone() />
        }
        .into_any(),
        ParamKindDto::Bool { .. } => view! {
            <input id=id.clone() type="checkbox" class="mt-2 h-4 w-4" prop:checked=move || value() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string()) aria-describedby=error_id.clone() />
        }
        .into_any(),
        ParamKindDto::Choice { values: choices, .. } => view! {
            <select id=id.clone() class=INPUT prop:value=value on:change=move |ev| set(event_target_value(&ev)) aria-describedby=error_id.clone()>
                {choices.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any(),
    };
    view! {
        <div title=param.description.clone()>
            <label for=id class=LABEL>{param.label.clone()}</label>
            {input}
            <FieldError id=error_id.clone() error=message />
        </div>
    }
}
