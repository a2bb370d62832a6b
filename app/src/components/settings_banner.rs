//! "Use these settings": `/generate?settings=<product>` offers that product's settings to the
//! form. Nothing is filled, and nothing queued, until the person presses Apply.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::products::product_settings;
use crate::components::button;
use crate::dto::{ProductDto, TemplateForm};

#[component]
pub fn SettingsBanner(apply: Callback<TemplateForm>) -> impl IntoView {
    let offered = RwSignal::new(None::<(ProductDto, TemplateForm)>);
    let asked = use_query_map()
        .with_untracked(|q| q.get("settings"))
        .and_then(|id| id.parse::<i64>().ok());
    if let Some(id) = asked {
        leptos::task::spawn_local(async move {
            if let Ok(settings) = product_settings(id).await {
                offered.set(Some(settings));
            }
        });
    }
    move || {
        offered.get().map(|(product, form)| {
            view! {
                <div role="region" aria-label="Settings offered" data-settings-banner
                    class="mt-4 flex flex-wrap items-center gap-3 rounded-lg border border-indigo-200 bg-indigo-50 p-3 text-sm dark:border-indigo-900 dark:bg-indigo-950">
                    <img src=product.thumb_url.clone() alt="" class="h-12 w-12 rounded object-cover" width="48" height="48" />
                    <p class="flex-1">{format!("Settings of image #{}: {} · {}, seed {}.", product.id,
                        product.provider.clone().unwrap_or_default(), product.model.clone().unwrap_or_default(),
                        product.seed.map(|s| s.to_string()).unwrap_or_else(|| "—".into()))}</p>
                    <button type="button" class=button::primary() on:click=move |_| {
                        apply.run(form.clone());
                        offered.set(None);
                    }>"Apply to the form"</button>
                    <button type="button" class=button::secondary() on:click=move |_| offered.set(None)>"Dismiss"</button>
                </div>
            }
        })
    }
}
