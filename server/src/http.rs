//! The HTTP surface: Leptos pages and server functions, static files, media files, the live
//! event stream (`/ws`, `/events`) and `/healthz`.

use std::net::SocketAddr;
use std::path::Path;

use app::{shell, App};
use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use factory::Engine;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

mod grid;
mod health;
mod live;
mod media;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
}

/// Leptos settings for serving the built site from `site_root` at `addr`.
pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("art-factory"))
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The whole app for `engine`.
pub fn router(engine: Engine, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let engine = engine.clone();
        move || provide_context(engine.clone())
    };
    let state = AppState {
        leptos_options: leptos_options.clone(),
        engine,
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/ws", get(live::websocket))
        .route("/events", get(live::server_sent_events))
        .route("/media/{project}/{file}", get(media::serve))
        .route("/batches/{id}/grid.png", get(grid::export))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
