//! Settings → Backups: back the whole library up now (the app keeps serving), see the last
//! backup, and how to restore one.

use leptos::prelude::*;

use crate::api::backups::{backup_now, last_backup};
use crate::components::button;
use crate::dto::BackupDto;

fn describe(b: &BackupDto) -> String {
    format!(
        "Last backup: {} · {:.1} MB · {}",
        b.made_at.format("%-d %b %Y, %H:%M UTC"),
        b.bytes as f64 / 1_048_576.0,
        b.path
    )
}

#[component]
pub fn BackupPanel() -> impl IntoView {
    let made = RwSignal::new(0u32);
    let last = LocalResource::new(move || {
        made.track();
        last_backup()
    });
    let run = Action::new(move |_: &()| async move {
        let result = backup_now().await;
        made.update(|n| *n += 1);
        result
    });
    let status = move || match run.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <section aria-labelledby="backups-heading" class="mt-8" data-backups>
            <h2 id="backups-heading" class="text-lg font-semibold">"Backups"</h2>
            <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                "One archive with the database (taken while the app keeps working) and every picture,                  each file checked by its SHA-256. Provider keys are not in it: set them again after a                  restore. To restore: art-factory restore FILE --data-dir NEW_DIR (an empty directory),                  then start the app with --data-dir NEW_DIR."
            </p>
            <div class="mt-3 flex flex-wrap items-center gap-3 text-sm">
                <button type="button" class=button::primary() disabled=move || run.pending().get()
                    on:click=move |_| { run.dispatch(()); }>
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
        </section>
    }
}
