//! What a view holds before any page is read: [`overview`] (the count, the snapshot, a
//! landmark every [`PAGE`] products, the search terms) and [`summary`] (the months for the
//! date scrubber and the facet counts).

use diesel::sql_types::{BigInt, Float, Integer, Nullable, SmallInt, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::AsyncPgConnection;

use super::sql::{Sql, Value};
use chrono::{DateTime, Utc};

use super::{load, Cursor, GalleryError, Key, Search, Sort, SortCode, View, PAGE};

/// What a person sees of a view before any page: how many, and where each page starts.
#[derive(Debug, Clone)]
pub struct Overview {
    pub total: i64,
    /// The highest product id this overview covers (0 for an empty gallery).
    pub snapshot: i64,
    /// The cursor each page starts at, in order: page `i` starts at `landmarks[i]`.
    pub landmarks: Vec<Cursor>,
    /// The words a text search matches, for highlighting.
    pub terms: Vec<String>,
}

/// The scrubber's months and the facets of a view.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Products per month (UTC), in the view's order for time sorts, empty for the others.
    pub months: Vec<MonthCount>,
    pub facets: Facets,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthCount {
    pub year: i32,
    pub month: u32,
    pub count: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub providers: Vec<(String, i64)>,
    pub models: Vec<(String, i64)>,
    /// Count per rating; `None` is unrated.
    pub ratings: Vec<(Option<i16>, i64)>,
}

#[derive(QueryableByName)]
struct LandmarkRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    k_int: i64,
    #[diesel(sql_type = Float)]
    k_real: f32,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    snapshot: i64,
}

#[derive(QueryableByName)]
struct FacetRow {
    #[diesel(sql_type = Nullable<Text>)]
    provider: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    model: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    rating: Option<i16>,
    #[diesel(sql_type = Nullable<Integer>)]
    year: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    month: Option<i32>,
    #[diesel(sql_type = Integer)]
    dimension: i32,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The count and the landmarks of `view`: one pass over the matching products in index
/// order.
pub async fn overview(conn: &mut AsyncPgConnection, view: &View) -> Result<Overview, GalleryError> {
    let mut sql = Sql::new("");
    let search = view.conditions(&mut sql);
    let order = view.order(search.as_deref());
    let conditions = std::mem::take(&mut sql.text);
    // Every PAGE-th key in order, with the total and the highest id beside each.
    sql.push(&format!(
        "SELECT id, created_at, k_int, k_real, total, snapshot FROM (\
           SELECT p.id, p.created_at, {} AS k_int, {} AS k_real, \
                  row_number() OVER (ORDER BY {}) - 1 AS position, \
                  count(*) OVER () AS total, max(p.id) OVER () AS snapshot \
           FROM products p{conditions}) s \
         WHERE position % {PAGE} = 0 ORDER BY position",
        order.k_int, order.k_real, order.order_by
    ));
    let fuzzy = search.is_some();
    let rows: Vec<LandmarkRow> = load(conn, fuzzy, sql).await?;
    let (total, snapshot) = <[LandmarkRow]>::first(&rows).map_or((0, 0), |r| (r.total, r.snapshot));
    let code = SortCode::of(view.sort);
    let landmarks = rows
        .iter()
        .map(|r| Cursor {
            sort: code,
            inclusive: true,
            key: Key {
                created_at: r.created_at,
                int: r.k_int,
                real: r.k_real,
                id: r.id,
            },
        })
        .collect();

    let terms = match &view.filter.search {
        Some(search) => search.terms(),
        None => Vec::new(),
    };
    Ok(Overview {
        total,
        snapshot,
        landmarks,
        terms,
    })
}

/// The month histogram (for the scrubber) and the facet counts of `view` up to `snapshot`: one
/// `GROUPING SETS` pass, asked for apart from the overview so that the grid need not wait for
/// it.
pub async fn summary(
    conn: &mut AsyncPgConnection,
    view: &View,
    snapshot: Option<i64>,
) -> Result<Summary, GalleryError> {
    let snapshot = snapshot.unwrap_or(i64::MAX);
    let fuzzy = matches!(view.filter.search, Some(Search::Text(_)));
    let mut sql = Sql::new("");
    view.conditions(&mut sql);
    let conditions = std::mem::take(&mut sql.text);
    let n = sql.bind(Value::BigInt(snapshot));
    sql.push(&format!(
        "SELECT provider, model, rating, \
                extract(year FROM created_at AT TIME ZONE 'UTC')::int AS year, \
                extract(month FROM created_at AT TIME ZONE 'UTC')::int AS month, \
                (GROUPING(provider) + 2 * GROUPING(model) + 4 * GROUPING(rating))::int AS dimension, \
                count(*) AS count \
         FROM (SELECT p.provider, p.model, p.rating, p.created_at FROM products p{conditions} \
               AND p.id <= {n}) s \
         GROUP BY GROUPING SETS ((provider), (model), (rating), \
                  (extract(year FROM created_at AT TIME ZONE 'UTC'), \
                   extract(month FROM created_at AT TIME ZONE 'UTC')))"
    ));
    let rows: Vec<FacetRow> = load(conn, fuzzy, sql).await?;
    let mut facets = Facets::default();
    let mut months = Vec::new();
    for row in rows {
        // GROUPING bits: 1 provider, 2 model, 4 rating are aggregated away in a row.
        match row.dimension {
            6 => facets
                .providers
                .push((row.provider.unwrap_or_default(), row.count)),
            5 => facets
                .models
                .push((row.model.unwrap_or_default(), row.count)),
            3 => facets.ratings.push((row.rating, row.count)),
            _ => {
                if let (Some(year), Some(month)) = (row.year, row.month) {
                    months.push(MonthCount {
                        year,
                        month: month as u32,
                        count: row.count,
                    });
                }
            }
        }
    }
    let by_count = |a: &(String, i64), b: &(String, i64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    facets.providers.sort_by(by_count);
    facets.models.sort_by(by_count);
    facets.models.truncate(50);
    facets.ratings.sort_by_key(|r| std::cmp::Reverse(r.0));
    match view.sort {
        Sort::Newest => months.sort_by_key(|m| std::cmp::Reverse((m.year, m.month))),
        Sort::Oldest => months.sort_by_key(|a| (a.year, a.month)),
        _ => months.clear(),
    }
    Ok(Summary { months, facets })
}
