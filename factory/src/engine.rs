//! The engine handle: what a request handler needs to reach the engine.
//!
//! It is cheap to clone (a pool handle) and is put into axum state and Leptos context once at
//! start-up.

use crate::db::{DbError, Pool, PooledConnection};

#[derive(Clone)]
pub struct Engine {
    pool: Pool,
}

impl Engine {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// A connection from the pool, waiting at most the pool's timeout.
    pub async fn conn(&self) -> Result<PooledConnection, DbError> {
        crate::db::get_conn(&self.pool).await
    }

    /// Whether the database answers a trivial query right now (for `/healthz`).
    pub async fn database_reachable(&self) -> bool {
        match self.conn().await {
            Ok(mut conn) => crate::db::ping(&mut conn).await.is_ok(),
            Err(_) => false,
        }
    }
}
