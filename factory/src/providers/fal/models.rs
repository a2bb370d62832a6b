//! The models fal is offered with: FLUX for pictures, Kling and LTX for video, Stable Audio
//! and Kokoro for sound, with their parameters as fal's schemas give them.

use super::{ID, NAME};
use crate::providers::{Capability, InputNames, ModelInfo, ParamSpec, ProviderInfo};

/// The sizes fal's image models accept by name.
pub const IMAGE_SIZES: &[&str] = &[
    "square_hd",
    "square",
    "portrait_4_3",
    "portrait_16_9",
    "landscape_4_3",
    "landscape_16_9",
];

pub(super) fn info() -> ProviderInfo {
    let image_size = || {
        ParamSpec::choice(
            "image_size",
            "Size",
            "square_hd is 1024×1024, square 512×512, portrait_4_3 768×1024, portrait_16_9 576×1024, \
             landscape_4_3 1024×768, landscape_16_9 1024×576.",
            "square_hd",
            IMAGE_SIZES,
        )
    };
    let output_format = || {
        ParamSpec::choice(
            "output_format",
            "Format",
            "PNG keeps the generation settings inside the file; JPEG is smaller.",
            "png",
            &["png", "jpeg"],
        )
    };
    let safety = || {
        ParamSpec::boolean(
            "enable_safety_checker",
            "Safety checker",
            "fal blanks images its checker flags.",
            true,
        )
    };
    ProviderInfo {
        id: ID.into(),
        name: NAME.into(),
        description: "Hosted models on fal.ai's queue: FLUX pictures, Kling and LTX video, Stable \
                      Audio and Kokoro sound. Needs a fal key; each result is billed by fal."
            .into(),
        remote_queue: true,
        any_model: false,
        models: vec![
            ModelInfo {
                id: "fal-ai/flux/schnell".into(),
                name: "FLUX.1 [schnell]".into(),
                description: "Fast FLUX, good in 1–4 steps.".into(),
                capability: Capability::TextToImage,
                negative_prompt: false,
                image_input: None,
                image_strength: None,
                networks: false,
                inputs: Default::default(),
                params: vec![
                    image_size(),
                    ParamSpec::integer(
                        "num_inference_steps",
                        "Steps",
                        "More steps refine detail; 4 is the default.",
                        4,
                        1,
                        12,
                        1,
                    ),
                    output_format(),
                    safety(),
                ],
            },
            ModelInfo {
                id: "fal-ai/flux/dev".into(),
                name: "FLUX.1 [dev]".into(),
                description: "Higher-quality FLUX; slower, 28 steps by default.".into(),
                capability: Capability::TextToImage,
                negative_prompt: false,
                image_input: None,
                image_strength: None,
                networks: false,
                inputs: Default::default(),
                params: vec![
                    image_size(),
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
                        "guidance_scale",
                        "Guidance",
                        "How closely to follow the prompt.",
                        3.5,
                        1.0,
                        20.0,
                    ),
                    output_format(),
                    safety(),
                ],
            },
            ModelInfo {
                id: "fal-ai/flux/dev/image-to-image".into(),
                name: "FLUX.1 [dev] image-to-image".into(),
                description: "Redraws an input image after the prompt.".into(),
                capability: Capability::ImageToImage,
                negative_prompt: false,
                image_input: Some("image_url".into()),
                image_strength: Some("strength".into()),
                networks: false,
                inputs: Default::default(),
                params: vec![
                    ParamSpec::float(
                        "strength",
                        "Strength",
                        "How far to move away from the input: 0 keeps it, 1 ignores it.",
                        0.95,
                        0.01,
                        1.0,
                    ),
                    ParamSpec::integer(
                        "num_inference_steps",
                        "Steps",
                        "More steps refine detail.",
                        40,
                        10,
                        50,
                        1,
                    ),
                    ParamSpec::float(
                        "guidance_scale",
                        "Guidance",
                        "How closely to follow the prompt.",
                        3.5,
                        1.0,
                        20.0,
                    ),
                    output_format(),
                    safety(),
                ],
            },
            kling(Capability::TextToVideo),
            kling(Capability::ImageToVideo),
            ltx(Capability::TextToVideo),
            ltx(Capability::ImageToVideo),
            ModelInfo {
                id: "fal-ai/stable-audio".into(),
                name: "Stable Audio Open".into(),
                description: "Music and sound effects from a description, up to 47 seconds.".into(),
                capability: Capability::TextToAudio,
                negative_prompt: false,
                image_input: None,
                image_strength: None,
                networks: false,
                inputs: InputNames::unseeded("prompt"),
                params: vec![
                    ParamSpec::integer(
                        "seconds_total",
                        "Duration (s)",
                        "How long the sound lasts, in seconds.",
                        30,
                        1,
                        47,
                        1,
                    ),
                    ParamSpec::integer(
                        "steps",
                        "Steps",
                        "More steps refine the sound; 100 is the default.",
                        100,
                        1,
                        1000,
                        1,
                    ),
                ],
            },
            ModelInfo {
                id: "fal-ai/kokoro/american-english".into(),
                name: "Kokoro (American English)".into(),
                description: "Speaks the prompt in one of Kokoro's voices.".into(),
                capability: Capability::TextToSpeech,
                negative_prompt: false,
                image_input: None,
                image_strength: None,
                networks: false,
                inputs: InputNames::unseeded("prompt"),
                params: vec![
                    ParamSpec::choice(
                        "voice",
                        "Voice",
                        "Who speaks: af_ voices are women, am_ voices men.",
                        "af_heart",
                        KOKORO_VOICES,
                    ),
                    ParamSpec::float("speed", "Speed", "1 is normal speed.", 1.0, 0.1, 5.0),
                ],
            },
        ],
    }
}

/// Kokoro's American English voices.
const KOKORO_VOICES: &[&str] = &[
    "af_heart",
    "af_alloy",
    "af_aoede",
    "af_bella",
    "af_jessica",
    "af_nicole",
    "af_nova",
    "af_river",
    "af_sarah",
    "af_sky",
    "am_adam",
    "am_echo",
    "am_eric",
    "am_fenrir",
    "am_liam",
    "am_michael",
    "am_onyx",
    "am_puck",
];

/// Kling 1.0 (standard): five or ten seconds, text or a start frame; takes no seed.
fn kling(capability: Capability) -> ModelInfo {
    let from_image = capability == Capability::ImageToVideo;
    let mut params = vec![
        ParamSpec::choice(
            "duration",
            "Duration (s)",
            "How long the clip lasts; fal bills each second.",
            "5",
            &["5", "10"],
        ),
        ParamSpec::float(
            "cfg_scale",
            "Guidance",
            "How closely to follow the prompt, 0 to 1.",
            0.5,
            0.0,
            1.0,
        ),
    ];
    if !from_image {
        params.insert(
            1,
            ParamSpec::choice(
                "aspect_ratio",
                "Aspect ratio",
                "Width to height of the video.",
                "16:9",
                &["16:9", "9:16", "1:1"],
            ),
        );
    }
    ModelInfo {
        id: format!(
            "fal-ai/kling-video/v1/standard/{}",
            if from_image {
                "image-to-video"
            } else {
                "text-to-video"
            }
        ),
        name: format!(
            "Kling 1.0 {}",
            if from_image {
                "image-to-video"
            } else {
                "text-to-video"
            }
        ),
        description: if from_image {
            "Brings a picture to life: the picture is the first frame."
        } else {
            "Video clips from a prompt."
        }
        .into(),
        capability,
        negative_prompt: true,
        image_input: from_image.then(|| "image_url".into()),
        image_strength: None,
        networks: false,
        inputs: InputNames::unseeded("prompt"),
        params,
    }
}

/// LTX Video: fast, about five seconds at 24 fps, seeded.
fn ltx(capability: Capability) -> ModelInfo {
    let from_image = capability == Capability::ImageToVideo;
    ModelInfo {
        id: if from_image {
            "fal-ai/ltx-video/image-to-video".into()
        } else {
            "fal-ai/ltx-video".into()
        },
        name: if from_image {
            "LTX Video image-to-video".into()
        } else {
            "LTX Video".into()
        },
        description: "Fast open video model; about five seconds at 24 frames a second.".into(),
        capability,
        negative_prompt: true,
        image_input: from_image.then(|| "image_url".into()),
        image_strength: None,
        networks: false,
        inputs: InputNames::default(),
        params: vec![
            ParamSpec::integer(
                "num_inference_steps",
                "Steps",
                "More steps refine the motion.",
                30,
                1,
                50,
                1,
            ),
            ParamSpec::float(
                "guidance_scale",
                "Guidance",
                "How closely to follow the prompt.",
                3.0,
                1.0,
                10.0,
            ),
        ],
    }
}
