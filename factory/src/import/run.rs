//! An import of many files: every file through [`super::add`] first (the library is searchable
//! when that pass ends), then every new product through [`super::finish`], each pass a few
//! files at a time, reporting progress and stopping between files when cancelled.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::{Outcome, Pending};
use crate::db::{get_conn, Pool};
use crate::media::{MediaStore, MAX_FILE_BYTES};

/// A file to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// As given (for the report).
    pub name: String,
    pub path: PathBuf,
}

/// Every regular file under `paths` (directories walked, hidden entries skipped), in path
/// order, each once.
pub fn collect(paths: &[PathBuf]) -> std::io::Result<Vec<Source>> {
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files)?;
    }
    files.sort();
    files.dedup();
    Ok(files
        .into_iter()
        .map(|path| Source {
            name: path.display().to_string(),
            path,
        })
        .collect())
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            walk(&entry.path(), out)?;
        }
    } else if meta.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Where an import is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub total: usize,
    /// Files through the first pass (stored and searchable, or failed, or skipped).
    pub added: usize,
    /// New products with their thumbnails made.
    pub finished: usize,
    /// New products to finish.
    pub to_finish: usize,
    pub imported: usize,
    pub skipped: usize,
    pub failed: usize,
    /// The file being read.
    pub current: String,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Each file and what became of it, in the order given.
    pub files: Vec<(String, Outcome)>,
    /// When every file was in and searchable.
    pub searchable_after: Duration,
    /// When every thumbnail was made.
    pub finished_after: Duration,
    /// Stopped before the end; the files not reached are not in `files`.
    pub cancelled: bool,
}

impl Report {
    pub fn count(&self, matches: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|(_, o)| matches(o)).count()
    }
}

/// Imports `sources` into `project_id`, `parallel` files at a time, calling `progress` after
/// each file of each pass. Stops between files once `cancel` is set (what is in stays in).
pub async fn run(
    pool: &Pool,
    media: &MediaStore,
    project_id: i64,
    sources: Vec<Source>,
    parallel: usize,
    cancel: &AtomicBool,
    mut progress: impl FnMut(&Progress),
) -> Report {
    let started = Instant::now();
    let parallel = parallel.max(1);
    let mut state = Progress {
        total: sources.len(),
        ..Progress::default()
    };
    let mut outcomes: Vec<Option<Outcome>> = vec![None; sources.len()];
    let mut pending: Vec<(usize, Pending)> = Vec::new();

    let listed = sources.clone();
    let added = futures::stream::iter(listed.iter().enumerate())
        .take_while(|_| std::future::ready(!cancel.load(Ordering::Relaxed)))
        .map(|(i, source)| async move { (i, add_source(pool, media, project_id, source).await) })
        .buffer_unordered(parallel);
    futures::pin_mut!(added);
    while let Some((i, (outcome, new))) = added.next().await {
        state.added += 1;
        state.current = sources[i].name.clone();
        match &outcome {
            Outcome::Imported { .. } => state.imported += 1,
            Outcome::AlreadyIn { .. } => state.skipped += 1,
            Outcome::Failed { .. } => state.failed += 1,
        }
        if let Some(new) = new {
            pending.push((i, new));
            state.to_finish += 1;
        }
        outcomes[i] = Some(outcome);
        state.elapsed = started.elapsed();
        progress(&state);
    }
    let searchable_after = started.elapsed();

    let finished = futures::stream::iter(pending)
        .take_while(|_| std::future::ready(!cancel.load(Ordering::Relaxed)))
        .map(|(i, new)| async move {
            let result = match get_conn(pool).await {
                Ok(mut conn) => super::finish(&mut conn, media, &new).await,
                Err(e) => Err(e.to_string()),
            };
            (i, result)
        })
        .buffer_unordered(parallel);
    futures::pin_mut!(finished);
    while let Some((i, result)) = finished.next().await {
        state.finished += 1;
        if let Err(reason) = result {
            state.imported -= 1;
            state.failed += 1;
            outcomes[i] = Some(Outcome::Failed { reason });
        }
        state.current = sources[i].name.clone();
        state.elapsed = started.elapsed();
        progress(&state);
    }
    let cancelled = cancel.load(Ordering::Relaxed);
    Report {
        files: sources
            .into_iter()
            .zip(outcomes)
            .filter_map(|(s, o)| o.map(|o| (s.name, o)))
            .collect(),
        searchable_after,
        finished_after: started.elapsed(),
        cancelled,
    }
}

async fn add_source(
    pool: &Pool,
    media: &MediaStore,
    project_id: i64,
    source: &Source,
) -> (Outcome, Option<Pending>) {
    let failed = |reason: String| (Outcome::Failed { reason }, None);
    let meta = match tokio::fs::metadata(&source.path).await {
        Ok(meta) => meta,
        Err(e) => return failed(format!("it cannot be read: {e}")),
    };
    if meta.len() > MAX_FILE_BYTES as u64 {
        return failed(format!(
            "it is {:.0} MB; files over {} MB are not imported",
            meta.len() as f64 / 1_048_576.0,
            MAX_FILE_BYTES / 1_048_576
        ));
    }
    let bytes = match tokio::fs::read(&source.path).await {
        Ok(bytes) => bytes,
        Err(e) => return failed(format!("it cannot be read: {e}")),
    };
    let modified = meta.modified().ok().map(DateTime::<Utc>::from);
    match get_conn(pool).await {
        Ok(mut conn) => {
            super::add(&mut conn, media, project_id, &source.name, bytes, modified).await
        }
        Err(e) => failed(e.to_string()),
    }
}
