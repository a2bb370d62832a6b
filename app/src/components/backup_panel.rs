//! Settings → Backups: back the whole library up now (the app keeps serving), with the provider
//! keys sealed under a passphrase when asked; daily backups keeping the last N; the last backup;
//! and how to restore one.

use leptos::prelude::*;

use crate::api::backups::{backup_now, backup_schedule, last_backup, set_backup_schedule};
use crate::components::button;
use crate::components::field::{FieldError, INPUT, LABEL};
use crate::dto::{BackupDto, BackupScheduleDto};

/// The shortest passphrase the server takes (checked there too).
const MIN_PASSPHRASE: usize = 10;

fn describe(b: &BackupDto) -> String {
    format!(
        "Last backup: {} · {:.1} MB · {}",
        b.made_at.format("%-d %b %Y, %H:%M UTC"),
        b.bytes as f64 / 1_048_576.0,
        b.path
    )
}

fn describe_schedule(s: &BackupScheduleDto) -> String {
    match (s.enabled, s.next_due_at) {
        (true, Some(at)) => format!(
            "Daily backups are on, keeping the last {}; the next is due {}.",
            s.keep_last,
            at.format("%-d %b %Y, %H:%M UTC")
        ),
        _ => "Daily backups are off.".into(),
    }
}

/// What the passphrase fields say before anything is sent.
fn passphrase_problem(first: &str, second: &str) -> Option<String> {
    if first.chars().count() < MIN_PASSPHRASE {
        Some(format!(
            "The passphrase needs at least {MIN_PASSPHRASE} characters; a few unrelated words make a good one."
        ))
    } else if first != second {
        Some("The two passphrases differ.".into())
    } else {
        None
    }
}

#[component]
pub fn BackupPanel() -> impl IntoView {
    let made = RwSignal::new(0u32);
    let last = LocalResource::new(move || {
        made.track();
        last_backup()
    });
    let with_keys = RwSignal::new(false);
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let run = Action::new(move |passphrase: &Option<String>| {
        let passphrase = passphrase.clone();
        async move {
            let result = backup_now(passphrase).await;
            made.update(|n| *n += 1);
            if result.is_ok() {
                first.set(String::new());
                second.set(String::new());
            }
            result
        }
    });
    let start = move || {
        if !with_keys.get_untracked() {
            problem.set(None);
            run.dispatch(None);
            return;
        }
        let (a, b) = (first.get_untracked(), second.get_untracked());
        problem.set(passphrase_problem(&a, &b));
        if problem.get_untracked().is_none() {
            run.dispatch(Some(a));
        }
    };
    let status = move || match run.value().get() {
        Some(Err(e)) => Some(e.for_field("passphrase").unwrap_or_else(|| e.to_string())),
        _ => None,
    };
    view! {
        <section aria-labelledby="backups-heading" class="mt-8" data-backups>
            <h2 id="backups-heading" class="text-lg font-semibold">"Backups"</h2>
            <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                "One archive with the database (taken while the app keeps working) and every picture, \
                 each file checked by its SHA-256. Provider keys go in only when you ask, sealed under \
                 a passphrase (Argon2id and XChaCha20-Poly1305); otherwise set them again after a \
                 restore. To restore: art-factory restore FILE --data-dir NEW_DIR [--with-keys] (an \
                 empty directory), then start the app with --data-dir NEW_DIR."
            </p>
            <label class="mt-3 flex items-center gap-2 text-sm">
                <input type="checkbox" class="h-4 w-4" bind:checked=with_keys data-with-keys />
                "Include the provider keys, sealed under a passphrase"
            </label>
            <Show when=move || with_keys.get()>
                <div class="mt-2 grid max-w-md gap-2">
                    <PassphraseInput id="backup-passphrase" label="Passphrase" value=first problem />
                    <PassphraseInput id="backup-passphrase-again" label="The same passphrase again"
                        value=second problem />
                    <FieldError id="backup-passphrase-error".to_string() error=Signal::derive(move || problem.get()) />
                    <p class="text-xs text-stone-600 dark:text-stone-400">
                        "Nobody can open the keys without it, not even this app: keep it somewhere safe."
                    </p>
                </div>
            </Show>
            <div class="mt-3 flex flex-wrap items-center gap-3 text-sm">
                <button type="button" class=button::primary() disabled=move || run.pending().get()
                    on:click=move |_| start()>
                    {move || if run.pending().get() { "Backing up…" } else { "Back up now" }}
                </button>
                <span aria-live="polite" data-last-backup>
                    {move || match last.get() {
                        Some(Ok(Some(b))) => describe(&b),
                        Some(Ok(None)) => "No backup made from the app yet.".into(),
                        Some(Err(e)) => e.to_string(),
                        None => String::new(),
                    }}
                </span>
            </div>
            {move || status().map(|e| view! { <p class="mt-2 text-sm text-red-700 dark:text-red-400" role="alert">{e}</p> })}
            <ScheduleForm />
        </section>
    }
}

/// A new passphrase's input, described by the passphrase fields' shared error.
#[component]
fn PassphraseInput(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class=LABEL>{label}</label>
            <input id=id type="password" autocomplete="new-password" class=INPUT bind:value=value
                aria-invalid=move || problem.get().is_some().to_string()
                aria-describedby="backup-passphrase-error" />
        </div>
    }
}

/// Daily backups on or off, and how many of them to keep.
#[component]
fn ScheduleForm() -> impl IntoView {
    let enabled = RwSignal::new(false);
    let keep = RwSignal::new("7".to_string());
    let shown = RwSignal::new(None::<BackupScheduleDto>);
    let loaded = LocalResource::new(backup_schedule);
    Effect::new(move |_| {
        if let Some(Ok(s)) = loaded.get() {
            enabled.set(s.enabled);
            keep.set(s.keep_last.to_string());
            shown.set(Some(s));
        }
    });
    let error = RwSignal::new(None::<String>);
    let save = Action::new(move |_: &()| async move {
        let Ok(keep_last) = keep.get_untracked().trim().parse::<i32>() else {
            error.set(Some("Keep between 1 and 365 daily backups.".into()));
            return;
        };
        match set_backup_schedule(enabled.get_untracked(), keep_last).await {
            Ok(s) => {
                error.set(None);
                shown.set(Some(s));
            }
            Err(e) => error.set(Some(
                e.for_field("keep_last").unwrap_or_else(|| e.to_string()),
            )),
        }
    });
    view! {
        <form class="mt-4 flex flex-wrap items-end gap-3 text-sm" data-backup-schedule novalidate
            on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <label class="flex items-center gap-2 self-center">
                <input type="checkbox" class="h-4 w-4" bind:checked=enabled />
                "Back up every day"
            </label>
            <div>
                <label for="backup-keep" class=LABEL>"Keep the last"</label>
                <input id="backup-keep" type="number" min="1" max="365" class=INPUT
                    bind:value=keep aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby="backup-keep-error" />
            </div>
            <button type="submit" class=button::secondary() disabled=move || save.pending().get()>
                "Save schedule"
            </button>
            <p class="basis-full" aria-live="polite" data-schedule-status>
                {move || shown.get().map(|s| describe_schedule(&s)).unwrap_or_default()}
                {move || shown.get().and_then(|s| s.last_error).map(|e| format!(" The last scheduled backup failed: {e}"))}
            </p>
            <FieldError id="backup-keep-error".to_string() error=Signal::derive(move || error.get()) />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::passphrase_problem;

    #[test]
    fn the_passphrase_fields_are_checked_before_anything_is_sent() {
        assert!(passphrase_problem("short", "short")
            .unwrap()
            .contains("at least 10"));
        assert!(passphrase_problem("long enough one", "long enough two")
            .unwrap()
            .contains("differ"));
        assert_eq!(
            passphrase_problem("long enough one", "long enough one"),
            None
        );
    }
}
