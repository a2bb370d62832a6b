//! `/api/v1/assets`: upload a glTF model (checked, measured, stored as one GLB with a rendered
//! preview), list a project's, read one. A refused upload answers every error with its JSON
//! pointer, and nothing is stored.

use app::dto::AssetDto;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use factory::assets::gltf::{ReadError, Refused, MAX_ASSET_BYTES};
use factory::assets::store::{self, AssetError};
use factory::Engine;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiResult, FieldProblem, Id, Params, Problem};

/// The body limit of the upload route: the largest model, plus the form's own bytes.
pub const BODY_LIMIT: usize = MAX_ASSET_BYTES + 256 * 1024;
/// The most file parts one upload may have.
const MAX_PARTS: usize = 1_000;

/// The upload form (documentation of the multipart fields).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetUpload {
    project_id: i64,
    /// Shown in the asset list; the model's file name when left out.
    name: Option<String>,
    /// A `.glb`; or a `.gltf` with its `.bin` and textures as further `file` parts; or one ZIP
    /// of the model's folder. At most 200 MB in all, unpacked.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

fn refused(e: AssetError) -> Problem {
    match e {
        AssetError::Refused(Refused::Invalid(report)) => {
            let detail = Refused::Invalid(report.clone()).to_string();
            Problem {
                errors: report
                    .errors()
                    .map(|i| FieldProblem {
                        field: i.pointer.clone(),
                        message: format!("{}: {}", i.code, i.message),
                    })
                    .collect(),
                ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
            }
        }
        AssetError::Refused(Refused::Unreadable(e @ ReadError::TooLarge(_))) => {
            Problem::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        other => app::error::AppError::from(other).into(),
    }
}

fn form_problem(message: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

#[utoipa::path(post, path = "/api/v1/assets", tag = "assets",
    request_body(content = AssetUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = AssetDto, description = "Stored (or the same model was already: the same asset)"),
        (status = 404, description = "No such project", body = Problem),
        (status = 413, description = "Over 200 MB", body = Problem),
        (status = 415, description = "Not a multipart form", body = Problem),
        (status = 422, description = "Not a glTF, or one with errors: `errors` lists each with its JSON pointer as `field`", body = Problem)))]
pub async fn upload(
    State(engine): State<Engine>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AssetDto>)> {
    let mut form = multipart.map_err(|_| {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the model as multipart/form-data with a `project_id` field and one or more `file` parts.",
        )
    })?;
    let (mut project_id, mut name, mut files) = (None, None, Vec::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("The upload is over {MAX_ASSET_BYTES} bytes; simplify the model or compress its textures."),
                )
                .into())
            }
            Err(e) => return Err(form_problem(format!("The form could not be read: {}.", e.body_text())).into()),
        };
        let field_name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| {
            form_problem(format!(
                "The part `{field_name}` could not be read: {}.",
                e.body_text()
            ))
        })?;
        match field_name.as_str() {
            "project_id" => {
                let text = String::from_utf8_lossy(&bytes);
                project_id = Some(text.trim().parse::<i64>().map_err(|_| {
                    Problem::from(app::error::AppError::invalid(
                        "project_id",
                        format!("`{}` is not a project id.", text.trim()),
                    ))
                })?);
            }
            "name" => name = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "file" => {
                if files.len() == MAX_PARTS {
                    return Err(
                        form_problem(format!("At most {MAX_PARTS} files per model.")).into(),
                    );
                }
                files.push((file_name.unwrap_or_else(|| "model".into()), bytes.to_vec()));
            }
            other => {
                return Err(form_problem(format!(
                    "Unknown part `{other}`: send `project_id`, `name` and `file`."
                ))
                .into())
            }
        }
    }
    let project_id = project_id.ok_or_else(|| {
        Problem::from(app::error::AppError::invalid(
            "project_id",
            "Say which project the model goes to.",
        ))
    })?;
    let asset = engine
        .upload_asset(project_id, files, name.as_deref())
        .await
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(asset.into())))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    project_id: i64,
    /// The next page: assets older than this asset id.
    before: Option<i64>,
    /// 1 to 200; 50 when left out.
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(ListQuery),
    responses((status = 200, description = "The project's assets, newest first", body = [AssetDto]),
        (status = 401, body = Problem)))]
pub async fn list(
    State(engine): State<Engine>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Vec<AssetDto>>> {
    let mut conn = engine.conn().await?;
    let rows = store::list(
        &mut conn,
        query.project_id,
        query.before,
        query.limit.unwrap_or(50),
    )
    .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets",
    params(("id" = i64, Path, description = "The asset's id")),
    responses((status = 200, body = AssetDto), (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<AssetDto>> {
    Ok(Json(
        store::get(&mut *engine.conn().await?, id).await?.into(),
    ))
}
