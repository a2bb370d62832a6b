//! The database the server runs on: its own managed cluster, or the server `DATABASE_URL` names.

use anyhow::Context;
use factory::db::cluster::{ClusterOptions, RunningCluster};
use factory::db::{self, Pool};

use crate::config::{Config, DatabaseChoice};

/// An open database. A managed one must be [`Database::shut_down`] to stop PostgreSQL cleanly.
pub struct Database {
    pub pool: Pool,
    cluster: Option<RunningCluster>,
    /// The server's address (with its password, if it has one: never logged).
    url: String,
}

impl Database {
    /// Opens the database for a one-off command, runs `work` with it, and shuts it down
    /// whatever `work` answered. When the app itself holds the data directory (its managed
    /// cluster is locked to the running server), the error ends with `busy`: what to do instead.
    pub async fn for_command<T>(
        config: &Config,
        busy: &str,
        work: impl AsyncFnOnce(&Database) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let database = Self::open(config).await.map_err(|e| {
            let text = e.to_string();
            if text.contains("already") || text.contains("in use") {
                anyhow::anyhow!("{e:#}\nThe app is running on this data directory: {busy}")
            } else {
                e
            }
        })?;
        let result = work(&database).await;
        database.shut_down().await;
        result
    }

    /// Starts (or reuses) the managed cluster or connects to the configured server, then runs
    /// pending migrations.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let (url, cluster) = match &config.database {
            DatabaseChoice::Managed { bin_dir } => {
                let options = ClusterOptions {
                    dir: config.data_dir.join("postgres"),
                    bin_dir: bin_dir.clone(),
                    fsync: true,
                };
                let cluster = RunningCluster::start(options).await?;
                (cluster.database_url().to_string(), Some(cluster))
            }
            DatabaseChoice::External(url) => {
                tracing::info!(database = %url, "using the PostgreSQL server from DATABASE_URL");
                (url.expose().to_string(), None)
            }
        };
        let database = Self {
            pool: db::pool(&url, config.db_pool_size)?,
            cluster,
            url: url.clone(),
        };
        match db::run_migrations(&url).await {
            Ok(applied) => {
                if applied > 0 {
                    tracing::info!(applied, "database migrations applied");
                }
                Ok(database)
            }
            Err(e) => {
                database.shut_down().await;
                Err(e).context(match &config.database {
                    DatabaseChoice::External(url) => format!(
                        "could not prepare the database at {url}; check that it is reachable and \
                         that the user may create tables"
                    ),
                    DatabaseChoice::Managed { .. } => {
                        "could not prepare the managed database".into()
                    }
                })
            }
        }
    }

    /// The address of a database other processes may share (`DATABASE_URL`), for the event
    /// relay; `None` for the managed cluster, which this process alone uses.
    pub fn shared_url(&self) -> Option<&str> {
        self.cluster.is_none().then_some(self.url.as_str())
    }

    /// Whether this process is the database's only user (the managed cluster, locked to this
    /// data dir), so anything another "worker" holds is an orphan of a crash.
    pub fn is_exclusive(&self) -> bool {
        self.cluster.is_some()
    }

    /// What a backup of this database reads: the `pg_dump` of the managed cluster's own
    /// installation (or of any found, for a given server), its address, the data directory.
    pub fn backup_source(
        &self,
        config: &Config,
        media: factory::media::MediaStore,
    ) -> anyhow::Result<factory::backup::Source> {
        let (bin_dir, url) = match (&self.cluster, &config.database) {
            (Some(cluster), _) => (
                cluster.binaries().dir.clone(),
                cluster.database_url().to_string(),
            ),
            (None, DatabaseChoice::External(url)) => {
                let found = db::binaries::discover(&db::binaries::candidate_dirs(None));
                let bins = found.into_iter().next().context(
                    "a backup needs pg_dump from PostgreSQL's client tools; install them (scripts/setup does)",
                )?;
                (bins.dir, url.expose().to_string())
            }
            (None, DatabaseChoice::Managed { .. }) => {
                anyhow::bail!("the managed database is not running")
            }
        };
        Ok(factory::backup::Source {
            bin_dir,
            database_url: url,
            media,
        })
    }

    /// Closes connections and stops the managed cluster, if any.
    pub async fn shut_down(self) {
        self.pool.close();
        if let Some(cluster) = self.cluster {
            if let Err(e) = cluster.stop().await {
                tracing::error!("could not stop the managed PostgreSQL cleanly: {e}");
            }
        }
    }
}
