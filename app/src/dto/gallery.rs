//! The gallery's wire types: the view as it lives in the URL, tiles (kept small: a page of 100
//! is under 30 KB of JSON), pages and the overview.

use serde::{Deserialize, Serialize};

/// Thumbnail sizes of the grid, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TileSize {
    Small,
    #[default]
    Medium,
    Large,
}

impl TileSize {
    pub const ALL: [TileSize; 3] = [TileSize::Small, TileSize::Medium, TileSize::Large];

    pub fn pixels(self) -> f64 {
        match self {
            Self::Small => 120.0,
            Self::Medium => 180.0,
            Self::Large => 300.0,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Small => "s",
            Self::Medium => "m",
            Self::Large => "l",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Small => "Small",
            Self::Medium => "Medium",
            Self::Large => "Large",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GallerySort {
    #[default]
    Newest,
    Oldest,
    Rating,
    Random,
    Relevance,
}

impl GallerySort {
    pub const ALL: [GallerySort; 5] = [
        GallerySort::Newest,
        GallerySort::Oldest,
        GallerySort::Rating,
        GallerySort::Random,
        GallerySort::Relevance,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Rating => "rating",
            Self::Random => "random",
            Self::Relevance => "relevance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => "Newest first",
            Self::Oldest => "Oldest first",
            Self::Rating => "Best rated",
            Self::Random => "Shuffled",
            Self::Relevance => "Best match",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RejectedView {
    #[default]
    Hide,
    Include,
    Only,
}

/// Everything a gallery URL says. Unknown parameters are refused, so a typo never silently
/// shows everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GalleryQuery {
    pub search: String,
    pub sort: GallerySort,
    pub shuffle_seed: i64,
    pub project: Option<i64>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub min_rating: Option<i16>,
    pub favourites: bool,
    pub rejected: RejectedView,
    /// `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    pub tags: Vec<String>,
    pub batch: Option<i64>,
    pub kind: Option<String>,
    /// Videos and sounds at least / at most this many seconds long.
    pub min_secs: Option<u32>,
    pub max_secs: Option<u32>,
    pub derived: bool,
    pub trash: bool,
    pub size: TileSize,
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3).ok_or("a broken %-escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "a broken %-escape")?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "text that is not UTF-8".to_string())
}

impl GalleryQuery {
    /// The URL query string (without `?`), defaults left out.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.search.is_empty() {
            pairs.push(("q", self.search.clone()));
        }
        if self.sort != GallerySort::Newest {
            pairs.push(("sort", self.sort.key().into()));
        }
        if self.sort == GallerySort::Random {
            pairs.push(("shuffle", self.shuffle_seed.to_string()));
        }
        let mut opt = |k, v: &Option<String>| {
            if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        };
        opt("provider", &self.provider);
        opt("model", &self.model);
        opt("from", &self.from);
        opt("to", &self.to);
        opt("kind", &self.kind);
        if let Some(p) = self.project {
            pairs.push(("project", p.to_string()));
        }
        if let Some(r) = self.min_rating {
            pairs.push(("rating", r.to_string()));
        }
        if let Some(b) = self.batch {
            pairs.push(("batch", b.to_string()));
        }
        if let Some(s) = self.min_secs {
            pairs.push(("min_secs", s.to_string()));
        }
        if let Some(s) = self.max_secs {
            pairs.push(("max_secs", s.to_string()));
        }
        for tag in &self.tags {
            pairs.push(("tag", tag.clone()));
        }
        for (key, on) in [
            ("fav", self.favourites),
            ("derived", self.derived),
            ("trash", self.trash),
        ] {
            if on {
                pairs.push((key, "1".into()));
            }
        }
        match self.rejected {
            RejectedView::Hide => {}
            RejectedView::Include => pairs.push(("rejected", "include".into())),
            RejectedView::Only => pairs.push(("rejected", "only".into())),
        }
        if self.size != TileSize::Medium {
            pairs.push(("size", self.size.key().into()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Reads a URL query string (with or without `?`); the message names what is wrong.
    pub fn parse(query: &str) -> Result<Self, String> {
        let mut q = Self::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        if query.len() > 4000 {
            return Err("This gallery address is too long.".into());
        }
        let number = |k: &str, v: &str| {
            v.parse::<i64>()
                .map_err(|_| format!("“{k}” must be a whole number, not “{v}”."))
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v).map_err(|e| format!("“{k}” holds {e}."))?;
            match k {
                "q" => q.search = v,
                "sort" => {
                    q.sort = GallerySort::parse(&v).ok_or_else(|| {
                        format!(
                            "Unknown sort “{v}”: use newest, oldest, rating, random or relevance."
                        )
                    })?
                }
                "shuffle" => q.shuffle_seed = number(k, &v)?,
                "project" => q.project = Some(number(k, &v)?),
                "batch" => q.batch = Some(number(k, &v)?),
                "provider" => q.provider = Some(v),
                "model" => q.model = Some(v),
                "kind" => q.kind = Some(v),
                "min_secs" | "max_secs" => {
                    let secs = v.parse::<u32>().map_err(|_| {
                        format!("“{k}” must be a whole number of seconds, not “{v}”.")
                    })?;
                    if k == "min_secs" {
                        q.min_secs = Some(secs)
                    } else {
                        q.max_secs = Some(secs)
                    }
                }
                "from" | "to" => {
                    if chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").is_err() {
                        return Err(format!("“{k}” must be a date like 2026-04-30, not “{v}”."));
                    }
                    if k == "from" {
                        q.from = Some(v)
                    } else {
                        q.to = Some(v)
                    }
                }
                "rating" => {
                    let r = number(k, &v)?;
                    if !(0..=5).contains(&r) {
                        return Err(format!("A rating is 0 to 5, not {r}."));
                    }
                    q.min_rating = Some(r as i16);
                }
                "tag" => q.tags.push(v),
                "fav" => q.favourites = v == "1",
                "derived" => q.derived = v == "1",
                "trash" => q.trash = v == "1",
                "rejected" => {
                    q.rejected = match v.as_str() {
                        "include" => RejectedView::Include,
                        "only" => RejectedView::Only,
                        "hide" => RejectedView::Hide,
                        _ => {
                            return Err(format!("“rejected” is hide, include or only, not “{v}”."))
                        }
                    }
                }
                "size" => {
                    q.size = TileSize::ALL
                        .into_iter()
                        .find(|s| s.key() == v)
                        .ok_or_else(|| format!("“size” is s, m or l, not “{v}”."))?
                }
                other => return Err(format!("Unknown gallery filter “{other}”.")),
            }
        }
        Ok(q)
    }
}

/// One product in the grid. Short field names: a page holds a hundred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileDto {
    pub id: i64,
    #[serde(rename = "p")]
    pub project_id: i64,
    #[serde(rename = "h")]
    pub hash: String,
    #[serde(rename = "e")]
    pub ext: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<i16>,
    #[serde(rename = "f", default, skip_serializing_if = "std::ops::Not::not")]
    pub favourite: bool,
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub rejected: bool,
    /// Placeholder colour while the thumbnail loads (`#rrggbb`).
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The prompt's beginning (alt text).
    #[serde(rename = "t")]
    pub prompt: String,
    /// A video's or sound's length.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i32>,
    /// What it is, when not a picture.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<super::ProductKind>,
}

impl TileDto {
    /// A video's looping preview (an animated WebP an `<img>` plays).
    pub fn preview_url(&self) -> String {
        format!("/media/{}/{}-preview.webp", self.project_id, self.hash)
    }

    /// The original file (a sound plays it inline).
    pub fn original_url(&self) -> String {
        format!("/media/{}/{}.{}", self.project_id, self.hash, self.ext)
    }

    pub fn thumb_url(&self, large: bool) -> String {
        format!(
            "/media/{}/{}-{}.webp",
            self.project_id,
            self.hash,
            if large { 768 } else { 256 }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryPageDto {
    pub tiles: Vec<TileDto>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthDto {
    pub year: i32,
    pub month: u32,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryOverviewDto {
    pub total: i64,
    pub snapshot: i64,
    pub landmarks: Vec<String>,
    pub terms: Vec<String>,
}

/// The scrubber's months and the facets, asked for beside the grid.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GallerySummaryDto {
    pub months: Vec<MonthDto>,
    pub providers: Vec<(String, i64)>,
    pub models: Vec<(String, i64)>,
    pub ratings: Vec<(Option<i16>, i64)>,
}

/// A triage action from the grid or the viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriageAction {
    Rate(Option<i16>),
    Favourite(bool),
    Reject(bool),
    Trash(bool),
    MoveTo(i64),
    Tag(String),
    Untag(String),
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use factory::gallery::{self, Filter, Rejected, Search, Sort, View};

    impl From<gallery::Tile> for TileDto {
        fn from(t: gallery::Tile) -> Self {
            Self {
                id: t.id,
                project_id: t.project_id,
                color: t
                    .thumbhash
                    .as_deref()
                    .and_then(factory::media::placeholder_color),
                hash: t.content_hash,
                ext: t.ext,
                rating: t.rating,
                favourite: t.favourite,
                rejected: t.rejected,
                prompt: t.prompt,
                duration_ms: t.duration_ms,
                kind: match crate::dto::ProductKind::from_engine(&t.kind) {
                    crate::dto::ProductKind::Image => None,
                    other => Some(other),
                },
            }
        }
    }

    impl From<gallery::Overview> for GalleryOverviewDto {
        fn from(o: gallery::Overview) -> Self {
            Self {
                total: o.total,
                snapshot: o.snapshot,
                landmarks: o.landmarks.iter().map(|c| c.encode()).collect(),
                terms: o.terms,
            }
        }
    }

    impl From<gallery::Summary> for GallerySummaryDto {
        fn from(s: gallery::Summary) -> Self {
            Self {
                months: s
                    .months
                    .into_iter()
                    .map(|m| MonthDto {
                        year: m.year,
                        month: m.month,
                        count: m.count,
                    })
                    .collect(),
                providers: s.facets.providers,
                models: s.facets.models,
                ratings: s.facets.ratings,
            }
        }
    }

    fn day(text: &str, end: bool) -> Result<chrono::DateTime<chrono::Utc>, String> {
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("“{text}” is not a date like 2026-04-30."))?;
        let date = if end {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        Ok(date.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
    }

    impl GalleryQuery {
        /// The engine's view of this query, checked.
        pub fn view(&self) -> Result<View, String> {
            let filter = Filter {
                project: self.project,
                providers: self.provider.iter().cloned().collect(),
                models: self.model.iter().cloned().collect(),
                min_rating: self.min_rating,
                favourites: self.favourites,
                rejected: match self.rejected {
                    RejectedView::Hide => Rejected::Hide,
                    RejectedView::Include => Rejected::Include,
                    RejectedView::Only => Rejected::Only,
                },
                from: self.from.as_deref().map(|d| day(d, false)).transpose()?,
                until: self.to.as_deref().map(|d| day(d, true)).transpose()?,
                tags: self.tags.clone(),
                batch: self.batch,
                kind: self.kind.clone(),
                min_secs: self.min_secs,
                max_secs: self.max_secs,
                derived: self.derived,
                search: Search::parse(&self.search).map_err(|e| e.to_string())?,
                trash: self.trash,
            };
            let sort = match self.sort {
                GallerySort::Newest => Sort::Newest,
                GallerySort::Oldest => Sort::Oldest,
                GallerySort::Rating => Sort::Rating,
                GallerySort::Random => Sort::Random(self.shuffle_seed),
                GallerySort::Relevance => Sort::Relevance,
            };
            View::new(filter, sort).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gallery_query_round_trips_through_its_url_and_refuses_unknowns() {
        let q = GalleryQuery {
            search: "red fox & \"snow\"".into(),
            sort: GallerySort::Random,
            shuffle_seed: 42,
            min_rating: Some(3),
            tags: vec!["keeper".into(), "été".into()],
            rejected: RejectedView::Include,
            from: Some("2026-01-01".into()),
            size: TileSize::Large,
            favourites: true,
            ..GalleryQuery::default()
        };
        assert_eq!(GalleryQuery::parse(&q.to_query()).unwrap(), q);
        assert_eq!(GalleryQuery::parse("").unwrap(), GalleryQuery::default());
        for bad in [
            "sort=sideways",
            "rating=9",
            "colour=red",
            "from=yesterday",
            "q=%E2%28",
        ] {
            assert!(GalleryQuery::parse(bad).is_err(), "{bad}");
        }
    }
}
