//! Wildcard names and patterns: what a list may be called, what `__cats/*__` matches, and the
//! sampling marker a reference may start with.

use super::parse::Sampling;

/// `~colors` -> (Random, "colors").
pub(super) fn split_marker(inner: &str) -> (Sampling, &str) {
    match inner.chars().next() {
        Some('~') => (Sampling::Random, &inner[1..]),
        Some('@') => (Sampling::Cyclical, &inner[1..]),
        Some('!') => (Sampling::Combinatorial, &inner[1..]),
        _ => (Sampling::AsTheMode, inner),
    }
}

/// Wildcard and list names: letters, digits, `_`, `-`, and `/` between parts
/// (`colors/warm`), at most 100 characters.
pub fn valid_name(name: &str) -> bool {
    valid_name_with(name, false)
}

/// A name, or a pattern: a name whose parts may also hold `*` (any run of characters).
pub fn valid_pattern(pattern: &str) -> bool {
    valid_name_with(pattern, true)
}

fn valid_name_with(name: &str, star: bool) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '-' || (star && c == '*')
                })
        })
}

/// Whether `name` matches `pattern` (`*` matches any run of characters, `/` included).
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}
