//! The picture an image-to-image launch starts from: a result chosen with "Use as input", or
//! an image uploaded or pasted here (sent to `/uploads/{project}`, which checks and keeps it).

use leptos::prelude::*;

use crate::components::button;
use crate::components::field::{FieldError, LABEL};
use crate::dto::{ProductDto, ProductKind};

/// The chosen input, as the form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPicture {
    pub id: i64,
    pub thumb_url: String,
    pub label: String,
}

impl From<&ProductDto> for InputPicture {
    fn from(p: &ProductDto) -> Self {
        let label = match p.kind {
            ProductKind::Upload => format!("Upload #{}", p.id),
            _ => format!("Image #{}", p.id),
        };
        Self {
            id: p.id,
            thumb_url: p.thumb_url.clone(),
            label,
        }
    }
}

/// The picture in a paste, if it holds one.
#[cfg(feature = "hydrate")]
pub fn pasted_file(ev: &leptos::ev::ClipboardEvent) -> Option<web_sys::File> {
    ev.clipboard_data()?.files()?.get(0)
}

/// POSTs `body` (a file or blob) to `url` and reads the answer as `T`; a refusal is the
/// server's words, an unreachable server says so.
#[cfg(feature = "hydrate")]
pub async fn post_body<T: serde::de::DeserializeOwned>(
    url: &str,
    body: &wasm_bindgen::JsValue,
) -> Result<T, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(body);
    let failed = |_| "Could not reach Art Factory.".to_string();
    let response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(failed)?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| "Art Factory gave no answer.".to_string())?;
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_str(&text).map_err(|e| format!("An unreadable answer: {e}"))
    } else {
        Err(text)
    }
}

/// Sends a picture to `/uploads/{project}`; the error is the server's words.
#[cfg(feature = "hydrate")]
pub async fn upload(project_id: i64, file: web_sys::Blob) -> Result<ProductDto, String> {
    post_body(&format!("/uploads/{project_id}"), &file.into()).await
}

/// Uploads `file` and makes it the input; says what went wrong in `message`.
#[cfg(feature = "hydrate")]
pub fn upload_into(
    project_id: Option<i64>,
    file: web_sys::Blob,
    input: RwSignal<Option<InputPicture>>,
    busy: RwSignal<bool>,
    message: RwSignal<Option<String>>,
) {
    let Some(project_id) = project_id else {
        message.set(Some("Choose a project first.".into()));
        return;
    };
    busy.set(true);
    message.set(None);
    leptos::task::spawn_local(async move {
        match upload(project_id, file).await {
            Ok(product) => input.set(Some(InputPicture::from(&product))),
            Err(e) => message.set(Some(e)),
        }
        busy.set(false);
    });
}

#[component]
pub fn InputImagePicker(
    input: RwSignal<Option<InputPicture>>,
    #[prop(into)] project_id: Signal<Option<i64>>,
    /// What the upload (or a paste elsewhere on the form) last said.
    message: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    /// The launch's complaint about the input image.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let shown = Signal::derive(move || message.get().or_else(|| error.get()));
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let target = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(file) = target
                .as_ref()
                .and_then(|t| t.files())
                .and_then(|f| f.get(0))
            {
                upload_into(
                    project_id.get_untracked(),
                    file.into(),
                    input,
                    busy,
                    message,
                );
            }
            if let Some(t) = target {
                t.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, project_id);
    };
    view! {
        <fieldset class="space-y-2 rounded-md border border-stone-200 p-3 dark:border-stone-700" data-input-image>
            <legend class="px-1 text-sm font-medium">"Input image"</legend>
            {move || match input.get() {
                Some(picture) => view! {
                    <div class="flex items-center gap-3">
                        <img src=picture.thumb_url.clone() alt=format!("Input: {}", picture.label) class="h-16 w-16 rounded object-cover" width="64" height="64" />
                        <a href=format!("/products/{}", picture.id) class="text-sm text-indigo-700 underline dark:text-indigo-300">{picture.label.clone()}</a>
                        <button type="button" class=button::secondary() on:click=move |_| input.set(None)>"Remove input image"</button>
                    </div>
                }.into_any(),
                None => view! { <p class="text-xs text-stone-600 dark:text-stone-400">"None yet: upload one, paste one (Ctrl+V) into the form, or use a result as input."</p> }.into_any(),
            }}
            <div>
                <label for="gen-input-file" class=LABEL>"Upload an image"</label>
                <input id="gen-input-file" type="file" accept="image/png,image/jpeg,image/webp"
                    class="mt-1 block text-sm" aria-describedby="gen-input-error"
                    disabled=move || busy.get() on:change=on_file />
            </div>
            <p class="text-xs text-stone-600 dark:text-stone-400" aria-live="polite">{move || busy.get().then_some("Uploading…")}</p>
            <FieldError id="gen-input-error".into() error=shown />
        </fieldset>
    }
}
