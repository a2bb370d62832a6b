//! The live preview of a prompt's expansion on the Generate page.

use leptos::prelude::*;

use crate::dto::PreviewDto;

/// The item count and the first expanded prompts, or the syntax error with its position.
#[component]
pub fn PromptPreview(preview: RwSignal<Option<PreviewDto>>) -> impl IntoView {
    view! {
        <div class="mt-2 text-sm" aria-live="polite" data-prompt-preview>
            {move || preview.get().map(|p| match p.error {
                Some(e) => view! {
                    <p class="text-red-700 dark:text-red-400" role="alert" data-prompt-error>
                        {format!("Line {}, column {}: {}", e.line, e.column, e.message)}
                    </p>
                }.into_any(),
                None => view! {
                    <div>
                        <p class="font-medium" data-item-count>
                            {format!("{} item{}", p.total, if p.total == 1 { "" } else { "s" })}
                        </p>
                        <ol class="mt-1 list-decimal space-y-0.5 pl-5 text-stone-600 dark:text-stone-400" aria-label="First prompts">
                            {p.examples.into_iter().map(|e| view! { <li data-example>{e}</li> }).collect_view()}
                        </ol>
                    </div>
                }.into_any(),
            })}
        </div>
    }
}
