//! Importing pictures from other tools on the gallery page: files or a folder dropped on the
//! page or picked, sent to `/imports/{project}` a few at a time, with files done of the total,
//! the rate, the current file, a Cancel button and, at the end, what was not imported and why.
//! Running it again skips what is in, so a cancelled import resumes.

use leptos::prelude::*;

use crate::api::projects::list_projects;
use crate::components::button;
use crate::components::job::ProgressBar;

/// Files sent at once.
#[cfg(feature = "hydrate")]
const PARALLEL: usize = 3;

/// Where an import is, as the panel shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportState {
    pub total: usize,
    pub done: usize,
    pub imported: usize,
    pub skipped: usize,
    /// Each file not imported, with the reason.
    pub failed: Vec<(String, String)>,
    pub current: String,
    pub started_ms: f64,
    pub now_ms: f64,
    pub running: bool,
    pub cancelled: bool,
    /// The project imported into.
    pub project: Option<i64>,
}

impl ImportState {
    fn rate(&self) -> f64 {
        let seconds = ((self.now_ms - self.started_ms) / 1000.0).max(0.001);
        self.done as f64 / seconds
    }

    fn summary(&self) -> String {
        format!(
            "{} of {} files · {:.1} per second · {} imported, {} already in, {} not imported",
            self.done,
            self.total,
            self.rate(),
            self.imported,
            self.skipped,
            self.failed.len()
        )
    }
}

#[component]
pub fn ImportPanel(
    /// The gallery's project filter, the default project to import into.
    #[prop(into)]
    preferred: Signal<Option<i64>>,
    /// Called when an import ends (the gallery shows what arrived).
    on_done: Callback<()>,
) -> impl IntoView {
    let projects = LocalResource::new(|| list_projects(false));
    let chosen = RwSignal::new(None::<i64>);
    let project = move || {
        chosen.get().or_else(|| preferred.get()).or_else(|| {
            projects
                .get()
                .and_then(Result::ok)
                .and_then(|p| p.first().map(|p| p.id))
        })
    };
    let state = RwSignal::new(ImportState::default());
    let cancel = move |_| state.update(|s| s.cancelled = true);
    // Files picked, or dropped anywhere on the page (a folder is walked).
    #[cfg(feature = "hydrate")]
    let (picked, dragging) = {
        let start = move |files: Vec<(web_sys::File, String)>| {
            if let Some(project) = project() {
                browser::start(project, files, state, on_done);
            }
        };
        let picked = move |ev: leptos::ev::Event| {
            use wasm_bindgen::JsCast;
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                start(browser::file_list(input.files()));
                input.set_value("");
            }
        };
        let dragging = RwSignal::new(false);
        let over = window_event_listener(leptos::ev::dragover, move |ev| {
            ev.prevent_default();
            dragging.set(true);
        });
        let left = window_event_listener(leptos::ev::dragleave, move |ev| {
            // Leaving the window, not moving between elements.
            if ev.related_target().is_none() {
                dragging.set(false);
            }
        });
        let dropped = window_event_listener(leptos::ev::drop, move |ev| {
            ev.prevent_default();
            dragging.set(false);
            if let Some(transfer) = ev.data_transfer() {
                leptos::task::spawn_local(async move {
                    start(browser::dropped_files(transfer).await);
                });
            }
        });
        on_cleanup(move || {
            over.remove();
            left.remove();
            dropped.remove();
        });
        (picked, dragging)
    };
    #[cfg(not(feature = "hydrate"))]
    let (picked, dragging) = (
        move |_: leptos::ev::Event| {
            let _ = on_done;
        },
        RwSignal::new(false),
    );
    let busy = move || state.with(|s| s.running);

    view! {
        <section class="mt-4 rounded-lg border border-dashed border-stone-300 p-3 text-sm dark:border-stone-700" aria-labelledby="import-heading" data-import>
            <div class="flex flex-wrap items-center gap-3">
                <h2 id="import-heading" class="font-medium">"Import"</h2>
                <label for="import-project">"into"</label>
                <select id="import-project" class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                    on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>
                    {move || projects.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|p| {
                        let id = p.id;
                        view! { <option value=id.to_string() selected=move || project() == Some(id)>{p.name}</option> }
                    }).collect_view()}
                </select>
                <label class=move || format!("{} cursor-pointer", button::secondary()) class:opacity-50=busy>
                    "Choose files…"
                    <input type="file" multiple accept="image/png,image/jpeg,image/webp" class="sr-only" data-import-files
                        disabled=busy on:change=picked />
                </label>
                <label class=move || format!("{} cursor-pointer", button::secondary()) class:opacity-50=busy>
                    "Choose a folder…"
                    <input type="file" multiple prop:webkitdirectory=true class="sr-only" disabled=busy on:change=picked />
                </label>
                <span class="text-stone-600 dark:text-stone-400">"or drop pictures or a folder on the page. PNG, JPEG and WebP from AUTOMATIC1111, ComfyUI, InvokeAI, Fooocus, NovelAI and SwarmUI keep their prompts and settings."</span>
            </div>
            <Show when=move || dragging.get()>
                <p class="mt-2 rounded bg-indigo-50 px-2 py-1 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200" data-drop-hint>"Drop to import into the project chosen here."</p>
            </Show>
            <Show when=move || state.with(|s| s.total > 0)>
                <div class="mt-3 space-y-1" data-import-progress>
                    <ProgressBar value=Signal::derive(move || state.with(|s| s.done as f32 / s.total.max(1) as f32))
                        label=Signal::derive(move || state.with(ImportState::summary)) />
                    <p aria-live="polite" data-import-summary>{move || state.with(|s| {
                        let mut line = s.summary();
                        if s.cancelled && !s.running { line.push_str(" · stopped; import the same files again to go on"); }
                        line
                    })}</p>
                    <Show when=busy>
                        <p class="truncate text-xs text-stone-600 dark:text-stone-400">{move || state.with(|s| format!("Reading {}", s.current))}</p>
                        <button type="button" class=button::secondary() on:click=cancel>"Cancel import"</button>
                    </Show>
                    <Show when=move || state.with(|s| !s.failed.is_empty())>
                        <details>
                            <summary>{move || state.with(|s| format!("{} not imported", s.failed.len()))}</summary>
                            <ul class="mt-1 list-disc pl-5" data-import-failures>
                                {move || state.with(|s| s.failed.iter().map(|(name, why)| view! { <li>{format!("{name}: {why}")}</li> }).collect_view())}
                            </ul>
                        </details>
                    </Show>
                </div>
            </Show>
        </section>
    }
}

#[cfg(feature = "hydrate")]
pub mod browser {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    use super::{ImportState, PARALLEL};
    use crate::dto::ImportOutcomeDto;

    fn now() -> f64 {
        js_sys::Date::now()
    }

    /// The files of a file list, each with its name (its path within a picked folder).
    pub fn file_list(list: Option<web_sys::FileList>) -> Vec<(web_sys::File, String)> {
        let Some(list) = list else { return Vec::new() };
        (0..list.length())
            .filter_map(|i| list.get(i))
            .map(|f| {
                let relative = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .filter(|p| !p.is_empty());
                let name = relative.unwrap_or_else(|| f.name());
                (f, name)
            })
            .collect()
    }

    /// Sends `files` to the project, [`PARALLEL`] at a time, updating `state`.
    pub fn start(
        project: i64,
        files: Vec<(web_sys::File, String)>,
        state: RwSignal<ImportState>,
        on_done: Callback<()>,
    ) {
        if files.is_empty() || state.get_untracked().running {
            return;
        }
        state.set(ImportState {
            total: files.len(),
            started_ms: now(),
            now_ms: now(),
            running: true,
            project: Some(project),
            ..ImportState::default()
        });
        let queue = Rc::new(RefCell::new(VecDeque::from(files)));
        let workers = Rc::new(RefCell::new(PARALLEL));
        for _ in 0..PARALLEL {
            let (queue, workers) = (queue.clone(), workers.clone());
            leptos::task::spawn_local(async move {
                loop {
                    if state.with_untracked(|s| s.cancelled) {
                        break;
                    }
                    let Some((file, name)) = queue.borrow_mut().pop_front() else {
                        break;
                    };
                    state.update(|s| s.current = name.clone());
                    let outcome = send(project, &file, &name).await;
                    state.update(|s| {
                        s.done += 1;
                        s.now_ms = now();
                        match outcome {
                            Ok(ImportOutcomeDto::Imported { .. }) => s.imported += 1,
                            Ok(ImportOutcomeDto::AlreadyIn { .. }) => s.skipped += 1,
                            Ok(ImportOutcomeDto::Failed { reason }) => {
                                s.failed.push((name, reason))
                            }
                            Err(reason) => s.failed.push((name, reason)),
                        }
                    });
                }
                *workers.borrow_mut() -= 1;
                if *workers.borrow() == 0 {
                    state.update(|s| {
                        s.running = false;
                        s.now_ms = now();
                    });
                    on_done.run(());
                }
            });
        }
    }

    async fn send(
        project: i64,
        file: &web_sys::File,
        name: &str,
    ) -> Result<ImportOutcomeDto, String> {
        let url = format!(
            "/imports/{project}?name={}&modified={}",
            crate::components::viewer::urlencode(name),
            file.last_modified() as i64
        );
        crate::components::input_image::post_body(&url, file).await
    }

    /// The files of a drop: plain files, and every file inside dropped folders (walked).
    pub async fn dropped_files(transfer: web_sys::DataTransfer) -> Vec<(web_sys::File, String)> {
        let items = transfer.items();
        let entries: Vec<web_sys::FileSystemEntry> = (0..items.length())
            .filter_map(|i| items.get(i))
            .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
            .collect();
        if entries.is_empty() {
            return file_list(transfer.files());
        }
        let mut files = Vec::new();
        let mut stack = entries;
        while let Some(entry) = stack.pop() {
            if entry.is_directory() {
                let dir: web_sys::FileSystemDirectoryEntry = entry.unchecked_into();
                let reader = dir.create_reader();
                // A reader answers in batches until it answers none.
                loop {
                    let batch = read_entries(&reader).await;
                    if batch.is_empty() {
                        break;
                    }
                    stack.extend(batch.into_iter().filter(|e| !e.name().starts_with('.')));
                }
            } else if entry.is_file() {
                let path = entry.full_path().trim_start_matches('/').to_string();
                let file_entry: web_sys::FileSystemFileEntry = entry.unchecked_into();
                if let Some(file) = entry_file(&file_entry).await {
                    files.push((file, path));
                }
            }
        }
        files.sort_by(|a, b| a.1.cmp(&b.1));
        files
    }

    async fn read_entries(
        reader: &web_sys::FileSystemDirectoryReader,
    ) -> Vec<web_sys::FileSystemEntry> {
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            let _ = reader.read_entries_with_callback_and_callback(&resolve, &reject);
        });
        match JsFuture::from(promise).await {
            Ok(list) => js_sys::Array::from(&list)
                .iter()
                .filter_map(|e| e.dyn_into().ok())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn entry_file(entry: &web_sys::FileSystemFileEntry) -> Option<web_sys::File> {
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            entry.file_with_callback_and_callback(&resolve, &reject);
        });
        JsFuture::from(promise).await.ok()?.dyn_into().ok()
    }
}
