//! REST API v1 (`/api/v1`) for scripts and other tools: projects, launches, batches and jobs,
//! products and the event stream, described by an OpenAPI 3.1 document made from this code
//! (`/api/v1/openapi.json`, browsable at `/api/v1/docs`).
//!
//! Handlers are thin: they read the request, make one engine call, and answer a wire type.
//! Input is checked by the same code as the pages' (the error boundary in `app::error`), and
//! every refusal has one shape ([`problem::Problem`]). With a password set, every route needs
//! a session or an API token (`Authorization: Bearer aft_…`, made in Settings); a read-only
//! token may only read (see `http::auth`).

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;

pub mod assets;
mod batches;
mod characters;
mod launches;
pub mod problem;
mod products;
mod projects;
mod renderjobs;
mod scenes;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Art Factory",
        version = "1",
        description = "Generate, queue and collect images from scripts. Authenticate with \
            `Authorization: Bearer <token>` (Settings → API tokens) when the studio has a \
            password. Errors are `application/problem+json`."
    ),
    paths(
        projects::list, projects::create, projects::get, projects::update, projects::delete,
        launches::launch,
        batches::list, batches::get, batches::jobs, batches::cancel, batches::retry,
        batches::job, batches::cancel_job, batches::retry_job,
        products::list, products::get, products::original, products::thumbnail,
        characters::list, characters::create, characters::party, characters::get,
        characters::regenerate, characters::duplicate, characters::delete,
        characters::portrait, characters::portraits, characters::sheet_pdf, characters::sheet_json,
        assets::upload, assets::list, assets::get,
        scenes::list, scenes::create, scenes::get, scenes::update, scenes::delete, scenes::export,
        renderjobs::engines, renderjobs::create, renderjobs::list, renderjobs::get,
        renderjobs::cancel,
        events,
    ),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "projects", description = "Where work is organised"),
        (name = "launches", description = "Queue a batch from a prompt, or price it first"),
        (name = "batches", description = "What was launched, a page at a time"),
        (name = "jobs", description = "One generation"),
        (name = "products", description = "What was made: the gallery"),
        (name = "characters", description = "Fantasy characters made from a seed and locks. Includes material from the System Reference Document 5.1 by Wizards of the Coast LLC, licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/legalcode)."),
        (name = "assets", description = "3D models (glTF 2.0): uploaded, checked past their JSON, measured, and stored as one GLB with a rendered preview"),
        (name = "scenes", description = "3D assets placed with transforms, lights and cameras; exported as one GLB"),
        (name = "renders", description = "A scene rendered by the built-in CPU engine or by Blender (Cycles), as a job in the durable queue; the pictures land in the gallery"),
        (name = "events", description = "Everything that changes, live"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from Settings → API tokens (`aft_…`); read-only tokens may only GET.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The API's routes, for the router's one table.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/v1/openapi.json", get(openapi)),
        ("/api/v1/docs", get(docs_redirect)),
        ("/api/v1/docs/", get(docs_index)),
        ("/api/v1/docs/{*file}", get(docs_file)),
        (
            "/api/v1/projects",
            get(projects::list).post(projects::create),
        ),
        (
            "/api/v1/projects/{id}",
            get(projects::get)
                .patch(projects::update)
                .delete(projects::delete),
        ),
        ("/api/v1/launches", post(launches::launch)),
        ("/api/v1/batches", get(batches::list)),
        ("/api/v1/batches/{id}", get(batches::get)),
        ("/api/v1/batches/{id}/jobs", get(batches::jobs)),
        ("/api/v1/batches/{id}/cancel", post(batches::cancel)),
        ("/api/v1/batches/{id}/retry", post(batches::retry)),
        ("/api/v1/jobs/{id}", get(batches::job)),
        ("/api/v1/jobs/{id}/cancel", post(batches::cancel_job)),
        ("/api/v1/jobs/{id}/retry", post(batches::retry_job)),
        ("/api/v1/products", get(products::list)),
        ("/api/v1/products/{id}", get(products::get)),
        ("/api/v1/products/{id}/original", get(products::original)),
        ("/api/v1/products/{id}/thumbnail", get(products::thumbnail)),
        (
            "/api/v1/characters",
            get(characters::list).post(characters::create),
        ),
        ("/api/v1/characters/party", post(characters::party)),
        (
            "/api/v1/characters/{id}",
            get(characters::get).delete(characters::delete),
        ),
        (
            "/api/v1/characters/{id}/regenerate",
            post(characters::regenerate),
        ),
        (
            "/api/v1/characters/{id}/duplicate",
            post(characters::duplicate),
        ),
        (
            "/api/v1/characters/{id}/portrait",
            post(characters::portrait),
        ),
        (
            "/api/v1/characters/{id}/portraits",
            get(characters::portraits),
        ),
        (
            "/api/v1/characters/{id}/sheet.pdf",
            get(characters::sheet_pdf),
        ),
        (
            "/api/v1/characters/{id}/sheet.json",
            get(characters::sheet_json),
        ),
        ("/api/v1/assets", get(assets::list).post(assets::upload)),
        ("/api/v1/assets/{id}", get(assets::get)),
        ("/api/v1/scenes", get(scenes::list).post(scenes::create)),
        (
            "/api/v1/scenes/{id}",
            get(scenes::get).put(scenes::update).delete(scenes::delete),
        ),
        ("/api/v1/scenes/{id}/export.glb", get(scenes::export)),
        ("/api/v1/renderengines", get(renderjobs::engines)),
        (
            "/api/v1/renderjobs",
            get(renderjobs::list).post(renderjobs::create),
        ),
        ("/api/v1/renderjobs/{id}", get(renderjobs::get)),
        ("/api/v1/renderjobs/{id}/cancel", post(renderjobs::cancel)),
        ("/api/v1/events", get(super::live::server_sent_events)),
        ("/api/v1/{*rest}", any(not_found)),
    ]
}

/// The largest request body `path` takes: a model upload is large, everything else is small.
pub fn body_limit(path: &str, default: usize) -> usize {
    match path {
        "/api/v1/assets" => assets::BODY_LIMIT,
        _ => default,
    }
}

/// Anything under `/api/v1` no route matches.
async fn not_found() -> Problem {
    missing()
}

fn missing() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "There is no such API route; the routes are listed at /api/v1/docs.",
    )
}

use problem::Problem;

/// The document, made once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
});

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// The event stream: server-sent events, the same feed as the pages'.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    responses((status = 200, content_type = "text/event-stream",
        description = "First a `snapshot` event (totals, jobs in flight, the front of the queue), then one event per change: `job`, `product`, `totals`, `paused`, `provider_paused` ... Each `data` is JSON. A client that falls behind gets a fresh snapshot.")))]
#[allow(dead_code)] // Only describes the route; `live::server_sent_events` answers it.
async fn events() {}

static SWAGGER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
    LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")));

/// The page's files are relative to it, so it lives at `/api/v1/docs/`.
async fn docs_redirect() -> Redirect {
    Redirect::permanent("/api/v1/docs/")
}

async fn docs_index() -> Response {
    docs("")
}

async fn docs_file(Path(file): Path<String>) -> Response {
    docs(&file)
}

/// Swagger UI's files (built into the binary: the crate's `vendored` copy).
fn docs(file: &str) -> Response {
    let config = SWAGGER.clone();
    match utoipa_swagger_ui::serve(file, config) {
        Ok(Some(found)) => {
            let mut response = found.bytes.into_owned().into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&found.content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            if found.gzpipped {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => missing().into_response(),
        Err(e) => {
            tracing::error!("Swagger UI file {file}: {e}");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The API docs page could not be served; /api/v1/openapi.json has the same.",
            )
            .into_response()
        }
    }
}

/// A download's file name: the words of `name` (ASCII letters and digits) joined by dashes, or
/// `fallback` when it has none.
fn file_name(name: &str, fallback: &str, ext: &str) -> String {
    let stem: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    match stem.is_empty() {
        true => format!("{fallback}.{ext}"),
        false => format!("{}.{ext}", stem.join("-")),
    }
}

/// `body` as a file to save, named after `name`.
fn attachment(
    mime: &'static str,
    name: &str,
    fallback: &str,
    ext: &str,
    body: Vec<u8>,
) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name(name, fallback, ext)
    );
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn download_names_keep_letters_and_digits() {
        assert_eq!(
            super::file_name("Vellith Greyshade", "character", "pdf"),
            "vellith-greyshade.pdf"
        );
        assert_eq!(
            super::file_name("Ünna O'Dell (copy)", "character", "json"),
            "nna-o-dell-copy.json"
        );
        assert_eq!(super::file_name("…", "scene", "glb"), "scene.glb");
    }
}
