//! How a prompt becomes a batch on the Generate form: the expansion, how many, and the seeds.

use leptos::prelude::*;

use crate::components::field::{FieldError, INPUT, LABEL};
use crate::components::makes::noun;
use crate::dto::{ExpansionMode, ProductKind, SeedMode};
use crate::error::AppError;

#[component]
pub fn BatchSettings(
    mode: RwSignal<ExpansionMode>,
    count: RwSignal<String>,
    seed_mode: RwSignal<SeedMode>,
    seed: RwSignal<String>,
    /// What one result is, for the labels.
    #[prop(into)]
    makes: Signal<ProductKind>,
    max_count: u32,
    /// The launch's complaint, if any.
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
    };
    view! {
                <div>
                    <label for="gen-mode" class=LABEL>"Expansion"</label>
                    <select id="gen-mode" class=INPUT
                        on:change=move |ev| mode.set(match event_target_value(&ev).as_str() {
                            "random" => ExpansionMode::Random,
                            _ => ExpansionMode::Combinatorial,
                        })>
                        <option value="combinatorial" selected=move || mode.get() == ExpansionMode::Combinatorial>"Every combination"</option>
                        <option value="random" selected=move || mode.get() == ExpansionMode::Random>"Random sample"</option>
                    </select>
                    <FieldError id="gen-mode-error".into() error=field_error("mode") />
                </div>
                <div class="grid grid-cols-2 gap-3">
                    <div>
                        <label for="gen-count" class=LABEL>
                            {move || {
                                let things = noun(makes.get(), true);
                                let things = format!("{}{}", things[..1].to_uppercase(), &things[1..]);
                                match mode.get() {
                                    ExpansionMode::Random => things,
                                    ExpansionMode::Combinatorial => format!("{things} per prompt"),
                                }
                            }}
                        </label>
                        <input id="gen-count" type="number" min="1" max=max_count.to_string() class=INPUT bind:value=count
                            aria-invalid=move || field_error("count").get().is_some().to_string()
                            aria-describedby="gen-count-error" />
                        <FieldError id="gen-count-error".into() error=field_error("count") />
                    </div>
                    <fieldset>
                        <legend class=LABEL>"Seed"</legend>
                        <div class="mt-1 flex flex-wrap items-center gap-3 text-sm">
                            {[
                                (SeedMode::Derived, "derived", "Per item", "Each item's seed comes from the batch seed and its choices: cancelling or reordering never changes it"),
                                (SeedMode::Fixed, "fixed", "Fixed", "The same seed for every item"),
                                (SeedMode::Random, "random", "Random", "A new random seed for every item"),
                            ].into_iter().map(|(choice, value, label, title)| view! {
                                <label class="flex items-center gap-1" title=title>
                                    <input type="radio" name="seed_mode" value=value
                                        prop:checked=move || seed_mode.get() == choice
                                        on:change=move |_| seed_mode.set(choice) />
                                    {label}
                                </label>
                            }).collect_view()}
                        </div>
                        <Show when=move || seed_mode.get() != SeedMode::Random>
                            <label for="gen-seed" class="sr-only">{move || match seed_mode.get() {
                                SeedMode::Fixed => "Seed",
                                SeedMode::Derived | SeedMode::Random => "Batch seed",
                            }}</label>
                            <input id="gen-seed" type="number" min="0" class=INPUT bind:value=seed aria-describedby="gen-seed-error"
                                placeholder=move || match seed_mode.get() {
                                    SeedMode::Fixed => "seed",
                                    SeedMode::Derived | SeedMode::Random => "batch seed (empty: random)",
                                } />
                        </Show>
                        <FieldError id="gen-seed-error".into() error=field_error("seed") />
                    </fieldset>
                </div>
    }
}
