//! The app shell: header with navigation, and the page area.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::live::use_live;

/// Pages listed in the navigation. Only pages that work are listed.
const NAV: &[(&str, &str)] = &[
    ("/", "Projects"),
    ("/generate", "Generate"),
    ("/gallery", "Gallery"),
    ("/queue", "Queue"),
    ("/pipelines", "Pipelines"),
    ("/characters", "Characters"),
    ("/assets", "3D assets"),
    ("/scenes", "Scenes"),
    ("/wildcards", "Wildcards"),
    ("/settings", "Settings"),
];

#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let live = use_live();
    let indicator = move || {
        let active = live.totals.get().active();
        match (live.paused.get(), active) {
            (true, n) => format!("Paused · {n} waiting"),
            (false, 0) => "Queue idle".to_string(),
            (false, n) => format!("{n} in queue"),
        }
    };
    view! {
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-stone-900"
        >
            "Skip to content"
        </a>
        <header class="print:hidden border-b border-stone-200 bg-white/80 backdrop-blur dark:border-stone-800 dark:bg-stone-900/80">
            <div class="mx-auto flex max-w-5xl items-center gap-6 px-4 py-3">
                <a href="/" class="flex items-center gap-2 font-semibold tracking-tight">
                    <span aria-hidden="true" class="inline-block h-5 w-5 rounded bg-gradient-to-br from-indigo-500 via-fuchsia-500 to-amber-400"></span>
                    "Art Factory"
                </a>
                <nav aria-label="Main">
                    <ul class="flex gap-1 text-sm">
                        {NAV
                            .iter()
                            .map(|(href, label)| {
                                view! {
                                    <li>
                                        <A
                                            href=*href
                                            exact=true
                                            attr:class="rounded-md px-3 py-1.5 text-stone-600 hover:bg-stone-100 hover:text-stone-900 aria-[current=page]:bg-stone-100 aria-[current=page]:text-stone-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-stone-300 dark:hover:bg-stone-800 dark:hover:text-white dark:aria-[current=page]:bg-stone-800 dark:aria-[current=page]:text-white"
                                        >
                                            {*label}
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <a
                    href="/queue"
                    class="ml-auto rounded-full border border-stone-300 px-3 py-1 text-xs text-stone-700 hover:bg-stone-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-stone-700 dark:text-stone-300 dark:hover:bg-stone-800"
                    aria-live="polite"
                    data-queue-indicator
                >
                    {indicator}
                </a>
            </div>
        </header>
        <main id="main" class="mx-auto max-w-5xl px-4 py-8">
            {children()}
        </main>
    }
}
