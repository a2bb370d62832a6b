//! Imported workflows on disk: one JSON file per workflow in `<data dir>/comfyui/`, written so
//! that a crash leaves the old file or the new one, and read back with a sentence for each file
//! that cannot be used.

use std::path::{Path, PathBuf};

use super::workflow::{Workflow, WorkflowError};

/// Where imported workflows are kept.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("comfyui")
}

/// The file a workflow is kept in: its name, made safe for a file name.
fn file_of(dir: &Path, name: &str) -> PathBuf {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{stem}.json"))
}

/// The name of the workflow kept at `path`, if a readable one is.
fn name_in(path: &Path) -> Option<String> {
    let text = std::fs::read(path).ok()?;
    let workflow: serde_json::Value = serde_json::from_slice(&text).ok()?;
    workflow["name"].as_str().map(str::to_string)
}

/// Writes a workflow (replacing one of the same name) so that a crash leaves the old file or
/// the new one, never half of it. A name that differs from another workflow's only in what a
/// file name cannot hold ("a.b" and "a b") is refused rather than taking its file.
pub fn save(dir: &Path, workflow: &Workflow) -> Result<PathBuf, WorkflowError> {
    let path = file_of(dir, &workflow.name);
    if let Some(other) = name_in(&path).filter(|other| *other != workflow.name) {
        return Err(WorkflowError(format!(
            "The name “{}” would be kept in the same file as the workflow “{other}”; choose a \
             name that differs from it in letters or digits, not only in spaces or punctuation.",
            workflow.name
        )));
    }
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let partial = path.with_extension("json.partial");
        let text = serde_json::to_vec_pretty(workflow).map_err(std::io::Error::other)?;
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| WorkflowError(format!("The workflow could not be saved: {e}")))?;
    Ok(path)
}

/// Removes the workflow named `name`; false when there is none (the file of a workflow whose
/// name only maps to the same file is left alone).
pub fn remove(dir: &Path, name: &str) -> std::io::Result<bool> {
    let path = file_of(dir, name);
    if name_in(&path).is_some_and(|kept| kept != name) {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Every workflow in `dir`, by name, and a sentence for each file that could not be read.
pub fn load_all(dir: &Path) -> (Vec<Workflow>, Vec<String>) {
    let mut workflows = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (workflows, problems);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let read = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Workflow>(&text).map_err(|e| e.to_string()))
            .and_then(|w| Workflow::new(&w.name, w.graph, w.marks).map_err(|e| e.0));
        match read {
            Ok(w) if workflows.iter().any(|o: &Workflow| o.name == w.name) => problems.push(
                format!("{}: a second workflow named “{}”", path.display(), w.name),
            ),
            Ok(w) => workflows.push(w),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    (workflows, problems)
}
