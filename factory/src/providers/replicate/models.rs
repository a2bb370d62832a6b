//! The models Replicate is offered with before any is loaded by reference, all run through the
//! official-model endpoint with their parameters: FLUX schnell and dev for pictures, MiniMax
//! Video-01 and Kling 2.1 for video, Lyria 2 for music and MiniMax Speech-02 for speech.

use super::{ID, NAME};
use crate::providers::{Capability, InputNames, ModelInfo, ParamSpec, ProviderInfo};

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
                inputs: Default::default(),
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
                inputs: Default::default(),
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
            ModelInfo {
                id: "minimax/video-01".into(),
                name: "MiniMax Video-01 (Hailuo)".into(),
                description: "Six-second 720p clips at 25 fps from a prompt; can start from a \
                              picture (its first frame)."
                    .into(),
                capability: Capability::TextToVideo,
                negative_prompt: false,
                image_input: Some("first_frame_image".into()),
                image_strength: None,
                networks: false,
                inputs: InputNames::unseeded("prompt"),
                params: vec![ParamSpec::boolean(
                    "prompt_optimizer",
                    "Improve the prompt",
                    "Lets MiniMax rewrite the prompt for better motion.",
                    true,
                )],
            },
            ModelInfo {
                id: "kwaivgi/kling-v2.1".into(),
                name: "Kling 2.1 image-to-video".into(),
                description: "Brings a picture to life in five or ten seconds.".into(),
                capability: Capability::ImageToVideo,
                negative_prompt: true,
                image_input: Some("start_image".into()),
                image_strength: None,
                networks: false,
                inputs: InputNames::unseeded("prompt"),
                params: vec![
                    ParamSpec::choice(
                        "duration",
                        "Duration (s)",
                        "How long the clip lasts.",
                        "5",
                        &["5", "10"],
                    ),
                    ParamSpec::choice(
                        "mode",
                        "Mode",
                        "standard is 720p, pro 1080p (and dearer).",
                        "standard",
                        &["standard", "pro"],
                    ),
                ],
            },
            ModelInfo {
                id: "google/lyria-2".into(),
                name: "Lyria 2".into(),
                description: "30 seconds of 48 kHz stereo music from a description.".into(),
                capability: Capability::TextToAudio,
                negative_prompt: true,
                image_input: None,
                image_strength: None,
                networks: false,
                inputs: InputNames::default(),
                params: Vec::new(),
            },
            ModelInfo {
                id: "minimax/speech-02-turbo".into(),
                name: "MiniMax Speech-02 Turbo".into(),
                description: "Speaks the prompt, in one of MiniMax's voices.".into(),
                capability: Capability::TextToSpeech,
                negative_prompt: false,
                image_input: None,
                image_strength: None,
                networks: false,
                inputs: InputNames::unseeded("text"),
                params: vec![
                    ParamSpec::choice(
                        "voice_id",
                        "Voice",
                        "Who speaks.",
                        "Wise_Woman",
                        &[
                            "Wise_Woman",
                            "Friendly_Person",
                            "Inspirational_girl",
                            "Deep_Voice_Man",
                            "Calm_Woman",
                            "Casual_Guy",
                            "Lively_Girl",
                            "Patient_Man",
                            "Young_Knight",
                            "Determined_Man",
                        ],
                    ),
                    ParamSpec::float("speed", "Speed", "1 is normal speed.", 1.0, 0.5, 2.0),
                    ParamSpec::choice(
                        "emotion",
                        "Emotion",
                        "How it is said; auto follows the text.",
                        "auto",
                        &["auto", "neutral", "happy", "sad", "angry", "fearful", "surprised"],
                    ),
                ],
            },
        ],
    }
}
