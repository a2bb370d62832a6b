//! Keyset cursors: where a page starts, as the sort key and id of a product, opaque to clients.
//!
//! A cursor carries the whole key of the order it was made for (creation time; rating; shuffle
//! value; relevance), so a page is one index seek whatever its depth — never an OFFSET.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};

use super::filter::{FilterError, Sort};

/// The key of one product in one order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    pub created_at: DateTime<Utc>,
    /// The rating (unrated is -1) or the shuffle value.
    pub int: i64,
    /// The relevance.
    pub real: f32,
    pub id: i64,
}

/// A page starts at this key (`inclusive`: the product itself is the page's first) or just
/// after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub sort: SortCode,
    pub inclusive: bool,
    pub key: Key,
}

/// Which order a cursor belongs to (a random order's seed is part of the filter, not the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortCode {
    Newest,
    Oldest,
    Rating,
    Random,
    Relevance,
}

impl SortCode {
    pub fn of(sort: Sort) -> Self {
        match sort {
            Sort::Newest => Self::Newest,
            Sort::Oldest => Self::Oldest,
            Sort::Rating => Self::Rating,
            Sort::Random(_) => Self::Random,
            Sort::Relevance => Self::Relevance,
        }
    }

    fn letter(self) -> char {
        match self {
            Self::Newest => 'n',
            Self::Oldest => 'o',
            Self::Rating => 'r',
            Self::Random => 'x',
            Self::Relevance => 's',
        }
    }

    fn from_letter(c: &str) -> Option<Self> {
        Some(match c {
            "n" => Self::Newest,
            "o" => Self::Oldest,
            "r" => Self::Rating,
            "x" => Self::Random,
            "s" => Self::Relevance,
            _ => return None,
        })
    }
}

fn damaged() -> FilterError {
    FilterError(
        "This gallery position is damaged or from another version; reload the gallery.".into(),
    )
}

impl Cursor {
    pub fn encode(&self) -> String {
        let text = format!(
            "{}.{}.{}.{}.{}.{}",
            self.sort.letter(),
            u8::from(self.inclusive),
            self.key.created_at.timestamp_micros(),
            self.key.int,
            self.key.real.to_bits(),
            self.key.id
        );
        URL_SAFE_NO_PAD.encode(text)
    }

    /// The cursor in `text`, which must belong to `sort`.
    pub fn decode(text: &str, sort: Sort) -> Result<Self, FilterError> {
        if text.len() > 200 {
            return Err(damaged());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| damaged())?;
        let text = String::from_utf8(bytes).map_err(|_| damaged())?;
        let parts: Vec<&str> = text.split('.').collect();
        let [letter, inclusive, micros, int, real, id] = parts[..] else {
            return Err(damaged());
        };
        let code = SortCode::from_letter(letter).ok_or_else(damaged)?;
        if code != SortCode::of(sort) {
            return Err(FilterError(
                "This gallery position belongs to another sort order; reload the gallery.".into(),
            ));
        }
        let number = |s: &str| s.parse::<i64>().map_err(|_| damaged());
        let real = f32::from_bits(real.parse::<u32>().map_err(|_| damaged())?);
        if !real.is_finite() {
            return Err(damaged());
        }
        Ok(Self {
            sort: code,
            inclusive: match inclusive {
                "1" => true,
                "0" => false,
                _ => return Err(damaged()),
            },
            key: Key {
                created_at: DateTime::from_timestamp_micros(number(micros)?).ok_or_else(damaged)?,
                int: number(int)?,
                real,
                id: number(id)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_refuses_damage_and_other_orders() {
        let cursor = Cursor {
            sort: SortCode::Rating,
            inclusive: true,
            key: Key {
                created_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
                int: 4,
                real: 0.25,
                id: 99,
            },
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text, Sort::Rating).unwrap(), cursor);
        assert!(Cursor::decode(&text, Sort::Newest)
            .unwrap_err()
            .0
            .contains("another sort order"));
        for bad in [
            "",
            "!!!",
            "bi4xLjE",
            &"A".repeat(500),
            &text[..text.len() - 2],
        ] {
            assert!(Cursor::decode(bad, Sort::Rating).is_err(), "{bad}");
        }
    }
}
