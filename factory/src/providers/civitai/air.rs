//! AIR, Civitai's resource names: `urn:air:{ecosystem}:{type}:{source}:{id}@{version}`
//! (`urn:air:sdxl:checkpoint:civitai:101055@128078`). Jobs name their checkpoint and their
//! LoRAs this way; a version is required, so what runs is exactly what was picked.

use std::fmt;

/// A parsed AIR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Air {
    /// `sd1`, `sdxl`, `flux1`, `pony`, ...
    pub ecosystem: String,
    /// `checkpoint`, `lora`, `lycoris`, `embedding`, `vae`, ...
    pub kind: String,
    pub source: String,
    pub model_id: u64,
    pub version_id: u64,
}

impl Air {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let shape = "an AIR looks like urn:air:sdxl:checkpoint:civitai:101055@128078";
        let rest = text
            .strip_prefix("urn:air:")
            .ok_or_else(|| format!("“{}” is not an AIR ({shape})", text.escape_debug()))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [ecosystem, kind, source, id] = parts[..] else {
            return Err(format!(
                "“{}” has {} parts after urn:air: instead of 4 ({shape})",
                text.escape_debug(),
                parts.len()
            ));
        };
        let word = |w: &str| {
            !w.is_empty()
                && w.len() <= 32
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        for (name, part) in [("ecosystem", ecosystem), ("type", kind), ("source", source)] {
            if !word(part) {
                return Err(format!(
                    "the {name} of “{}” is not valid ({shape})",
                    text.escape_debug()
                ));
            }
        }
        let (model, version) = id.split_once('@').ok_or_else(|| {
            format!(
                "“{}” names no version: add @<version id> (each version of a model is a different file)",
                text.escape_debug()
            )
        })?;
        let number = |n: &str, what: &str| {
            n.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("the {what} in “{}” is not a number", text.escape_debug()))
        };
        Ok(Self {
            ecosystem: ecosystem.to_ascii_lowercase(),
            kind: kind.to_ascii_lowercase(),
            source: source.to_ascii_lowercase(),
            model_id: number(model, "model id")?,
            version_id: number(version, "version id")?,
        })
    }

    /// The orchestration API's `baseModel` for this ecosystem.
    pub fn base_model(&self) -> Option<&'static str> {
        match self.ecosystem.as_str() {
            "sd1" => Some("SD_1_5"),
            "sdxl" | "pony" | "illustrious" => Some("SDXL"),
            "flux1" => Some("Flux1"),
            _ => None,
        }
    }

    pub fn is_network(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "lora" | "lycoris" | "locon" | "dora" | "embedding"
        )
    }
}

impl fmt::Display for Air {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "urn:air:{}:{}:{}:{}@{}",
            self.ecosystem, self.kind, self.source, self.model_id, self.version_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_air_parses_into_its_parts_and_prints_back() {
        let air = Air::parse(" urn:air:sdxl:checkpoint:civitai:101055@128078 ").unwrap();
        assert_eq!(air.ecosystem, "sdxl");
        assert_eq!(air.kind, "checkpoint");
        assert_eq!((air.model_id, air.version_id), (101055, 128078));
        assert_eq!(air.base_model(), Some("SDXL"));
        assert!(!air.is_network());
        assert_eq!(
            air.to_string(),
            "urn:air:sdxl:checkpoint:civitai:101055@128078"
        );
        assert!(Air::parse("urn:air:sd1:lora:civitai:58390@62833")
            .unwrap()
            .is_network());
    }

    #[test]
    fn a_broken_air_says_what_is_wrong() {
        for (text, says) in [
            ("civitai:101055@128078", "is not an AIR"),
            ("urn:air:sdxl:checkpoint:101055@128078", "3 parts"),
            ("urn:air:sdxl:checkpoint:civitai:101055", "names no version"),
            ("urn:air:sdxl:checkpoint:civitai:abc@128078", "model id"),
            ("urn:air:sdxl:checkpoint:civitai:1@x", "version id"),
            ("urn:air:sd xl:checkpoint:civitai:1@2", "ecosystem"),
        ] {
            let error = Air::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
