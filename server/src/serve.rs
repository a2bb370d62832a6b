//! `art-factory serve`: open the database, serve HTTP until Ctrl-C or SIGTERM, shut down cleanly.

use anyhow::Context;
use factory::Engine;

use crate::config::Config;
use crate::database::Database;
use crate::http;

pub async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the data directory {}",
            config.data_dir.display()
        )
    })?;
    tracing::info!(data_dir = %config.data_dir.display(), "starting");
    let database = Database::open(&config).await?;
    let served = serve_http(&config, Engine::new(database.pool.clone())).await;
    database.shut_down().await;
    served
}

async fn serve_http(config: &Config, engine: Engine) -> anyhow::Result<()> {
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
    let router = http::router(engine, http::leptos_options(&config.site_root, addr));
    // Printed (not only logged) so scripts and tests can find the port when it was 0.
    println!("Art Factory is running at http://{addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
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
