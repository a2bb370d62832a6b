//! A list read from the server a page at a time by cursor: the cursors visited (to go back),
//! the last page loaded (kept while the next loads, so nothing jumps), and the buttons.

use std::future::Future;

use leptos::prelude::*;

use crate::components::button;
use crate::error::AppError;
use crate::live::use_live;

/// A page: its rows and the cursor of the next, if any.
pub type Page<T> = (Vec<T>, Option<String>);

pub struct Pager<T: Send + Sync + 'static> {
    /// The cursor of each page visited; the last is the page shown (`None`: the first).
    cursors: RwSignal<Vec<Option<String>>>,
    loaded: Memo<Option<Page<T>>>,
}

impl<T: Send + Sync + 'static> Clone for Pager<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Pager<T> {}

impl<T: Clone + PartialEq + Send + Sync + 'static> Pager<T> {
    /// Loads with `fetch(cursor)`, again whenever a signal `fetch` reads changes. A failed load
    /// keeps the last page and says why in a toast.
    pub fn new<Fut>(fetch: impl Fn(Option<String>) -> Fut + 'static) -> Self
    where
        Fut: Future<Output = Result<Page<T>, AppError>> + 'static,
    {
        let live = use_live();
        let cursors = RwSignal::new(vec![None::<String>]);
        let page = LocalResource::new(move || fetch(cursors.with(|c| c.last().cloned().flatten())));
        let loaded = Memo::new(move |previous: Option<&Option<Page<T>>>| match page.get() {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                live.toast(e.to_string());
                previous.cloned().flatten()
            }
            None => previous.cloned().flatten(),
        });
        Self { cursors, loaded }
    }

    pub fn rows(&self) -> Vec<T> {
        self.loaded
            .with(|l| l.as_ref().map(|(rows, _)| rows.clone()).unwrap_or_default())
    }

    /// Whether any page has arrived yet.
    pub fn is_loaded(&self) -> bool {
        self.loaded.with(Option::is_some)
    }

    pub fn is_empty(&self) -> bool {
        self.loaded
            .with(|l| l.as_ref().is_none_or(|(rows, _)| rows.is_empty()))
    }

    pub fn loaded(&self) -> Memo<Option<Page<T>>> {
        self.loaded
    }

    fn next(&self) -> Option<String> {
        self.loaded
            .with(|l| l.as_ref().and_then(|(_, n)| n.clone()))
    }

    fn number(&self) -> usize {
        self.cursors.with(Vec::len)
    }

    /// Back to the first page (after the filter changed, say).
    pub fn restart(&self) {
        self.cursors.set(vec![None]);
    }
}

/// Previous / "Page n" / Next, shown only when there is more than one page.
#[component]
pub fn PagerNav<T: Clone + PartialEq + Send + Sync + 'static>(
    pager: Pager<T>,
    /// Names the list in the buttons' labels: "Batch 3: previous jobs".
    label: String,
    /// What a page holds, for the labels: "jobs", "batches".
    rows: &'static str,
) -> impl IntoView {
    let (previous, next) = (
        format!("{label}: previous {rows}"),
        format!("{label}: next {rows}"),
    );
    view! {
        <Show when=move || { pager.number() > 1 || pager.next().is_some() }>
            <nav class="flex items-center gap-3 text-sm" aria-label=format!("{label}: pages")>
                <button type="button" class=button::secondary() disabled=move || pager.number() <= 1
                    aria-label=previous.clone()
                    on:click=move |_| pager.cursors.update(|c| { if c.len() > 1 { c.pop(); } })>"Previous"</button>
                <span>{move || format!("Page {}", pager.number())}</span>
                <button type="button" class=button::secondary() disabled=move || pager.next().is_none()
                    aria-label=next.clone()
                    on:click=move |_| { if let Some(n) = pager.next() { pager.cursors.update(|c| c.push(Some(n))); } }>"Next"</button>
            </nav>
        </Show>
    }
}
