//! The gallery's date scrubber: one button per month (in the view's order) that jumps to the
//! month's first product. Its column is laid out from the start, so the grid beside it keeps its
//! columns when the months arrive.

use leptos::prelude::*;

use crate::dto::MonthDto;

#[component]
pub fn MonthScrubber(
    #[prop(into)] months: Signal<Vec<MonthDto>>,
    /// Called with the position of the month's first product.
    on_jump: Callback<usize>,
) -> impl IntoView {
    view! {
        <div class="w-28 shrink-0">
            {move || {
                let months = months.get();
                (!months.is_empty()).then(|| {
                    let mut start = 0usize;
                    let marks: Vec<(String, usize)> = months
                        .iter()
                        .map(|m| {
                            let at = start;
                            start += m.count.max(0) as usize;
                            (format!("{} {}", month_name(m.month), m.year), at)
                        })
                        .collect();
                    view! {
                        <nav aria-label="Jump to a month" class="max-h-[70vh] overflow-y-auto text-xs" data-scrubber>
                            <ul class="space-y-0.5">
                                {marks.into_iter().map(|(label, at)| view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="w-full rounded px-2 py-0.5 text-left text-stone-700 hover:bg-stone-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-stone-300 dark:hover:bg-stone-800"
                                            on:click=move |_| on_jump.run(at)
                                        >
                                            {label}
                                        </button>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </nav>
                    }
                })
            }}
        </div>
    }
}

fn month_name(month: u32) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .get(month.saturating_sub(1) as usize)
    .copied()
    .unwrap_or("?")
}
