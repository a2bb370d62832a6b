//! `/assets`: a project's 3D models with their rendered previews, and new ones dropped here
//! (a `.glb`; a `.gltf` with its `.bin` and textures; or a ZIP). A refused model lists each
//! problem with where it is in the file.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::assets::list_assets;
use crate::components::field::{FormMessage, LABEL};
use crate::components::project_select::ProjectSelect;
use crate::dto::assets::human_bytes;
use crate::dto::AssetDto;

/// What an upload came back with: the asset, or the server's refusal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Refusal {
    pub detail: String,
    /// (JSON pointer, "CODE: message").
    pub problems: Vec<(String, String)>,
}

impl Refusal {
    /// The server's problem document, or its plain words.
    pub fn from_answer(text: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Field {
            field: String,
            message: String,
        }
        #[derive(serde::Deserialize)]
        struct Problem {
            detail: String,
            #[serde(default)]
            errors: Vec<Field>,
        }
        match serde_json::from_str::<Problem>(text) {
            Ok(p) => Refusal {
                detail: p.detail,
                problems: p
                    .errors
                    .into_iter()
                    .filter(|f| f.field.starts_with('/'))
                    .map(|f| (f.field, f.message))
                    .collect(),
            },
            Err(_) => Refusal {
                detail: text.to_string(),
                problems: Vec::new(),
            },
        }
    }
}

/// Sends the files as one model to `POST /api/v1/assets`.
#[cfg(feature = "hydrate")]
async fn send(project_id: i64, files: Vec<web_sys::File>) -> Result<AssetDto, Refusal> {
    let form = web_sys::FormData::new()
        .map_err(|_| Refusal::from_answer("The browser could not make a form."))?;
    let _ = form.append_with_str("project_id", &project_id.to_string());
    for file in &files {
        let _ = form.append_with_blob_and_filename("file", file, &file.name());
    }
    crate::components::input_image::post_body("/api/v1/assets", &form.into())
        .await
        .map_err(|text| Refusal::from_answer(&text))
}

#[component]
pub fn AssetsPage() -> impl IntoView {
    let query = use_query_map();
    let project = RwSignal::new(
        query
            .with_untracked(|q| q.get("project"))
            .unwrap_or_default(),
    );
    let version = RwSignal::new(0u32);
    let assets = Resource::new(
        move || (project.get(), version.get()),
        |(project, _)| async move {
            match project.parse::<i64>() {
                Ok(id) => list_assets(id).await,
                Err(_) => Ok(Vec::new()),
            }
        },
    );
    let busy = RwSignal::new(false);
    let status = RwSignal::new(None::<String>);
    let refusal = RwSignal::new(None::<Refusal>);
    let dragging = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    let start = move |files: Vec<web_sys::File>| {
        let Ok(project_id) = project.get_untracked().parse::<i64>() else {
            refusal.set(Some(Refusal::from_answer("Choose a project first.")));
            return;
        };
        if files.is_empty() {
            return;
        }
        let names = files
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ");
        busy.set(true);
        refusal.set(None);
        status.set(Some(format!("Uploading and checking {names}…")));
        leptos::task::spawn_local(async move {
            match send(project_id, files).await {
                Ok(asset) => {
                    status.set(Some(format!(
                        "Stored “{}”: {} triangles, {}.",
                        asset.name,
                        asset.info.totals.triangles,
                        human_bytes(asset.bytes as u64)
                    )));
                    version.update(|v| *v += 1);
                }
                Err(r) => {
                    status.set(None);
                    refusal.set(Some(r));
                }
            }
            busy.set(false);
        });
    };
    #[cfg(feature = "hydrate")]
    fn list(files: Option<web_sys::FileList>) -> Vec<web_sys::File> {
        files.map_or_else(Vec::new, |l| {
            (0..l.length()).filter_map(|i| l.get(i)).collect()
        })
    }
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(input) = input {
                start(list(input.files()));
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        start(list(ev.data_transfer().and_then(|d| d.files())));
    };

    view! {
        <Title text="3D assets" />
        <h1 class="text-2xl font-semibold tracking-tight">"3D assets"</h1>
        <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">
            "glTF 2.0 models, checked past their JSON (bounds, indices, numbers, textures), measured, and kept as one GLB with a rendered preview."
        </p>
        <div class="mt-4 max-w-xs">
            <ProjectSelect id="assets-project" project />
        </div>
        <section aria-labelledby="upload-heading" class="mt-6">
            <h2 id="upload-heading" class="font-semibold">"Add a model"</h2>
            <div
                class=move || format!(
                    "mt-2 rounded-lg border-2 border-dashed p-6 text-center {}",
                    if dragging.get() { "border-indigo-500 bg-indigo-50 dark:bg-indigo-950" } else { "border-stone-300 dark:border-stone-700" }
                )
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p class="text-sm text-stone-700 dark:text-stone-300">
                    "Drop a .glb here, or a .gltf with its .bin and textures, or a ZIP of the model's folder."
                </p>
                <label for="asset-files" class=format!("{LABEL} mt-3 inline-block")>"Choose files"</label>
                <input id="asset-files" type="file" multiple
                    accept=".glb,.gltf,.bin,.png,.jpg,.jpeg,.webp,.zip"
                    class="mt-1 block w-full text-sm"
                    disabled=move || busy.get()
                    on:change=on_pick />
            </div>
            <p id="asset-upload-status" role="status" class="mt-2 text-sm text-stone-700 dark:text-stone-300">{move || status.get()}</p>
            {move || refusal.get().map(|r| view! {
                <div class="mt-2">
                    <FormMessage message=Signal::stored(Some(r.detail.clone())) />
                    {(!r.problems.is_empty()).then(|| view! {
                        <ul class="mt-2 list-disc pl-6 text-sm" aria-label="Problems in the model">
                            {r.problems.iter().map(|(at, what)| view! {
                                <li><code class="font-mono">{at.clone()}</code>" — "{what.clone()}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </div>
            })}
        </section>

        <ul class="mt-6 grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4" aria-label="Assets">
            <Transition fallback=|| ()>
                {move || assets.get().map(|r| match r {
                    Err(e) => view! { <li><FormMessage message=Signal::stored(Some(e.to_string())) /></li> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <li class="col-span-full text-sm text-stone-600 dark:text-stone-400">"No models in this project yet."</li>
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|a| view! { <AssetTile asset=a /> }).collect_view().into_any(),
                })}
            </Transition>
        </ul>
    }
}

#[component]
fn AssetTile(asset: AssetDto) -> impl IntoView {
    let style = asset
        .placeholder
        .as_ref()
        .map(|c| format!("background-color: {c}"));
    view! {
        <li class="rounded-lg border border-stone-200 p-2 dark:border-stone-800">
            <a href=format!("/assets/{}", asset.id) class="block">
                <img src=asset.thumb_url.clone() alt=format!("Preview of {}", asset.name)
                    width="256" height="256" loading="lazy" class="aspect-square w-full rounded" style=style />
                <span class="mt-1 block font-medium text-indigo-700 underline dark:text-indigo-300">{asset.name.clone()}</span>
            </a>
            <span class="block text-xs text-stone-600 dark:text-stone-400">
                {format!("{} triangles · {}", asset.info.totals.triangles, human_bytes(asset.bytes as u64))}
            </span>
        </li>
    }
}
