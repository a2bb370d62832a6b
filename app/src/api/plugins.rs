//! Plugin provider server functions: what is loaded, reload, and importing ComfyUI workflows.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{PluginReportDto, PluginsDto, WorkflowInputDto};
use crate::error::AppError;

#[server(endpoint = "plugins")]
pub async fn plugins() -> Result<PluginsDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let dir = factory::providers::declared::dir(&engine.settings().data_dir);
        Ok(PluginsDto {
            comfyui_url: engine.comfyui_url().map(str::to_string),
            report: engine.plugin_report().into(),
            workflows: engine.workflows().into_iter().map(Into::into).collect(),
            manifests_dir: dir.display().to_string(),
        })
    })
    .await
}

/// Connects the plugin servers and reads the manifests again.
#[server(endpoint = "plugins/reload")]
pub async fn reload_plugins() -> Result<PluginReportDto, AppError> {
    super::respond(async move { Ok(super::engine()?.reload_plugins().await.into()) }).await
}

/// The inputs of a ComfyUI workflow (API format) a person may mark, with suggested roles.
#[server(endpoint = "plugins/workflow-inputs", input = Json)]
pub async fn workflow_inputs(workflow: String) -> Result<Vec<WorkflowInputDto>, AppError> {
    super::respond(async move {
        let inputs = super::engine()?.workflow_inputs(&workflow)?;
        Ok(inputs.into_iter().map(Into::into).collect())
    })
    .await
}

#[server(endpoint = "plugins/import-workflow", input = Json)]
pub async fn import_workflow(
    name: String,
    workflow: String,
    inputs: Vec<WorkflowInputDto>,
) -> Result<PluginReportDto, AppError> {
    super::respond(async move {
        let marks = crate::dto::marks_of(&inputs);
        let report = super::engine()?
            .import_workflow(&name, &workflow, marks)
            .await?;
        Ok(report.into())
    })
    .await
}

#[server(endpoint = "plugins/remove-workflow")]
pub async fn remove_workflow(name: String) -> Result<PluginReportDto, AppError> {
    super::respond(async move { Ok(super::engine()?.remove_workflow(&name).await?.into()) }).await
}
