//! `/tags`: every tag with its count; rename one everywhere, or merge it into another by giving
//! it that one's name.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::gallery::{list_tags, RenameTag};
use crate::components::actions::{last_error, on_success};
use crate::components::button;
use crate::components::field::{FormMessage, INPUT};

#[component]
pub fn TagsPage() -> impl IntoView {
    let rename = ServerAction::<RenameTag>::new();
    let changed = RwSignal::new(0u32);
    on_success(rename, move || changed.update(|n| *n += 1));
    let error = last_error(rename);
    let tags = Resource::new(move || changed.get(), |_| list_tags());
    view! {
        <Title text="Tags" />
        <h1 class="text-2xl font-semibold tracking-tight">"Tags"</h1>
        <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
            "Rename a tag on every product at once. Giving it the name of another tag merges the two: every product of either keeps one tag."
        </p>
        <FormMessage message=Signal::derive(move || error().map(|e| e.to_string())) />
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tags.await {
                    Ok(list) if list.is_empty() => view! { <p class="mt-4 text-sm">"No tags yet: press T on a product in the gallery."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="mt-4 divide-y divide-stone-200 dark:divide-stone-800" aria-label="Tags">
                            {list.into_iter().map(|(name, count)| {
                                let id = format!("rename-{}", name.to_lowercase().replace(|c: char| !c.is_alphanumeric(), "-"));
                                let href = format!("/gallery?tag={}", crate::components::viewer::urlencode(&name));
                                let (label, button_text, shown, tag_attr) = (
                                    format!("New name for {name}"),
                                    format!("Rename {name}"),
                                    name.clone(),
                                    name.clone(),
                                );
                                view! {
                                    <li class="flex flex-wrap items-center gap-3 py-2" data-tag=tag_attr>
                                        <a class="min-w-40 text-indigo-700 underline dark:text-indigo-300" href=href>{shown}</a>
                                        <span class="text-sm text-stone-500">{format!("{count} products")}</span>
                                        <ActionForm action=rename attr:class="flex items-center gap-2">
                                            <input type="hidden" name="from" value=name />
                                            <label for=id.clone() class="sr-only">{label}</label>
                                            <input id=id name="to" class=INPUT placeholder="new name" />
                                            <button type="submit" class=button::secondary()>{button_text}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <FormMessage message=Signal::stored(Some(e.to_string())) /> }.into_any(),
                }
            })}
        </Transition>
    }
}
