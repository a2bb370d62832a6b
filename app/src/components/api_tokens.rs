//! Settings → API tokens: make a token for a script (named, read-only or full access, shown
//! once), see when each was last used, revoke one (refused from its very next request).

use leptos::prelude::*;

use crate::api::tokens::{create_api_token, list_api_tokens, revoke_api_token};
use crate::components::button;
use crate::components::field::{FieldError, INPUT, LABEL};
use crate::dto::{ApiTokenDto, TokenScope};

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

#[component]
pub fn ApiTokensPanel() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let tokens = LocalResource::new(move || {
        changed.track();
        list_api_tokens()
    });
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(TokenScope::ReadOnly);
    let create = Action::new(move |(name, scope): &(String, TokenScope)| {
        let (name, scope) = (name.clone(), *scope);
        async move {
            let made = create_api_token(name, scope).await;
            changed.update(|n| *n += 1);
            made
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
        }
    });
    let name_error = Signal::derive(move || match create.value().get() {
        Some(Err(e)) => Some(e.for_field("name").unwrap_or_else(|| e.to_string())),
        _ => None,
    });
    view! {
        <section aria-labelledby="tokens-heading" class="mt-8" data-api-tokens>
            <h2 id="tokens-heading" class="text-lg font-semibold">"API tokens"</h2>
            <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                "Scripts and other tools use the REST API (" <a class="underline" href="/api/v1/docs/">"/api/v1/docs"</a>
                ") with a token: Authorization: Bearer aft_…. A read-only token may list and download; \
                 a full-access one may also launch, cancel and change. A token is shown once, when made, \
                 and kept only as a hash. docs/api-example.sh launches a batch and downloads it with curl."
            </p>
            <form class="mt-3 flex flex-wrap items-end gap-3"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch((name.get_untracked(), scope.get_untracked()));
                }>
                <div class="w-72">
                    <label for="token-name" class=LABEL>"Name"</label>
                    <input id="token-name" type="text" class=INPUT autocomplete="off"
                        placeholder="render script on the NAS"
                        aria-invalid=move || name_error.get().is_some().to_string()
                        aria-describedby="token-name-error"
                        bind:value=name />
                </div>
                <div>
                    <label for="token-scope" class=LABEL>"Access"</label>
                    <select id="token-scope" class=INPUT
                        on:change=move |ev| scope.set(match event_target_value(&ev).as_str() {
                            "full" => TokenScope::Full,
                            _ => TokenScope::ReadOnly,
                        })>
                        <option value="read_only" selected=move || scope.get() == TokenScope::ReadOnly>"Read-only"</option>
                        <option value="full" selected=move || scope.get() == TokenScope::Full>"Full access"</option>
                    </select>
                </div>
                <button type="submit" class=button::primary() disabled=move || create.pending().get()>
                    "Make token"
                </button>
            </form>
            <FieldError id="token-name-error".to_string() error=name_error />
            {move || match create.value().get() {
                Some(Ok(made)) => Some(view! {
                    <div class="mt-3 max-w-2xl rounded-md border border-amber-400 bg-amber-50 p-3 text-sm dark:border-amber-600 dark:bg-amber-950"
                        role="status" data-new-token>
                        <label for="new-token" class="font-medium">
                            "Token “" {made.token.name.clone()} "” — copy it now: it is not shown again."
                        </label>
                        <input id="new-token" type="text" readonly class=format!("{INPUT} font-mono")
                            value=made.secret.clone() on:focus=move |ev| {
                                #[cfg(feature = "hydrate")]
                                {
                                    use wasm_bindgen::JsCast;
                                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                        input.select();
                                    }
                                }
                                #[cfg(not(feature = "hydrate"))]
                                let _ = ev;
                            } />
                    </div>
                }),
                _ => None,
            }}
            {move || match tokens.get() {
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="mt-3 text-sm text-stone-600 dark:text-stone-400">"No API tokens yet."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="mt-4 w-full max-w-3xl text-left text-sm" data-token-list>
                        <caption class="sr-only">"API tokens"</caption>
                        <thead>
                            <tr class="border-b border-stone-200 dark:border-stone-700">
                                <th scope="col" class="py-1 pr-3 font-medium">"Name"</th>
                                <th scope="col" class="py-1 pr-3 font-medium">"Access"</th>
                                <th scope="col" class="py-1 pr-3 font-medium">"Ends in"</th>
                                <th scope="col" class="py-1 pr-3 font-medium">"Made"</th>
                                <th scope="col" class="py-1 pr-3 font-medium">"Last used"</th>
                                <th scope="col" class="py-1"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|t| view! { <TokenRow token=t changed /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Some(Err(e)) => view! { <p class="mt-3 text-sm" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}

#[component]
fn TokenRow(token: ApiTokenDto, changed: RwSignal<u32>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let revoke = Action::new(move |id: &i64| {
        let id = *id;
        async move {
            let done = revoke_api_token(id).await;
            changed.update(|n| *n += 1);
            done
        }
    });
    let id = token.id;
    let name = token.name.clone();
    view! {
        <tr class="border-b border-stone-100 dark:border-stone-800" data-token=token.name.clone()>
            <td class="py-2 pr-3">{token.name.clone()}</td>
            <td class="py-2 pr-3">{token.scope.label()}</td>
            <td class="py-2 pr-3 font-mono">"…" {token.hint.clone()}</td>
            <td class="py-2 pr-3">{when(token.created_at)}</td>
            <td class="py-2 pr-3">{token.last_used_at.map(when).unwrap_or_else(|| "Never".into())}</td>
            <td class="py-2 text-right">
                <Show when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class=button::secondary() on:click=move |_| confirming.set(true)>
                            "Revoke"
                        </button>
                    }>
                    <button type="button" class=button::danger() on:click=move |_| { revoke.dispatch(id); }>
                        {format!("Revoke “{name}” now")}
                    </button>
                    " "
                    <button type="button" class=button::secondary() on:click=move |_| confirming.set(false)>
                        "Keep"
                    </button>
                </Show>
                {move || match revoke.value().get() {
                    Some(Err(e)) => Some(view! { <p class="text-sm" role="alert">{e.to_string()}</p> }),
                    _ => None,
                }}
            </td>
        </tr>
    }
}
