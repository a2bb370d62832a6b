//! The gallery: every product, filtered, searched and sorted, one keyset page at a time.
//!
//! A view is two calls. [`overview`] runs once per filter: the count, the snapshot (the highest
//! product id it covers, so that pages stay consistent while new products arrive), the month
//! histogram for the date scrubber, the facet counts, and a *landmark* every [`PAGE`] products —
//! the key each page starts at. [`page`] then fetches any page by its landmark with one index
//! seek: the thousandth page costs what the first does, and every product is reachable by
//! position without an OFFSET. Every query is served by an index (`docs/gallery-plans.md`).

pub mod cursor;
pub mod filter;
mod overview;
pub mod seed;
mod service;
pub mod sql;
pub mod tags;
pub mod triage;

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Float, Integer, Nullable, SmallInt, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
pub use cursor::{Cursor, Key, SortCode};
pub use filter::{Filter, FilterError, Rejected, Search, Sort};
pub use overview::{overview, summary, Facets, MonthCount, Overview, Summary};
pub use service::Emptied;
use sql::{Sql, Value};

/// Products per page and between landmarks.
pub const PAGE: i64 = 100;
/// How much of a prompt a tile carries (its alt text and tooltip).
pub const TILE_PROMPT: i32 = 80;

#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for GalleryError {
    fn from(e: diesel::result::Error) -> Self {
        GalleryError::Db(e.into())
    }
}

/// One product as the grid shows it: enough for the tile, its placeholder and its key.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Tile {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub project_id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub content_hash: String,
    #[diesel(sql_type = Text)]
    pub ext: String,
    #[diesel(sql_type = Nullable<Integer>)]
    pub width: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub height: Option<i32>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub rating: Option<i16>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub favourite: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub rejected: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub thumbhash: Option<String>,
    #[diesel(sql_type = Text)]
    pub prompt: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// How long a video or sound lasts.
    #[diesel(sql_type = Nullable<Integer>)]
    pub duration_ms: Option<i32>,
    #[diesel(sql_type = BigInt)]
    k_int: i64,
    #[diesel(sql_type = Float)]
    k_real: f32,
}

impl Tile {
    pub fn key(&self) -> Key {
        Key {
            created_at: self.created_at,
            int: self.k_int,
            real: self.k_real,
            id: self.id,
        }
    }
}

/// A page of tiles and the cursor of the page after it.
#[derive(Debug, Clone)]
pub struct Page {
    pub tiles: Vec<Tile>,
    pub next: Option<Cursor>,
}

/// A sort and the filter it applies to, ready to query.
#[derive(Debug, Clone)]
pub struct View {
    pub filter: Filter,
    pub sort: Sort,
}

impl View {
    /// Checks the filter, and turns a relevance sort without search text into newest-first.
    pub fn new(filter: Filter, sort: Sort) -> Result<Self, FilterError> {
        filter.validate()?;
        let sort = match (sort, &filter.search) {
            (Sort::Relevance, Some(Search::Text(_))) => Sort::Relevance,
            (Sort::Relevance, _) => Sort::Newest,
            (other, _) => other,
        };
        Ok(Self { filter, sort })
    }

    /// `WHERE ...` for the filter (with `p` the products alias), and the search text's
    /// placeholder when there is one.
    fn conditions(&self, sql: &mut Sql) -> Option<String> {
        let f = &self.filter;
        sql.push(if f.trash {
            " WHERE p.deleted_at IS NOT NULL"
        } else {
            " WHERE p.deleted_at IS NULL"
        });
        if let Some(project) = f.project {
            let n = sql.bind(Value::BigInt(project));
            sql.push(&format!(" AND p.project_id = {n}"));
        }
        if !f.providers.is_empty() {
            let n = sql.bind(Value::Texts(f.providers.clone()));
            sql.push(&format!(" AND p.provider = ANY({n})"));
        }
        if !f.models.is_empty() {
            let n = sql.bind(Value::Texts(f.models.clone()));
            sql.push(&format!(" AND p.model = ANY({n})"));
        }
        if let Some(r) = f.min_rating {
            let n = sql.bind(Value::SmallInt(r));
            sql.push(&format!(" AND COALESCE(p.rating, -1) >= {n}"));
        }
        if f.favourites {
            sql.push(" AND p.favourite");
        }
        match f.rejected {
            Rejected::Hide => sql.push(" AND NOT p.rejected"),
            Rejected::Only => sql.push(" AND p.rejected"),
            Rejected::Include => sql,
        };
        if let Some(from) = f.from {
            let n = sql.bind(Value::Time(from));
            sql.push(&format!(" AND p.created_at >= {n}"));
        }
        if let Some(until) = f.until {
            let n = sql.bind(Value::Time(until));
            sql.push(&format!(" AND p.created_at < {n}"));
        }
        for tag in &f.tags {
            let n = sql.bind(Value::Text(tag.trim().to_lowercase()));
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM product_tags pt JOIN tags t ON t.id = pt.tag_id \
                 WHERE pt.product_id = p.id AND lower(t.name) = {n})"
            ));
        }
        if let Some(batch) = f.batch {
            let n = sql.bind(Value::BigInt(batch));
            sql.push(&format!(" AND p.batch_id = {n}"));
        }
        if let Some(kind) = &f.kind {
            let n = sql.bind(Value::Text(kind.clone()));
            sql.push(&format!(" AND p.kind = {n}"));
        }
        // A length narrows to videos and sounds (a picture has none).
        if let Some(min) = f.min_secs {
            let n = sql.bind(Value::BigInt(min as i64 * 1000));
            sql.push(&format!(" AND p.duration_ms >= {n}"));
        }
        if let Some(max) = f.max_secs {
            let n = sql.bind(Value::BigInt(max as i64 * 1000));
            sql.push(&format!(" AND p.duration_ms <= {n}"));
        }
        if f.derived {
            sql.push(" AND p.parent_id IS NOT NULL");
        }
        match &f.search {
            Some(Search::Seed(seed)) => {
                let n = sql.bind(Value::BigInt(*seed));
                sql.push(&format!(" AND p.seed = {n}"));
                None
            }
            Some(Search::Text(text)) => {
                let q = sql.bind(Value::Text(text.clone()));
                // Whole words through the full-text index, substrings and near-spellings
                // through the trigram one; websearch syntax never fails on operators.
                sql.push(&format!(
                    " AND (p.search_tsv @@ websearch_to_tsquery('simple', {q}) OR {q} <% p.prompt)"
                ));
                Some(q)
            }
            None => None,
        }
    }

    /// `SELECT <tile columns> FROM products p WHERE <filter>`, whether it searches text, and
    /// its order, for the caller to complete.
    fn select_tiles(&self) -> (Sql, bool, Order) {
        let mut sql = Sql::new("");
        let search = self.conditions(&mut sql);
        let order = self.order(search.as_deref());
        let conditions = std::mem::take(&mut sql.text);
        sql.push(&format!("SELECT {} FROM products p", tile_columns(&order)));
        sql.push(&conditions);
        (sql, search.is_some(), order)
    }

    /// The key columns (`k_int`, `k_real`), the ORDER BY, and the row compared by a cursor.
    fn order(&self, search: Option<&str>) -> Order {
        match (self.sort, search) {
            (Sort::Oldest, _) => Order::plain("0::int8", "p.created_at ASC, p.id ASC", true),
            (Sort::Rating, _) => Order {
                k_int: "COALESCE(p.rating, -1)::int8".into(),
                k_real: "0::real".into(),
                order_by: "COALESCE(p.rating, -1) DESC, p.created_at DESC, p.id DESC".into(),
                row: "(COALESCE(p.rating, -1)::int8, p.created_at, p.id)".into(),
                ascending: false,
                parts: KeyParts::IntTime,
            },
            (Sort::Random(seed), _) => {
                let hash = format!("hashint8extended(p.id, {seed})");
                Order {
                    k_int: hash.clone(),
                    k_real: "0::real".into(),
                    order_by: format!("{hash} ASC, p.id ASC"),
                    row: format!("({hash}, p.id)"),
                    ascending: true,
                    parts: KeyParts::Int,
                }
            }
            (Sort::Relevance, Some(q)) => {
                // Whole-word matches first (ranked by cover density), then near-spellings by
                // trigram similarity: computed only for the rows the full-text index missed.
                let rank = format!(
                    "(CASE WHEN p.search_tsv @@ websearch_to_tsquery('simple', {q}) \
                     THEN 1 + ts_rank_cd(p.search_tsv, websearch_to_tsquery('simple', {q})) \
                     ELSE word_similarity({q}, p.prompt) END)::real"
                );
                Order {
                    k_int: "0::int8".into(),
                    k_real: rank.clone(),
                    order_by: format!("{rank} DESC, p.id DESC"),
                    row: format!("({rank}, p.id)"),
                    ascending: false,
                    parts: KeyParts::Real,
                }
            }
            _ => Order::plain("0::int8", "p.created_at DESC, p.id DESC", false),
        }
    }
}

/// Which parts of a key an order compares.
#[derive(Debug, Clone, Copy)]
enum KeyParts {
    Time,
    IntTime,
    Int,
    Real,
}

struct Order {
    k_int: String,
    k_real: String,
    order_by: String,
    row: String,
    ascending: bool,
    parts: KeyParts,
}

impl Order {
    fn plain(k_int: &str, order_by: &str, ascending: bool) -> Self {
        Self {
            k_int: k_int.into(),
            k_real: "0::real".into(),
            order_by: order_by.into(),
            row: "(p.created_at, p.id)".into(),
            ascending,
            parts: KeyParts::Time,
        }
    }

    /// ` AND (row) > (key)`: the products at or after the cursor in this order.
    fn after(&self, sql: &mut Sql, cursor: &Cursor) {
        let key = cursor.key;
        let id = sql.bind(Value::BigInt(key.id));
        let values = match self.parts {
            KeyParts::Time => format!("{}, {id}", sql.bind(Value::Time(key.created_at))),
            KeyParts::IntTime => {
                let int = sql.bind(Value::BigInt(key.int));
                format!("{int}, {}, {id}", sql.bind(Value::Time(key.created_at)))
            }
            KeyParts::Int => format!("{}, {id}", sql.bind(Value::BigInt(key.int))),
            KeyParts::Real => format!("{}, {id}", sql.bind(Value::Real(key.real))),
        };
        let op = match (self.ascending, cursor.inclusive) {
            (true, true) => ">=",
            (true, false) => ">",
            (false, true) => "<=",
            (false, false) => "<",
        };
        sql.push(&format!(" AND {} {op} ({values})", self.row));
    }
}

/// How close a misspelt word must be to one in a prompt (pg_trgm's word similarity, 0 to 1):
/// one wrong or swapped letter in a ten-letter word scores about 0.47. The default, 0.6, misses
/// most typos.
const TYPO_SIMILARITY: &str = "0.4";

/// Runs a gallery query; with search text, inside a transaction that sets the typo tolerance.
async fn load<T>(conn: &mut AsyncPgConnection, fuzzy: bool, sql: Sql) -> diesel::QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + Send + 'static,
{
    if !fuzzy {
        return sql.into_query().load(conn).await;
    }
    conn.transaction(async |conn| {
        diesel::sql_query(format!(
            "SET LOCAL pg_trgm.word_similarity_threshold = {TYPO_SIMILARITY}"
        ))
        .execute(conn)
        .await?;
        sql.into_query().load(conn).await
    })
    .await
}

fn tile_columns(order: &Order) -> String {
    format!(
        "p.id, p.project_id, p.kind, p.content_hash, \
         substring(p.path from '[^.]+$') AS ext, p.width, p.height, p.rating, p.favourite, \
         p.rejected, p.thumbhash, left(p.prompt, {TILE_PROMPT}) AS prompt, p.created_at, \
         p.duration_ms, {} AS k_int, {} AS k_real",
        order.k_int, order.k_real
    )
}

/// The page of `view` starting at `start` (the first page without one), up to `limit` tiles,
/// among products up to `snapshot` (the id an overview was taken at), if given.
pub async fn page(
    conn: &mut AsyncPgConnection,
    view: &View,
    start: Option<&Cursor>,
    snapshot: Option<i64>,
    limit: i64,
) -> Result<Page, GalleryError> {
    if let Some(cursor) = start {
        if cursor.sort != SortCode::of(view.sort) {
            return Err(FilterError(
                "This gallery position belongs to another sort order; reload the gallery.".into(),
            )
            .into());
        }
    }
    let limit = limit.clamp(1, 500);
    let (sql, fuzzy) = page_sql(view, start, snapshot, limit);
    let mut tiles: Vec<Tile> = load(conn, fuzzy, sql).await?;
    let next = (tiles.len() as i64 > limit).then(|| {
        tiles.pop();
        Cursor {
            sort: SortCode::of(view.sort),
            inclusive: false,
            key: tiles.last().expect("a page before a next one").key(),
        }
    });
    Ok(Page { tiles, next })
}

fn page_sql(view: &View, start: Option<&Cursor>, snapshot: Option<i64>, limit: i64) -> (Sql, bool) {
    let (mut sql, fuzzy, order) = view.select_tiles();
    if let Some(snapshot) = snapshot {
        let n = sql.bind(Value::BigInt(snapshot));
        sql.push(&format!(" AND p.id <= {n}"));
    }
    if let Some(cursor) = start {
        order.after(&mut sql, cursor);
    }
    let n = sql.bind(Value::BigInt(limit + 1));
    sql.push(&format!(" ORDER BY {} LIMIT {n}", order.order_by));
    (sql, fuzzy)
}

/// The plan PostgreSQL runs for a page, as `EXPLAIN (ANALYZE)` prints it (for the docs and the
/// benchmark: every gallery query must be served by an index).
pub async fn explain_page(
    conn: &mut AsyncPgConnection,
    view: &View,
    start: Option<&Cursor>,
    snapshot: Option<i64>,
) -> Result<Vec<String>, GalleryError> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let (mut sql, fuzzy) = page_sql(view, start, snapshot, PAGE);
    sql.text = format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {}", sql.text);
    let lines: Vec<Line> = load(conn, fuzzy, sql).await?;
    Ok(lines.into_iter().map(|l| l.line).collect())
}

/// Products that arrived after `snapshot` and match the view, newest first (at most `limit`):
/// what the live gallery puts above what the person is looking at.
pub async fn fresh(
    conn: &mut AsyncPgConnection,
    view: &View,
    snapshot: i64,
    limit: i64,
) -> Result<Vec<Tile>, GalleryError> {
    let (mut sql, fuzzy, _) = view.select_tiles();
    let n = sql.bind(Value::BigInt(snapshot));
    let limit = sql.bind(Value::BigInt(limit.clamp(1, 500)));
    sql.push(&format!(" AND p.id > {n} ORDER BY p.id DESC LIMIT {limit}"));
    Ok(load(conn, fuzzy, sql).await?)
}
