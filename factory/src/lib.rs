//! The Art Factory engine.
//!
//! Everything that is not HTTP or UI lives here: the database (diesel schema, models and the
//! self-managed PostgreSQL cluster), and the domain modules, one per noun. The server and the
//! server functions in `app` reach the engine through an [`Engine`] handle and call one function
//! per request; nothing here knows about Leptos or HTTP routing.

pub mod assets;
pub mod auth;
pub mod backup;
pub mod batches;
pub mod characters;
pub mod costs;
pub mod credentials;
pub mod db;
pub mod engine;
pub mod events;
pub mod export;
pub mod gallery;
pub mod grids;
pub mod hashing;
pub mod import;
pub mod jobs;
pub mod library;
pub mod media;
pub mod metadata;
pub mod models;
pub mod picks;
pub mod pipelines;
pub mod private_files;
pub mod products;
pub mod projects;
pub mod prompt;
pub mod providers;
pub mod render;
pub mod scenes;
pub mod schema;
pub mod secret;
pub mod storage;
pub mod uploads;

#[cfg(feature = "testing")]
pub mod testing;

pub use engine::{Engine, EngineSettings};
