//! Settings → Storage: bytes per project (originals, thumbnails, the trash's share), emptying
//! the trash, old rejects to the trash after a count, and a check of files against rows that
//! repairs what it can.

use leptos::prelude::*;

use crate::api::storage::{
    check_storage, empty_trash, storage_place, storage_usage, trash_rejected,
};
use crate::components::button;
use crate::dto::StorageCheckDto;

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

fn describe(check: &StorageCheckDto) -> String {
    let mut parts = vec![
        format!("{} files no picture uses", check.orphans),
        format!("{} pictures without thumbnails", check.missing_thumbnails),
        format!(
            "{} pictures whose file is missing",
            check.missing_originals.len()
        ),
    ];
    if check.repaired {
        parts.push(
            "thumbnails made again and unused files moved to trash/orphans where the pictures are kept"
                .into(),
        );
    }
    parts.join(" · ")
}

#[component]
pub fn StoragePanel() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let usage = LocalResource::new(move || {
        changed.track();
        storage_usage()
    });
    let place = LocalResource::new(storage_place);
    let message = RwSignal::new(None::<String>);
    let days = RwSignal::new(30u32);
    let counted = RwSignal::new(None::<i64>);
    let confirm_empty = RwSignal::new(false);
    let report = RwSignal::new(None::<StorageCheckDto>);
    let say = move |text: String| {
        message.set(Some(text));
        changed.update(|n| *n += 1);
    };
    let empty = Action::new(move |_: &()| async move {
        confirm_empty.set(false);
        match empty_trash().await {
            Ok((products, files)) => say(format!(
                "The trash is empty: {products} products and {files} files deleted."
            )),
            Err(e) => say(e.to_string()),
        }
    });
    let count = Action::new(move |dry: &bool| {
        let dry = *dry;
        async move {
            match trash_rejected(days.get_untracked(), dry).await {
                Ok(n) if dry => counted.set(Some(n)),
                Ok(n) => {
                    counted.set(None);
                    say(format!("{n} rejected products went to the trash (restore them from the gallery's trash until it is emptied)."));
                }
                Err(e) => say(e.to_string()),
            }
        }
    });
    let check = Action::new(move |repair: &bool| {
        let repair = *repair;
        async move {
            match check_storage(repair).await {
                Ok(r) => {
                    report.set(Some(r));
                    changed.update(|n| *n += 1);
                }
                Err(e) => say(e.to_string()),
            }
        }
    });
    view! {
        <section aria-labelledby="storage-heading" class="mt-8" data-storage>
            <h2 id="storage-heading" class="text-lg font-semibold">"Storage"</h2>
            <p class="mt-1 text-sm text-stone-600 dark:text-stone-400" data-storage-place>
                {move || place.get().and_then(Result::ok).map(|p| format!("Pictures are kept in {p}."))}
            </p>
            <table class="mt-3 w-full max-w-3xl text-left text-sm">
                <caption class="sr-only">"Bytes per project"</caption>
                <thead>
                    <tr class="border-b border-stone-200 dark:border-stone-800">
                        <th scope="col" class="py-1 pr-3">"Project"</th>
                        <th scope="col" class="py-1 pr-3 text-right">"Pictures"</th>
                        <th scope="col" class="py-1 pr-3 text-right">"Originals"</th>
                        <th scope="col" class="py-1 pr-3 text-right">"Thumbnails"</th>
                        <th scope="col" class="py-1 text-right">"In the trash"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || usage.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|u| view! {
                        <tr class="border-b border-stone-100 dark:border-stone-900" data-usage-project=u.project_id>
                            <th scope="row" class="py-1 pr-3 font-normal">{u.name}</th>
                            <td class="py-1 pr-3 text-right">{u.products}</td>
                            <td class="py-1 pr-3 text-right">{mb(u.originals)}</td>
                            <td class="py-1 pr-3 text-right">{mb(u.thumbnails)}</td>
                            <td class="py-1 text-right">{mb(u.trash)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <div class="mt-4 flex flex-wrap items-center gap-3 text-sm">
                <Show when=move || confirm_empty.get() fallback=move || view! {
                    <button type="button" class=button::secondary() on:click=move |_| confirm_empty.set(true)>"Empty the trash…"</button>
                }>
                    <span>"Delete everything in the trash for good?"</span>
                    <button type="button" class=button::primary() on:click=move |_| { empty.dispatch(()); }>"Yes, empty it"</button>
                    <button type="button" class=button::secondary() on:click=move |_| confirm_empty.set(false)>"Keep it"</button>
                </Show>
            </div>
            <div class="mt-4 flex flex-wrap items-end gap-3 text-sm">
                <div>
                    <label for="reject-days" class="block font-medium">"Rejected pictures older than (days)"</label>
                    <input id="reject-days" type="number" min="1" class="mt-1 w-24 rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                        prop:value=move || days.get().to_string()
                        on:input=move |ev| { days.set(event_target_value(&ev).parse().unwrap_or(30)); counted.set(None); } />
                </div>
                <button type="button" class=button::secondary() on:click=move |_| { count.dispatch(true); }>"Count them"</button>
                {move || counted.get().map(|n| view! {
                    <span data-reject-count>{format!("{n} rejected pictures are older than {} days.", days.get())}</span>
                    {(n > 0).then(|| view! {
                        <button type="button" class=button::primary() on:click=move |_| { count.dispatch(false); }>"Send them to the trash"</button>
                    })}
                })}
            </div>
            <div class="mt-4 flex flex-wrap items-center gap-3 text-sm">
                <button type="button" class=button::secondary() on:click=move |_| { check.dispatch(false); }>"Check files"</button>
                {move || report.get().map(|r| {
                    let fixable = !r.repaired && (r.orphans > 0 || r.missing_thumbnails > 0);
                    view! {
                        <span data-storage-check>{describe(&r)}</span>
                        {fixable.then(|| view! {
                            <button type="button" class=button::primary() on:click=move |_| { check.dispatch(true); }>"Repair"</button>
                        })}
                    }
                })}
            </div>
            <p aria-live="polite" class="mt-2 text-sm" data-storage-message>{move || message.get()}</p>
        </section>
    }
}
