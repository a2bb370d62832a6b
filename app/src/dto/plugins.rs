//! The plugin providers' wire types: what the last load did, the imported ComfyUI workflows,
//! and a workflow's inputs with the role a person gives each.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginReportDto {
    pub enabled: Vec<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSummaryDto {
    pub name: String,
    pub nodes: usize,
    pub marks: Vec<String>,
}

/// The plugins section of the Settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginsDto {
    /// The ComfyUI server configured; `None`: none.
    pub comfyui_url: Option<String>,
    pub report: PluginReportDto,
    pub workflows: Vec<WorkflowSummaryDto>,
    /// Where manifests go, for the page to say.
    pub manifests_dir: String,
}

/// What a workflow input becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Left as the workflow has it.
    #[default]
    Fixed,
    Prompt,
    NegativePrompt,
    Seed,
    InputImage,
    /// A parameter of the Generate form.
    Param,
}

impl RoleName {
    pub const ALL: [RoleName; 6] = [
        RoleName::Fixed,
        RoleName::Prompt,
        RoleName::NegativePrompt,
        RoleName::Seed,
        RoleName::InputImage,
        RoleName::Param,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RoleName::Fixed => "As in the workflow",
            RoleName::Prompt => "The prompt",
            RoleName::NegativePrompt => "The negative prompt",
            RoleName::Seed => "The seed",
            RoleName::InputImage => "The input picture",
            RoleName::Param => "A form parameter",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            RoleName::Fixed => "fixed",
            RoleName::Prompt => "prompt",
            RoleName::NegativePrompt => "negative_prompt",
            RoleName::Seed => "seed",
            RoleName::InputImage => "input_image",
            RoleName::Param => "param",
        }
    }

    pub fn from_key(key: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|r| r.key() == key)
            .unwrap_or_default()
    }
}

/// One input of a workflow that holds a value, and the role the person gave it (the import's
/// suggestion at first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowInputDto {
    pub node: String,
    pub class_type: String,
    pub title: Option<String>,
    pub input: String,
    /// The value the workflow holds, as text.
    pub value: String,
    pub role: RoleName,
    /// For a form parameter: its name and label.
    pub name: String,
    pub label: String,
}

#[cfg(feature = "ssr")]
impl From<factory::engine::PluginReport> for PluginReportDto {
    fn from(r: factory::engine::PluginReport) -> Self {
        Self {
            enabled: r.enabled,
            problems: r.problems,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::engine::WorkflowSummary> for WorkflowSummaryDto {
    fn from(w: factory::engine::WorkflowSummary) -> Self {
        Self {
            name: w.name,
            nodes: w.nodes,
            marks: w.marks,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::providers::comfyui::Candidate> for WorkflowInputDto {
    fn from(c: factory::providers::comfyui::Candidate) -> Self {
        use factory::providers::comfyui::Role;
        let (role, name, label) = match c.suggested {
            None => (RoleName::Fixed, c.input.clone(), String::new()),
            Some(Role::Prompt) => (RoleName::Prompt, String::new(), String::new()),
            Some(Role::NegativePrompt) => (RoleName::NegativePrompt, String::new(), String::new()),
            Some(Role::Seed) => (RoleName::Seed, String::new(), String::new()),
            Some(Role::InputImage) => (RoleName::InputImage, String::new(), String::new()),
            Some(Role::Param { name, label }) => (RoleName::Param, name, label),
        };
        let value = match &c.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Self {
            node: c.node,
            class_type: c.class_type,
            title: c.title,
            input: c.input,
            value,
            role,
            name,
            label,
        }
    }
}

/// The marks a person chose: every input not left as it is.
#[cfg(feature = "ssr")]
pub fn marks_of(inputs: &[WorkflowInputDto]) -> Vec<factory::providers::comfyui::Mark> {
    use factory::providers::comfyui::{Mark, Role};
    inputs
        .iter()
        .filter_map(|i| {
            let role = match i.role {
                RoleName::Fixed => return None,
                RoleName::Prompt => Role::Prompt,
                RoleName::NegativePrompt => Role::NegativePrompt,
                RoleName::Seed => Role::Seed,
                RoleName::InputImage => Role::InputImage,
                RoleName::Param => Role::Param {
                    name: i.name.trim().to_string(),
                    label: i.label.trim().to_string(),
                },
            };
            Some(Mark {
                node: i.node.clone(),
                input: i.input.clone(),
                role,
            })
        })
        .collect()
}
