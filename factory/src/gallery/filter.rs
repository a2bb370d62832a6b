//! What the gallery shows: a typed filter and sort, checked before any query is built.

use chrono::{DateTime, Utc};

/// Longest search text, tag name and list of values one filter may hold.
pub const MAX_SEARCH: usize = 200;
pub const MAX_TAG: usize = 64;
pub const MAX_VALUES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    /// Highest rating first (unrated last), newest first within a rating.
    Rating,
    /// A shuffle that is the same for the same seed.
    Random(i64),
    /// Best match first; only with search text.
    Relevance,
}

/// Rejected products: hidden unless asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rejected {
    #[default]
    Hide,
    Include,
    Only,
}

/// What a search box holds, once understood: words to match, or an exact seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    Text(String),
    Seed(i64),
}

impl Search {
    /// `seed:123` or a bare number is a seed; anything else is text (operators and all: the
    /// query parser takes any text).
    pub fn parse(text: &str) -> Result<Option<Self>, FilterError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > MAX_SEARCH {
            return Err(FilterError(format!(
                "The search is {} characters long; at most {MAX_SEARCH} are searched. Shorten it.",
                text.chars().count()
            )));
        }
        let seed = text.strip_prefix("seed:").unwrap_or(text).trim();
        if !seed.is_empty() && seed.bytes().all(|b| b.is_ascii_digit()) {
            return seed
                .parse::<i64>()
                .map(|s| Some(Self::Seed(s)))
                .map_err(|_| FilterError(format!("{seed} is larger than any seed.")));
        }
        Ok(Some(Self::Text(text.to_string())))
    }

    /// The lower-cased words a text search matches, for highlighting.
    pub fn terms(&self) -> Vec<String> {
        match self {
            Self::Seed(_) => Vec::new(),
            Self::Text(text) => {
                let mut terms: Vec<String> = text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty() && !["or", "and", "not"].contains(w))
                    .map(str::to_lowercase)
                    .collect();
                terms.sort();
                terms.dedup();
                terms
            }
        }
    }
}

/// A gallery filter. Every field narrows; the default shows everything but the rejected and
/// the trash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub project: Option<i64>,
    pub providers: Vec<String>,
    pub models: Vec<String>,
    pub min_rating: Option<i16>,
    pub favourites: bool,
    pub rejected: Rejected,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Every one of these tags.
    pub tags: Vec<String>,
    pub batch: Option<i64>,
    pub kind: Option<String>,
    /// Videos and sounds at least this many seconds long.
    pub min_secs: Option<u32>,
    /// Videos and sounds at most this many seconds long.
    pub max_secs: Option<u32>,
    /// Only products made from another product.
    pub derived: bool,
    pub search: Option<Search>,
    /// The trash instead of the gallery.
    pub trash: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// The kinds a product may be.
pub const KINDS: [&str; 5] = ["image", "upload", "video", "audio", "model3d"];

impl Filter {
    /// Checks the values a URL may carry: sizes, ranges, known kinds.
    pub fn validate(&self) -> Result<(), FilterError> {
        for (name, list) in [
            ("providers", &self.providers),
            ("models", &self.models),
            ("tags", &self.tags),
        ] {
            if list.len() > MAX_VALUES {
                return Err(FilterError(format!(
                    "At most {MAX_VALUES} {name} can be chosen at once; {} were.",
                    list.len()
                )));
            }
            if let Some(long) = list.iter().find(|v| v.chars().count() > 300) {
                return Err(FilterError(format!(
                    "A {} value of {} characters is not one this gallery holds.",
                    name.trim_end_matches('s'),
                    long.chars().count()
                )));
            }
        }
        if let Some(tag) = self.tags.iter().find(|t| t.chars().count() > MAX_TAG) {
            return Err(FilterError(format!(
                "Tags are at most {MAX_TAG} characters; this one has {}.",
                tag.chars().count()
            )));
        }
        if let Some(r) = self.min_rating {
            if !(0..=5).contains(&r) {
                return Err(FilterError(format!("A rating is 0 to 5, not {r}.")));
            }
        }
        if let (Some(min), Some(max)) = (self.min_secs, self.max_secs) {
            if min > max {
                return Err(FilterError(format!(
                    "The shortest length ({min} s) is longer than the longest ({max} s): swap them."
                )));
            }
        }
        if let Some(kind) = &self.kind {
            if !KINDS.contains(&kind.as_str()) {
                return Err(FilterError(format!(
                    "Unknown kind “{kind}”: use one of {}.",
                    KINDS.join(", ")
                )));
            }
        }
        if let (Some(from), Some(until)) = (self.from, self.until) {
            if from >= until {
                return Err(FilterError(
                    "The date range ends before it starts; swap the dates.".into(),
                ));
            }
        }
        Ok(())
    }
}
