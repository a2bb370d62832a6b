//! Small helpers around server actions, shared by the pages' forms.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of an action's last run, if it failed.
pub fn last_error<T>(action: ServerAction<T>) -> impl Fn() -> Option<AppError> + Copy + Send + Sync
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    move || action.value().get().and_then(|r| r.err())
}

/// Runs `then` each time the action completes successfully.
pub fn on_success<T>(action: ServerAction<T>, then: impl Fn() + 'static)
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            then();
        }
    });
}
