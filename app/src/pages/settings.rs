//! The Settings page: each hosted provider's key (where the one in force comes from, add,
//! replace, remove, test) and its rate limits; prices; plugin providers; storage; backups;
//! sign-in; API tokens.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::{
    data_key_location, provider_keys, RemoveProviderKey, SetProviderKey, SetRateLimits,
    TestProviderKey,
};
use crate::components::actions::{last_error, on_success};
use crate::components::api_tokens::ApiTokensPanel;
use crate::components::backup_panel::BackupPanel;
use crate::components::button;
use crate::components::costs::PriceTable;
use crate::components::field::{FieldError, FormMessage, INPUT, LABEL};
use crate::components::plugins_panel::PluginsPanel;
use crate::components::session_panel::SessionPanel;
use crate::components::storage_panel::StoragePanel;
use crate::dto::{KeySourceDto, ProviderKeyDto};

/// Bumped after every change, so the list re-reads; and the provider whose key last passed
/// its test (kept here, as the list re-reads and its rows start afresh).
#[derive(Clone, Copy)]
struct KeysChanged(RwSignal<u32>, RwSignal<Option<String>>);

#[component]
pub fn SettingsPage() -> impl IntoView {
    let changed = KeysChanged(RwSignal::new(0), RwSignal::new(None));
    provide_context(changed);
    let keys = Resource::new(move || changed.0.get(), |_| provider_keys());
    let data_key = Resource::new(|| (), |_| data_key_location());
    view! {
        <Title text="Settings" />
        <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
        <section aria-labelledby="keys-heading" class="mt-6">
            <h2 id="keys-heading" class="text-lg font-semibold">"Provider keys"</h2>
            <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                "Keys set here are tested with the provider, then encrypted with a data key that is \
                 never in the database. They are never shown again: only their last four \
                 characters. A key given on the command line, in the environment or in \
                 art-factory.toml takes precedence over one set here."
            </p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    data_key.await.ok().map(|origin| view! {
                        <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400" data-testid="data-key">
                            "The data key is kept in " {origin} "."
                        </p>
                    })
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-stone-500">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) => view! {
                            <ul class="mt-4 space-y-4" aria-label="Providers">
                                {list.into_iter().map(|p| view! { <ProviderKey status=p /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(e) => view! { <div class="mt-4"><FormMessage message=Signal::stored(Some(e.to_string())) /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <PriceTable />
        <PluginsPanel />
        <StoragePanel />
        <BackupPanel />
        <SessionPanel />
        <ApiTokensPanel />
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// What the person reads about the key in force.
fn describe(status: &ProviderKeyDto) -> String {
    let hint = status
        .hint
        .as_deref()
        .map(|h| format!(" (…{h})"))
        .unwrap_or_default();
    match &status.in_force {
        KeySourceDto::None => "Not set: this provider is off until a key is added.".into(),
        KeySourceDto::Configured { origin } => {
            format!("Set from {origin}{hint}, which overrides a key set here. Change it there.")
        }
        KeySourceDto::App => {
            let verified = status
                .stored
                .as_ref()
                .and_then(|s| s.verified_at)
                .map(|at| format!(", last verified {}", when(at)))
                .unwrap_or_default();
            format!("Set in app{hint}{verified}.")
        }
    }
}

#[component]
fn ProviderKey(status: ProviderKeyDto) -> impl IntoView {
    let changed = expect_context::<KeysChanged>();
    let set = ServerAction::<SetProviderKey>::new();
    let remove = ServerAction::<RemoveProviderKey>::new();
    let test = ServerAction::<TestProviderKey>::new();
    let form = NodeRef::<html::Form>::new();
    let notify = move || changed.0.update(|n| *n += 1);
    on_success(set, move || {
        if let Some(form) = form.get_untracked() {
            form.reset();
        }
        changed.1.set(None);
        notify();
    });
    on_success(remove, move || {
        changed.1.set(None);
        notify();
    });
    let tested_provider = status.provider.clone();
    on_success(test, move || {
        changed.1.set(Some(tested_provider.clone()));
        notify();
    });
    let set_error = last_error(set);
    let other_error = move || {
        last_error(remove)()
            .or_else(last_error(test))
            .map(|e| e.to_string())
    };
    let this = status.provider.clone();
    let tested = move || changed.1.with(|t| t.as_deref() == Some(this.as_str()));

    let provider = status.provider.clone();
    let name = status.name.clone();
    let input_id = format!("key-{provider}");
    let error_id = format!("{input_id}-error");
    let in_force = status.in_force.clone();
    let stored = status.stored.clone();
    let has_key = in_force != KeySourceDto::None;
    let paused = status
        .paused_until
        .filter(|until| *until > chrono::Utc::now())
        .map(|until| format!("Rate limited by {} until {}.", name, when(until)));
    let (p_test, p_remove, p_form) = (provider.clone(), provider.clone(), provider.clone());
    let for_name = format!(" for {name}");
    let (for_test, for_remove) = (for_name.clone(), for_name.clone());
    let label = if stored.is_some() {
        "Replace key"
    } else {
        "Key"
    };

    view! {
        <li
            class="rounded-lg border border-stone-200 bg-white p-4 shadow-sm dark:border-stone-800 dark:bg-stone-900"
            data-provider=provider
        >
            <h3 class="font-medium">{name.clone()}</h3>
            <p class="mt-1 text-sm" data-key-status>{describe(&status)}</p>
            {stored.as_ref().filter(|s| !s.readable).map(|_| view! {
                <p class="mt-1 text-sm text-amber-700 dark:text-amber-400">
                    "The key stored here cannot be read with this machine's data key (credentials.key was replaced or lost). Set it again."
                </p>
            })}
            <RateLimitsForm status=status.clone() />
            {paused.map(|text| view! { <p class="mt-1 text-sm text-amber-700 dark:text-amber-400">{text}</p> })}
            <ActionForm action=set node_ref=form>
                <input type="hidden" name="provider" value=p_form />
                <div class="mt-3 flex flex-wrap items-start gap-2">
                    <div class="min-w-64 flex-1">
                        <label for=input_id.clone() class=LABEL>
                            {label}<span class="sr-only">{for_name}</span>
                        </label>
                        <input
                            id=input_id.clone()
                            name="key"
                            type="password"
                            autocomplete="off"
                            spellcheck="false"
                            class=INPUT
                            aria-invalid=move || set_error().and_then(|e| e.for_field("key")).is_some().to_string()
                            aria-describedby=error_id.clone()
                        />
                        <FieldError id=error_id.clone() error=Signal::derive(move || set_error().and_then(|e| e.for_field("key"))) />
                    </div>
                    <button type="submit" class=format!("{} mt-6", button::primary()) disabled=move || set.pending().get()>
                        {move || if set.pending().get() { "Testing…" } else { "Test and save" }}
                    </button>
                </div>
            </ActionForm>
            <div class="flex flex-wrap items-center gap-2">
                {has_key.then(|| view! {
                    <button
                        type="button"
                        class=button::secondary()
                        disabled=move || test.pending().get()
                        on:click=move |_| { test.dispatch(TestProviderKey { provider: p_test.clone() }); }
                    >
                        "Test key"<span class="sr-only">{for_test}</span>
                    </button>
                })}
                {stored.is_some().then(|| view! {
                    <button
                        type="button"
                        class=button::secondary()
                        on:click=move |_| { remove.dispatch(RemoveProviderKey { provider: p_remove.clone() }); }
                    >
                        "Remove stored key"<span class="sr-only">{for_remove}</span>
                    </button>
                })}
                <p class="text-sm text-green-700 dark:text-green-400" aria-live="polite">
                    {move || tested().then_some("The key works.")}
                </p>
            </div>
            <FormMessage message=Signal::derive(other_error) />
        </li>
    }
}

/// A provider's rates: editable here unless flags or the config file set them.
#[component]
fn RateLimitsForm(status: ProviderKeyDto) -> impl IntoView {
    let changed = expect_context::<KeysChanged>();
    let save = ServerAction::<SetRateLimits>::new();
    on_success(save, move || changed.0.update(|n| *n += 1));
    let error = last_error(save);
    let shown = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let describe = |n: Option<u32>| n.map_or("no limit".to_string(), |n| format!("{n} a minute"));
    let summary = format!(
        "Rate limits: submissions {}, other calls {}; {} at once.",
        describe(status.submissions_per_minute),
        describe(status.calls_per_minute),
        status
            .concurrency
            .map_or("the default number of jobs".to_string(), |n| format!(
                "{n} jobs"
            ))
    );
    if status.limits_configured {
        return view! {
            <p class="mt-1 text-xs text-stone-600 dark:text-stone-400">
                {summary}" Set by flags or art-factory.toml."
            </p>
        }
        .into_any();
    }
    let (sub_id, calls_id, at_once_id) = (
        format!("limits-submissions-{}", status.provider),
        format!("limits-calls-{}", status.provider),
        format!("limits-concurrency-{}", status.provider),
    );
    let error_id = format!("limits-error-{}", status.provider);
    view! {
        <details class="mt-1 text-xs">
            <summary class="cursor-pointer text-stone-600 dark:text-stone-400">
                {summary}<span class="sr-only">{format!(" Change for {}", status.name)}</span>
            </summary>
            <ActionForm action=save>
                <input type="hidden" name="provider" value=status.provider.clone() />
                <div class="mt-2 flex flex-wrap items-end gap-2">
                    <div>
                        <label for=sub_id.clone() class=LABEL>"Submissions a minute"</label>
                        <input id=sub_id name="submissions" inputmode="numeric" class=INPUT
                            value=shown(status.submissions_per_minute) aria-describedby=error_id.clone() />
                    </div>
                    <div>
                        <label for=calls_id.clone() class=LABEL>"Other calls a minute"</label>
                        <input id=calls_id name="calls" inputmode="numeric" class=INPUT
                            value=shown(status.calls_per_minute) aria-describedby=error_id.clone() />
                    </div>
                    <div>
                        <label for=at_once_id.clone() class=LABEL>"Jobs at once"</label>
                        <input id=at_once_id name="concurrency" inputmode="numeric" class=INPUT
                            placeholder="default" value=shown(status.concurrency)
                            aria-describedby=error_id.clone() />
                    </div>
                    <button type="submit" class=button::secondary()>"Save limits"</button>
                </div>
                <FieldError id=error_id error=Signal::derive(move || {
                    error().and_then(|e| {
                        e.for_field("submissions")
                            .or_else(|| e.for_field("calls"))
                            .or_else(|| e.for_field("concurrency"))
                    })
                }) />
            </ActionForm>
        </details>
    }
    .into_any()
}
