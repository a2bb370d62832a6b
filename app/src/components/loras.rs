//! The LoRAs added to a launch, each with its strength.

use leptos::prelude::*;

use crate::components::button;
use crate::components::field::{FieldError, INPUT};
use crate::dto::{NetworkDto, PickDto};
use crate::error::AppError;

/// A LoRA in the form: what it is called, and what is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraEntry {
    pub name: String,
    pub network: NetworkDto,
    /// What the strength field holds (may not parse yet).
    pub strength_text: String,
}

/// Adds a LoRA picked in the browser at a usual strength (once); its trigger words join the
/// prompt when they are not in it yet.
pub fn add_lora(loras: RwSignal<Vec<LoraEntry>>, prompt: RwSignal<String>, pick: PickDto) {
    if loras.with_untracked(|l| l.iter().any(|e| e.network.id == pick.air)) {
        return;
    }
    let missing: Vec<String> = prompt.with_untracked(|p| {
        pick.trained_words
            .iter()
            .filter(|w| !p.contains(w.as_str()))
            .cloned()
            .collect()
    });
    if !missing.is_empty() {
        prompt.update(|p| {
            let sep = if p.trim().is_empty() { "" } else { ", " };
            p.push_str(&format!("{sep}{}", missing.join(", ")));
        });
    }
    loras.update(|l| {
        l.push(LoraEntry {
            name: pick.name.clone(),
            network: NetworkDto {
                id: pick.air.clone(),
                strength: 0.8,
            },
            strength_text: "0.8".into(),
        })
    });
}

#[component]
pub fn LoraList(
    loras: RwSignal<Vec<LoraEntry>>,
    error: impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <fieldset class="space-y-2">
            <legend class="text-sm font-medium">"LoRAs"</legend>
            <Show when=move || loras.with(Vec::is_empty)>
                <p class="text-xs text-stone-600 dark:text-stone-400">"None. Add them from the Civitai browser."</p>
            </Show>
            <ul class="space-y-2">
                {move || loras.get().into_iter().enumerate().map(|(i, entry)| {
                    let id = format!("lora-strength-{i}");
                    let error_id = format!("{id}-error");
                    let field_error = Signal::derive(move || {
                        error().and_then(|e| {
                            e.for_field(&format!("networks.{i}.strength"))
                                .or_else(|| e.for_field(&format!("networks.{i}")))
                        })
                    });
                    let name = entry.name.clone();
                    view! {
                        <li class="rounded-md border border-stone-200 p-2 dark:border-stone-700" data-lora=entry.network.id.clone()>
                            <div class="flex items-end gap-2">
                                <div class="min-w-0 flex-1">
                                    <label for=id.clone() class="block truncate text-sm">{format!("{name} strength")}</label>
                                    <input id=id.clone() type="number" step="0.05" min="-1" max="2" class=INPUT
                                        prop:value=entry.strength_text.clone()
                                        aria-describedby=error_id.clone()
                                        aria-invalid=move || field_error.get().is_some().to_string()
                                        on:input=move |ev| {
                                            let text = event_target_value(&ev);
                                            loras.update(|l| if let Some(e) = l.get_mut(i) {
                                                e.network.strength = text.trim().parse().unwrap_or(f64::NAN);
                                                e.strength_text = text;
                                            });
                                        } />
                                </div>
                                <button type="button" class=button::secondary() on:click=move |_| loras.update(|l| { l.remove(i); })>
                                    "Remove"<span class="sr-only">{format!(" {name}")}</span>
                                </button>
                            </div>
                            <FieldError id=error_id error=field_error />
                        </li>
                    }
                }).collect_view()}
            </ul>
        </fieldset>
    }
}
