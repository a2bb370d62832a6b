//! Loading any model of an open catalog (Replicate) by reference: the provider reads the
//! model's published schema and the form offers its parameters like a listed model's.

use leptos::prelude::*;

use crate::api::generate::DescribeModel;
use crate::components::button;
use crate::components::field::{FieldError, INPUT, LABEL};
use crate::dto::ModelDto;

#[component]
pub fn ModelReference(
    /// The provider the reference is read at.
    #[prop(into)]
    provider: Signal<String>,
    /// Called with the model once it is read.
    on_loaded: impl Fn(ModelDto) + Send + Sync + 'static,
) -> impl IntoView {
    let reference = RwSignal::new(String::new());
    let describe = ServerAction::<DescribeModel>::new();
    let error = move || {
        describe.value().get().and_then(|r| r.err()).map(|e| {
            e.for_field("reference")
                .or_else(|| e.for_field("provider"))
                .unwrap_or_else(|| e.to_string())
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(model)) = describe.value().get() {
            on_loaded(model);
        }
    });
    let load = move || {
        if !describe.pending().get_untracked() {
            describe.dispatch(DescribeModel {
                provider: provider.get_untracked(),
                reference: reference.get_untracked(),
            });
        }
    };
    view! {
        <div>
            <label for="gen-model-reference" class=LABEL>"Any model by reference"</label>
            <div class="flex gap-2">
                <input
                    id="gen-model-reference"
                    type="text"
                    class=INPUT
                    placeholder="owner/name or owner/name:version"
                    autocomplete="off"
                    spellcheck="false"
                    bind:value=reference
                    aria-invalid=move || error().is_some().to_string()
                    aria-describedby="gen-model-reference-error"
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            load();
                        }
                    }
                />
                <button
                    type="button"
                    class=format!("{} mt-1 shrink-0", button::secondary())
                    disabled=move || describe.pending().get()
                    on:click=move |_| load()
                >
                    {move || if describe.pending().get() { "Reading…" } else { "Load model" }}
                </button>
            </div>
            <FieldError id="gen-model-reference-error".into() error=Signal::derive(error) />
        </div>
    }
}
