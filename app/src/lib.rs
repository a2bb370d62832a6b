//! The Art Factory UI, compiled twice: to wasm for the browser (`hydrate`) and natively for
//! server rendering and server functions (`ssr`).
//!
//! - [`dto`]: the wire types shared by browser and server (no diesel, wasm-safe).
//! - [`error`]: the one error type server functions return, and the safe message it carries.
//! - [`api`]: server functions, one module per noun. Each gets the engine from context, calls
//!   one `factory` function and maps the result into a DTO.
//! - [`pages`] and [`components`]: the views.

// Release builds keep the full static type of every view (debug builds erase them); the Generate
// form's type is deeper than the default limit allows.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod dto;
pub mod error;
pub mod live;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::shell::AppShell;

/// Whether the server has a password (sign-in required): provided by the server for each
/// request, read by [`api::session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordMode(pub bool);

use crate::components::toasts::Toasts;
use crate::pages::{
    asset::AssetPage, assets::AssetsPage, character::CharacterPage, characters::CharactersPage,
    compare::ComparePage, gallery::GalleryPage, generate::GeneratePage, grid::GridPage,
    not_found::NotFound, pipeline::PipelinePage, pipelines::PipelinesPage, product::ProductPage,
    projects::ProjectsPage, queue::QueuePage, scene::ScenePage, scenes::ScenesPage,
    settings::SettingsPage, tags::TagsPage, wildcards::WildcardsPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                // The stylesheet by its content-hashed name in a release site.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-stone-50 text-stone-900 antialiased dark:bg-stone-950 dark:text-stone-100">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::provide_live();
    mark_hydrated();

    view! {
        <Title formatter=|page: String| format!("{page} · Art Factory") />
        <Router>
            <AppShell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=ProjectsPage />
                    <Route path=path!("/projects") view=ProjectsPage />
                    <Route path=path!("/generate") view=GeneratePage />
                    <Route path=path!("/gallery") view=GalleryPage />
                    <Route path=path!("/compare") view=ComparePage />
                    <Route path=path!("/tags") view=TagsPage />
                    <Route path=path!("/queue") view=QueuePage />
                    <Route path=path!("/pipelines") view=PipelinesPage />
                    <Route path=path!("/pipelines/:id") view=PipelinePage />
                    <Route path=path!("/characters") view=CharactersPage />
                    <Route path=path!("/characters/:id") view=CharacterPage />
                    <Route path=path!("/assets") view=AssetsPage />
                    <Route path=path!("/assets/:id") view=AssetPage />
                    <Route path=path!("/scenes") view=ScenesPage />
                    <Route path=path!("/scenes/:id") view=ScenePage />
                    <Route path=path!("/wildcards") view=WildcardsPage />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/products/:id") view=ProductPage />
                    <Route path=path!("/batches/:id/grid") view=GridPage />
                </Routes>
            </AppShell>
            <Toasts />
        </Router>
    }
}

/// Sets `data-hydrated` on `<body>` once the browser has taken over the server-rendered page,
/// so tests (and people's scripts) know when clicks are handled by the app.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
