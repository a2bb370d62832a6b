//! Validated project fields: a name and a description that are known to be acceptable.
//!
//! Validation happens once, at the edge; the rest of the engine takes these types and never
//! re-checks.

use std::fmt;

pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 2000;

/// A project's name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("A project needs a name.")]
    Empty,
    #[error("Names can be at most {NAME_MAX_CHARS} characters; this one has {0}.")]
    TooLong(usize),
    #[error("Names cannot contain line breaks, tabs or other control characters.")]
    ControlCharacter,
}

impl ProjectName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 {
            Err(NameError::Empty)
        } else if chars > NAME_MAX_CHARS {
            Err(NameError::TooLong(chars))
        } else if name.chars().any(char::is_control) {
            Err(NameError::ControlCharacter)
        } else {
            Ok(Self(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL-safe form of the name: lowercase ASCII letters and digits joined by single
    /// hyphens. Names with no such characters (all emoji, say) fall back to "project".
    pub fn slug(&self) -> String {
        let mut slug = String::new();
        for c in self.0.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-');
        let slug: String = slug.chars().take(60).collect();
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() {
            "project".to_string()
        } else {
            slug.to_string()
        }
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A project's description: trimmed, at most 2,000 characters, may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("Descriptions can be at most {DESCRIPTION_MAX_CHARS} characters; this one has {0}.")]
    TooLong(usize),
}

impl Description {
    pub fn parse(raw: &str) -> Result<Self, DescriptionError> {
        let text = raw.trim();
        let chars = text.chars().count();
        if chars > DESCRIPTION_MAX_CHARS {
            return Err(DescriptionError::TooLong(chars));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited_to_one_hundred_characters() {
        assert_eq!(
            ProjectName::parse("  Moodboard ").unwrap().as_str(),
            "Moodboard"
        );
        assert_eq!(ProjectName::parse("   "), Err(NameError::Empty));
        assert!(ProjectName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            ProjectName::parse(&"é".repeat(101)),
            Err(NameError::TooLong(101))
        );
        assert_eq!(ProjectName::parse("a\nb"), Err(NameError::ControlCharacter));
    }

    #[test]
    fn slugs_are_lowercase_ascii_words_joined_by_hyphens() {
        let slug = |s: &str| ProjectName::parse(s).unwrap().slug();
        assert_eq!(slug("Neon Cats — Vol. 2"), "neon-cats-vol-2");
        assert_eq!(slug("--Hello--World--"), "hello-world");
        assert_eq!(slug("🎨🎨"), "project");
    }

    #[test]
    fn descriptions_may_be_empty_but_not_longer_than_two_thousand_characters() {
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert_eq!(
            Description::parse(&"x".repeat(2001)),
            Err(DescriptionError::TooLong(2001))
        );
    }
}
