//! `Secret`: a provider key that never prints.
//!
//! Debug and Display show `[redacted]`, so a key inside a config struct, an error or a log line
//! stays out of sight. The only way to the text is [`Secret::expose`], called where the key goes
//! onto the wire.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A key from configuration; surrounding whitespace (a pasted newline) is dropped.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        let text = text.into();
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| Self(trimmed.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key blanked out: for messages built from a
    /// provider's answer, which might echo what it was sent — whole, percent-encoded, or only
    /// its secret half (a `key_id:key_secret` pair's parts of 8 characters or more).
    pub fn scrub(&self, text: &str) -> String {
        let mut forms = vec![self.0.clone(), self.0.replace(':', "%3A")];
        forms.extend(
            self.0
                .split(':')
                .filter(|part| part.len() >= 8)
                .map(str::to_string),
        );
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        forms.iter().fold(text.to_string(), |text, form| {
            text.replace(form, "[redacted]")
        })
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_formats_as_its_text_and_is_scrubbed_from_messages() {
        let key = Secret::new(" id:s3cret\n").unwrap();
        assert_eq!(key.expose(), "id:s3cret");
        assert!(!format!("{key} {key:?}").contains("s3cret"));
        assert_eq!(key.scrub("bad key id:s3cret"), "bad key [redacted]");
        let key = Secret::new("4f1c-id:9a8b7c6d5e4f").unwrap();
        assert_eq!(
            key.scrub("a=4f1c-id%3A9a8b7c6d5e4f b=9a8b7c6d5e4f c=4f1c-id:9a8b7c6d5e4f"),
            "a=[redacted] b=[redacted] c=[redacted]"
        );
        assert!(Secret::new("  ").is_none());
    }
}
