//! The person's reusable material: wildcard lists and Generate-form templates, each either
//! global or belonging to one project.

pub mod templates;
pub mod wildcards;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::DbError;

/// Where a list or template lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Project(i64),
}

impl Scope {
    pub fn from_project(project_id: Option<i64>) -> Self {
        project_id.map_or(Scope::Global, Scope::Project)
    }

    pub fn project_id(self) -> Option<i64> {
        match self {
            Scope::Global => None,
            Scope::Project(id) => Some(id),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// A field's value is refused; the message says why and what to do.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{what} named “{name}” already exists here. Choose another name.")]
    NameTaken { what: &'static str, name: String },
    #[error("There is no {what} with id {id}; it may have been deleted.")]
    NotFound { what: &'static str, id: i64 },
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<DieselError> for LibraryError {
    fn from(e: DieselError) -> Self {
        LibraryError::Database(DbError::Query(e))
    }
}

impl LibraryError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        LibraryError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A write's error: a unique violation means the name is taken, a missing row not found.
    fn from_write(e: DieselError, what: &'static str, name: &str, id: Option<i64>) -> Self {
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                LibraryError::NameTaken {
                    what,
                    name: name.to_string(),
                }
            }
            DieselError::NotFound if id.is_some() => LibraryError::NotFound {
                what,
                id: id.unwrap_or_default(),
            },
            other => other.into(),
        }
    }
}

/// `%` and `_` escaped for a LIKE pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
