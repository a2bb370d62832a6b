//! The keys of a video's or sound's page: Space plays and pauses, ← → seek five seconds, `,`
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
