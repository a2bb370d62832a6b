//! Where the media store's bytes live: a directory (the default) or an S3-compatible bucket.
//!
//! Both hold the same keys (`projects/<id>/products/<hh>/<hash>.<ext>`, `.../thumbs/...`), built
//! only by the media store, so a library moves between them by copying files. The directory is
//! the data dir; a bucket is named by a URL (`s3://bucket/optional/prefix`) with an endpoint for
//! S3-compatible servers (MinIO, R2, Ceph, moto) and its credentials.
//!
//! The synchronous operations are for blocking threads (where pictures are decoded and encoded
//! anyway); a bucket's run on the runtime it was opened in. The async ones are for handlers.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::private_files;
use crate::secret::Secret;

/// A file's place in the store, relative and `/`-separated. Only the media store makes them
/// (from a project id, a checked hash and a known extension), and a listing of the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    pub(super) fn new(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to reach a bucket (from the server's configuration).
#[derive(Debug, Clone)]
pub struct BucketSettings {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// The S3 API's address, for anything but AWS itself (`http://127.0.0.1:9000`).
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// Browsers are sent to a signed URL valid this long instead of the app streaming the
    /// bytes; `None` streams.
    pub presign: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("media_url “{0}” is not a bucket URL; write it as s3://bucket or s3://bucket/prefix")]
    Url(String),
    #[error(
        "media_endpoint “{0}” is not an http:// or https:// address (for example http://127.0.0.1:9000)"
    )]
    Endpoint(String),
    #[error("the bucket needs both an access key id and a secret access key, or neither (to use the instance's role)")]
    HalfCredentials,
    #[error("the bucket could not be opened: {0}")]
    Open(String),
    #[error("opening a bucket needs the async runtime (a bug: open it inside the server)")]
    NoRuntime,
}

/// An open bucket. Its `Debug` names the bucket, never the credentials.
pub struct Bucket {
    store: AmazonS3,
    /// `""` or `prefix/`.
    prefix: String,
    presign: Option<Duration>,
    runtime: tokio::runtime::Handle,
    described: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket({})", self.described)
    }
}

impl BucketSettings {
    /// Checks the settings and opens the bucket (no request is made yet). Call inside the
    /// runtime: the blocking operations run their requests on it.
    pub fn open(&self) -> Result<Bucket, BucketError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BucketError::NoRuntime)?;
        let rest = self
            .url
            .trim()
            .strip_prefix("s3://")
            .ok_or_else(|| BucketError::Url(self.url.clone()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        let prefix = prefix.trim_matches('/');
        let valid_prefix = prefix.split('/').all(|part| {
            part.is_empty() && prefix.is_empty()
                || !part.is_empty() && part != "." && part != ".." && !part.contains('\\')
        });
        if !valid_bucket || !valid_prefix {
            return Err(BucketError::Url(self.url.clone()));
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&self.region);
        let mut described = format!("s3://{bucket}/{prefix}");
        if let Some(endpoint) = &self.endpoint {
            let endpoint = endpoint.trim().trim_end_matches('/');
            let http = endpoint.starts_with("http://");
            if !(http || endpoint.starts_with("https://")) || endpoint.contains('@') {
                return Err(BucketError::Endpoint(endpoint.to_string()));
            }
            // S3-compatible servers answer at one address, with the bucket in the path.
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(http)
                .with_virtual_hosted_style_request(false);
            described.push_str(&format!(" at {endpoint}"));
        }
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(id), Some(secret)) => {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret.expose());
            }
            (None, None) => {}
            _ => return Err(BucketError::HalfCredentials),
        }
        let store = builder
            .build()
            .map_err(|e| BucketError::Open(e.to_string()))?;
        Ok(Bucket {
            store,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            presign: self.presign,
            runtime,
            described,
        })
    }
}

/// What a request for a file gets.
pub enum Served {
    /// A file on this machine (sent with ranges and conditional requests).
    File(PathBuf),
    /// The bytes from the bucket, streamed through the app.
    Stream {
        size: u64,
        body: futures::stream::BoxStream<'static, io::Result<bytes::Bytes>>,
    },
    /// A signed URL the browser fetches the bytes from, valid for the given time.
    Redirect {
        url: String,
        valid: Duration,
    },
    Missing,
}

#[derive(Clone, Debug)]
pub(super) enum Blobs {
    Dir(PathBuf),
    Bucket(Arc<Bucket>),
}

impl Blobs {
    pub(super) fn describe(&self) -> String {
        match self {
            Blobs::Dir(root) => format!("the directory {}", root.display()),
            Blobs::Bucket(bucket) => format!("the bucket {}", bucket.described),
        }
    }

    fn path(root: &Path, key: &Key) -> PathBuf {
        root.join(key.as_str())
    }

    pub(super) fn read(&self, key: &Key) -> io::Result<Vec<u8>> {
        match self {
            Blobs::Dir(root) => std::fs::read(Self::path(root, key)),
            Blobs::Bucket(b) => b.block_on(b.read(key)),
        }
    }

    pub(super) async fn read_async(&self, key: &Key) -> io::Result<Vec<u8>> {
        match self {
            Blobs::Dir(root) => tokio::fs::read(Self::path(root, key)).await,
            Blobs::Bucket(b) => b.read(key).await,
        }
    }

    pub(super) fn exists(&self, key: &Key) -> io::Result<bool> {
        match self {
            Blobs::Dir(root) => Ok(Self::path(root, key).is_file()),
            Blobs::Bucket(b) => b.block_on(b.exists(key)),
        }
    }

    /// Stores `bytes` under `key` unless something is there already (keys name their content).
    pub(super) fn write_once(&self, key: &Key, bytes: &[u8]) -> io::Result<()> {
        if self.exists(key)? {
            return Ok(());
        }
        self.write(key, bytes)
    }

    /// Stores `bytes` under `key`, for a caller that has just seen nothing is there (on disk a
    /// file that appeared meanwhile is kept; a bucket's PUT of the same content is harmless).
    pub(super) fn write(&self, key: &Key, bytes: &[u8]) -> io::Result<()> {
        match self {
            Blobs::Dir(root) => write_file_once(&Self::path(root, key), bytes),
            Blobs::Bucket(b) => b.block_on(async {
                b.store
                    .put(&b.path(key), PutPayload::from(bytes.to_vec()))
                    .await
                    .map(|_| ())
                    .map_err(io::Error::from)
            }),
        }
    }

    /// Makes `to` hold what `from` holds, unless it already exists (a hard link on disk where
    /// possible; a copy inside the bucket).
    pub(super) fn copy(&self, from: &Key, to: &Key) -> io::Result<()> {
        match self {
            Blobs::Dir(root) => {
                let (source, target) = (Self::path(root, from), Self::path(root, to));
                if target.exists() || !source.exists() {
                    return Ok(());
                }
                if let Some(dir) = target.parent() {
                    private_files::create_dir_all(dir)?;
                }
                if std::fs::hard_link(&source, &target).is_err() {
                    std::fs::copy(&source, &target)?;
                }
                Ok(())
            }
            // A server-side copy; over an existing copy it rewrites the same bytes (keys name
            // their content), and a missing source is skipped as on disk.
            Blobs::Bucket(b) => b.block_on(async {
                match b.store.copy(&b.path(from), &b.path(to)).await {
                    Err(object_store::Error::NotFound { .. }) => Ok(()),
                    other => other.map_err(io::Error::from),
                }
            }),
        }
    }

    /// Removes `key`; an absent file is not an error.
    pub(super) fn remove(&self, key: &Key) -> io::Result<()> {
        let result = match self {
            Blobs::Dir(root) => std::fs::remove_file(Self::path(root, key)),
            Blobs::Bucket(b) => {
                b.block_on(async { b.store.delete(&b.path(key)).await.map_err(io::Error::from) })
            }
        };
        match result {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Moves `key` out of the way to `to` (kept, not deleted).
    pub(super) fn set_aside(&self, key: &Key, to: &Key) -> io::Result<()> {
        match self {
            Blobs::Dir(root) => {
                let target = Self::path(root, to);
                if let Some(dir) = target.parent() {
                    private_files::create_dir_all(dir)?;
                }
                std::fs::rename(Self::path(root, key), target)
            }
            Blobs::Bucket(b) => b.block_on(async {
                b.store
                    .rename(&b.path(key), &b.path(to))
                    .await
                    .map_err(io::Error::from)
            }),
        }
    }

    /// Every file under `prefix` (a key prefix ending in `/`), with its size, in key order.
    /// Temporary files of writes in progress are left out.
    pub(super) fn list(&self, prefix: &str) -> io::Result<Vec<(Key, u64)>> {
        match self {
            Blobs::Dir(root) => list_dir(root, prefix),
            Blobs::Bucket(b) => b.block_on(b.list(prefix)),
        }
    }

    pub(super) async fn list_async(&self, prefix: &str) -> io::Result<Vec<(Key, u64)>> {
        match self {
            Blobs::Dir(root) => {
                let (root, prefix) = (root.clone(), prefix.to_string());
                tokio::task::spawn_blocking(move || list_dir(&root, &prefix))
                    .await
                    .map_err(io::Error::other)?
            }
            Blobs::Bucket(b) => b.list(prefix).await,
        }
    }

    pub(super) async fn serve(&self, key: &Key) -> io::Result<Served> {
        match self {
            Blobs::Dir(root) => {
                let path = Self::path(root, key);
                Ok(if path.is_file() {
                    Served::File(path)
                } else {
                    Served::Missing
                })
            }
            Blobs::Bucket(b) => b.serve(key).await,
        }
    }
}

impl Bucket {
    fn path(&self, key: &Key) -> ObjectPath {
        ObjectPath::from(format!("{}{}", self.prefix, key.as_str()))
    }

    /// Runs a bucket request from a blocking thread.
    fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }

    async fn read(&self, key: &Key) -> io::Result<Vec<u8>> {
        let got = self.store.get(&self.path(key)).await?;
        Ok(got.bytes().await?.to_vec())
    }

    async fn exists(&self, key: &Key) -> io::Result<bool> {
        match self.store.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self, prefix: &str) -> io::Result<Vec<(Key, u64)>> {
        let under = ObjectPath::from(format!("{}{}", self.prefix, prefix.trim_end_matches('/')));
        let mut out: Vec<(Key, u64)> = self
            .store
            .list(Some(&under))
            .map_err(io::Error::from)
            .try_filter_map(|meta| {
                let key = meta
                    .location
                    .as_ref()
                    .strip_prefix(&self.prefix)
                    .map(|k| (Key(k.to_string()), meta.size));
                futures::future::ready(Ok(key))
            })
            .try_collect()
            .await?;
        out.sort();
        Ok(out)
    }

    async fn serve(&self, key: &Key) -> io::Result<Served> {
        let path = self.path(key);
        if let Some(valid) = self.presign {
            let url = self
                .store
                .signed_url(object_store::signer::Method::GET, &path, valid)
                .await?;
            return Ok(Served::Redirect {
                url: url.to_string(),
                valid,
            });
        }
        match self.store.get(&path).await {
            Ok(got) => Ok(Served::Stream {
                size: got.meta.size,
                body: got.into_stream().map_err(io::Error::from).boxed(),
            }),
            Err(object_store::Error::NotFound { .. }) => Ok(Served::Missing),
            Err(e) => Err(e.into()),
        }
    }
}

fn list_dir(root: &Path, prefix: &str) -> io::Result<Vec<(Key, u64)>> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(prefix)];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let file_type = entry.file_type()?;
            let path = entry.path();
            if file_type.is_dir() {
                stack.push(path);
            } else if file_type.is_file()
                && !entry.file_name().to_string_lossy().starts_with(".tmp-")
            {
                let Some(rel) = path.strip_prefix(root).ok().and_then(|p| p.to_str()) else {
                    continue;
                };
                out.push((Key(rel.to_string()), entry.metadata()?.len()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes `bytes` to `path` unless it exists: temporary file (0600) in the same directory,
/// fsync, rename, fsync the directory; any directory created on the way is fsynced into its
/// parent first. A crash leaves either nothing or the whole file, reachable from the root.
fn write_file_once(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().expect("media paths have a parent");
    private_files::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut file = private_files::create_new(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        private_files::sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
