//! The HTTP surface: Leptos pages and server functions, static files, media files, the live
//! event stream (`/ws`, `/events`) and `/healthz`, all behind the request [`guard`].

use std::net::SocketAddr;
use std::path::Path;

use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRef;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use factory::Engine;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

pub mod api;
mod assets;
pub mod auth;
mod exports;
mod grid;
pub mod guard;
mod health;
mod imports;
mod live;
mod media;
mod uploads;

/// The largest request body accepted (a form, a wildcard list, a template). Server functions
/// read whole bodies, so without a limit one request could fill the memory.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
    pub shutdown: Shutdown,
    pub auth: auth::Auth,
}

/// Tells long-lived responses (the live feeds) that the server is stopping, so they end and
/// graceful shutdown can finish.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A signal and its sender: `send(true)` starts the shutdown.
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (tx, rx) = watch::channel(false);
        (tx, Self(rx))
    }

    /// A signal that never fires (tests and tools that serve until their runtime ends).
    pub fn never() -> Self {
        Self::new().1
    }

    /// Completes once the shutdown has started (at once if it already has); never, if the
    /// sender was dropped without starting it.
    pub async fn started(mut self) {
        if self.0.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Leptos settings for serving the built site from `site_root` at `addr`. A release site has
/// content-hashed file names, listed in its `hash.txt` (see `scripts/lib/env.sh`).
pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    let hashes = site_root.join("hash.txt");
    LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("art-factory"))
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(hashes.is_file())
        // Leptos joins this to the binary's directory: an absolute path is taken as it is.
        .hash_file(
            std::path::absolute(&hashes)
                .unwrap_or(hashes)
                .to_string_lossy()
                .into(),
        )
        .build()
}

/// The routes besides the Leptos pages, server functions and static files, each with the
/// largest request body it takes. One table, so the guard's test walks every route there is.
pub fn http_routes() -> Vec<(&'static str, MethodRouter<AppState>, usize)> {
    let api = api::routes()
        .into_iter()
        .map(|(path, route)| (path, route, api::body_limit(path, MAX_BODY_BYTES)));
    let mut routes = vec![
        ("/healthz", get(health::healthz), MAX_BODY_BYTES),
        ("/login", get(auth::page).post(auth::login), MAX_BODY_BYTES),
        ("/logout", post(auth::logout), MAX_BODY_BYTES),
        ("/ws", get(live::websocket), MAX_BODY_BYTES),
        ("/events", get(live::server_sent_events), MAX_BODY_BYTES),
        ("/media/{project}/{file}", get(media::serve), MAX_BODY_BYTES),
        ("/batches/{id}/grid.png", get(grid::export), MAX_BODY_BYTES),
        (
            "/uploads/{project}",
            post(uploads::store),
            uploads::BODY_LIMIT,
        ),
        (
            "/exports/archive.zip",
            get(exports::download).post(exports::download_posted),
            MAX_BODY_BYTES,
        ),
        (
            "/imports/{project}",
            post(imports::import_file),
            imports::BODY_LIMIT,
        ),
    ];
    routes.extend(api);
    routes
}

/// The whole app for `engine`, served at `leptos_options.site_addr`, behind `auth` (off: no
/// password, loopback only).
pub fn router(
    engine: Engine,
    leptos_options: LeptosOptions,
    shutdown: Shutdown,
    auth: auth::Auth,
) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let engine = engine.clone();
        let password_mode = app::PasswordMode(auth.enabled());
        move || {
            provide_context(engine.clone());
            provide_context(password_mode);
        }
    };
    let guard = match auth.enabled() {
        true => guard::Guard::new(leptos_options.site_addr).answering_any_host(),
        false => guard::Guard::new(leptos_options.site_addr),
    };
    let state = AppState {
        leptos_options: leptos_options.clone(),
        engine,
        shutdown,
        auth: auth.clone(),
    };
    // Pages, server functions and files take small bodies; the routes added after this layer
    // set their own limits (an upload is larger).
    let mut router = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    for (path, route, limit) in http_routes() {
        let route: MethodRouter<AppState> = route
            .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(limit))
            .layer(RequestBodyLimitLayer::new(limit));
        router = router.route(path, route);
    }
    let hashed = leptos_options.hash_files;
    router
        .layer(axum::middleware::map_response(
            move |uri: axum::http::Uri, response| async move { assets::cache(hashed, &uri, response) },
        ))
        .layer(assets::compression())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        .layer(axum::middleware::from_fn_with_state(guard, guard::check))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
