//! The database: connection pool, embedded migrations, and the self-managed cluster.
//!
//! With no `DATABASE_URL` the server runs its own PostgreSQL in the data directory
//! ([`cluster`]); otherwise it connects to the given server. Either way the rest of the engine
//! only sees a [`Pool`].

pub mod binaries;
pub mod cluster;

use diesel::sql_query;
use diesel_async::pooled_connection::deadpool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// Every migration in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

pub type Pool = deadpool::Pool<AsyncPgConnection>;
pub type PooledConnection = deadpool::Object<AsyncPgConnection>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not open a database connection: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Builds a pool for `url` (a `postgres://` URL or a libpq key-value string).
///
/// The pool is lazy: nothing connects until the first `get`.
pub fn pool(url: &str, max_size: usize) -> Result<Pool, DbError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    deadpool::Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .runtime(::deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Connect(e.to_string()))
}

pub async fn get_conn(pool: &Pool) -> Result<PooledConnection, DbError> {
    pool.get()
        .await
        .map_err(|e| DbError::Connect(e.to_string()))
}

/// The `(id, name)` row `sql` finds for `key` (its `$1`), if any: how a page links a product to
/// the asset, scene or character it belongs to.
pub async fn id_and_name(
    conn: &mut AsyncPgConnection,
    sql: &'static str,
    key: i64,
) -> diesel::QueryResult<Option<(i64, String)>> {
    use diesel::sql_types::{BigInt, Text};
    use diesel::OptionalExtension;
    #[derive(diesel::QueryableByName)]
    struct Link {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
    }
    let link: Option<Link> =
        diesel_async::RunQueryDsl::get_result(diesel::sql_query(sql).bind::<BigInt, _>(key), conn)
            .await
            .optional()?;
    Ok(link.map(|l| (l.id, l.name)))
}

pub async fn ping(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    sql_query("SELECT 1").execute(conn).await?;
    Ok(())
}

/// Applies every pending migration to the database at `url`. Returns how many ran.
///
/// diesel's migration harness is synchronous; the async harness bridges it by blocking, so it
/// runs on a blocking thread with a connection of its own.
pub async fn run_migrations(url: &str) -> Result<usize, DbError> {
    let conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| DbError::Connect(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness
            .run_pending_migrations(MIGRATIONS)
            .map(|applied| applied.len())
            .map_err(|e| DbError::Migration(e.to_string()))
    })
    .await
    .map_err(|e| DbError::Migration(e.to_string()))?
}
