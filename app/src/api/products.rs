//! Product server functions: one product with its lineage.

use leptos::prelude::*;

use crate::dto::ProductDetailDto;
use crate::error::AppError;

#[server(endpoint = "products/detail")]
pub async fn product_detail(id: i64) -> Result<ProductDetailDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let product = factory::products::get(&mut conn, id)
            .await
            .map_err(factory::db::DbError::from)?
            .ok_or_else(|| AppError::NotFound(format!("There is no product #{id}.")))?;
        let (parent, children) = factory::products::lineage(&mut conn, &product)
            .await
            .map_err(factory::db::DbError::from)?;
        Ok(ProductDetailDto {
            negative_prompt: product.negative_prompt.clone(),
            params: serde_json::to_string_pretty(&product.params).unwrap_or_default(),
            created_at: product.created_at,
            parent: parent.map(Into::into),
            children: children.into_iter().map(Into::into).collect(),
            product: product.into(),
        })
    })
    .await
}
