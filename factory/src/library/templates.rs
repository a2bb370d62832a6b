//! Templates: a saved Generate form (provider, model, parameters, prompt, negative prompt,
//! mode, seed settings) under a name. The form is the UI's to define; here it is a JSON
//! object, kept whole.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::{like_escape, LibraryError, Scope};
use crate::schema::templates;

pub const MAX_NAME_CHARS: usize = 100;
/// Largest saved form, in bytes of JSON.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// Most templates one search returns.
pub const LIST_LIMIT: i64 = 500;
const WHAT: &str = "A template";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = templates)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Template {
    pub id: i64,
    pub project_id: Option<i64>,
    pub name: String,
    pub form: Value,
    pub updated_at: DateTime<Utc>,
}

pub fn check_name(name: &str) -> Result<String, LibraryError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LibraryError::invalid("name", "Give the template a name."));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(LibraryError::invalid(
            "name",
            format!("Names can be at most {MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(name.to_string())
}

fn check_form(form: &Value) -> Result<(), LibraryError> {
    if !form.is_object() {
        return Err(LibraryError::invalid(
            "form",
            "A template saves a form (a JSON object).",
        ));
    }
    if form.to_string().len() > MAX_FORM_BYTES {
        return Err(LibraryError::invalid(
            "form",
            format!("The form is larger than {} KB.", MAX_FORM_BYTES / 1024),
        ));
    }
    Ok(())
}

/// The templates usable in `project` (the global ones and, with a project, its own) whose name
/// contains `query` (any case), by name.
pub async fn search(
    conn: &mut AsyncPgConnection,
    project: Option<i64>,
    query: &str,
) -> Result<Vec<Template>, LibraryError> {
    let mut q = templates::table
        .select(Template::as_select())
        .order((templates::name.asc(), templates::id.asc()))
        .limit(LIST_LIMIT)
        .into_boxed();
    q = match project {
        Some(id) => q.filter(
            templates::project_id
                .is_null()
                .or(templates::project_id.eq(id)),
        ),
        None => q.filter(templates::project_id.is_null()),
    };
    let query = query.trim();
    if !query.is_empty() {
        q = q.filter(templates::name.ilike(format!("%{}%", like_escape(query))));
    }
    Ok(q.load(conn).await?)
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Template, LibraryError> {
    templates::table
        .find(id)
        .select(Template::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(LibraryError::NotFound {
            what: "template",
            id,
        })
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    name: &str,
    form: &Value,
) -> Result<Template, LibraryError> {
    let name = check_name(name)?;
    check_form(form)?;
    diesel::insert_into(templates::table)
        .values((
            templates::project_id.eq(scope.project_id()),
            templates::name.eq(&name),
            templates::form.eq(form),
        ))
        .returning(Template::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| LibraryError::from_write(e, WHAT, &name, None))
}

pub async fn rename(
    conn: &mut AsyncPgConnection,
    id: i64,
    name: &str,
) -> Result<Template, LibraryError> {
    let name = check_name(name)?;
    diesel::update(templates::table.find(id))
        .set((
            templates::name.eq(&name),
            templates::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Template::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| LibraryError::from_write(e, WHAT, &name, Some(id)))
}

/// A copy named “<name> (copy)”, or “(copy 2)” and so on when that is taken.
pub async fn duplicate(conn: &mut AsyncPgConnection, id: i64) -> Result<Template, LibraryError> {
    let original = get(conn, id).await?;
    let scope = Scope::from_project(original.project_id);
    for n in 1..=50 {
        let suffix = if n == 1 {
            " (copy)".to_string()
        } else {
            format!(" (copy {n})")
        };
        let base: String = original
            .name
            .chars()
            .take(MAX_NAME_CHARS - suffix.chars().count())
            .collect();
        match create(conn, scope, &format!("{base}{suffix}"), &original.form).await {
            Err(LibraryError::NameTaken { .. }) => continue,
            other => return other,
        }
    }
    Err(LibraryError::invalid(
        "name",
        "Too many copies of this template; rename some first.",
    ))
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), LibraryError> {
    let deleted = diesel::delete(templates::table.find(id))
        .execute(conn)
        .await?;
    if deleted == 0 {
        return Err(LibraryError::NotFound {
            what: "template",
            id,
        });
    }
    Ok(())
}
