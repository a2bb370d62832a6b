//! What a gallery tile shows of its product: the thumbnail; for a video its looping preview
//! while pointed at or focused, and its length; for a sound its waveform, its length and a
//! button that plays it in place.

use leptos::prelude::*;

use crate::dto::{ProductKind, TileDto};

/// `0:05`, `1:02:03`.
pub fn clock(ms: i32) -> String {
    let secs = (ms.max(0) as f64 / 1000.0).round() as i64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[component]
pub fn TileMedia(
    tile: TileDto,
    large: bool,
    /// The grid's keyboard focus is on this tile (a video then plays its preview too).
    #[prop(into)]
    focused: Signal<bool>,
) -> impl IntoView {
    let color = tile.color.clone().unwrap_or_else(|| "#d6d3d1".into());
    let pointed = RwSignal::new(false);
    let video = tile.kind == Some(ProductKind::Video);
    let (thumb, preview) = (tile.thumb_url(large), tile.preview_url());
    // The preview is fetched only when wanted: a page of 100 videos costs 100 posters.
    let src = move || {
        if video && (pointed.get() || focused.get()) {
            preview.clone()
        } else {
            thumb.clone()
        }
    };
    let playing = RwSignal::new(false);
    let audio_ref = NodeRef::<leptos::html::Audio>::new();
    let toggle = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        if let Some(audio) = audio_ref.get() {
            if audio.paused() {
                let _ = audio.play();
            } else {
                let _ = audio.pause();
            }
        }
    };
    view! {
        <img
            src=src
            alt=tile.prompt.clone()
            loading="lazy"
            decoding="async"
            class="h-full w-full object-cover"
            style=format!("background-color:{color}")
            data-product-id=tile.id
            data-kind=tile.kind.map(|k| if k == ProductKind::Video { "video" } else if k == ProductKind::Audio { "audio" } else { "other" })
            on:mouseenter=move |_| pointed.set(true)
            on:mouseleave=move |_| pointed.set(false)
        />
        {tile.duration_ms.map(|ms| view! {
            <span class="pointer-events-none absolute right-1 top-1 rounded bg-black/70 px-1 text-xs text-white" data-tile-duration>
                <span class="sr-only">{if video { "video, " } else { "sound, " }}</span>
                {clock(ms)}
            </span>
        })}
        {(tile.kind == Some(ProductKind::Audio)).then(|| view! {
            <audio node_ref=audio_ref preload="none" src=tile.original_url()
                on:play=move |_| playing.set(true)
                on:pause=move |_| playing.set(false)
                on:ended=move |_| playing.set(false)></audio>
            <button type="button" tabindex="-1"
                class="absolute bottom-1 right-1 rounded-full bg-indigo-600 px-2 py-1 text-xs font-medium text-white shadow hover:bg-indigo-700"
                aria-label=move || if playing.get() { "Pause the sound" } else { "Play the sound" }
                aria-pressed=move || playing.get().to_string()
                data-tile-play
                on:click=toggle>
                <span aria-hidden="true">{move || if playing.get() { "❚❚" } else { "▶" }}</span>
            </button>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_a_clock() {
        assert_eq!(clock(5_000), "0:05");
        assert_eq!(clock(4_600), "0:05");
        assert_eq!(clock(62_000), "1:02");
        assert_eq!(clock(3_723_000), "1:02:03");
    }
}
