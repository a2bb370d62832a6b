//! Product server functions: one product with its lineage.

use leptos::prelude::*;

use crate::dto::{ProductDetailDto, ProductDto, TemplateForm};
use crate::error::AppError;

#[server(endpoint = "products/detail")]
pub async fn product_detail(id: i64) -> Result<ProductDetailDto, AppError> {
    super::respond(async move { detail(&super::engine()?, id).await }).await
}

/// The product `id`, or a 404 that says so.
#[cfg(feature = "ssr")]
pub async fn find(
    engine: &factory::Engine,
    id: i64,
) -> Result<factory::products::Product, AppError> {
    factory::products::get(&mut *engine.conn().await?, id)
        .await
        .map_err(factory::db::DbError::from)?
        .ok_or_else(|| AppError::NotFound(format!("There is no product #{id}.")))
}

/// One product with its settings, tags, triage and lineage (the viewer's and the REST API's).
#[cfg(feature = "ssr")]
pub async fn detail(engine: &factory::Engine, id: i64) -> Result<ProductDetailDto, AppError> {
    let product = find(engine, id).await?;
    let mut conn = engine.conn().await?;
    let (parent, children) = factory::products::lineage(&mut conn, &product)
        .await
        .map_err(factory::db::DbError::from)?;
    let character = factory::characters::portraits::sitter(&mut conn, id).await?;
    let asset = factory::assets::store::of_product(&mut conn, id).await?;
    let scene = factory::scenes::store::of_render(&mut conn, &product).await?;
    drop(conn);
    let tags = engine
        .tags_of(&[id])
        .await?
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    let bindings = product
        .bindings
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ProductDetailDto {
        tags,
        bindings,
        rating: product.rating,
        favourite: product.favourite,
        rejected: product.rejected,
        deleted_at: product.deleted_at,
        negative_prompt: product.negative_prompt.clone(),
        streams: product
            .av_info
            .clone()
            .and_then(|info| serde_json::from_value(info).ok()),
        params: serde_json::to_string_pretty(&product.params).unwrap_or_default(),
        created_at: product.created_at,
        parent: parent.map(Into::into),
        children: children.into_iter().map(Into::into).collect(),
        character: character.map(Into::into),
        asset: asset.map(|(id, name)| crate::dto::AssetLinkDto { id, name }),
        scene: scene.map(|(id, name)| crate::dto::SceneLinkDto { id, name }),
        product: product.into(),
    })
}

/// Queues the product again with the same settings and a new random seed; returns the batch.
#[server(endpoint = "products/rerun")]
pub async fn rerun_with_new_seed(id: i64) -> Result<i64, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let product = factory::products::get(&mut *engine.conn().await?, id)
            .await
            .map_err(factory::db::DbError::from)?
            .ok_or_else(|| AppError::NotFound(format!("There is no product #{id}.")))?;
        let (Some(provider), Some(model)) = (product.provider.clone(), product.model.clone())
        else {
            return Err(AppError::Conflict(
                "This product was uploaded or imported: there are no settings to run again.".into(),
            ));
        };
        let request = factory::batches::LaunchRequest {
            project_id: product.project_id,
            provider,
            model,
            prompt: factory::prompt::escape(&product.prompt),
            negative_prompt: product.negative_prompt.clone(),
            params: product.params.as_object().cloned().unwrap_or_default(),
            count: 1,
            mode: factory::prompt::Mode::Combinatorial,
            seed: factory::batches::SeedChoice::Random,
            confirmed: false,
            networks: Vec::new(),
            input_image: product.parent_id,
            made_from: None,
        };
        let (batch, _) = engine.launch(&request).await?;
        Ok(batch.id)
    })
    .await
}

/// A product's settings as the Generate form takes them: its prompt escaped so that it expands
/// to itself, its seed fixed.
#[server(endpoint = "products/settings")]
pub async fn product_settings(id: i64) -> Result<(ProductDto, TemplateForm), AppError> {
    super::respond(async move {
        let product = factory::products::get(&mut *super::engine()?.conn().await?, id)
            .await
            .map_err(factory::db::DbError::from)?
            .ok_or_else(|| AppError::NotFound(format!("There is no product #{id}.")))?;
        let form = TemplateForm {
            provider: product.provider.clone().unwrap_or_default(),
            model: product.model.clone().unwrap_or_default(),
            params: product.params.to_string(),
            prompt: factory::prompt::escape(&product.prompt),
            negative_prompt: product.negative_prompt.clone(),
            mode: crate::dto::ExpansionMode::Combinatorial,
            count: 1,
            seed_mode: if product.seed.is_some() {
                crate::dto::SeedMode::Fixed
            } else {
                crate::dto::SeedMode::Derived
            },
            seed: product.seed,
        };
        Ok((product.into(), form))
    })
    .await
}
