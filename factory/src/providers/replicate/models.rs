//! The models Replicate is offered with before any is loaded by reference: FLUX schnell and dev
//! through the official-model endpoint, with their parameters.

use super::{ID, NAME};
use crate::providers::{Capability, ModelInfo, ParamSpec, ProviderInfo};

/// The aspect ratios FLUX takes on Replicate.
pub const ASPECT_RATIOS: &[&str] = &[
    "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21",
];

pub(super) fn info() -> ProviderInfo {
    let aspect_ratio = || {
        ParamSpec::choice(
            "aspect_ratio",
            "Aspect ratio",
            "Width to height of the image.",
            "1:1",
            ASPECT_RATIOS,
        )
    };
    let output_format = || {
        ParamSpec::choice(
            "output_format",
            "Format",
            "PNG keeps the generation settings inside the file; WebP and JPEG are smaller.",
            "png",
            &["png", "webp", "jpg"],
        )
    };
    let quality = || {
        ParamSpec::integer(
            "output_quality",
            "Quality",
            "For WebP and JPEG: 0 to 100.",
            80,
            0,
            100,
            1,
        )
    };
    let megapixels = || {
        ParamSpec::choice(
            "megapixels",
            "Megapixels",
            "About how many million pixels the image has.",
            "1",
            &["1", "0.25"],
        )
    };
    let go_fast = || {
        ParamSpec::boolean(
            "go_fast",
            "Go fast",
            "A faster, quantised model; slightly different images.",
            true,
        )
    };
    let safety = || {
        ParamSpec::boolean(
            "disable_safety_checker",
            "Disable the safety checker",
            "Replicate's checker fails images it flags unless this is on.",
            false,
        )
    };
    ProviderInfo {
        id: ID.into(),
        name: NAME.into(),
        description: "Models hosted on Replicate. Needs an API token; each prediction is billed \
                      by Replicate."
            .into(),
        remote_queue: true,
        any_model: true,
        models: vec![
            ModelInfo {
                id: "black-forest-labs/flux-schnell".into(),
                name: "FLUX.1 [schnell]".into(),
                description: "Fast FLUX, 1–4 steps.".into(),
                capability: Capability::TextToImage,
                negative_prompt: false,
                image_input: None,
                image_strength: None,
                networks: false,
                params: vec![
                    aspect_ratio(),
                    ParamSpec::integer(
                        "num_inference_steps",
                        "Steps",
                        "More steps refine detail; 4 is the default.",
                        4,
                        1,
                        4,
                        1,
                    ),
                    megapixels(),
                    output_format(),
                    quality(),
                    go_fast(),
                    safety(),
                ],
            },
            ModelInfo {
                id: "black-forest-labs/flux-dev".into(),
                name: "FLUX.1 [dev]".into(),
                description: "Higher-quality FLUX; 28 steps by default. Can start from an input image."
                    .into(),
                capability: Capability::TextToImage,
                negative_prompt: false,
                image_input: Some("image".into()),
                image_strength: Some("prompt_strength".into()),
                networks: false,
                params: vec![
                    aspect_ratio(),
                    ParamSpec::float(
                        "prompt_strength",
                        "Strength",
                        "With an input image: how far to move away from it (0 keeps it, 1 ignores it).",
                        0.8,
                        0.0,
                        1.0,
                    ),
                    ParamSpec::integer(
                        "num_inference_steps",
                        "Steps",
                        "More steps refine detail.",
                        28,
                        1,
                        50,
                        1,
                    ),
                    ParamSpec::float(
                        "guidance",
                        "Guidance",
                        "How closely to follow the prompt.",
                        3.0,
                        0.0,
                        10.0,
                    ),
                    megapixels(),
                    output_format(),
                    quality(),
                    go_fast(),
                    safety(),
                ],
            },
        ],
    }
}
