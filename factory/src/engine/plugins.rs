//! Plugin providers: the servers a person runs (AUTOMATIC1111, ComfyUI, at addresses given in
//! the configuration) and the declarative providers of `<data dir>/providers/*.toml`. Loaded at
//! start and on "reload" (after editing a manifest, importing a workflow, or starting a server
//! that was down), without rebuilding anything.

use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::providers::comfyui::{self, store, workflow, Candidate, Mark, Workflow, WorkflowError};
use crate::providers::{a1111, declared};

/// Where the plugin servers are, from the configuration.
#[derive(Debug, Clone, Default)]
pub struct PluginConfig {
    pub a1111_url: Option<String>,
    pub comfyui_url: Option<String>,
}

/// What the last load did: a sentence per provider enabled, and per one left out (with why).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginReport {
    pub enabled: Vec<String>,
    pub problems: Vec<String>,
}

/// One imported workflow, as the Settings page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    pub name: String,
    pub nodes: usize,
    /// The marked inputs, in words (“node 6 text: prompt”).
    pub marks: Vec<String>,
}

#[derive(Default)]
pub(super) struct Plugins {
    config: PluginConfig,
    report: RwLock<PluginReport>,
    /// The declarative providers added by the last load, to take out when their manifest goes.
    declared: Mutex<Vec<String>>,
    /// One load at a time.
    loading: tokio::sync::Mutex<()>,
}

impl Plugins {
    pub fn new(config: PluginConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }
}

fn describe(mark: &Mark) -> String {
    format!(
        "node {} {}: {}",
        mark.node,
        mark.input,
        mark.role.describe()
    )
}

impl Engine {
    /// Where the plugin servers are (none by default).
    pub fn with_plugins(mut self, config: PluginConfig) -> Self {
        self.plugins = std::sync::Arc::new(Plugins::new(config));
        self
    }

    /// Connects the configured servers and reads the manifests again; a provider that cannot
    /// be loaded is left out, and the report says why.
    pub async fn reload_plugins(&self) -> PluginReport {
        let _one = self.plugins.loading.lock().await;
        let config = &self.plugins.config;
        let mut report = PluginReport::default();
        if let Some(url) = &config.a1111_url {
            match a1111::install(self.providers(), url).await {
                Ok(enabled) => report.enabled.push(enabled),
                Err(e) => report
                    .problems
                    .push(self.unavailable("AUTOMATIC1111", a1111::ID, &e)),
            }
        }
        if let Some(url) = &config.comfyui_url {
            match comfyui::install(self.providers(), url, &self.settings().data_dir).await {
                Ok((enabled, problems)) => {
                    report.enabled.push(enabled);
                    report.problems.extend(problems);
                }
                Err(e) => report
                    .problems
                    .push(self.unavailable("ComfyUI", comfyui::ID, &e)),
            }
        }
        let loaded = declared::load_dir(&declared::dir(&self.settings().data_dir), &|var| {
            std::env::var(var).ok()
        });
        let ids: Vec<String> = loaded
            .providers
            .iter()
            .map(|p| crate::providers::Provider::info(p.as_ref()).id.clone())
            .collect();
        {
            let mut before = self
                .plugins
                .declared
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for gone in before.iter().filter(|id| !ids.contains(id)) {
                self.providers().remove(gone);
            }
            *before = ids;
        }
        for provider in loaded.providers {
            let info = crate::providers::Provider::info(provider.as_ref());
            report.enabled.push(format!(
                "{} (from its manifest) is enabled with {} model{}",
                info.name,
                info.models.len(),
                if info.models.len() == 1 { "" } else { "s" }
            ));
            self.providers().add(provider);
        }
        report.problems.extend(loaded.problems);
        *self
            .plugins
            .report
            .write()
            .unwrap_or_else(|e| e.into_inner()) = report.clone();
        self.wake.notify_one();
        report
    }

    /// A server that did not answer a reload. What it offered before stays (its jobs are
    /// retried as any job whose server is down), and the report says so.
    fn unavailable(&self, name: &str, id: &str, e: &str) -> String {
        let kept = if self.providers().get(id).is_some() {
            "; what it offered before stays listed, and its jobs are retried until they run out of attempts"
        } else {
            ""
        };
        format!("{name} is not available: {e}{kept}")
    }

    /// What the last load did.
    pub fn plugin_report(&self) -> PluginReport {
        self.plugins
            .report
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The ComfyUI server configured, if any.
    pub fn comfyui_url(&self) -> Option<&str> {
        self.plugins.config.comfyui_url.as_deref()
    }

    /// The inputs of a workflow (API format) a person may mark, with suggestions.
    pub fn workflow_inputs(&self, text: &str) -> Result<Vec<Candidate>, WorkflowError> {
        Ok(workflow::candidates(&workflow::parse_graph(text)?))
    }

    /// Imports a workflow under `name` (replacing one of that name) and reloads the plugins so
    /// it shows up in the Generate form.
    pub async fn import_workflow(
        &self,
        name: &str,
        text: &str,
        marks: Vec<Mark>,
    ) -> Result<PluginReport, WorkflowError> {
        let workflow = Workflow::new(name, workflow::parse_graph(text)?, marks)?;
        let dir = store::dir(&self.settings().data_dir);
        store::save(&dir, &workflow)?;
        Ok(self.reload_plugins().await)
    }

    pub async fn remove_workflow(&self, name: &str) -> Result<PluginReport, WorkflowError> {
        let dir = store::dir(&self.settings().data_dir);
        match store::remove(&dir, name) {
            Ok(true) => Ok(self.reload_plugins().await),
            Ok(false) => Err(WorkflowError(format!("No workflow is named “{name}”."))),
            Err(e) => Err(WorkflowError(format!(
                "The workflow could not be removed: {e}"
            ))),
        }
    }

    /// The imported workflows, by name.
    pub fn workflows(&self) -> Vec<WorkflowSummary> {
        let (workflows, _) = store::load_all(&store::dir(&self.settings().data_dir));
        workflows
            .into_iter()
            .map(|w| WorkflowSummary {
                nodes: w.graph.len(),
                marks: w.marks.iter().map(describe).collect(),
                name: w.name,
            })
            .collect()
    }
}
