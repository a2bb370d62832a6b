//! The art-factory server: configuration, the database it runs on (its own PostgreSQL cluster
//! or a given one), and the HTTP surface (Leptos pages and server functions, `/healthz`).
//!
//! [`run`] is the whole program; `main.rs` only calls it. [`http::router`] builds the app for a
//! given engine, which is also how tests serve it on port 0.

pub mod commands;
pub mod config;
pub mod database;
pub mod http;
pub mod prompt;
pub mod serve;
pub mod telemetry;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::config::{Cli, Command};

/// Runs the program with the given arguments and returns its exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    telemetry::init();
    let result = match cli.into_command() {
        Command::Serve(args) => {
            config::Config::load(args).and_then(|config| block_on(serve::serve(config)))
        }
        Command::SeedGallery(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(commands::seed_gallery(config, args))),
        Command::Import(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(commands::import(config, args))),
        Command::Export(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(commands::export(config, args))),
        Command::Backup(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(commands::backup(config, args))),
        Command::Restore(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(commands::restore(config, args))),
        Command::Worker(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(serve::work(config))),
        Command::SetPassword(args) => config::Config::load(args.serve.clone())
            .and_then(|config| block_on(commands::set_password(config))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("\nart-factory could not run: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn block_on(work: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?
        .block_on(work)
}
