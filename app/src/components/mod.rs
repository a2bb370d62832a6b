//! The small set of shared pieces pages are built from.

pub mod actions;
pub mod api_tokens;
pub mod asset_info;
pub mod backup_panel;
pub mod batch;
pub mod batch_settings;
pub mod character_portraits;
pub mod character_sheet;
pub mod costs;
pub mod field;
pub mod gallery_bulk;
pub mod gallery_grid;
pub mod highlight;
pub mod import_panel;
pub mod input_image;
pub mod job;
pub mod loras;
pub mod makes;
pub mod media_tile;
pub mod model_browser;
pub mod model_ref;
pub mod month_scrubber;
pub mod pager;
pub mod params;
pub mod pauses;
pub mod pipeline_run;
pub mod pipeline_steps;
pub mod player;
pub mod plugins_panel;
pub mod preview;
pub mod project_select;
pub mod queue_batch;
pub mod scene_nodes;
pub mod scene_renders;
pub mod session_panel;
pub mod settings_banner;
pub mod shell;
pub mod storage_panel;
pub mod templates;
pub mod toasts;
pub mod viewer;

/// Button styles. Every action is a real `<button>` (or `<a>` for navigation) with a visible
/// focus ring; these keep them looking the same everywhere.
pub mod button {
    const BASE: &str = "inline-flex items-center justify-center gap-1 rounded-md px-3 py-1.5 text-sm font-medium \
        focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 \
        disabled:cursor-not-allowed disabled:opacity-50";

    pub fn primary() -> String {
        format!("{BASE} bg-indigo-600 text-white hover:bg-indigo-500")
    }

    pub fn secondary() -> String {
        format!(
            "{BASE} border border-stone-300 bg-white text-stone-800 hover:bg-stone-100 \
             dark:border-stone-700 dark:bg-stone-900 dark:text-stone-100 dark:hover:bg-stone-800"
        )
    }

    pub fn danger() -> String {
        format!("{BASE} bg-red-600 text-white hover:bg-red-500")
    }
}
