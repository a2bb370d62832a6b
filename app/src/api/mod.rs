//! Server functions, one module per noun.

pub mod projects;

/// The engine, from the context the server provides for every request.
#[cfg(feature = "ssr")]
pub(crate) fn engine() -> Result<factory::Engine, crate::error::AppError> {
    leptos::prelude::use_context::<factory::Engine>().ok_or_else(|| {
        crate::error::AppError::Internal("The server was started without its engine.".into())
    })
}
