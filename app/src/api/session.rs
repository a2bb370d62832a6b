//! The sign-in state Settings shows: whether the studio has a password (signing in and out
//! themselves are plain forms to `/login` and `/logout`, which work without the app's script).

use leptos::prelude::*;

use crate::error::AppError;

/// Whether the server has a password, so Settings can offer signing out.
#[server(endpoint = "session/password-mode")]
pub async fn password_mode() -> Result<bool, AppError> {
    super::respond(
        async move { Ok(use_context::<crate::PasswordMode>().is_some_and(|mode| mode.0)) },
    )
    .await
}
