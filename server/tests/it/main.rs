//! The server over real HTTP on real ports, against a real PostgreSQL (one binary for the crate).

mod api;
mod api_tokens;
mod assets;
mod auth;
mod bounds;
mod bucket;
mod characters;
mod clips;
mod crash;
mod guard;
mod health;
mod live;
mod managed_database;
mod pipelines;
mod plugins;
mod processes;
mod projects;
mod scale;
mod scenes;
mod secrets;
mod shutdown;
mod support;
mod uploads;
mod wire;
