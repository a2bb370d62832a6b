//! Pages, one module per route.

pub mod generate;
pub mod not_found;
pub mod projects;
pub mod queue;
