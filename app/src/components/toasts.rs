//! Toasts: short messages (failures) in a corner, announced to screen readers.

use leptos::prelude::*;

use crate::components::button;
use crate::live::use_live;

#[component]
pub fn Toasts() -> impl IntoView {
    let live = use_live();
    view! {
        <div role="status" aria-live="polite" class="fixed bottom-4 right-4 z-50 flex w-96 max-w-[90vw] flex-col gap-2">
            <For each=move || live.toasts.get() key=|t| t.id let:toast>
                <div class="flex items-start gap-3 rounded-lg border border-red-200 bg-white p-3 text-sm shadow-lg dark:border-red-900 dark:bg-stone-900" data-toast>
                    <p class="flex-1">{toast.message.clone()}</p>
                    <button type="button" class=button::secondary() aria-label="Dismiss" on:click=move |_| live.dismiss(toast.id)>
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
