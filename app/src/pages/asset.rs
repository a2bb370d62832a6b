//! `/assets/:id`: one model turning in an interactive 3D view (model-viewer, served by the app),
//! with its measurements and the problems the checks found.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::assets::get_asset;
use crate::components::asset_info::{AssetFacts, ValidationReport};
use crate::components::button;
use crate::components::field::FormMessage;

#[component]
pub fn AssetPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    let asset = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_asset(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <script type="module" src="/vendor/model-viewer.min.js"></script>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || asset.get().map(|r| match r {
                Err(e) => view! { <FormMessage message=Signal::stored(Some(e.to_string())) /> }.into_any(),
                Ok(None) => view! { <p>"There is no such asset."</p> }.into_any(),
                Ok(Some(a)) => view! {
                    <Title text=a.name.clone() />
                    <h1 class="text-2xl font-semibold tracking-tight">{a.name.clone()}</h1>
                    <p class="mt-1 text-sm">
                        <a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/assets?project={}", a.project_id)>"All assets of this project"</a>
                    </p>
                    <div class="mt-4 grid gap-6 lg:grid-cols-2">
                        <div>
                            <model-viewer
                                src=a.model_url.clone()
                                poster=a.preview_url.clone()
                                alt=format!("3D view of {}: drag to turn, scroll to zoom", a.name)
                                camera-controls=""
                                shadow-intensity="0.6"
                                class="block h-[28rem] w-full rounded-lg bg-stone-900"
                            ></model-viewer>
                            <div class="mt-3 flex flex-wrap gap-3">
                                <a class=button::secondary() href=a.model_url.clone() download=format!("{}.glb", a.name)>"Download GLB"</a>
                                <a class=button::secondary() href=format!("/products/{}", a.product_id)>"In the gallery"</a>
                            </div>
                        </div>
                        <section aria-labelledby="facts-heading">
                            <h2 id="facts-heading" class="font-semibold">"Measurements"</h2>
                            <AssetFacts info=a.info.clone() bytes=a.bytes />
                            <h2 class="mt-6 font-semibold">"Validation"</h2>
                            <ValidationReport issues=a.warnings.clone() />
                        </section>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}
