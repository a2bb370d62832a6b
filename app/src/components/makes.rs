//! What the Generate form makes (pictures, video or sound), which narrows the providers and
//! models it offers; and the product a sound is scored for ("Score" on a product's page).

use leptos::prelude::*;

use crate::components::button;
use crate::dto::{ProductDto, ProductKind, ProviderDto};

/// The kinds the form makes, with their labels.
pub const KINDS: [(ProductKind, &str, &str); 3] = [
    (ProductKind::Image, "image", "Pictures"),
    (ProductKind::Video, "video", "Video"),
    (ProductKind::Audio, "audio", "Sound"),
];

/// `?make=video` as a kind (pictures otherwise).
pub fn parse(text: Option<&str>) -> ProductKind {
    KINDS
        .iter()
        .find(|(_, word, _)| Some(*word) == text)
        .map_or(ProductKind::Image, |(kind, _, _)| *kind)
}

/// What one result is called (`images`, `clips`, `sounds`).
pub fn noun(kind: ProductKind, plural: bool) -> &'static str {
    match (kind, plural) {
        (ProductKind::Video, false) => "clip",
        (ProductKind::Video, true) => "clips",
        (ProductKind::Audio, false) => "sound",
        (ProductKind::Audio, true) => "sounds",
        (_, false) => "image",
        (_, true) => "images",
    }
}

/// Whether `provider` has a model that makes `kind`.
pub fn offers(provider: &ProviderDto, kind: ProductKind) -> bool {
    provider.models.iter().any(|m| m.makes == kind)
}

/// The model to switch to: the first of provider `here` that makes `kind` (and takes a picture
/// when `with_image`), else the first such of any provider.
pub fn first_model(
    providers: &[ProviderDto],
    here: &str,
    kind: ProductKind,
    with_image: bool,
) -> Option<(String, String)> {
    let fits = |p: &ProviderDto| {
        p.models
            .iter()
            .find(|m| m.makes == kind && (!with_image || m.takes_image))
            .map(|m| (p.id.clone(), m.id.clone()))
    };
    providers
        .iter()
        .find(|p| p.id == here)
        .and_then(fits)
        .or_else(|| providers.iter().find_map(fits))
}

/// The three kinds as radio buttons.
#[component]
pub fn MakesPicker(makes: RwSignal<ProductKind>) -> impl IntoView {
    view! {
        <fieldset>
            <legend class="text-sm font-medium">"Make"</legend>
            <div class="mt-1 flex flex-wrap gap-4 text-sm">
                {KINDS.into_iter().map(|(kind, word, label)| view! {
                    <label class="flex items-center gap-1">
                        <input type="radio" name="makes" value=word
                            prop:checked=move || makes.get() == kind
                            on:change=move |_| makes.set(kind) />
                        {label}
                    </label>
                }).collect_view()}
            </div>
        </fieldset>
    }
}

/// The product a sound is made for, with a way to drop it.
#[component]
pub fn ScoredFor(made_from: RwSignal<Option<ProductDto>>) -> impl IntoView {
    move || {
        made_from.get().map(|p| {
            view! {
                <div class="flex items-center gap-3 rounded-md border border-stone-200 p-2 text-sm dark:border-stone-700" data-made-for>
                    <img src=p.thumb_url.clone() alt="" class="h-12 w-12 rounded object-cover" />
                    <p class="flex-1">
                        "Scoring "
                        <a href=format!("/products/{}", p.id) class="text-indigo-700 underline dark:text-indigo-300">
                            {format!("#{}", p.id)}
                        </a>
                        ": the sound is linked to it as its parent."
                    </p>
                    <button type="button" class=button::secondary() on:click=move |_| made_from.set(None)>
                        "Not for it"
                    </button>
                </div>
            }
        })
    }
}
