//! Server functions, one module per noun.

pub mod assets;
pub mod backups;
pub mod catalog;
pub mod characters;
pub mod costs;
pub mod gallery;
pub mod generate;
pub mod library;
pub mod pipelines;
pub mod plugins;
pub mod products;
pub mod projects;
pub mod queue;
pub mod scenes;
pub mod session;
pub mod settings;
pub mod storage;
pub mod tokens;

/// The engine, from the context the server provides for every request.
#[cfg(feature = "ssr")]
pub(crate) fn engine() -> Result<factory::Engine, crate::error::AppError> {
    leptos::prelude::use_context::<factory::Engine>().ok_or_else(|| {
        crate::error::AppError::Internal("The server was started without its engine.".into())
    })
}

/// Finishes a server function: on failure, answers with the error's status code (422 for bad
/// input, 404, 409 ...) instead of a blanket 500, so clients and logs can tell them apart.
#[cfg(feature = "ssr")]
pub(crate) async fn respond<T>(
    work: impl std::future::Future<Output = Result<T, crate::error::AppError>>,
) -> Result<T, crate::error::AppError> {
    let result = work.await;
    if let Err(e) = &result {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(code) = leptos::server_fn::http_export::StatusCode::from_u16(e.status()) {
                response.set_status(code);
            }
        }
    }
    result
}
