//! `art-factory serve`: open the database, serve HTTP until Ctrl-C or SIGTERM, shut down cleanly.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use factory::credentials::vault::Vault;
use factory::credentials::{Build, Credentials, Hosted};
use factory::jobs::worker::WorkerConfig;
use factory::providers::civitai::catalog::Catalog;
use factory::providers::civitai::{self, CivitaiConfig, CivitaiProvider};
use factory::providers::fal::{self, FalConfig, FalProvider};
use factory::providers::limits::{Gate, RateLimits};
use factory::providers::replicate::{self, ReplicateConfig, ReplicateProvider};
use factory::providers::{Provider, Providers};
use factory::{Engine, EngineSettings};

use crate::config::{Config, ProviderSetup};
use crate::database::Database;
use crate::http;

pub async fn serve(config: Config) -> anyhow::Result<()> {
    // 0700: a person's images and keys are theirs alone.
    factory::private_files::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the data directory {}",
            config.data_dir.display()
        )
    })?;
    tracing::info!(data_dir = %config.data_dir.display(), "starting");
    let database = Database::open(&config).await?;
    let auth = match door(&config, &database).await {
        Ok(auth) => auth,
        Err(e) => {
            database.shut_down().await;
            return Err(e);
        }
    };
    let engine = engine(&config, &database)?;
    for provider in engine.install_providers().await? {
        tracing::info!("{provider} is enabled");
    }
    install_local_servers(&engine).await;
    install_render_engines(&engine, &config).await;
    if database.is_exclusive() {
        let released =
            factory::jobs::claim::release_orphaned_leases(&mut *engine.conn().await?).await?;
        if released > 0 {
            tracing::info!(
                jobs = released,
                "resuming jobs a previous run left unfinished"
            );
        }
        factory::pipelines::runs::release_orphaned_steps(&mut *engine.conn().await?).await?;
    }
    // The worker starts with the server, so jobs a crash left behind resume at once: providers
    // delete results within the hour.
    let worker = config
        .run_workers
        .then(|| engine.start_worker(worker_config(&config), SHUTDOWN_GRACE));
    if worker.is_none() {
        tracing::info!("serving without workers: other processes run the queue");
    } else {
        engine.start_pipeline_driver();
    }
    let relay = relay(&engine, &database).await?;
    let schedule = tokio::spawn(run_backup_schedule(engine.clone()));
    let served = serve_http(&config, engine.clone(), auth).await;
    schedule.abort();
    engine.stop_pipeline_driver();
    if let Some(relay) = relay {
        relay.stop();
    }
    if let Some(worker) = worker {
        worker.shut_down(SHUTDOWN_GRACE).await;
    }
    database.shut_down().await;
    served
}

/// `art-factory worker`: the queue's workers without the web server, until Ctrl-C or SIGTERM.
pub async fn work(config: Config) -> anyhow::Result<()> {
    factory::private_files::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let database = Database::open(&config).await?;
    let result = async {
        let engine = engine(&config, &database)?;
        for provider in engine.install_providers().await? {
            tracing::info!("{provider} is enabled");
        }
        install_local_servers(&engine).await;
        install_render_engines(&engine, &config).await;
        if database.is_exclusive() {
            factory::jobs::claim::release_orphaned_leases(&mut *engine.conn().await?).await?;
            factory::pipelines::runs::release_orphaned_steps(&mut *engine.conn().await?).await?;
        }
        let relay = relay(&engine, &database).await?;
        let worker = engine.start_worker(worker_config(&config), SHUTDOWN_GRACE);
        engine.start_pipeline_driver();
        // Printed (not only logged) so scripts and tests know it is up.
        println!(
            "Art Factory worker is running ({} jobs at once); Ctrl-C or SIGTERM stops it",
            config.workers
        );
        shutdown_signal().await;
        tracing::info!("stopping the worker; jobs in flight get {SHUTDOWN_GRACE:?} to finish");
        engine.stop_pipeline_driver();
        worker.shut_down(SHUTDOWN_GRACE).await;
        if let Some(relay) = relay {
            relay.stop();
        }
        anyhow::Ok(())
    }
    .await;
    database.shut_down().await;
    result
}

/// The plugin providers: the generation servers configured (AUTOMATIC1111, ComfyUI) and the
/// manifests in the data directory. One that cannot be loaded is left out, with the reason in
/// the log (and on the Settings page); the app runs without it.
async fn install_local_servers(engine: &Engine) {
    let report = engine.reload_plugins().await;
    for enabled in report.enabled {
        tracing::info!("{enabled}");
    }
    for problem in report.problems {
        tracing::warn!("{problem}");
    }
}

/// Blender, when it runs here; the built-in engine is always there. A missing Blender is said
/// once here, and on the scene page with how to install it.
async fn install_render_engines(engine: &Engine, config: &Config) {
    use factory::render::engines::{blender::BlenderEngine, RenderProvider};
    match BlenderEngine::detect(config.blender.clone(), config.render_time_limit).await {
        Ok(blender) => {
            tracing::info!(
                "the Blender render engine is enabled: {}",
                blender.version()
            );
            engine.providers().add(Arc::new(RenderProvider(blender)));
        }
        Err(e) => tracing::info!(
            "the Blender render engine is unavailable ({e}); renders use the built-in engine"
        ),
    }
}

/// On a database other processes may share, the relay that carries events between them.
async fn relay(
    engine: &Engine,
    database: &Database,
) -> anyhow::Result<Option<factory::events::relay::RelayHandle>> {
    let Some(url) = database.shared_url() else {
        return Ok(None);
    };
    let relay = engine
        .start_event_relay(url)
        .await
        .context("could not listen for other processes' events on the database")?;
    tracing::info!("relaying events to and from other processes on this database");
    Ok(Some(relay))
}

/// Makes the daily backup when it is due (each minute it looks; one process claims it).
async fn run_backup_schedule(engine: Engine) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match engine.run_due_backup().await {
            Ok(Some(made)) => tracing::info!(
                path = %made.path.display(),
                bytes = made.bytes,
                "made the scheduled backup"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!("the backup schedule could not be read: {e}"),
        }
    }
}

/// How long jobs in flight may take to finish at shutdown before their leases are handed back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn engine(config: &Config, database: &Database) -> anyhow::Result<Engine> {
    let mut settings = EngineSettings::new(&config.data_dir);
    settings.max_items = config.max_items;
    settings.confirm_items = config.confirm_items;
    let providers = Providers::builtin();
    let vault = Vault::load(&config.data_dir, config.data_key_store)?;
    let credentials = Credentials::new(vault, hosted(config), providers.clone());
    let media = config.media_store()?;
    tracing::info!("pictures are kept in {}", media.describe());
    let engine = Engine::new(database.pool.clone(), providers, settings)
        .with_media(media.clone())
        .with_credentials(credentials)
        .with_civitai_catalog(civitai_catalog(config))
        .with_plugins(factory::engine::PluginConfig {
            a1111_url: config.a1111_url.clone(),
            comfyui_url: config.comfyui_url.clone(),
        });
    // Without pg_dump the app still runs; Settings says why it cannot back up.
    Ok(match database.backup_source(config, media) {
        Ok(source) => engine.with_backups(source),
        Err(e) => {
            tracing::warn!("backups from the app are off: {e:#}");
            engine
        }
    })
}

/// Every hosted provider, each behind its rate limits, with the key configuration gives it.
/// Keys set in the app come from the database when the engine installs the providers.
fn hosted(config: &Config) -> Vec<Hosted> {
    let setup = |id: &str, name: &str, setup: &ProviderSetup, build: Build| {
        let limits = rate_limits(config, id);
        Hosted {
            id: id.into(),
            name: name.into(),
            configured: setup
                .key
                .as_ref()
                .map(|(key, origin)| (key.clone(), origin.to_string())),
            limits,
            limits_configured: [&config.submissions_per_minute, &config.calls_per_minute]
                .iter()
                .any(|list| list.iter().any(|(p, _)| p == id))
                || config.provider_concurrency.iter().any(|(p, _)| p == id),
            gate: Arc::new(Gate::new(limits, config.max_retry_after)),
            build,
        }
    };
    let fal_url = config.fal.base_url.clone();
    let replicate_url = config.replicate.base_url.clone();
    let civitai_url = config.civitai.base_url.clone();
    let catalog = civitai_catalog(config);
    vec![
        setup(
            fal::ID,
            fal::NAME,
            &config.fal,
            Arc::new(move |key| {
                let config = FalConfig {
                    key,
                    base_url: fal_url.clone(),
                    timeout: None,
                };
                Ok(Arc::new(FalProvider::new(config)?) as Arc<dyn Provider>)
            }),
        ),
        setup(
            replicate::ID,
            replicate::NAME,
            &config.replicate,
            Arc::new(move |token| {
                let config = ReplicateConfig {
                    token,
                    base_url: replicate_url.clone(),
                    timeout: None,
                };
                Ok(Arc::new(ReplicateProvider::new(config)?) as Arc<dyn Provider>)
            }),
        ),
        setup(
            civitai::ID,
            civitai::NAME,
            &config.civitai,
            Arc::new(move |token| {
                let config = CivitaiConfig {
                    token,
                    base_url: civitai_url.clone(),
                    catalog: catalog.clone(),
                    timeout: None,
                };
                Ok(Arc::new(CivitaiProvider::new(config)?) as Arc<dyn Provider>)
            }),
        ),
    ]
}

/// Civitai's catalog (checked when the configuration was read).
fn civitai_catalog(config: &Config) -> Catalog {
    Catalog::new(config.civitai_catalog_url.as_deref(), None)
        .expect("the catalog URL was checked with the configuration")
}

/// A provider's published limits, with what the configuration says instead.
fn rate_limits(config: &Config, provider: &str) -> RateLimits {
    let mut limits = RateLimits::published(provider);
    let given = |list: &[(String, u32)]| list.iter().find(|(p, _)| p == provider).map(|(_, n)| *n);
    if let Some(n) = given(&config.submissions_per_minute) {
        limits.submissions_per_minute = Some(n);
    }
    if let Some(n) = given(&config.calls_per_minute) {
        limits.calls_per_minute = Some(n);
    }
    limits.concurrency = config
        .provider_concurrency
        .iter()
        .find(|(p, _)| p == provider)
        .and_then(|(_, n)| u32::try_from(*n).ok());
    limits
}

fn worker_config(config: &Config) -> WorkerConfig {
    let mut worker = WorkerConfig {
        max_concurrent: config.workers,
        lease: config.job_lease,
        retry_after_cap: config.max_retry_after,
        ..WorkerConfig::default()
    };
    worker
        .provider_concurrency
        .extend(config.provider_concurrency.iter().cloned());
    worker
}

/// The door for this server: on when a password is set, and then any address may be served;
/// without one, only loopback.
async fn door(config: &Config, database: &Database) -> anyhow::Result<http::auth::Auth> {
    let mut conn = factory::db::get_conn(&database.pool).await?;
    let password_set = factory::auth::password_hash(&mut conn).await?.is_some();
    crate::config::check_exposure(config.listen, password_set)?;
    Ok(if password_set {
        tracing::info!("a password is set: every route asks to sign in");
        http::auth::Auth::on(
            database.pool.clone(),
            http::auth::AuthOptions {
                behind_proxy: config.behind_proxy,
                ..Default::default()
            },
        )
    } else {
        http::auth::Auth::off()
    })
}

async fn serve_http(config: &Config, engine: Engine, auth: http::auth::Auth) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
            "could not listen on {}; is another art-factory (or another program) using that port? \
             Stop it, or choose another address with --listen",
            config.listen
        )
        })?;
    let addr = listener.local_addr()?;
    let (stop, shutdown) = http::Shutdown::new();
    let router = http::router(
        engine,
        http::leptos_options(&config.site_root, addr),
        shutdown,
        auth,
    );
    // Printed (not only logged) so scripts and tests can find the port when it was 0.
    println!("Art Factory is running at http://{addr}");
    // The peer's address reaches the sign-in limits.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Ends the live feeds, whose connections would otherwise keep the server up.
        let _ = stop.send(true);
    })
    .await
    .context("the HTTP server failed")?;
    tracing::info!("stopped serving; shutting down");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
