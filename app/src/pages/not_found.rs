use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(leptos::server_fn::http_export::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <h1 class="text-2xl font-semibold">"This page does not exist"</h1>
        <p class="mt-2 text-stone-600 dark:text-stone-400">
            "Go back to "<a href="/" class="text-indigo-600 underline dark:text-indigo-400">"your projects"</a>"."
        </p>
    }
}
