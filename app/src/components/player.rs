//! A sound's player (its waveform, which seeks where it is clicked, over the browser's
//! controls) and the keys of a video's or sound's page: Space plays and pauses, ← → seek five seconds, `,`
//! and `.` step one frame back and forward (pausing), Home goes to the start. They act on the
//! page's one `<video>` or `<audio>` (`#product-media`), and not while typing in a field.

use leptos::prelude::*;

/// The id of the player the keys drive.
pub const MEDIA_ID: &str = "product-media";
/// How far an arrow seeks.
#[cfg(feature = "hydrate")]
const SEEK_SECS: f64 = 5.0;

/// Listens for the player's keys; `fps` is the video's frame rate (a frame step), if it has one.
#[component]
pub fn PlayerKeys(fps: Option<f64>) -> impl IntoView {
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let typing = ev.target().is_some_and(|t| {
                t.dyn_ref::<web_sys::HtmlInputElement>().is_some()
                    || t.dyn_ref::<web_sys::HtmlTextAreaElement>().is_some()
                    || t.dyn_ref::<web_sys::HtmlSelectElement>().is_some()
            });
            if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let Some(media) = document()
                .get_element_by_id(MEDIA_ID)
                .and_then(|e| e.dyn_into::<web_sys::HtmlMediaElement>().ok())
            else {
                return;
            };
            // The player's own controls already answer Space and the arrows when focused.
            let on_player = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|e| e.id() == MEDIA_ID);
            let now = media.current_time();
            let frame = 1.0 / fps.filter(|f| *f > 0.0).unwrap_or(25.0);
            let handled = match ev.key().as_str() {
                " " if !on_player => {
                    if media.paused() {
                        let _ = media.play();
                    } else {
                        let _ = media.pause();
                    }
                    true
                }
                "ArrowRight" if !on_player => {
                    media.set_current_time(now + SEEK_SECS);
                    true
                }
                "ArrowLeft" if !on_player => {
                    media.set_current_time((now - SEEK_SECS).max(0.0));
                    true
                }
                "." => {
                    let _ = media.pause();
                    media.set_current_time(now + frame);
                    true
                }
                "," => {
                    let _ = media.pause();
                    media.set_current_time((now - frame).max(0.0));
                    true
                }
                "Home" => {
                    media.set_current_time(0.0);
                    true
                }
                _ => false,
            };
            if handled {
                ev.prevent_default();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, fps);
    });
    on_cleanup(move || keys.remove());
}

/// A sound: its waveform with a playhead (a slider: click or drag a point to play from there),
/// and the browser's controls for the original.
#[component]
pub fn SoundPlayer(src: String, waveform: String, label: String) -> impl IntoView {
    // Where the sound is and how long it is, in seconds, as the player reports them.
    let now = RwSignal::new(0.0f64);
    let length = RwSignal::new(0.0f64);
    let audio = NodeRef::<leptos::html::Audio>::new();
    let report = move || {
        if let Some(a) = audio.get() {
            now.set(a.current_time());
            let d = a.duration();
            if d.is_finite() {
                length.set(d);
            }
        }
    };
    let seek = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(area) = ev
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let rect = area.get_bounding_client_rect();
            let at = ((ev.client_x() as f64 - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0);
            if let Some(a) = audio.get() {
                let d = a.duration();
                if d.is_finite() {
                    a.set_current_time(at * d);
                    now.set(at * d);
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let percent = move || {
        let d = length.get();
        if d > 0.0 {
            now.get() / d * 100.0
        } else {
            0.0
        }
    };
    let clock = |secs: f64| crate::components::media_tile::clock((secs * 1000.0) as i32);
    view! {
        <div role="slider" tabindex="0" class="relative cursor-pointer select-none focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500"
            aria-label=format!("Position in {label}")
            aria-valuemin="0"
            aria-valuemax=move || format!("{:.1}", length.get())
            aria-valuenow=move || format!("{:.1}", now.get())
            aria-valuetext=move || format!("{} of {}", clock(now.get()), clock(length.get()))
            data-waveform
            on:click=seek>
            <img src=waveform alt="" class="w-full rounded" width="768" height="192" />
            <div class="pointer-events-none absolute inset-y-0 w-0.5 bg-amber-400" style=move || format!("left: {:.2}%", percent()) data-playhead></div>
        </div>
        <audio id=MEDIA_ID node_ref=audio controls preload="metadata" class="mt-2 w-full" src=src aria-label=format!("{label} (sound)")
            on:timeupdate=move |_| report()
            on:loadedmetadata=move |_| report()
            on:seeked=move |_| report()></audio>
    }
}
