//! `GET|POST /exports/archive.zip`: a ZIP of a project (`project=ID`), of a gallery view
//! (`gallery=<its URL query>`) or of chosen products (`ids=1,2,3`, posted by the gallery's
//! selection), made while it downloads (`factory::export`). A selection that cannot be read or
//! is empty is a 422 that says so; once bytes flow, a failure ends the download early (logged).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use factory::export::{ExportError, Selection};
use factory::Engine;
use serde::Deserialize;

/// The most products a posted selection may name (as many as the gallery's bulk actions).
const MAX_IDS: usize = factory::gallery::triage::MAX_BULK;

#[derive(Debug, Default, Deserialize)]
pub struct What {
    project: Option<i64>,
    gallery: Option<String>,
    ids: Option<String>,
}

pub async fn download(State(engine): State<Engine>, Query(what): Query<What>) -> Response {
    respond(engine, what).await
}

pub async fn download_posted(State(engine): State<Engine>, Form(what): Form<What>) -> Response {
    respond(engine, what).await
}

fn refuse(message: impl Into<String>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, message.into()).into_response()
}

fn selection(what: What) -> Result<(Selection, String), String> {
    match (what.project, what.gallery, what.ids) {
        (Some(project), None, None) => {
            Ok((Selection::Project(project), format!("project-{project}")))
        }
        (None, Some(query), None) => {
            let view = app::dto::GalleryQuery::parse(&query).and_then(|q| q.view())?;
            Ok((Selection::View(view), "gallery".into()))
        }
        (None, None, Some(ids)) => {
            let ids: Vec<i64> = ids
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    s.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("“{s}” is not a product id"))
                })
                .collect::<Result<_, _>>()?;
            if ids.len() > MAX_IDS {
                return Err(format!(
                    "{} products are more than one export takes ({MAX_IDS}); export the project or a gallery view instead.",
                    ids.len()
                ));
            }
            Ok((Selection::Ids(ids), "selection".into()))
        }
        _ => Err("Say what to export: one of project, gallery or ids.".into()),
    }
}

async fn respond(engine: Engine, what: What) -> Response {
    let (selection, label) = match selection(what) {
        Ok(s) => s,
        Err(message) => return refuse(message),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let task = tokio::spawn({
        let engine = engine.clone();
        async move { engine.export(selection, tx).await }
    });
    // Nothing sent yet means it failed before the first entry: say why.
    let Some(first) = rx.recv().await else {
        return match task.await {
            Ok(Err(ExportError::Empty)) => refuse(ExportError::Empty.to_string()),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "export failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The export failed. Check the server log, then try again.",
                )
                    .into_response()
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "The export stopped.").into_response(),
        };
    };
    tokio::spawn(async move {
        match task.await {
            Ok(Ok(summary)) => tracing::info!(
                products = summary.products,
                missing = summary.missing,
                "exported"
            ),
            Ok(Err(ExportError::Stopped)) => tracing::info!("an export download was stopped"),
            Ok(Err(e)) => tracing::error!(error = %e, "an export failed part way"),
            Err(e) => tracing::error!(error = %e, "an export task failed"),
        }
    });
    let stream = futures::stream::unfold((Some(first), rx), |(first, mut rx)| async move {
        let chunk = match first {
            Some(chunk) => chunk,
            None => rx.recv().await?,
        };
        Some((Ok::<_, std::convert::Infallible>(chunk), (None, rx)))
    });
    let name = format!(
        "art-factory-{label}-{}.zip",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
