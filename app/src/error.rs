//! The error every server function returns.
//!
//! It carries only what the person may see: which field is wrong and how to fix it, or what
//! went wrong in plain words. Internal details (database messages, paths) are logged on the
//! server and replaced by a safe message here; secrets never reach it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input in one form field; shown next to that field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Bad input in several fields at once (a launch checks everything before refusing).
    #[error("{}", .0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" "))]
    InvalidFields(Vec<(String, String)>),
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the current state forbids it (a taken name, a non-empty project).
    #[error("{0}")]
    Conflict(String),
    /// Something failed on the server; the details are in the server log.
    #[error("{0}")]
    Internal(String),
    /// The request did not reach the server, or its answer could not be read.
    #[error("Could not reach Art Factory ({0}). Check that the server is still running, then try again.")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The message to show next to `field`, if this error is about it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            AppError::InvalidFields(fields) => fields
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, m)| m.clone()),
            _ => None,
        }
    }

    /// The HTTP status a server function answers with when it fails this way.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::InvalidFields(_) => 422,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Internal(_) => 500,
            AppError::Transport(_) => 502,
        }
    }

    /// The message to show for the form as a whole (anything not tied to one field).
    pub fn general(&self) -> Option<String> {
        match self {
            AppError::Invalid { .. } | AppError::InvalidFields(_) => None,
            other => Some(other.to_string()),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod from_engine {
    use super::AppError;
    use factory::batches::LaunchError;
    use factory::db::DbError;
    use factory::jobs::JobError;
    use factory::library::LibraryError;
    use factory::projects::{DescriptionError, NameError, ProjectError};

    impl From<LibraryError> for AppError {
        fn from(e: LibraryError) -> Self {
            match e {
                LibraryError::Invalid { field, .. } => AppError::invalid(field, e.to_string()),
                LibraryError::NameTaken { .. } => AppError::invalid("name", e.to_string()),
                LibraryError::NotFound { .. } => AppError::NotFound(e.to_string()),
                LibraryError::Database(db) => db.into(),
            }
        }
    }

    impl From<factory::grids::GridError> for AppError {
        fn from(e: factory::grids::GridError) -> Self {
            use factory::grids::GridError;
            match e {
                GridError::SameAxis(_) => AppError::invalid("y", e.to_string()),
                GridError::TooManyCells { .. } | GridError::TooLargeToDraw { .. } => {
                    AppError::invalid("x", e.to_string())
                }
                GridError::Database(db) => DbError::Query(db).into(),
            }
        }
    }

    impl From<factory::credentials::KeyError> for AppError {
        fn from(e: factory::credentials::KeyError) -> Self {
            use factory::credentials::KeyError;
            match e {
                KeyError::UnknownProvider(_) => AppError::NotFound(e.to_string()),
                KeyError::Invalid(_) | KeyError::Rejected { .. } => {
                    AppError::invalid("key", e.to_string())
                }
                KeyError::BadConcurrency => AppError::invalid("concurrency", e.to_string()),
                KeyError::NoKey(_) => AppError::Conflict(e.to_string()),
                KeyError::Db(db) => db.into(),
            }
        }
    }

    impl From<factory::models::ModelError> for AppError {
        fn from(e: factory::models::ModelError) -> Self {
            use factory::models::ModelError;
            match e {
                ModelError::UnknownProvider(_) => AppError::invalid("provider", e.to_string()),
                ModelError::Empty | ModelError::TooLong | ModelError::Provider(_) => {
                    AppError::invalid("reference", e.to_string())
                }
                ModelError::Db(db) => db.into(),
            }
        }
    }

    impl From<factory::picks::PickError> for AppError {
        fn from(e: factory::picks::PickError) -> Self {
            match e {
                factory::picks::PickError::Invalid(m) => AppError::invalid("pick", m),
                factory::picks::PickError::Db(db) => db.into(),
            }
        }
    }

    impl From<factory::costs::CostError> for AppError {
        fn from(e: factory::costs::CostError) -> Self {
            match e {
                factory::costs::CostError::Invalid(m) => AppError::invalid("budget", m),
                factory::costs::CostError::Db(db) => db.into(),
            }
        }
    }

    impl From<factory::pipelines::PipelineError> for AppError {
        fn from(e: factory::pipelines::PipelineError) -> Self {
            use factory::pipelines::PipelineError;
            match e {
                PipelineError::Name(_) | PipelineError::NameTaken(_) => {
                    AppError::invalid("name", e.to_string())
                }
                PipelineError::Invalid(_) => AppError::invalid("steps", e.to_string()),
                PipelineError::NotFound(_) | PipelineError::NoProject(_) => {
                    AppError::NotFound(e.to_string())
                }
                PipelineError::Running(_) => AppError::Conflict(e.to_string()),
                PipelineError::Database(db) => DbError::Query(db).into(),
                PipelineError::Db(db) => db.into(),
            }
        }
    }

    impl From<factory::characters::CharacterError> for AppError {
        fn from(e: factory::characters::CharacterError) -> Self {
            use factory::characters::CharacterError;
            match e {
                CharacterError::Invalid(_) => AppError::invalid("locks", e.to_string()),
                CharacterError::NotFound(_) | CharacterError::NoProject(_) => {
                    AppError::NotFound(e.to_string())
                }
                CharacterError::Database(db) => DbError::Query(db).into(),
                CharacterError::Unavailable(db) => db.into(),
            }
        }
    }

    impl From<factory::assets::store::AssetError> for AppError {
        fn from(e: factory::assets::store::AssetError) -> Self {
            use factory::assets::store::AssetError;
            match e {
                AssetError::Refused(_) => AppError::invalid("files", e.to_string()),
                AssetError::NotFound(_) | AssetError::NoProject(_) => {
                    AppError::NotFound(e.to_string())
                }
                AssetError::Storage(_) => {
                    tracing::error!(error = %e, "a model could not be stored");
                    AppError::Internal(
                        "The model could not be stored. Check the server log, then try again."
                            .into(),
                    )
                }
                AssetError::Database(db) => DbError::Query(db).into(),
                AssetError::Unavailable(db) => db.into(),
            }
        }
    }

    impl From<factory::scenes::store::SceneError> for AppError {
        fn from(e: factory::scenes::store::SceneError) -> Self {
            use factory::scenes::store::SceneError;
            match e {
                // Each problem at its JSON pointer into the scene.
                SceneError::Invalid(invalid) => AppError::InvalidFields(
                    invalid
                        .0
                        .into_iter()
                        .map(|p| (p.pointer, p.message))
                        .collect(),
                ),
                SceneError::NotFound(_) | SceneError::NoProject(_) => {
                    AppError::NotFound(e.to_string())
                }
                SceneError::Conflict { .. } => AppError::Conflict(e.to_string()),
                SceneError::Database(db) => DbError::Query(db).into(),
                SceneError::Unavailable(db) => db.into(),
            }
        }
    }

    impl From<factory::render::jobs::RenderError> for AppError {
        fn from(e: factory::render::jobs::RenderError) -> Self {
            use factory::render::jobs::RenderError;
            match e {
                RenderError::Scene(e) => e.into(),
                RenderError::Launch(e) => e.into(),
                RenderError::Invalid(message) => AppError::invalid("render", message),
                RenderError::EngineMissing { .. } => AppError::invalid("engine", e.to_string()),
                RenderError::NotFound(_) => AppError::NotFound(e.to_string()),
                RenderError::Database(db) => DbError::Query(db).into(),
                RenderError::Unavailable(db) => db.into(),
            }
        }
    }

    impl From<factory::characters::portraits::PortraitError> for AppError {
        fn from(e: factory::characters::portraits::PortraitError) -> Self {
            use factory::characters::portraits::PortraitError;
            match e {
                PortraitError::Character(e) => e.into(),
                PortraitError::Launch(e) => e.into(),
            }
        }
    }

    impl From<factory::providers::comfyui::WorkflowError> for AppError {
        fn from(e: factory::providers::comfyui::WorkflowError) -> Self {
            AppError::invalid("workflow", e.to_string())
        }
    }

    impl From<factory::pipelines::RunError> for AppError {
        fn from(e: factory::pipelines::RunError) -> Self {
            use factory::pipelines::RunError;
            match e {
                RunError::Pipeline(e) => e.into(),
                RunError::Steps(_) => AppError::invalid("steps", e.to_string()),
                RunError::Input(_) => AppError::invalid("run", e.to_string()),
                RunError::NotFound(_) => AppError::NotFound(e.to_string()),
                RunError::Lost => AppError::Conflict(e.to_string()),
                RunError::Db(db) => db.into(),
            }
        }
    }

    impl From<DbError> for AppError {
        fn from(e: DbError) -> Self {
            tracing::error!(error = %e, "database error");
            AppError::Internal(
                "The database did not answer. Check the server log, then try again.".into(),
            )
        }
    }

    impl From<LaunchError> for AppError {
        fn from(e: LaunchError) -> Self {
            match e {
                LaunchError::Invalid(fields) => AppError::InvalidFields(
                    fields.into_iter().map(|f| (f.field, f.message)).collect(),
                ),
                LaunchError::Project(e) => e.into(),
                LaunchError::ProjectArchived(_) => AppError::invalid("project", e.to_string()),
                LaunchError::OverBudget(message) => AppError::Conflict(message),
                LaunchError::Database(db) => db.into(),
            }
        }
    }

    impl From<JobError> for AppError {
        fn from(e: JobError) -> Self {
            match e {
                JobError::NotFound(_) => AppError::NotFound(e.to_string()),
                JobError::WrongState { .. } => AppError::Conflict(e.to_string()),
                JobError::Database(db) => db.into(),
            }
        }
    }

    impl From<NameError> for AppError {
        fn from(e: NameError) -> Self {
            ProjectError::from(e).into()
        }
    }

    impl From<DescriptionError> for AppError {
        fn from(e: DescriptionError) -> Self {
            ProjectError::from(e).into()
        }
    }

    impl From<ProjectError> for AppError {
        fn from(e: ProjectError) -> Self {
            match e {
                ProjectError::InvalidName(e) => AppError::invalid("name", e.to_string()),
                ProjectError::InvalidDescription(e) => {
                    AppError::invalid("description", e.to_string())
                }
                ProjectError::NameTaken(_) => AppError::invalid("name", e.to_string()),
                ProjectError::NotFound(_) => AppError::NotFound(e.to_string()),
                ProjectError::NotEmpty { .. } => AppError::Conflict(e.to_string()),
                ProjectError::Database(db) => db.into(),
            }
        }
    }
}
