//! The command line: the commands, and every setting as a flag (documented here once; this is
//! what `art-factory --help` prints).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "art-factory",
    version,
    about = "A local-first studio for generating images with hosted AI providers and an offline generator.",
    long_about = "A local-first studio for generating images with hosted AI providers and an offline generator.\n\n\
        Settings come from, lowest priority first: built-in defaults, the file art-factory.toml in the \
        data directory (same names as the flags, with underscores: listen = \"127.0.0.1:3000\"), \
        environment variables, and command-line flags.\n\n\
        With no DATABASE_URL, art-factory runs its own PostgreSQL in <data dir>/postgres, using the \
        PostgreSQL binaries installed on this machine.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `art-factory [flags]` is `art-factory serve [flags]`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app in the browser (the default command).
    Serve(ServeArgs),
    /// Fill the data directory with many realistic products (for trying the gallery at scale,
    /// its tests and its benchmark). Their files are a few images shared between rows.
    SeedGallery(SeedArgs),
    /// Import pictures from other tools (PNG, JPEG, WebP; folders are walked) into a project,
    /// with the prompts and settings they carry. Files already in the project are skipped, so
    /// running it again resumes an interrupted import.
    Import(ImportArgs),
    /// Export a project or a gallery view as a ZIP: the pictures with their metadata embedded,
    /// plus metadata.jsonl and metadata.csv.
    Export(ExportArgs),
    /// Back up the whole library (database and every file) into one archive. The app must not
    /// be running on this data directory; while it runs, use Settings → Back up now.
    Backup(BackupArgs),
    /// Restore a backup into a new, empty data directory (nothing is overwritten), checking
    /// every file's hash and every table's row count.
    Restore(RestoreArgs),
    /// Run the queue's workers without the web server, on the database `DATABASE_URL` names
    /// (shared with any number of `serve --no-workers` and other workers) and the same data
    /// directory. Stops cleanly on Ctrl-C or SIGTERM, handing its jobs back.
    Worker(WorkerArgs),
    /// Set the studio's password (typed twice, never on the command line; read from stdin when
    /// it is not a terminal). With one set, the server may listen beyond this machine and
    /// every route asks to sign in; setting it again signs every browser out.
    SetPassword(SetPasswordArgs),
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SetPasswordArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The project to export (by name).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "gallery",
        required_unless_present = "gallery"
    )]
    pub project: Option<String>,
    /// A gallery view to export, as its address's query (`q=fox&rating=4`).
    #[arg(long, value_name = "QUERY")]
    pub gallery: Option<String>,
    /// Where to write the ZIP.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Where to write the archive (default: backups/art-factory-<date>.zip in the data directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Put the provider keys stored in the app in too, sealed under a passphrase you type
    /// (twice; read from stdin when it is not a terminal).
    #[arg(long)]
    pub with_keys: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup archive.
    #[arg(value_name = "FILE")]
    pub archive: PathBuf,
    /// Restore the provider keys in the backup too, with the passphrase they were sealed
    /// under (typed; read from stdin when it is not a terminal).
    #[arg(long)]
    pub with_keys: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Files and folders to import.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The project to import into (made when there is none of that name).
    #[arg(long, value_name = "NAME")]
    pub project: String,
    /// Files read at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// How many products to add.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// This many of them fall on a single day (to try a very dense day).
    #[arg(long, default_value_t = 0)]
    pub dense_day: u64,
    /// Seed of the generated values (the same seed makes the same products).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[command(flatten)]
    pub serve: ServeArgs,
}

impl Cli {
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// Every setting. `None` means "not given at this layer".
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Where the database, images and settings live. Default: ~/Library/Application
    /// Support/art-factory on macOS, $XDG_DATA_HOME/art-factory or ~/.local/share/art-factory on
    /// Linux. (Not settable in art-factory.toml, which lives inside it.)
    #[arg(long, env = "ART_FACTORY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address and port to serve on. Default: 127.0.0.1:3000 (this machine only). Port 0 picks
    /// a free port.
    #[arg(long, env = "ART_FACTORY_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// A PostgreSQL server to use instead of the managed one (postgres://user:pass@host/db).
    /// With it set, art-factory manages no database of its own.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory with the PostgreSQL binaries (initdb, pg_ctl, postgres) for the managed
    /// database. Default: searched on PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin and
    /// the Homebrew and Postgres.app locations.
    #[arg(long, env = "ART_FACTORY_POSTGRES_BIN_DIR", value_name = "DIR")]
    pub postgres_bin_dir: Option<PathBuf>,

    /// Directory with the built browser files (wasm, JS, CSS, assets). Default: target/site.
    #[arg(long, env = "ART_FACTORY_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,

    /// Maximum number of database connections. Default: 16.
    #[arg(long, env = "ART_FACTORY_DB_POOL_SIZE", value_name = "N")]
    pub db_pool_size: Option<usize>,

    /// Generations in flight at once, over all providers. Default: 8.
    #[arg(long, env = "ART_FACTORY_WORKERS", value_name = "N")]
    pub workers: Option<usize>,

    /// Generations in flight at once per provider, as `provider=n` pairs separated by commas
    /// (e.g. `local=2,fal=4`). Default: local = the number of CPU cores, others 4.
    #[arg(long, env = "ART_FACTORY_PROVIDER_CONCURRENCY", value_name = "LIST")]
    pub provider_concurrency: Option<String>,

    /// Submissions per minute allowed to each provider, as `provider=n` pairs (e.g.
    /// `replicate=600`). Default: each provider's published limit (Replicate 600); none where
    /// the provider limits concurrency instead (fal).
    #[arg(long, env = "ART_FACTORY_SUBMISSIONS_PER_MINUTE", value_name = "LIST")]
    pub submissions_per_minute: Option<String>,

    /// Other API calls per minute (status, cancel) allowed to each provider, as `provider=n`
    /// pairs. Default: the published limit (Replicate 3000).
    #[arg(long, env = "ART_FACTORY_CALLS_PER_MINUTE", value_name = "LIST")]
    pub calls_per_minute: Option<String>,

    /// Most images one launch may queue (a prompt's expansion times its image count).
    /// Default: 1000.
    #[arg(long, env = "ART_FACTORY_MAX_ITEMS", value_name = "N")]
    pub max_items: Option<u64>,

    /// The server is behind a reverse proxy that sets X-Forwarded-For and X-Forwarded-Proto:
    /// sign-in limits count the client it names, and the session cookie is Secure when the
    /// proxy says the request came over HTTPS. Never set it without such a proxy in front.
    #[arg(long, env = "ART_FACTORY_BEHIND_PROXY")]
    pub behind_proxy: bool,

    /// Serve without running the queue's workers (other processes, `art-factory worker`, run
    /// the jobs from the same database).
    #[arg(long, env = "ART_FACTORY_NO_WORKERS")]
    pub no_workers: bool,

    /// Launches of more images than this ask for a confirmation first. Default: 100.
    #[arg(long, env = "ART_FACTORY_CONFIRM_ITEMS", value_name = "N")]
    pub confirm_items: Option<u64>,

    /// How long a worker's claim on a job lasts without renewal, in seconds. The worker renews
    /// it several times a lease while the job runs; when a process dies, its jobs are taken up
    /// after this long by another process sharing the database (a lone process resumes them at
    /// once on its next start). Default: 30.
    #[arg(long, env = "ART_FACTORY_JOB_LEASE", value_name = "SECONDS")]
    pub job_lease: Option<u64>,

    /// The longest a provider may make a job wait before retrying, in seconds: a `Retry-After`
    /// asking for more is cut to this. Default: 600 (ten minutes).
    #[arg(long, env = "ART_FACTORY_MAX_RETRY_AFTER", value_name = "SECONDS")]
    pub max_retry_after: Option<u64>,

    /// The fal.ai key (`key_id:key_secret`), which enables the fal provider. Prefer the FAL_KEY
    /// environment variable or art-factory.toml to this flag: other users of this machine can
    /// read command lines.
    #[arg(long, env = "FAL_KEY", value_name = "KEY", hide_env_values = true)]
    pub fal_key: Option<String>,

    /// fal's queue API. Default: https://queue.fal.run. Plain http only to this machine.
    #[arg(long, env = "ART_FACTORY_FAL_BASE_URL", value_name = "URL")]
    pub fal_base_url: Option<String>,

    /// A Replicate API token (`r8_...`), which enables the Replicate provider. Prefer the
    /// REPLICATE_API_TOKEN environment variable or art-factory.toml to this flag.
    #[arg(
        long,
        env = "REPLICATE_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub replicate_token: Option<String>,

    /// Replicate's API. Default: https://api.replicate.com/v1. Plain http only to this machine.
    #[arg(long, env = "ART_FACTORY_REPLICATE_BASE_URL", value_name = "URL")]
    pub replicate_base_url: Option<String>,

    /// A Civitai API token, which enables the Civitai provider. Prefer the CIVITAI_API_TOKEN
    /// environment variable, art-factory.toml or the Settings page to this flag.
    #[arg(
        long,
        env = "CIVITAI_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub civitai_token: Option<String>,

    /// Civitai's orchestration API. Default: https://orchestration.civitai.com. Plain http only
    /// to this machine.
    #[arg(long, env = "ART_FACTORY_CIVITAI_BASE_URL", value_name = "URL")]
    pub civitai_base_url: Option<String>,

    /// Civitai's public catalog, which the model browser searches. Default:
    /// https://civitai.com/api/v1.
    #[arg(long, env = "ART_FACTORY_CIVITAI_CATALOG_URL", value_name = "URL")]
    pub civitai_catalog_url: Option<String>,

    /// A local AUTOMATIC1111 or Forge server started with `--api`, offered as the provider
    /// "AUTOMATIC1111 / Forge": `http://127.0.0.1:7860`. Its checkpoints are read at start.
    #[arg(long, env = "ART_FACTORY_A1111_URL", value_name = "URL")]
    pub a1111_url: Option<String>,

    /// The Blender program the Blender render engine runs (Cycles on the CPU, headless).
    /// Default: `blender` on the PATH; without it the engine shows as unavailable.
    #[arg(long, env = "ART_FACTORY_BLENDER", value_name = "PATH")]
    pub blender: Option<std::path::PathBuf>,

    /// The longest one Blender render may take, in seconds, before it is stopped and fails.
    /// Default: 1800 (half an hour).
    #[arg(long, env = "ART_FACTORY_RENDER_TIME_LIMIT", value_name = "SECONDS")]
    pub render_time_limit: Option<u64>,

    /// A ComfyUI server, offered as the provider "ComfyUI" with the workflows imported on the
    /// Settings page: `http://127.0.0.1:8188`.
    #[arg(long, env = "ART_FACTORY_COMFYUI_URL", value_name = "URL")]
    pub comfyui_url: Option<String>,

    /// Keep the pictures in an S3-compatible bucket instead of the data directory:
    /// `s3://bucket` or `s3://bucket/prefix`. Every process sharing one database must use the
    /// same bucket. Default: the data directory.
    #[arg(long, env = "ART_FACTORY_MEDIA_URL", value_name = "URL")]
    pub media_url: Option<String>,

    /// The bucket's S3 API, for anything but AWS itself (MinIO, Cloudflare R2, Ceph, Garage):
    /// `https://s3.example.com`, or plain http to this machine or a private network.
    #[arg(long, env = "ART_FACTORY_MEDIA_ENDPOINT", value_name = "URL")]
    pub media_endpoint: Option<String>,

    /// The bucket's region. Default: us-east-1 (what most S3-compatible servers expect).
    #[arg(long, env = "ART_FACTORY_MEDIA_REGION", value_name = "REGION")]
    pub media_region: Option<String>,

    /// The bucket's access key id (or AWS_ACCESS_KEY_ID). Without it and the secret, the
    /// machine's own role is used (on AWS).
    #[arg(
        long,
        env = "AWS_ACCESS_KEY_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    pub media_access_key_id: Option<String>,

    /// The bucket's secret access key. Give it as AWS_SECRET_ACCESS_KEY or in art-factory.toml,
    /// not as a flag: other users of this machine can read command lines.
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub media_secret_access_key: Option<String>,

    /// Send browsers to a signed bucket URL valid this many seconds instead of streaming the
    /// pictures through the app (less load on the app; the bucket must be reachable from the
    /// browsers). Default: 0, stream through the app.
    #[arg(long, env = "ART_FACTORY_MEDIA_PRESIGN", value_name = "SECONDS")]
    pub media_presign: Option<u64>,

    /// Where the data key that encrypts provider keys set in the app is kept: `keyring` (the OS
    /// keyring: the macOS login keychain, or the Secret Service through secret-tool on Linux),
    /// `file` (credentials.key in the data directory, 0600) or `auto`. Default: auto, the
    /// keyring when one answers and no key file exists yet, else the file.
    #[arg(
        long,
        env = "ART_FACTORY_DATA_KEY_STORE",
        value_name = "auto|keyring|file"
    )]
    pub data_key_store: Option<String>,
}
