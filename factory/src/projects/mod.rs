//! Projects: create, rename, describe, archive, list and delete.
//!
//! Functions take a connection and validated fields and return a [`Project`] row or a
//! [`ProjectError`] that says what the person can do about it.

mod fields;

pub use fields::{
    Description, DescriptionError, NameError, ProjectName, DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS,
};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::schema::projects;

pub type ProjectId = i64;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = projects)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Project {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = projects)]
struct NewProject<'a> {
    name: &'a str,
    slug: &'a str,
    description: &'a str,
}

/// Which projects a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Active,
    Archived,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error(transparent)]
    InvalidDescription(#[from] DescriptionError),
    #[error("A project named “{0}” already exists. Choose another name.")]
    NameTaken(String),
    #[error("There is no project with id {0}; it may have been deleted.")]
    NotFound(ProjectId),
    #[error("“{name}” still holds {contents}. Delete them first, or archive the project instead.")]
    NotEmpty { name: String, contents: Contents },
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<DieselError> for ProjectError {
    fn from(e: DieselError) -> Self {
        ProjectError::Database(DbError::Query(e))
    }
}

/// How many times a slug is re-picked when another writer took it between choosing and
/// inserting.
const SLUG_ATTEMPTS: usize = 5;

pub async fn create(
    conn: &mut AsyncPgConnection,
    name: &ProjectName,
    description: &Description,
) -> Result<Project, ProjectError> {
    for _ in 0..SLUG_ATTEMPTS {
        let slug = free_slug(conn, name, None).await?;
        let inserted = diesel::insert_into(projects::table)
            .values(NewProject {
                name: name.as_str(),
                slug: &slug,
                description: description.as_str(),
            })
            .returning(Project::as_returning())
            .get_result(conn)
            .await;
        match classify(inserted, name) {
            Err(SlugRace) => continue,
            Ok(result) => return result,
        }
    }
    Err(ProjectError::Database(DbError::Connect(
        "could not choose a unique address for the project; try again".into(),
    )))
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    listing: Listing,
) -> Result<Vec<Project>, ProjectError> {
    let query = projects::table
        .select(Project::as_select())
        .order((projects::updated_at.desc(), projects::id.desc()))
        .into_boxed();
    let query = match listing {
        Listing::Active => query.filter(projects::archived_at.is_null()),
        Listing::Archived => query.filter(projects::archived_at.is_not_null()),
    };
    Ok(query.load(conn).await?)
}

pub async fn get(conn: &mut AsyncPgConnection, id: ProjectId) -> Result<Project, ProjectError> {
    projects::table
        .find(id)
        .select(Project::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(ProjectError::NotFound(id))
}

/// The project of that name (names are unique ignoring case), or else a new one (for commands
/// that take a project by name). Returns it and whether it was made.
pub async fn find_or_create(
    conn: &mut AsyncPgConnection,
    name: &ProjectName,
) -> Result<(Project, bool), ProjectError> {
    let found = projects::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(name) = lower(")
                .bind::<diesel::sql_types::Text, _>(name.as_str())
                .sql(")"),
        )
        .select(Project::as_select())
        .first(conn)
        .await
        .optional()?;
    match found {
        Some(project) => Ok((project, false)),
        None => Ok((create(conn, name, &Description::default()).await?, true)),
    }
}

/// Renames a project; its slug follows the new name.
pub async fn rename(
    conn: &mut AsyncPgConnection,
    id: ProjectId,
    name: &ProjectName,
) -> Result<Project, ProjectError> {
    for _ in 0..SLUG_ATTEMPTS {
        let slug = free_slug(conn, name, Some(id)).await?;
        let updated = diesel::update(projects::table.find(id))
            .set((
                projects::name.eq(name.as_str()),
                projects::slug.eq(&slug),
                projects::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Project::as_returning())
            .get_result(conn)
            .await;
        match classify(updated, name) {
            Err(SlugRace) => continue,
            Ok(result) => return result.map_err(|e| not_found_as(e, id)),
        }
    }
    Err(ProjectError::Database(DbError::Connect(
        "could not choose a unique address for the project; try again".into(),
    )))
}

pub async fn set_description(
    conn: &mut AsyncPgConnection,
    id: ProjectId,
    description: &Description,
) -> Result<Project, ProjectError> {
    diesel::update(projects::table.find(id))
        .set((
            projects::description.eq(description.as_str()),
            projects::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Project::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| not_found_as(e.into(), id))
}

/// Archives (hides from the active list, keeps everything) or restores a project.
pub async fn set_archived(
    conn: &mut AsyncPgConnection,
    id: ProjectId,
    archived: bool,
) -> Result<Project, ProjectError> {
    let archived_at = archived.then(Utc::now);
    diesel::update(projects::table.find(id))
        .set((
            projects::archived_at.eq(archived_at),
            projects::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Project::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| not_found_as(e.into(), id))
}

/// Deletes a project.
///
/// A project that holds anything cannot be deleted ([`ProjectError::NotEmpty`]); archive it
/// instead. What counts is [`Contents`].
pub async fn delete(conn: &mut AsyncPgConnection, id: ProjectId) -> Result<(), ProjectError> {
    conn.transaction(async |conn| {
        let project = projects::table
            .find(id)
            .select(Project::as_select())
            .for_update()
            .first(&mut *conn)
            .await
            .optional()?
            .ok_or(ProjectError::NotFound(id))?;
        let contents = contents(&mut *conn, id).await?;
        if !contents.is_empty() {
            return Err(ProjectError::NotEmpty {
                name: project.name,
                contents,
            });
        }
        diesel::delete(projects::table.find(id))
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
    .await
}

/// What lives in a project. Any of it makes the project not empty: deleting the project would
/// take it along (wildcard lists and templates are removed with their project by the schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contents {
    pub batches: i64,
    pub products: i64,
    pub wildcard_lists: i64,
    pub templates: i64,
    pub characters: i64,
}

impl Contents {
    pub fn is_empty(&self) -> bool {
        *self == Contents::default()
    }
}

impl std::fmt::Display for Contents {
    /// "2 batches, 1 image and 1 wildcard list".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (self.batches, "batch", "batches"),
            (self.products, "image", "images"),
            (self.wildcard_lists, "wildcard list", "wildcard lists"),
            (self.templates, "template", "templates"),
            (self.characters, "character", "characters"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        match parts.split_last() {
            None => f.write_str("nothing"),
            Some((last, [])) => f.write_str(last),
            Some((last, rest)) => write!(f, "{} and {last}", rest.join(", ")),
        }
    }
}

/// Counts what lives in a project. Checked inside [`delete`]'s transaction.
async fn contents(conn: &mut AsyncPgConnection, id: ProjectId) -> Result<Contents, ProjectError> {
    use crate::schema::{batches, products, templates, wildcards};
    Ok(Contents {
        batches: batches::table
            .filter(batches::project_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .await?,
        products: products::table
            .filter(products::project_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .await?,
        wildcard_lists: wildcards::table
            .filter(wildcards::project_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .await?,
        templates: templates::table
            .filter(templates::project_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .await?,
        characters: {
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT count(*) AS n FROM characters WHERE project_id = $1")
                .bind::<diesel::sql_types::BigInt, _>(id)
                .get_result::<Count>(conn)
                .await?
                .n
        },
    })
}

/// The first of `slug`, `slug-2`, `slug-3`, ... that no other project uses.
async fn free_slug(
    conn: &mut AsyncPgConnection,
    name: &ProjectName,
    except: Option<ProjectId>,
) -> Result<String, ProjectError> {
    let base = name.slug();
    let mut query = projects::table
        .select(projects::slug)
        .filter(
            projects::slug
                .eq(&base)
                .or(projects::slug.like(format!("{base}-%"))),
        )
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(projects::id.ne(id));
    }
    let taken: Vec<String> = query.load(conn).await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    let n = (2..)
        .find(|n| !taken.contains(&format!("{base}-{n}")))
        .expect("an unbounded range has a free number");
    Ok(format!("{base}-{n}"))
}

/// A slug collision with a concurrent writer: choose again.
struct SlugRace;

/// Sorts a write's outcome: a taken name is the person's error, a taken slug is a race.
fn classify(
    result: QueryResult<Project>,
    name: &ProjectName,
) -> Result<Result<Project, ProjectError>, SlugRace> {
    match result {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
            match info.constraint_name() {
                Some("projects_slug_key") => Err(SlugRace),
                _ => Ok(Err(ProjectError::NameTaken(name.to_string()))),
            }
        }
        other => Ok(other.map_err(ProjectError::from)),
    }
}

fn not_found_as(error: ProjectError, id: ProjectId) -> ProjectError {
    match error {
        ProjectError::Database(DbError::Query(DieselError::NotFound)) => ProjectError::NotFound(id),
        other => other,
    }
}
