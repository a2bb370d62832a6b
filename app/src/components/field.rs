//! Labelled form fields with their error shown right next to them.
//!
//! The error is tied to the input with `aria-describedby` and `aria-invalid`, so screen readers
//! announce it with the field.

use leptos::prelude::*;

/// The look of every text input, select and textarea.
pub const INPUT: &str =
    "mt-1 block w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm shadow-sm \
    focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 \
    aria-[invalid=true]:border-red-500 dark:border-stone-700 dark:bg-stone-900";
/// The look of every field's label.
pub const LABEL: &str = "block text-sm font-medium";

/// A one-line text input.
#[component]
pub fn TextField(
    /// Unique element id; the error gets `<id>-error`.
    id: String,
    /// The form field name (the server function argument).
    name: &'static str,
    label: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(into)] error: Signal<Option<String>>,
    /// For pages that move focus to the field (inline editors).
    #[prop(optional)]
    node_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                node_ref=node_ref
                id=id
                name=name
                type="text"
                value=value
                autocomplete="off"
                class=INPUT
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
            />
            <FieldError id=error_id error />
        </div>
    }
}

/// A multi-line text input.
#[component]
pub fn TextArea(
    id: String,
    name: &'static str,
    label: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = 2)] rows: u32,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <textarea
                id=id
                name=name
                rows=rows
                class=INPUT
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
            >
                {value}
            </textarea>
            <FieldError id=error_id error />
        </div>
    }
}

/// The error line under a field; empty (but present, for `aria-describedby`) when all is well.
#[component]
pub fn FieldError(id: String, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p id=id class="mt-1 min-h-5 text-sm text-red-600 dark:text-red-400" aria-live="polite">
            {move || error.get()}
        </p>
    }
}

/// A form-wide message (errors not tied to one field).
#[component]
pub fn FormMessage(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
                {move || message.get()}
            </p>
        </Show>
    }
}

/// Reads the file chosen in a file input as text, then calls `then` with its name and its text
/// (`None` when it could not be read).
pub fn read_text_file(ev: leptos::ev::Event, then: impl FnOnce(String, Option<String>) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        let name = file.name();
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string());
            then(name, text);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, then);
}
