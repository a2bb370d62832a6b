//! Pages, one module per route.

pub mod asset;
pub mod assets;
pub mod character;
pub mod characters;
pub mod compare;
pub mod gallery;
pub mod generate;
pub mod grid;
pub mod not_found;
pub mod pipeline;
pub mod pipelines;
pub mod product;
pub mod projects;
pub mod queue;
pub mod scene;
pub mod scenes;
pub mod settings;
pub mod tags;
pub mod wildcards;
