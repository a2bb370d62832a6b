//! The commands that work on a data directory and stop: `seed-gallery`, `import`, `export`,
//! `backup`, `restore`, `set-password`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use factory::import::{self, Outcome, Progress};
use factory::projects::{self, ProjectName};

use crate::config::{
    BackupArgs, Config, DatabaseChoice, ExportArgs, ImportArgs, RestoreArgs, SeedArgs,
};
use crate::database::Database;

/// `art-factory seed-gallery`: adds products to the data directory's database, then stops.
pub async fn seed_gallery(config: Config, args: SeedArgs) -> anyhow::Result<()> {
    let media = config.media_store()?;
    let options = factory::gallery::seed::SeedOptions {
        count: args.count,
        dense_day: args.dense_day,
        seed: args.seed,
        ..Default::default()
    };
    let seeded = Database::for_command(&config, "stop it first.", async |database| {
        let mut conn = factory::db::get_conn(&database.pool).await?;
        Ok(factory::gallery::seed::fill(&mut conn, &media, &options).await?)
    })
    .await?;
    println!(
        "added {} products ({} tags) in {:.1} s",
        seeded.products, seeded.tags, seeded.seconds
    );
    Ok(())
}

/// `art-factory import PATH... --project NAME`: imports, printing progress on one line, and a
/// report at the end. Ctrl-C stops between files; what is in stays in, and running the same
/// command again goes on where it stopped.
pub async fn import(config: Config, args: ImportArgs) -> anyhow::Result<()> {
    let name = ProjectName::parse(&args.project).map_err(|e| anyhow::anyhow!("--project: {e}"))?;
    let sources =
        import::run::collect(&args.paths).context("could not list the files to import")?;
    if sources.is_empty() {
        anyhow::bail!("there are no files under the paths given");
    }
    let live = std::io::stderr().is_terminal();
    let busy = "stop it first, or drop the files on its gallery instead.";
    let (project, report) = Database::for_command(&config, busy, async |database| {
        let media = config.media_store()?;
        let (project, made) = {
            let mut conn = factory::db::get_conn(&database.pool).await?;
            projects::find_or_create(&mut conn, &name).await?
        };
        if made {
            println!("made the project “{}”", project.name);
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nstopping after the files being read (run the same command again to go on)"
                );
                stop.store(true, Ordering::Relaxed);
            }
        });
        let mut last_print = std::time::Instant::now();
        let report = import::run(
            &database.pool,
            &media,
            project.id,
            sources,
            args.parallel,
            &cancel,
            |p| {
                let end = p.added == p.total && p.finished == p.to_finish;
                if end || last_print.elapsed().as_millis() >= 200 {
                    last_print = std::time::Instant::now();
                    let line = progress_line(p);
                    if live {
                        eprint!("\r\x1b[2K{line}");
                    } else if end {
                        eprintln!("{line}");
                    }
                    let _ = std::io::stderr().flush();
                }
            },
        )
        .await;
        anyhow::Ok((project, report))
    })
    .await?;
    if live {
        eprintln!();
    }
    for (file, outcome) in &report.files {
        if let Outcome::Failed { reason } = outcome {
            println!("not imported: {file}: {reason}");
        }
    }
    println!(
        "{} imported, {} already in the project, {} not imported, into “{}” — searchable after {:.1} s, thumbnails done after {:.1} s{}",
        report.count(|o| matches!(o, Outcome::Imported { .. })),
        report.count(|o| matches!(o, Outcome::AlreadyIn { .. })),
        report.count(|o| matches!(o, Outcome::Failed { .. })),
        project.name,
        report.searchable_after.as_secs_f64(),
        report.finished_after.as_secs_f64(),
        if report.cancelled { " (stopped early)" } else { "" }
    );
    Ok(())
}

fn progress_line(p: &Progress) -> String {
    let rate = p.added as f64 / p.elapsed.as_secs_f64().max(0.001);
    let current: String = p
        .current
        .chars()
        .rev()
        .take(50)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if p.added < p.total {
        format!(
            "reading {}/{} files · {rate:.0}/s · {} in, {} skipped, {} failed · {current}",
            p.added, p.total, p.imported, p.skipped, p.failed
        )
    } else {
        format!(
            "thumbnails {}/{} · {} in, {} skipped, {} failed",
            p.finished, p.to_finish, p.imported, p.skipped, p.failed
        )
    }
}

/// `art-factory export (--project NAME | --gallery QUERY) --out FILE`.
pub async fn export(config: Config, args: ExportArgs) -> anyhow::Result<()> {
    use factory::export::Selection;
    let busy = "use Export in the gallery, or stop it first.";
    Database::for_command(&config, busy, async |database| {
        let selection = match (&args.project, &args.gallery) {
            (Some(name), _) => {
                let name =
                    ProjectName::parse(name).map_err(|e| anyhow::anyhow!("--project: {e}"))?;
                let mut conn = factory::db::get_conn(&database.pool).await?;
                let (project, made) = projects::find_or_create(&mut conn, &name).await?;
                if made {
                    anyhow::bail!("there is no project named “{}”", name.as_str());
                }
                Selection::Project(project.id)
            }
            (None, Some(query)) => Selection::View(
                app::dto::GalleryQuery::parse(query)
                    .and_then(|q| q.view())
                    .map_err(|e| anyhow::anyhow!("--gallery: {e}"))?,
            ),
            (None, None) => anyhow::bail!("say what to export: --project NAME or --gallery QUERY"),
        };
        let media = config.media_store()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
        let pool = database.pool.clone();
        let task =
            tokio::spawn(
                async move { factory::export::export(&pool, &media, selection, tx).await },
            );
        let partial = args.out.with_extension("partial");
        let mut file = std::fs::File::create(&partial)
            .with_context(|| format!("could not write {}", partial.display()))?;
        while let Some(chunk) = rx.recv().await {
            file.write_all(&chunk)?;
        }
        let summary = task.await??;
        file.sync_all()?;
        std::fs::rename(&partial, &args.out)?;
        println!(
            "exported {} products ({} without their file) to {}",
            summary.products,
            summary.missing,
            args.out.display()
        );
        Ok(())
    })
    .await
}

/// `art-factory backup [--out FILE] [--with-keys]`.
pub async fn backup(config: Config, args: BackupArgs) -> anyhow::Result<()> {
    let passphrase = if args.with_keys {
        let typed = crate::prompt::new_secret(
            "Passphrase for the provider keys in this backup: ",
            "The same passphrase again: ",
        )?;
        Some(factory::backup::Passphrase::new(typed.to_string()).map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let out = args.out.clone().unwrap_or_else(|| {
        config.data_dir.join("backups").join(format!(
            "art-factory-{}.zip",
            chrono::Utc::now().format("%Y-%m-%d-%H%M%S")
        ))
    });
    Database::for_command(
        &config,
        "use Settings → Back up now, or stop it first.",
        async |database| {
        let source = database.backup_source(&config, config.media_store()?)?;
        let keys = match passphrase {
            None => None,
            Some(passphrase) => Some(seal_stored_keys(&config, database, passphrase).await?),
        };
        let with_keys = keys.as_ref().map(|k| k.providers.join(", "));
        let made = factory::backup::backup(&source, &out, keys).await?;
        println!(
            "backed up {} tables ({} rows) and {} files, {:.1} MB, to {}",
            made.manifest.tables.len(),
            made.manifest.tables.values().sum::<i64>(),
            made.files,
            made.bytes as f64 / 1_048_576.0,
            made.path.display()
        );
        match with_keys {
            Some(providers) => println!(
                "the keys for {providers} are in it, sealed under your passphrase (restore with --with-keys)"
            ),
            None => println!(
                "provider keys are not in it (add --with-keys to seal them in under a passphrase)"
            ),
        }
        anyhow::Ok(())
    })
    .await
}

/// The keys stored in the app, sealed under `passphrase`.
async fn seal_stored_keys(
    config: &Config,
    database: &Database,
    passphrase: factory::backup::Passphrase,
) -> anyhow::Result<factory::backup::SealedKeys> {
    let vault = factory::credentials::vault::Vault::load(&config.data_dir, config.data_key_store)?;
    let mut conn = factory::db::get_conn(&database.pool).await?;
    Ok(factory::backup::keys::seal_stored(&mut conn, &vault, passphrase).await?)
}

/// `art-factory restore FILE --data-dir DIR [--with-keys]`.
pub async fn restore(config: Config, args: RestoreArgs) -> anyhow::Result<()> {
    let bin_dir = match &config.database {
        DatabaseChoice::Managed { bin_dir } => bin_dir.clone(),
        DatabaseChoice::External(_) => {
            anyhow::bail!("a restore makes its own managed database; run it without DATABASE_URL")
        }
    };
    let passphrase = if args.with_keys {
        let typed = crate::prompt::secret("Passphrase the provider keys were sealed under: ")?;
        Some(factory::backup::Passphrase::new(typed.to_string()).map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let options = factory::backup::RestoreOptions {
        bin_dir,
        passphrase,
        key_store: config.data_key_store,
        bucket: config
            .media_bucket
            .is_some()
            .then(|| config.media_store())
            .transpose()?,
    };
    let restored = factory::backup::restore(&args.archive, &config.data_dir, options).await?;
    println!(
        "restored {} files ({:.1} MB) and {} tables ({} rows, every count checked) into {}",
        restored.files,
        restored.bytes as f64 / 1_048_576.0,
        restored.tables,
        restored.rows,
        config.data_dir.display()
    );
    if !restored.keys.is_empty() {
        println!("restored the keys for {}", restored.keys.join(", "));
    }
    if !restored.keys_left.is_empty() {
        println!(
            "the backup also holds keys for {} under a passphrase; they were not restored: set them in Settings (or restore into an empty directory again with --with-keys)",
            restored.keys_left.join(", ")
        );
    }
    println!(
        "start it with: art-factory --data-dir {}",
        config.data_dir.display()
    );
    Ok(())
}

/// `art-factory set-password`: the password typed twice, stored as an Argon2id hash; every
/// session is signed out.
pub async fn set_password(config: Config) -> anyhow::Result<()> {
    let typed = crate::prompt::new_secret("New password for the studio: ", "The same again: ")?;
    let password = factory::auth::Password::new(typed.to_string()).map_err(anyhow::Error::msg)?;
    let hash = tokio::task::spawn_blocking(move || factory::auth::hash(&password)).await?;
    Database::for_command(
        &config,
        "stop it, set the password, start it again.",
        async |database| {
            let mut conn = factory::db::get_conn(&database.pool).await?;
            factory::auth::set_password(&mut conn, &hash).await?;
            anyhow::Ok(())
        },
    )
    .await?;
    println!(
        "The password is set and every browser signed out. Servers started from now on ask to sign in \
         and may listen beyond this machine (--listen 0.0.0.0:3000; behind a TLS proxy add --behind-proxy); \
         restart any that are running."
    );
    Ok(())
}
