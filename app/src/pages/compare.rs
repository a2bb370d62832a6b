//! `/compare?ids=1,2,3`: two to four products side by side. Zoom and pan move every picture
//! together; the table of their settings marks each row whose values differ.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::products::product_detail;
use crate::components::field::FormMessage;
use crate::dto::ProductDetailDto;

/// The settings compared, as (name, value per product).
fn rows(details: &[ProductDetailDto]) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = vec![
        (
            "Provider".into(),
            details
                .iter()
                .map(|d| d.product.provider.clone().unwrap_or_default())
                .collect(),
        ),
        (
            "Model".into(),
            details
                .iter()
                .map(|d| d.product.model.clone().unwrap_or_default())
                .collect(),
        ),
        (
            "Seed".into(),
            details
                .iter()
                .map(|d| d.product.seed.map(|s| s.to_string()).unwrap_or_default())
                .collect(),
        ),
        (
            "Prompt".into(),
            details.iter().map(|d| d.product.prompt.clone()).collect(),
        ),
        (
            "Negative prompt".into(),
            details.iter().map(|d| d.negative_prompt.clone()).collect(),
        ),
        (
            "Size".into(),
            details
                .iter()
                .map(|d| {
                    format!(
                        "{} × {}",
                        d.product.width.unwrap_or_default(),
                        d.product.height.unwrap_or_default()
                    )
                })
                .collect(),
        ),
    ];
    let params: Vec<BTreeMap<String, String>> = details
        .iter()
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(&d.params)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .map(|o| {
                    o.into_iter()
                        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let mut keys: Vec<&String> = params.iter().flat_map(|p| p.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        rows.push((
            key.clone(),
            params
                .iter()
                .map(|p| p.get(key).cloned().unwrap_or_default())
                .collect(),
        ));
    }
    rows
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let ids = move || -> Result<Vec<i64>, String> {
        let text = query.with(|q| q.get("ids")).unwrap_or_default();
        let ids: Vec<i64> = text
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("“{s}” is not a product number."))
            })
            .collect::<Result<_, _>>()?;
        if !(2..=4).contains(&ids.len()) {
            return Err(
                "Compare takes two to four products: pick them with C in the gallery.".into(),
            );
        }
        Ok(ids)
    };
    let details = Resource::new(ids, |ids| async move {
        let ids = ids?;
        let mut out = Vec::new();
        for id in ids {
            out.push(product_detail(id).await.map_err(|e| e.to_string())?);
        }
        Ok::<_, String>(out)
    });
    let zoom = RwSignal::new(1.0f64);
    let origin = RwSignal::new((50.0f64, 50.0f64));
    view! {
        <Title text="Compare" />
        <h1 class="text-2xl font-semibold tracking-tight">"Compare"</h1>
        <div class="mt-2 flex items-center gap-2 text-sm" role="group" aria-label="Zoom">
            <label for="compare-zoom">"Zoom"</label>
            <input id="compare-zoom" type="range" min="1" max="4" step="0.25" prop:value=move || zoom.get().to_string()
                on:input=move |ev| zoom.set(event_target_value(&ev).parse().unwrap_or(1.0)) />
            <span data-zoom>{move || format!("{:.2}×", zoom.get())}</span>
            <span class="text-stone-500">"Move the pointer over any picture to pan them all."</span>
        </div>
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match details.await {
                    Err(e) => view! { <div class="mt-4"><FormMessage message=Signal::stored(Some(e)) /></div> }.into_any(),
                    Ok(list) => {
                        let table = rows(&list);
                        let columns = list.len();
                        view! {
                            <div class="mt-4 grid gap-3" style=format!("grid-template-columns: repeat({columns}, minmax(0, 1fr))")>
                                {list.iter().map(|d| {
                                    let p = d.product.clone();
                                    view! {
                                        <figure>
                                            <div class="aspect-square overflow-hidden rounded-lg bg-stone-200 dark:bg-stone-800"
                                                on:mousemove=move |ev| {
                                                    #[cfg(feature = "hydrate")]
                                                    {
                                                        use wasm_bindgen::JsCast;
                                                        if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                                            let (w, h) = (el.client_width().max(1) as f64, el.client_height().max(1) as f64);
                                                            origin.set(((ev.offset_x() as f64 / w * 100.0).clamp(0.0, 100.0), (ev.offset_y() as f64 / h * 100.0).clamp(0.0, 100.0)));
                                                        }
                                                    }
                                                    #[cfg(not(feature = "hydrate"))]
                                                    let _ = ev;
                                                }>
                                                <img src=p.preview_url.clone() alt=p.prompt.clone() class="h-full w-full object-contain" data-compare-image
                                                    style=move || { let (x, y) = origin.get(); format!("transform-origin:{x}% {y}%;transform:scale({})", zoom.get()) } />
                                            </div>
                                            <figcaption class="mt-1 text-sm"><a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/products/{}", p.id)>{format!("Image #{}", p.id)}</a></figcaption>
                                        </figure>
                                    }
                                }).collect_view()}
                            </div>
                            <table class="mt-4 w-full text-left text-sm" data-compare-table>
                                <caption class="sr-only">"Settings of the compared products; rows that differ are marked"</caption>
                                <tbody>
                                    {table.into_iter().map(|(name, values)| {
                                        let differs = values.iter().any(|v| *v != values[0]);
                                        view! {
                                            <tr class=if differs { "bg-amber-50 dark:bg-amber-950" } else { "" } data-differs=differs.to_string()>
                                                <th scope="row" class="py-1 pr-3 align-top font-medium">
                                                    {name.clone()}
                                                    {differs.then(|| view! { <span class="ml-1 text-xs text-amber-700 dark:text-amber-300">"differs"</span> })}
                                                </th>
                                                {values.into_iter().map(|v| view! { <td class="py-1 pr-3 align-top break-words">{v}</td> }).collect_view()}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
