//! Checking a launch without the database: prompt, count, seed, provider, model, input
//! picture, negative prompt, LoRAs and parameters, every problem at once; and the prompt's
//! expansion into items.

use serde_json::{Map, Value};

use super::{FieldError, ItemLimits, LaunchRequest, SeedChoice, PROMPT_MAX_CHARS, SEED_MAX};
use crate::prompt::{self, Expansion, WildcardSource};
use crate::providers::{civitai, params, ModelInfo, Providers};

/// A launch, checked and expanded, ready to write.
#[derive(Debug)]
pub struct Plan {
    pub params: Map<String, Value>,
    /// The model input the input image goes in, when the launch has one.
    pub image_field: Option<String>,
    pub batch_seed: i64,
    pub items: Vec<prompt::Item>,
    pub tokens: Vec<prompt::TokenInfo>,
}

/// Checks a launch without writing anything and expands its prompt. `described` is the model
/// when the provider does not list it but described it on request ([`crate::models`]).
pub fn plan(
    providers: &Providers,
    limits: ItemLimits,
    wildcards: &dyn WildcardSource,
    request: &LaunchRequest,
    described: Option<&ModelInfo>,
) -> Result<Plan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let prompt_chars = request.prompt.trim().chars().count();
    if prompt_chars == 0 {
        error("prompt", "Write a prompt first.".into());
    } else if prompt_chars > PROMPT_MAX_CHARS {
        error("prompt", format!("Prompts can be at most {PROMPT_MAX_CHARS} characters; this one has {prompt_chars}."));
    }
    let negative_chars = request.negative_prompt.trim().chars().count();
    if negative_chars > PROMPT_MAX_CHARS {
        error(
            "negative_prompt",
            format!("Negative prompts can be at most {PROMPT_MAX_CHARS} characters; this one has {negative_chars}."),
        );
    }
    let max_count = limits.cap.min(u64::from(u32::MAX)) as u32;
    if request.count == 0 || request.count > max_count {
        error(
            "count",
            format!(
                "Choose between 1 and {max_count} images; got {}.",
                request.count
            ),
        );
    }
    if let SeedChoice::Fixed(seed) | SeedChoice::Derived(Some(seed)) = request.seed {
        if !(0..=SEED_MAX).contains(&seed) {
            error(
                "seed",
                format!("Seeds go from 0 to {SEED_MAX}; got {seed}."),
            );
        }
    }
    let batch_seed = match request.seed {
        SeedChoice::Fixed(seed) | SeedChoice::Derived(Some(seed)) => seed,
        SeedChoice::Derived(None) | SeedChoice::Random => rand::random::<u32>() as i64,
    };
    let expansion = Expansion {
        mode: request.mode,
        count: request.count.max(1),
        batch_seed,
        cap: limits.cap,
    };
    let mut expanded = None;
    if prompt_chars > 0 && prompt_chars <= PROMPT_MAX_CHARS {
        match expansion.expand(request.prompt.trim(), wildcards) {
            Ok(e) => {
                let total = e.items.len() as u64;
                if total > limits.confirm_above && !request.confirmed {
                    error(
                        "confirm",
                        format!(
                            "This queues {total} images (more than {}). Confirm to queue them all.",
                            limits.confirm_above
                        ),
                    );
                }
                expanded = Some(e);
            }
            Err(e) => error("prompt", e.to_string()),
        }
    }
    let mut resolved = Map::new();
    let mut image_field = None;
    match providers.get(&request.provider) {
        None => error(
            "provider",
            format!(
                "There is no provider “{}” (available: {}).",
                request.provider,
                providers.ids().join(", ")
            ),
        ),
        Some(provider) => match provider.info().model(&request.model).or(described) {
            None => {
                let models: Vec<&str> = provider
                    .info()
                    .models
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect();
                error(
                    "model",
                    format!(
                        "{} has no model “{}” (it has: {}).",
                        provider.info().name,
                        request.model,
                        models.join(", ")
                    ),
                );
            }
            Some(model) => {
                match (&model.image_input, request.input_image) {
                    (None, Some(_)) => error(
                        "input_image",
                        format!("{} does not start from an image. Remove the input image, or choose a model that takes one.", model.name),
                    ),
                    (_, None) if model.capability.needs_image() => error(
                        "input_image",
                        format!("{} starts from an image: upload or paste one, or use a result as input.", model.name),
                    ),
                    (Some(field), Some(_)) => image_field = Some(field.clone()),
                    _ => {}
                }
                if !model.negative_prompt && negative_chars > 0 {
                    error(
                        "negative_prompt",
                        format!(
                            "{} takes no negative prompt. Leave it empty, and say in the prompt what you want instead.",
                            model.name
                        ),
                    );
                }
                if !request.networks.is_empty() && !model.networks {
                    error(
                        "networks",
                        format!(
                            "{} takes no LoRAs. Remove them, or choose a Civitai checkpoint.",
                            model.name
                        ),
                    );
                } else if !request.networks.is_empty() {
                    for (field, message) in civitai::check_networks(&model.id, &request.networks) {
                        error(&field, message);
                    }
                }
                match params::validate(&model.params, &request.params) {
                    Ok(mut params) => {
                        // The strength means nothing without a picture to move away from.
                        if let (Some(strength), None) = (&model.image_strength, request.input_image)
                        {
                            params.remove(strength);
                        }
                        resolved = params
                    }
                    Err(param_errors) => {
                        for e in param_errors {
                            error(&format!("params.{}", e.field), e.message);
                        }
                    }
                }
            }
        },
    }
    match expanded {
        Some(expanded) if errors.is_empty() => Ok(Plan {
            params: resolved,
            image_field,
            batch_seed,
            items: expanded.items,
            tokens: expanded.tokens,
        }),
        _ => Err(errors),
    }
}
