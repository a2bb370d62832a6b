//! Free-form tags: one row per spelling (case aside), linked to products; autocomplete, rename
//! and merge everywhere at once.

use diesel::sql_types::{Array, BigInt, Text};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::filter::{FilterError, MAX_TAG};
use super::triage::check_ids;
use super::GalleryError;

/// A tag name as typed, checked: trimmed, 1 to 64 characters, no control characters.
pub fn tag_name(text: &str) -> Result<String, FilterError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(FilterError("Type a tag first.".into()));
    }
    let length = name.chars().count();
    if length > MAX_TAG {
        return Err(FilterError(format!(
            "A tag is at most {MAX_TAG} characters; this one has {length}. Shorten it."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(FilterError(
            "A tag cannot hold line breaks or control characters.".into(),
        ));
    }
    Ok(name.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TagCount {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Adds the tag `name` (made if new; an existing spelling is reused whatever its case) to
/// `ids`. Returns how many products gained it.
pub async fn add(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    name: &str,
) -> Result<usize, GalleryError> {
    check_ids(ids)?;
    let name = tag_name(name)?;
    let tag: IdRow = sql_query(
        "INSERT INTO tags (name) VALUES ($1)
         ON CONFLICT ((lower(name))) DO UPDATE SET name = tags.name
         RETURNING id",
    )
    .bind::<Text, _>(&name)
    .get_result(conn)
    .await?;
    let added = sql_query(
        "INSERT INTO product_tags (product_id, tag_id)
         SELECT p.id, $2 FROM products p WHERE p.id = ANY($1)
         ON CONFLICT DO NOTHING",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<BigInt, _>(tag.id)
    .execute(conn)
    .await?;
    Ok(added)
}

/// Takes the tag `name` off `ids`.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    name: &str,
) -> Result<usize, GalleryError> {
    check_ids(ids)?;
    let name = tag_name(name)?;
    Ok(sql_query(
        "DELETE FROM product_tags pt USING tags t
         WHERE t.id = pt.tag_id AND lower(t.name) = lower($2) AND pt.product_id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<Text, _>(&name)
    .execute(conn)
    .await?)
}

/// Tags starting with `prefix` (case aside), most used first, then containing it.
pub async fn suggest(
    conn: &mut AsyncPgConnection,
    prefix: &str,
    limit: i64,
) -> Result<Vec<TagCount>, GalleryError> {
    let prefix = prefix.trim().to_lowercase();
    if prefix.chars().count() > MAX_TAG {
        return Ok(Vec::new());
    }
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(sql_query(
        "SELECT t.name, (SELECT count(*) FROM product_tags pt WHERE pt.tag_id = t.id) AS count
         FROM tags t
         WHERE lower(t.name) LIKE '%' || $1 || '%'
         ORDER BY lower(t.name) LIKE $1 || '%' DESC, count DESC, lower(t.name)
         LIMIT $2",
    )
    .bind::<Text, _>(escaped)
    .bind::<BigInt, _>(limit.clamp(1, 50))
    .load(conn)
    .await?)
}

/// Every tag with its product count, most used first.
pub async fn list(conn: &mut AsyncPgConnection) -> Result<Vec<TagCount>, GalleryError> {
    Ok(sql_query(
        "SELECT t.name, count(pt.product_id) AS count
         FROM tags t LEFT JOIN product_tags pt ON pt.tag_id = t.id
         GROUP BY t.id ORDER BY count DESC, lower(t.name) LIMIT 1000",
    )
    .load(conn)
    .await?)
}

/// The tags of each of `ids`, as (product, name) pairs.
pub async fn of_products(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<(i64, String)>, GalleryError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        product_id: i64,
        #[diesel(sql_type = Text)]
        name: String,
    }
    check_ids(ids)?;
    let rows: Vec<Row> = sql_query(
        "SELECT pt.product_id, t.name FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
         WHERE pt.product_id = ANY($1) ORDER BY pt.product_id, lower(t.name)",
    )
    .bind::<Array<BigInt>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.product_id, r.name)).collect())
}

/// The id of the tag spelled `name` (case aside), other than `except`.
async fn find(
    conn: &mut AsyncPgConnection,
    name: &str,
    except: i64,
) -> diesel::QueryResult<Option<i64>> {
    let rows: Vec<IdRow> =
        sql_query("SELECT id FROM tags WHERE lower(name) = lower($1) AND id <> $2")
            .bind::<Text, _>(name)
            .bind::<BigInt, _>(except)
            .load(conn)
            .await?;
    Ok(rows.into_iter().next().map(|r| r.id))
}

/// Renames the tag `from` to `to` everywhere; when `to` already exists (case aside), the two
/// merge: every product of either has `to`, once.
pub async fn rename(
    conn: &mut AsyncPgConnection,
    from: &str,
    to: &str,
) -> Result<(), GalleryError> {
    let (from, to) = (tag_name(from)?, tag_name(to)?);
    conn.transaction(async |conn| {
        let Some(old) = find(conn, &from, 0).await? else {
            return Err(GalleryError::Filter(FilterError(format!(
                "There is no tag “{from}”."
            ))));
        };
        match find(conn, &to, old).await? {
            None => {
                sql_query("UPDATE tags SET name = $2 WHERE id = $1")
                    .bind::<BigInt, _>(old)
                    .bind::<Text, _>(&to)
                    .execute(conn)
                    .await?;
            }
            Some(target) => {
                sql_query(
                    "INSERT INTO product_tags (product_id, tag_id)
                     SELECT product_id, $2 FROM product_tags WHERE tag_id = $1
                     ON CONFLICT DO NOTHING",
                )
                .bind::<BigInt, _>(old)
                .bind::<BigInt, _>(target)
                .execute(conn)
                .await?;
                sql_query("DELETE FROM tags WHERE id = $1")
                    .bind::<BigInt, _>(old)
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    })
    .await
}
