//! Steps that run on this machine (crop/resize, the Lanczos upscale, the contact sheet), under
//! a lease like a job's: claimed with a bumped token, completed only by that token's holder in
//! the transaction that stores the picture, taken over by anyone once the lease has passed.

use diesel::sql_types::{BigInt, Integer};
use diesel::{sql_query, OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use image::RgbImage;

use super::{end, Advanced, Context};
use crate::media::MediaStore;
use crate::pipelines::graph::{StepKind, Upscale};
use crate::pipelines::keys::StepKey;
use crate::pipelines::local;
use crate::pipelines::runs::{Run, RunError, RunStep};
use crate::pipelines::store;
use crate::products::{NewProduct, Product};

/// How long a step on this machine may run before another process may take it over.
const LOCAL_LEASE_SECS: i32 = 120;

/// Runs a step on this machine under a lease: claims it (a step whose holder died is taken
/// over), makes its picture, and stores it with the step's success in one transaction.
pub(super) async fn run_here(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    run: &Run,
    step: &RunStep,
    kind: &StepKind,
    inputs: &[i64],
    out: &mut Advanced,
) -> Result<bool, RunError> {
    #[derive(QueryableByName)]
    struct Token {
        #[diesel(sql_type = BigInt)]
        lease_token: i64,
    }
    let claimed: Option<Token> = sql_query(
        "UPDATE pipeline_run_steps SET state = 'running', lease_token = lease_token + 1,
                lease_expires_at = now() + make_interval(secs => $3),
                started_at = coalesce(started_at, now())
         WHERE run_id = $1 AND step_index = $2
           AND (state = 'waiting' OR (state = 'running' AND lease_expires_at < now()))
         RETURNING lease_token",
    )
    .bind::<BigInt, _>(step.run_id)
    .bind::<Integer, _>(step.step_index)
    .bind::<Integer, _>(LOCAL_LEASE_SECS)
    .get_result(conn)
    .await
    .optional()?;
    let Some(Token { lease_token }) = claimed else {
        return Ok(false);
    };
    // Only this module's constants and a number go into the statement.
    let held = format!("state = 'running' AND lease_token = {lease_token}");
    let held = held.as_str();
    let made = match make_here(conn, &ctx.media, kind, inputs).await {
        Ok(made) => made,
        Err(why) => return end(conn, step, "failed", &why, held).await,
    };
    let media = ctx.media.clone();
    let project_id = run.project_id;
    let stored = tokio::task::spawn_blocking(move || media.put(project_id, &made))
        .await
        .map_err(|e| RunError::Input(e.to_string()))?;
    let stored = match stored {
        Ok(stored) => stored,
        Err(e) => {
            let why = format!("Its picture could not be stored: {e}");
            return end(conn, step, "failed", &why, held).await;
        }
    };
    let row = NewProduct {
        params: serde_json::to_value(kind).expect("a step kind serializes"),
        provider: Some("pipeline".into()),
        model: Some(kind.name().into()),
        parent_id: <[i64]>::first(inputs).copied(),
        ..NewProduct::stored(project_id, stored)
    };
    let key = StepKey::parse(&step.key).expect("keys are checked on insert");
    let stored = conn
        .transaction(async |conn| {
            let product: Product = diesel::insert_into(crate::schema::products::table)
                .values(&row)
                .returning(<Product as diesel::SelectableHelper<diesel::pg::Pg>>::as_returning())
                .get_result(conn)
                .await?;
            let moved = sql_query(format!(
                "UPDATE pipeline_run_steps SET state = 'succeeded', product_ids = ARRAY[$3::bigint],
                        finished_at = now(), lease_expires_at = NULL, error = NULL
                 WHERE run_id = $1 AND step_index = $2 AND {held}"
            ))
            .bind::<BigInt, _>(step.run_id)
            .bind::<Integer, _>(step.step_index)
            .bind::<BigInt, _>(product.id)
            .execute(conn)
            .await?;
            if moved == 0 {
                return Err(RunError::Lost);
            }
            store::remember(conn, &key, &[product.id]).await?;
            Ok(product)
        })
        .await;
    match stored {
        Ok(product) => {
            out.products.push(product);
            Ok(true)
        }
        Err(RunError::Lost) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The picture a step on this machine makes from its input pictures (PNG bytes), or why not.
async fn make_here(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    kind: &StepKind,
    inputs: &[i64],
) -> Result<Vec<u8>, String> {
    let mut pictures = Vec::with_capacity(inputs.len());
    for &id in inputs {
        let data = crate::uploads::load_input(conn, media, id).await?;
        let label = match crate::products::get(conn, id).await {
            Ok(Some(p)) => match p.seed {
                Some(seed) => format!("#{id} seed {seed}"),
                None => format!("#{id}"),
            },
            _ => format!("#{id}"),
        };
        pictures.push((data.bytes, label));
    }
    let kind = kind.clone();
    tokio::task::spawn_blocking(move || {
        let decode = |bytes: &[u8]| {
            image::load_from_memory(bytes)
                .map_err(|e| format!("an input picture could not be read: {e}"))
        };
        let first = || -> Result<image::DynamicImage, String> {
            decode(&<[_]>::first(&pictures).ok_or("it has no input picture")?.0)
        };
        let made: RgbImage = match &kind {
            StepKind::CropResize { width, height, fit } => image::DynamicImage::ImageRgba8(
                local::crop_resize(&first()?.to_rgba8(), *width, *height, *fit),
            )
            .to_rgb8(),
            StepKind::Upscale {
                how: Upscale::Lanczos { factor },
            } => image::DynamicImage::ImageRgba8(local::upscale(&first()?.to_rgba8(), *factor)?)
                .to_rgb8(),
            StepKind::ContactSheet {
                columns,
                title,
                labels,
            } => {
                let decoded = pictures
                    .iter()
                    .map(|(bytes, label)| Ok((decode(bytes)?.to_rgb8(), label.clone())))
                    .collect::<Result<Vec<_>, String>>()?;
                local::contact_sheet(&decoded, *columns, title, *labels)?
            }
            other => {
                return Err(format!(
                    "a {} step does not run on this machine",
                    other.name()
                ))
            }
        };
        crate::media::png::encode_rgb(made.width(), made.height(), made.as_raw())
            .map_err(|e| format!("its picture could not be encoded: {e}"))
    })
    .await
    .map_err(|e| format!("it stopped unexpectedly: {e}"))?
}
