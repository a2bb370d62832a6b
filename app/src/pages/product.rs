//! `/products/:id`: one product, how it was made, and its lineage both ways: the picture it
//! was made from, and what was made from it. "Use as input" starts an image-to-image launch.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::gallery::gallery_overview;
use crate::api::products::product_detail;
use crate::components::button;
use crate::components::field::FormMessage;
use crate::components::highlight::Highlighted;
use crate::components::player::{PlayerKeys, SoundPlayer, MEDIA_ID};
use crate::components::viewer::{GalleryKeys, ReuseButtons, TriagePanel, ZoomImage};
use crate::dto::{ProductDetailDto, ProductDto, ProductKind};

fn title(product: &ProductDto) -> String {
    product.title()
}

const PLAYER_KEYS: &str = "Space plays and pauses, ← → seek 5 s, , and . step a frame, Home \
                           restarts; Page Up and Page Down step through the gallery, Esc goes back to it.";

/// `MP4 · h264 1280×720 at 24 fps · aac 44.1 kHz stereo`.
fn streams_text(s: &crate::dto::StreamsDto) -> String {
    let mut parts = vec![s.container.to_uppercase()];
    if let Some(v) = &s.video {
        parts.push(format!(
            "{} {}×{} at {} fps",
            v.codec,
            v.width,
            v.height,
            (v.frames_per_second * 100.0).round() / 100.0
        ));
    }
    if let Some(a) = &s.audio {
        let channels = match a.channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n} channels"),
        };
        parts.push(format!(
            "{} {} kHz {channels}",
            a.codec,
            a.sample_rate as f64 / 1000.0
        ));
    }
    parts.join(" · ")
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id"))
            .and_then(|id| id.parse::<i64>().ok())
    };
    let detail = Resource::new(id, |id| async move {
        match id {
            Some(id) => product_detail(id).await,
            None => Err(crate::error::AppError::NotFound(
                "That is not a product address.".into(),
            )),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-stone-500">"Loading…"</p> }>
            {move || detail.get().map(|r| match r {
                Ok(d) => view! { <ProductView detail=d /> }.into_any(),
                Err(e) => view! {
                    <Title text="Product" />
                    <FormMessage message=Signal::stored(Some(e.to_string())) />
                }.into_any(),
            })}
        </Transition>
    }
}

/// A small linked thumbnail of a related product.
#[component]
fn Related(product: ProductDto, label: String) -> impl IntoView {
    view! {
        <a href=format!("/products/{}", product.id)
            class="flex items-center gap-2 rounded-md p-1 text-sm text-indigo-700 underline hover:bg-stone-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300 dark:hover:bg-stone-800">
            <img src=product.thumb_url.clone() alt="" class="h-12 w-12 rounded object-cover" width="48" height="48" />
            {label}
        </a>
    }
}

#[component]
fn ProductView(detail: ProductDetailDto) -> impl IntoView {
    let product = detail.product.clone();
    let heading = title(&product);
    let made_with = match (&product.provider, &product.model) {
        (Some(provider), Some(model)) => format!("{provider} · {model}"),
        _ => "Uploaded".to_string(),
    };
    // Opened from a gallery search: the words it matched are marked in the prompts.
    let search = LocalResource::new(move || {
        let view = use_query_map().with_untracked(|q| q.get("gallery"));
        async move {
            match view
                .filter(|v| crate::dto::GalleryQuery::parse(v).is_ok_and(|q| !q.search.is_empty()))
            {
                Some(view) => gallery_overview(view)
                    .await
                    .map(|o| o.terms)
                    .unwrap_or_default(),
                None => Vec::new(),
            }
        }
    });
    let terms = move || search.get().unwrap_or_default();
    let use_as_input = format!(
        "/generate?project={}&input={}",
        product.project_id, product.id
    );
    let player = matches!(product.kind, ProductKind::Video | ProductKind::Audio);
    let fps = detail
        .streams
        .as_ref()
        .and_then(|s| s.video.as_ref())
        .map(|v| v.frames_per_second);
    view! {
        <Title text=heading.clone() />
        <h1 class="text-2xl font-semibold tracking-tight">{heading.clone()}</h1>
        <div class="mt-4 grid gap-6 md:grid-cols-2">
            <div>
                // A model or an OpenEXR shows its rendered sRGB preview here; the 3D view is on
                // the asset's page, the full range in the downloaded original.
                {match product.kind {
                    // The original plays, with the browser's controls; ranges let it seek.
                    ProductKind::Video => view! {
                        <video id=MEDIA_ID controls preload="metadata" class="w-full rounded" src=product.url.clone()
                            poster=product.preview_url.clone() aria-label=format!("{heading} (video)")
                            width=product.width.unwrap_or(768) height=product.height.unwrap_or(432)></video>
                        <p class="mt-1 text-xs text-stone-500">{PLAYER_KEYS}</p>
                    }.into_any(),
                    ProductKind::Audio => view! {
                        <SoundPlayer src=product.url.clone() waveform=product.preview_url.clone() label=heading.clone() />
                        <p class="mt-1 text-xs text-stone-500">"Click the waveform to play from there. "{PLAYER_KEYS}</p>
                    }.into_any(),
                    _ => view! {
                        <ZoomImage src=product.shown_url().to_string() alt=if product.prompt.is_empty() { heading.clone() } else { product.prompt.clone() }
                            width=product.width.unwrap_or(768) height=product.height.unwrap_or(768) placeholder=product.placeholder.clone() />
                        <p class="mt-1 text-xs text-stone-500">"Click to zoom, move to pan. ← → step through the gallery, Esc goes back to it."</p>
                    }.into_any(),
                }}
            </div>
            {if player {
                view! { <GalleryKeys arrows=false /><PlayerKeys fps /> }.into_any()
            } else {
                view! { <GalleryKeys /> }.into_any()
            }}
            <div class="space-y-4 text-sm">
                <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
                    <dt class="font-medium">"Made with"</dt><dd>{made_with}</dd>
                    {product.width.zip(product.height).map(|(w, h)| view! {
                        <dt class="font-medium">"Size"</dt>
                        <dd>{format!("{w} × {h}")}</dd>
                    })}
                    {product.duration_ms.map(|ms| view! {
                        <dt class="font-medium">"Length"</dt>
                        <dd data-duration>{format!("{:.1} s", ms as f64 / 1000.0)}</dd>
                    })}
                    {product.format.map(|f| view! {
                        <dt class="font-medium">"Format"</dt>
                        <dd data-format>
                            {f.name()}
                            {(!f.browser_shows() && product.kind != ProductKind::Model3d).then_some(
                                " · shown here as its sRGB preview; download the original for the full range")}
                        </dd>
                    })}
                    {detail.streams.clone().map(|s| view! {
                        <dt class="font-medium">"Streams"</dt>
                        <dd data-streams>{streams_text(&s)}</dd>
                    })}
                    {product.seed.map(|s| view! { <dt class="font-medium">"Seed"</dt><dd>{s}</dd> })}
                    {(!product.prompt.is_empty()).then(|| {
                        let prompt = product.prompt.clone();
                        view! { <dt class="font-medium">"Prompt"</dt><dd data-prompt>{move || view! { <Highlighted text=prompt.clone() terms=terms() /> }}</dd> }
                    })}
                    {(!detail.negative_prompt.is_empty()).then(|| {
                        let negative = detail.negative_prompt.clone();
                        view! { <dt class="font-medium">"Negative"</dt><dd>{move || view! { <Highlighted text=negative.clone() terms=terms() /> }}</dd> }
                    })}
                    {(!detail.bindings.is_empty()).then(|| view! {
                        <dt class="font-medium">"Token choices"</dt>
                        <dd data-bindings>{detail.bindings.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(" · ")}</dd>
                    })}
                    {detail.character.clone().map(|c| view! {
                        <dt class="font-medium">"Portrait of"</dt>
                        <dd><a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/characters/{}", c.id)>{c.name}</a></dd>
                    })}
                    {detail.asset.clone().map(|a| view! {
                        <dt class="font-medium">"3D asset"</dt>
                        <dd><a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/assets/{}", a.id)>{format!("{} (3D view, measurements)", a.name)}</a></dd>
                    })}
                    {detail.scene.clone().map(|sc| view! {
                        <dt class="font-medium">"Render of"</dt>
                        <dd><a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/scenes/{}", sc.id)>{format!("the scene “{}”", sc.name)}</a></dd>
                    })}
                    {product.batch_id.map(|b| view! {
                        <dt class="font-medium">"Batch"</dt>
                        <dd><a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/batches/{b}/grid")>{format!("#{b}")}</a></dd>
                    })}
                    {detail.deleted_at.map(|at| view! {
                        <dt class="font-medium">"In the trash"</dt>
                        <dd>{format!("since {}", at.format("%-d %b %Y"))}</dd>
                    })}
                    <dt class="font-medium">"Created"</dt><dd>{detail.created_at.format("%-d %b %Y, %H:%M UTC").to_string()}</dd>
                </dl>
                {(detail.params != "{}").then(|| view! {
                    <details><summary class="cursor-pointer font-medium">"Parameters"</summary>
                        <pre class="mt-1 overflow-x-auto rounded bg-stone-100 p-2 text-xs dark:bg-stone-900">{detail.params.clone()}</pre>
                    </details>
                })}
                // Only a picture is an input a provider takes; anything can be scored.
                {matches!(product.kind, ProductKind::Image | ProductKind::Upload).then(|| view! {
                    <div class="flex flex-wrap gap-2">
                        <a href=use_as_input class=button::primary()>"Use as input"</a>
                        <a href=format!("/generate?project={}&input={}&make=video", product.project_id, product.id)
                            class=button::secondary()>"Animate"</a>
                        <a href=format!("/pipelines?project={}&input={}", product.project_id, product.id)
                            class=button::secondary()>"Run a pipeline on it"</a>
                    </div>
                })}
                {matches!(product.kind, ProductKind::Image | ProductKind::Upload | ProductKind::Video).then(|| view! {
                    <a href=format!("/generate?project={}&for={}&make=audio", product.project_id, product.id)
                        class=button::secondary()>"Score"</a>
                })}
                <ReuseButtons detail=detail.clone() />
                <TriagePanel detail=detail.clone() />
                <section aria-labelledby="made-from-heading">
                    <h2 id="made-from-heading" class="font-semibold">"Made from"</h2>
                    {match detail.parent.clone() {
                        Some(parent) => {
                            let label = format!("Made from {}", title(&parent));
                            view! { <Related product=parent label /> }.into_any()
                        }
                        None => view! { <p class="text-stone-600 dark:text-stone-400">"Nothing: it started from the prompt alone."</p> }.into_any(),
                    }}
                </section>
                <section aria-labelledby="used-for-heading">
                    <h2 id="used-for-heading" class="font-semibold">"Used for"</h2>
                    {if detail.children.is_empty() {
                        view! { <p class="text-stone-600 dark:text-stone-400">"Nothing yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul>
                                {detail.children.clone().into_iter().map(|child| {
                                    let label = format!("Used for {}", title(&child));
                                    view! { <li><Related product=child label /></li> }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </section>
            </div>
        </div>
    }
}
