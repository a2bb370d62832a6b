//! Settings → Sign-in: with a password set, sign out here or on every browser at once; without
//! one, how to set it (the studio then answers only on this machine).

use leptos::prelude::*;

use crate::api::session::password_mode;
use crate::components::button;

#[component]
pub fn SessionPanel() -> impl IntoView {
    let mode = LocalResource::new(password_mode);
    view! {
        <section aria-labelledby="session-heading" class="mt-8" data-session>
            <h2 id="session-heading" class="text-lg font-semibold">"Sign-in"</h2>
            {move || match mode.get() {
                Some(Ok(true)) => view! {
                    <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                        "This studio has a password. Signing out everywhere ends every browser's \
                         session, this one included (change the password with art-factory set-password)."
                    </p>
                    <div class="mt-3 flex flex-wrap gap-3">
                        <form method="post" action="/logout">
                            <button type="submit" class=button::secondary()>"Sign out"</button>
                        </form>
                        <form method="post" action="/logout">
                            <input type="hidden" name="everywhere" value="1" />
                            <button type="submit" class=button::danger()>"Sign out everywhere"</button>
                        </form>
                    </div>
                }.into_any(),
                Some(Ok(false)) => view! {
                    <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                        "No password is set, so the studio answers only on this machine (127.0.0.1). \
                         To open it from elsewhere: art-factory set-password, then start it with \
                         --listen 0.0.0.0:3000 (behind a TLS proxy: add --behind-proxy)."
                    </p>
                }.into_any(),
                Some(Err(e)) => view! { <p class="mt-1 text-sm" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
