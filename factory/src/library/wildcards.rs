//! Wildcard lists: `__name__` in a prompt picks one of a list's values. A project's list
//! hides a global list of the same name.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{LibraryError, Scope};
use crate::prompt;
use crate::schema::wildcards;

/// Most values one list may hold.
pub const MAX_VALUES: usize = 10_000;
/// Longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 2_000;
const WHAT: &str = "A wildcard list";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = wildcards)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct Row {
    id: i64,
    project_id: Option<i64>,
    name: String,
    items: Vec<Option<String>>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wildcard {
    pub id: i64,
    pub project_id: Option<i64>,
    pub name: String,
    pub values: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<Row> for Wildcard {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            values: row.items.into_iter().flatten().collect(),
            updated_at: row.updated_at,
        }
    }
}

/// A checked list name: `colors`, `colors/warm`.
pub fn check_name(name: &str) -> Result<String, LibraryError> {
    let name = name.trim();
    let name = name
        .strip_prefix("__")
        .and_then(|n| n.strip_suffix("__"))
        .unwrap_or(name);
    if name.is_empty() {
        return Err(LibraryError::invalid("name", "Give the list a name."));
    }
    if !prompt::valid_name(name) {
        return Err(LibraryError::invalid(
            "name",
            format!(
                "“{name}” is not a list name: use letters, digits, _ and -, with / between parts \
                 (colors/warm), at most 100 characters."
            ),
        ));
    }
    Ok(name.to_string())
}

/// The values in a text: one per line, `#` comments and blank lines ignored, spaces trimmed
/// (the format of a wildcard `.txt` file).
pub fn parse_values(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Checks values: not empty, not too many or too long, each valid prompt syntax.
pub fn check_values(values: &[String]) -> Result<(), LibraryError> {
    if values.is_empty() {
        return Err(LibraryError::invalid(
            "values",
            "Add at least one value, one per line.",
        ));
    }
    if values.len() > MAX_VALUES {
        return Err(LibraryError::invalid(
            "values",
            format!(
                "A list holds at most {MAX_VALUES} values; this has {}.",
                values.len()
            ),
        ));
    }
    for (i, value) in values.iter().enumerate() {
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(LibraryError::invalid(
                "values",
                format!(
                    "Value {} is longer than {MAX_VALUE_CHARS} characters.",
                    i + 1
                ),
            ));
        }
        if let Err(e) = prompt::parse(value) {
            return Err(LibraryError::invalid(
                "values",
                format!("Value {} (“{value}”): {}", i + 1, e.message),
            ));
        }
    }
    Ok(())
}

/// A checked name and values, as the row stores them.
fn checked(name: &str, values: Vec<String>) -> Result<(String, Vec<Option<String>>), LibraryError> {
    let name = check_name(name)?;
    check_values(&values)?;
    Ok((name, values.into_iter().map(Some).collect()))
}

fn scoped(scope: Scope) -> wildcards::BoxedQuery<'static, diesel::pg::Pg> {
    let query = wildcards::table.into_boxed();
    match scope {
        Scope::Global => query.filter(wildcards::project_id.is_null()),
        Scope::Project(id) => query.filter(wildcards::project_id.eq(id)),
    }
}

/// The lists of one scope, by name.
pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: Scope,
) -> Result<Vec<Wildcard>, LibraryError> {
    let rows: Vec<Row> = scoped(scope)
        .select(Row::as_select())
        .order(wildcards::name.asc())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Wildcard::from).collect())
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Wildcard, LibraryError> {
    let row: Option<Row> = wildcards::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(Wildcard::from).ok_or(LibraryError::NotFound {
        what: "wildcard list",
        id,
    })
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    name: &str,
    values: Vec<String>,
) -> Result<Wildcard, LibraryError> {
    let (name, items) = checked(name, values)?;
    let row: Row = diesel::insert_into(wildcards::table)
        .values((
            wildcards::project_id.eq(scope.project_id()),
            wildcards::name.eq(&name),
            wildcards::items.eq(&items),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| LibraryError::from_write(e, WHAT, &name, None))?;
    Ok(row.into())
}

/// Replaces a list's name and values (the editor saves both).
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    name: &str,
    values: Vec<String>,
) -> Result<Wildcard, LibraryError> {
    let (name, items) = checked(name, values)?;
    let row: Row = diesel::update(wildcards::table.find(id))
        .set((
            wildcards::name.eq(&name),
            wildcards::items.eq(&items),
            wildcards::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| LibraryError::from_write(e, WHAT, &name, Some(id)))?;
    Ok(row.into())
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), LibraryError> {
    let deleted = diesel::delete(wildcards::table.find(id))
        .execute(conn)
        .await?;
    if deleted == 0 {
        return Err(LibraryError::NotFound {
            what: "wildcard list",
            id,
        });
    }
    Ok(())
}

/// Every list a prompt in `project_id` can use: the global ones, overridden by the project's.
pub async fn for_project(
    conn: &mut AsyncPgConnection,
    project_id: i64,
) -> QueryResult<HashMap<String, Vec<String>>> {
    let rows: Vec<Row> = wildcards::table
        .filter(
            wildcards::project_id
                .is_null()
                .or(wildcards::project_id.eq(project_id)),
        )
        .select(Row::as_select())
        // Global first, so the project's lists replace them below.
        .order(wildcards::project_id.asc().nulls_first())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let list = Wildcard::from(row);
            (list.name, list.values)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_file_gives_one_value_per_line_without_comments_or_blanks() {
        let text = "# warm colours\nred\n\n  amber  \n#orange\r\nyellow\r\n";
        assert_eq!(parse_values(text), ["red", "amber", "yellow"]);
    }

    #[test]
    fn names_are_checked_and_may_be_written_as_the_token() {
        assert_eq!(check_name(" __colors/warm__ ").unwrap(), "colors/warm");
        assert!(check_name("bad name").is_err());
        assert!(check_name("a//b").is_err());
        assert!(check_name("").is_err());
    }

    #[test]
    fn values_with_broken_syntax_are_refused_with_their_number() {
        let err = check_values(&["ok".into(), "{bad".into()]).unwrap_err();
        assert!(err.to_string().starts_with("Value 2 (“{bad”)"), "{err}");
        assert!(check_values(&[]).is_err());
    }
}
