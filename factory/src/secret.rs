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
    /// provider's answer, which might echo what it was sent.
    pub fn scrub(&self, text: &str) -> String {
        text.replace(&self.0, "[redacted]")
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
        assert!(Secret::new("  ").is_none());
    }
}
