//! The server over real HTTP on real ports, against a real PostgreSQL (one binary for the crate).

mod crash;
mod guard;
mod health;
mod live;
mod managed_database;
mod projects;
mod shutdown;
mod support;
