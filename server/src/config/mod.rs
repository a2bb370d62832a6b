//! The one typed configuration, loaded once at start.
//!
//! Layers, lowest first: built-in defaults < `art-factory.toml` in the data dir <
//! `ART_FACTORY_*` environment variables (and `DATABASE_URL`) < command-line flags. Every setting
//! is documented once, on [`ServeArgs`], which is also what `art-factory --help` prints.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use factory::credentials::vault::KeyStore;
use factory::media::{BucketSettings, MediaStore};
use factory::providers::civitai;
use factory::providers::fal;
use factory::providers::replicate;
use factory::secret::Secret;
use serde::Deserialize;

mod args;
pub use args::{
    BackupArgs, Cli, Command, ExportArgs, ImportArgs, RestoreArgs, SeedArgs, ServeArgs,
};

pub const CONFIG_FILE: &str = "art-factory.toml";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_SITE_ROOT: &str = "target/site";
pub const DEFAULT_DB_POOL_SIZE: usize = 16;
pub const DEFAULT_WORKERS: usize = 8;
pub const DEFAULT_MAX_ITEMS: u64 = 1000;
pub const DEFAULT_CONFIRM_ITEMS: u64 = 100;
pub const DEFAULT_JOB_LEASE_SECS: u64 = 30;
pub const DEFAULT_MAX_RETRY_AFTER_SECS: u64 = 600;

/// `art-factory.toml`: the same settings as the flags, minus the data dir.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub database_url: Option<String>,
    pub postgres_bin_dir: Option<PathBuf>,
    pub site_root: Option<PathBuf>,
    pub db_pool_size: Option<usize>,
    pub workers: Option<usize>,
    pub provider_concurrency: Option<String>,
    pub submissions_per_minute: Option<String>,
    pub calls_per_minute: Option<String>,
    pub max_items: Option<u64>,
    pub behind_proxy: Option<bool>,
    pub confirm_items: Option<u64>,
    pub job_lease: Option<u64>,
    pub max_retry_after: Option<u64>,
    pub fal_key: Option<String>,
    pub fal_base_url: Option<String>,
    pub replicate_token: Option<String>,
    pub replicate_base_url: Option<String>,
    pub civitai_token: Option<String>,
    pub civitai_base_url: Option<String>,
    pub civitai_catalog_url: Option<String>,
    pub a1111_url: Option<String>,
    pub comfyui_url: Option<String>,
    pub blender: Option<PathBuf>,
    pub render_time_limit: Option<u64>,
    pub data_key_store: Option<String>,
    pub media_url: Option<String>,
    pub media_endpoint: Option<String>,
    pub media_region: Option<String>,
    pub media_access_key_id: Option<String>,
    pub media_secret_access_key: Option<String>,
    pub media_presign: Option<u64>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub database: DatabaseChoice,
    pub site_root: PathBuf,
    pub db_pool_size: usize,
    pub workers: usize,
    /// Explicit per-provider limits; providers not listed keep the engine's defaults.
    pub provider_concurrency: Vec<(String, usize)>,
    /// Per-provider rate limits given explicitly; others keep their published ones.
    pub submissions_per_minute: Vec<(String, u32)>,
    pub calls_per_minute: Vec<(String, u32)>,
    pub max_items: u64,
    pub confirm_items: u64,
    pub job_lease: Duration,
    pub max_retry_after: Duration,
    pub fal: ProviderSetup,
    pub replicate: ProviderSetup,
    pub civitai: ProviderSetup,
    /// Civitai's catalog, when not its public one.
    pub civitai_catalog_url: Option<String>,
    pub a1111_url: Option<String>,
    pub comfyui_url: Option<String>,
    /// The Blender program (`blender` on the PATH when not set).
    pub blender: Option<PathBuf>,
    pub render_time_limit: Duration,
    pub data_key_store: KeyStore,
    pub behind_proxy: bool,
    /// Whether `serve` runs the queue's workers too.
    pub run_workers: bool,
    /// The bucket the pictures are kept in; `None`: the data directory.
    pub media_bucket: Option<BucketSettings>,
}

/// A hosted provider's settings. Without a key here, a key set in the app enables it.
#[derive(Debug, Clone, Default)]
pub struct ProviderSetup {
    /// A key from configuration, and where it was given (for the Settings page, which shows
    /// that it overrides a key stored in the app).
    pub key: Option<(Secret, &'static str)>,
    /// The provider's API, when not its public one (tests, proxies).
    pub base_url: Option<String>,
}

impl ProviderSetup {
    /// `keys` is (flag or environment, file); the first given wins.
    fn resolve(
        name: &str,
        keys: (Option<String>, Option<String>),
        flag_origin: &'static str,
        base_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let key = match keys {
            (Some(key), _) => Secret::new(key).map(|k| (k, flag_origin)),
            (None, Some(key)) => Secret::new(key).map(|k| (k, CONFIG_FILE)),
            (None, None) => None,
        };
        // Checked now, so a bad URL stops the start with its reason.
        if let Some(url) = &base_url {
            factory::providers::http::base_url(name, url).map_err(anyhow::Error::msg)?;
        }
        Ok(Self { key, base_url })
    }
}

#[derive(Debug, Clone)]
pub enum DatabaseChoice {
    /// Run our own cluster in `<data dir>/postgres`.
    Managed { bin_dir: Option<PathBuf> },
    /// Use this server; manage nothing.
    External(DatabaseUrl),
}

/// A database URL. It may hold a password, so it never prints in full.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact_url(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`; key-value strings lose
/// their `password=` value.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            return format!("{scheme}://{masked}@{host}");
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Config {
    /// Resolves the settings from flags and environment (`args`), the data dir's config file,
    /// and defaults.
    pub fn load(args: ServeArgs) -> anyhow::Result<Self> {
        let data_dir = match args.data_dir.clone() {
            Some(dir) => absolute(&dir)?,
            None => default_data_dir()?,
        };
        let file = read_config_file(&data_dir.join(CONFIG_FILE))?;
        Self::resolve(args, file, data_dir)
    }

    /// The layering itself, without I/O.
    pub fn resolve(args: ServeArgs, file: FileConfig, data_dir: PathBuf) -> anyhow::Result<Self> {
        if data_dir.to_str().is_none() {
            bail!(
                "the data directory {} is not valid UTF-8; choose another with --data-dir",
                data_dir.display()
            );
        }
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"));
        let database = match args.database_url.or(file.database_url) {
            Some(url) if url.trim().is_empty() => DatabaseChoice::Managed {
                bin_dir: args.postgres_bin_dir.or(file.postgres_bin_dir),
            },
            Some(url) => DatabaseChoice::External(DatabaseUrl(url)),
            None => DatabaseChoice::Managed {
                bin_dir: args.postgres_bin_dir.or(file.postgres_bin_dir),
            },
        };
        let db_pool_size = args
            .db_pool_size
            .or(file.db_pool_size)
            .unwrap_or(DEFAULT_DB_POOL_SIZE);
        if db_pool_size == 0 {
            bail!("db_pool_size must be at least 1");
        }
        let workers = args.workers.or(file.workers).unwrap_or(DEFAULT_WORKERS);
        if workers == 0 {
            bail!("workers must be at least 1");
        }
        let provider_concurrency = match args.provider_concurrency.or(file.provider_concurrency) {
            Some(list) => parse_concurrency(&list)?,
            None => Vec::new(),
        };
        let submissions_per_minute =
            match args.submissions_per_minute.or(file.submissions_per_minute) {
                Some(list) => parse_per_provider("submissions_per_minute", "replicate=600", &list)?,
                None => Vec::new(),
            };
        let calls_per_minute = match args.calls_per_minute.or(file.calls_per_minute) {
            Some(list) => parse_per_provider("calls_per_minute", "replicate=3000", &list)?,
            None => Vec::new(),
        };
        let max_items = args
            .max_items
            .or(file.max_items)
            .unwrap_or(DEFAULT_MAX_ITEMS);
        if max_items == 0 {
            bail!("max_items must be at least 1");
        }
        let confirm_items = args
            .confirm_items
            .or(file.confirm_items)
            .unwrap_or(DEFAULT_CONFIRM_ITEMS);
        let job_lease = args
            .job_lease
            .or(file.job_lease)
            .unwrap_or(DEFAULT_JOB_LEASE_SECS);
        if !(3..=3600).contains(&job_lease) {
            bail!("job_lease must be between 3 and 3600 seconds");
        }
        let render_time_limit = args
            .render_time_limit
            .or(file.render_time_limit)
            .unwrap_or(factory::render::engines::blender::DEFAULT_TIME_LIMIT.as_secs());
        if !(1..=86_400).contains(&render_time_limit) {
            bail!("render_time_limit must be between 1 and 86400 seconds");
        }
        let render_time_limit = Duration::from_secs(render_time_limit);
        let max_retry_after = args
            .max_retry_after
            .or(file.max_retry_after)
            .unwrap_or(DEFAULT_MAX_RETRY_AFTER_SECS);
        let fal = ProviderSetup::resolve(
            fal::NAME,
            (args.fal_key, file.fal_key),
            "the FAL_KEY environment variable or --fal-key",
            args.fal_base_url.or(file.fal_base_url),
        )?;
        let replicate = ProviderSetup::resolve(
            replicate::NAME,
            (args.replicate_token, file.replicate_token),
            "the REPLICATE_API_TOKEN environment variable or --replicate-token",
            args.replicate_base_url.or(file.replicate_base_url),
        )?;
        let civitai = ProviderSetup::resolve(
            civitai::NAME,
            (args.civitai_token, file.civitai_token),
            "the CIVITAI_API_TOKEN environment variable or --civitai-token",
            args.civitai_base_url.or(file.civitai_base_url),
        )?;
        let civitai_catalog_url = args.civitai_catalog_url.or(file.civitai_catalog_url);
        if let Some(url) = &civitai_catalog_url {
            factory::providers::http::base_url("Civitai's catalog", url)
                .map_err(anyhow::Error::msg)?;
        }
        let data_key_store = match args.data_key_store.or(file.data_key_store) {
            Some(text) => text
                .trim()
                .parse::<KeyStore>()
                .map_err(|e| anyhow::anyhow!("data_key_store: {e}"))?,
            None => KeyStore::Auto,
        };
        let media_bucket = bucket_settings(
            args.media_url.or(file.media_url),
            args.media_endpoint.or(file.media_endpoint),
            args.media_region.or(file.media_region),
            (
                args.media_access_key_id.or(file.media_access_key_id),
                args.media_secret_access_key
                    .or(file.media_secret_access_key),
            ),
            args.media_presign.or(file.media_presign),
        )?;
        Ok(Self {
            media_bucket,
            data_key_store,
            behind_proxy: args.behind_proxy || file.behind_proxy.unwrap_or(false),
            run_workers: !args.no_workers,
            fal,
            replicate,
            civitai,
            civitai_catalog_url,
            a1111_url: args.a1111_url.or(file.a1111_url),
            comfyui_url: args.comfyui_url.or(file.comfyui_url),
            blender: args.blender.or(file.blender),
            render_time_limit,
            job_lease: Duration::from_secs(job_lease),
            max_retry_after: Duration::from_secs(max_retry_after),
            workers,
            provider_concurrency,
            submissions_per_minute,
            calls_per_minute,
            max_items,
            confirm_items,
            data_dir,
            listen,
            database,
            site_root: args
                .site_root
                .or(file.site_root)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SITE_ROOT)),
            db_pool_size,
        })
    }
}

impl Config {
    /// The media store these settings name: the bucket, opened (and its settings checked), or
    /// the data directory. Inside the runtime.
    pub fn media_store(&self) -> anyhow::Result<MediaStore> {
        Ok(match &self.media_bucket {
            None => MediaStore::new(&self.data_dir),
            Some(bucket) => MediaStore::in_bucket(&self.data_dir, bucket.open()?),
        })
    }
}

/// The bucket settings, when a media URL is given; the other media settings without one are
/// an error (they would be silently ignored).
fn bucket_settings(
    url: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    (access_key_id, secret): (Option<String>, Option<String>),
    presign: Option<u64>,
) -> anyhow::Result<Option<BucketSettings>> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        if endpoint.is_some() || presign.is_some_and(|s| s > 0) {
            bail!(
                "media_endpoint and media_presign need media_url (s3://bucket) to name the bucket"
            );
        }
        return Ok(None);
    };
    if presign.is_some_and(|s| s > 7 * 24 * 3600) {
        bail!("media_presign must be at most 604800 seconds (7 days, S3's limit)");
    }
    Ok(Some(BucketSettings {
        url,
        endpoint: endpoint.filter(|e| !e.trim().is_empty()),
        region: region
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "us-east-1".to_string()),
        access_key_id: access_key_id.filter(|k| !k.trim().is_empty()),
        secret_access_key: secret.and_then(Secret::new),
        presign: presign.filter(|s| *s > 0).map(Duration::from_secs),
    }))
}

/// `local=2, fal=4` -> [("local", 2), ("fal", 4)].
fn parse_concurrency(list: &str) -> anyhow::Result<Vec<(String, usize)>> {
    parse_per_provider("provider_concurrency", "local=2", list)
}

/// `setting` as `provider=n` pairs separated by commas, each n at least 1.
fn parse_per_provider<N: std::str::FromStr + PartialOrd + From<u8>>(
    setting: &str,
    example: &str,
    list: &str,
) -> anyhow::Result<Vec<(String, N)>> {
    list.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (id, n) = pair
                .split_once('=')
                .with_context(|| format!("{setting}: “{pair}” should look like {example}"))?;
            let n: N = n
                .trim()
                .parse()
                .ok()
                .filter(|n| *n >= N::from(1))
                .with_context(|| {
                    format!("{setting}: “{pair}” needs a whole number of at least 1")
                })?;
            Ok((id.trim().to_string(), n))
        })
        .collect()
}

fn read_config_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
    };
    let config: FileConfig = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe_toml_error(&text, &e)))?;
    if config.fal_key.is_some()
        || config.replicate_token.is_some()
        || config.civitai_token.is_some()
        || config.media_secret_access_key.is_some()
    {
        keep_private(path);
    }
    Ok(config)
}

/// Where a TOML error is and why, without the text of the line: the line may hold a key.
/// Serde's reasons quote the values they refused (`invalid type: string "…"`), so quoted
/// parts are blanked, except in the reason for an unknown setting, which names only the
/// setting.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim();
    let reason = if message.starts_with("unknown field") {
        message.to_string()
    } else {
        blank_quoted(message)
    };
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!(
                "line {line}, column {column}: {reason}. Fix or remove that setting \
                 (settings look like name = \"value\")"
            )
        }
        None => format!("{reason}. Fix or remove the setting"),
    }
}

/// `invalid type: string "abc", expected u64` -> `invalid type: string "…", expected u64`.
fn blank_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(quote) if c == quote => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' || c == '\'' => {
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    if open.is_some() {
        out.push('…');
    }
    out
}

/// A config file holding a key is made readable by its owner only (0600), as the app's other
/// files are: others on the machine must not read the key.
fn keep_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.permissions().mode() & 0o077 != 0 {
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => tracing::info!(
                file = %path.display(),
                "the file holds a key and other users could read it; it is now readable by you only"
            ),
            Err(e) => tracing::warn!(
                file = %path.display(),
                "the file holds a key and other users can read it; run chmod 600 on it ({e})"
            ),
        }
    }
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("invalid data directory {}", path.display()))
}

/// The platform's per-user data directory, plus `art-factory`.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .context("HOME is not set, so there is no default data directory; pass --data-dir")?;
    if cfg!(target_os = "macos") {
        return Ok(home.join("Library/Application Support/art-factory"));
    }
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    Ok(xdg
        .unwrap_or_else(|| home.join(".local/share"))
        .join("art-factory"))
}

#[cfg(test)]
mod tests;

/// Whether the server may listen on `listen`: beyond loopback only with a password set.
pub fn check_exposure(listen: std::net::SocketAddr, password_set: bool) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() && !password_set {
        bail!(
            "refusing to listen on {listen} without a password: that would expose the studio and \
             its keys to the network. Set one with `art-factory set-password` (then every route asks \
             to sign in), or listen on 127.0.0.1 (the default) and reach it through an SSH tunnel \
             (ssh -L 3000:127.0.0.1:3000 host)."
        );
    }
    Ok(())
}
