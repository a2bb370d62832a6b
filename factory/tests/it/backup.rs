//! Backup and restore for real: `pg_dump` of a live database, every media file, a restore into
//! a fresh managed cluster in an empty data directory, then every row and every file compared.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use factory::backup::{self, BackupError, Passphrase, RestoreOptions, Source};
use factory::credentials::vault::{KeyStore, Vault};
use factory::db::binaries;
use factory::db::cluster::{ClusterOptions, RunningCluster};
use factory::secret::Secret;

use crate::queue::setup_with_providers;

fn options(passphrase: Option<&str>) -> RestoreOptions {
    RestoreOptions {
        bin_dir: Some(bin_dir()),
        passphrase: passphrase.map(|p| Passphrase::new(p.into()).unwrap()),
        key_store: KeyStore::File,
        bucket: None,
    }
}

fn bin_dir() -> PathBuf {
    binaries::discover(&binaries::candidate_dirs(None))
        .into_iter()
        .next()
        .expect("PostgreSQL binaries (scripts/setup installs them)")
        .dir
}

/// A directory the PostgreSQL service user can enter when the tests run as root.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = Text)]
    t: String,
}

/// Every table's rows as sorted JSON, by table.
async fn rows(url: &str) -> Vec<(String, String)> {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let tables: Vec<Text1> = diesel::sql_query(
        "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'
         AND table_type = 'BASE TABLE' AND table_name NOT IN ('__diesel_schema_migrations', 'provider_credentials')
         ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let all: Vec<Text1> = diesel::sql_query(format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), '[]')::text AS t FROM \"{}\" x",
            table.t
        ))
        .load(&mut conn)
        .await
        .unwrap();
        out.push((table.t, all.into_iter().next().unwrap().t));
    }
    out
}

fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Every stored file (relative to `projects/`) and its bytes, from wherever the store keeps them.
async fn stored_files(media: &factory::media::MediaStore) -> Vec<(PathBuf, Vec<u8>)> {
    let media = media.clone();
    crate::queue::blocking(move || {
        let mut out: Vec<(PathBuf, Vec<u8>)> = media
            .list()
            .unwrap()
            .into_iter()
            .map(|(key, _)| {
                let rel = key.as_str().strip_prefix("projects/").unwrap().into();
                (rel, media.read(&key).unwrap())
            })
            .collect();
        out.sort();
        out
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_into_an_empty_data_directory_with_every_row_and_file_equal() {
    round_trip(setup_with_providers(5, Vec::new()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_library_in_a_bucket_backs_up_and_restores_into_a_data_directory_or_a_bucket() {
    let setup = crate::queue::in_bucket(setup_with_providers(5, Vec::new()).await).await;
    let (_place, archive, original_files, media) = round_trip(setup).await;

    // Into a new bucket: every file there, byte for byte.
    let target = open_dir();
    let bucket = factory::testing::s3::media_store(target.path()).await;
    let restored = backup::restore(
        &archive,
        &target.path().join("data"),
        RestoreOptions {
            bucket: Some(bucket.clone()),
            ..options(None)
        },
    )
    .await
    .unwrap();
    assert_eq!(restored.files, original_files.len());
    assert_eq!(stored_files(&bucket).await, original_files);
    let data_files = files(&target.path().join("data"));
    assert!(
        data_files.iter().all(|(p, _)| !p.starts_with("projects")),
        "the pictures went to the bucket only"
    );

    // Never over a bucket that holds pictures.
    let err = backup::restore(
        &archive,
        &target.path().join("again"),
        RestoreOptions {
            bucket: Some(media),
            ..options(None)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BackupError::Refused(_)), "{err}");
    assert!(err.to_string().contains("empty bucket"), "{err}");
}

/// Generates, backs up, restores into a data directory and compares everything; returns the
/// archive (in the directory handed back) with the files it holds, and the library's store.
async fn round_trip(
    setup: crate::queue::Setup,
) -> (
    tempfile::TempDir,
    PathBuf,
    Vec<(PathBuf, Vec<u8>)>,
    factory::media::MediaStore,
) {
    crate::export::two_triaged_products(&setup).await;

    let source = Source {
        bin_dir: bin_dir(),
        database_url: setup.db.url().to_string(),
        media: setup.engine.media().clone(),
    };
    let place = open_dir();
    let archive = place.path().join("library.zip");
    let backup = backup::backup(&source, &archive, None).await.unwrap();
    let original_files = stored_files(&source.media).await;
    assert!(!original_files.is_empty());
    assert_eq!(backup.files, original_files.len());
    assert_eq!(backup.manifest.tables["products"], 2);
    assert_eq!(backup.manifest.tables["product_tags"], 1);
    assert_eq!(
        backup.manifest.tables["provider_credentials"], 0,
        "keys stay out"
    );
    let listing = std::process::Command::new("unzip")
        .arg("-l")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(listing.status.success(), "a standard ZIP");

    let target = open_dir();
    let data = target.path().join("restored");
    let restored = backup::restore(&archive, &data, options(None))
        .await
        .unwrap();
    assert_eq!(restored.files, original_files.len());
    assert_eq!(
        files(&data.join("projects")),
        original_files,
        "every file byte for byte"
    );

    let cluster = RunningCluster::start(ClusterOptions {
        dir: data.join("postgres"),
        bin_dir: Some(bin_dir()),
        fsync: false,
    })
    .await
    .unwrap();
    let (before, after) = (
        rows(setup.db.url()).await,
        rows(cluster.database_url()).await,
    );
    cluster.stop().await.unwrap();
    assert_eq!(before.len(), after.len());
    let mut compared = 0;
    for ((table, a), (same, b)) in before.iter().zip(&after) {
        assert_eq!(table, same);
        assert_eq!(a, b, "the rows of {table}");
        compared += serde_json::from_str::<Vec<serde_json::Value>>(a)
            .unwrap()
            .len();
    }
    assert_eq!(
        compared as i64, restored.rows,
        "every row restored was compared"
    );
    assert!(
        compared >= 9,
        "projects, batch, jobs, products, tags: {compared}"
    );
    println!(
        "round trip: {compared} rows in {} tables and {} files compared, 0 differences",
        after.len(),
        original_files.len()
    );

    // Nothing is ever restored over a library.
    let err = backup::restore(&archive, &data, options(None))
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::Refused(_)), "{err}");

    // A damaged archive is refused, naming what is wrong.
    let mut bytes = std::fs::read(&archive).unwrap();
    let at = bytes.windows(4).position(|w| w == b"IDAT").unwrap();
    bytes[at + 10] ^= 0xFF;
    let damaged = place.path().join("damaged.zip");
    std::fs::write(&damaged, bytes).unwrap();
    let err = backup::restore(&damaged, &target.path().join("other"), options(None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    (place, archive, original_files, source.media)
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_keys_go_into_a_backup_only_sealed_under_the_passphrase_and_come_back_with_it() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let source = Source {
        bin_dir: bin_dir(),
        database_url: setup.db.url().to_string(),
        media: setup.engine.media().clone(),
    };
    let key_text = "fal-id-1234:fal-secret-abcdefgh";
    let vault = Vault::open_dir(source.media.root()).unwrap();
    let mut conn = AsyncPgConnection::establish(setup.db.url()).await.unwrap();
    factory::credentials::store(
        &mut conn,
        &vault,
        "fal",
        &Secret::new(key_text).unwrap(),
        None,
    )
    .await
    .unwrap();
    let (opened, unreadable) = factory::credentials::open_stored(&mut conn, &vault)
        .await
        .unwrap();
    assert!(unreadable.is_empty());
    let passphrase = "a walk along the lighthouse";
    let sealed = backup::keys::seal_keys(&Passphrase::new(passphrase.into()).unwrap(), &opened);

    let place = open_dir();
    let archive = place.path().join("with-keys.zip");
    let made = backup::backup(&source, &archive, Some(sealed))
        .await
        .unwrap();
    assert!(made.manifest.provider_keys.is_some());
    let bytes = std::fs::read(&archive).unwrap();
    for secret in ["fal-secret-abcdefgh", "fal-id-1234"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the key is nowhere in the archive in the clear"
        );
    }

    // A wrong passphrase: refused before anything is written.
    let target = open_dir();
    let wrong = target.path().join("wrong");
    let err = backup::restore(&archive, &wrong, options(Some("not the passphrase at all")))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("passphrase does not open"),
        "{err}"
    );
    assert!(!wrong.exists(), "nothing was written");

    // No passphrase: the library comes back, the keys are named as left behind.
    let without = target.path().join("without");
    let restored = backup::restore(&archive, &without, options(None))
        .await
        .unwrap();
    assert_eq!(restored.keys_left, ["fal"]);
    assert!(restored.keys.is_empty());
    assert!(!without.join("credentials.key").exists());

    // The passphrase: the key is stored again, sealed under the new directory's own data key.
    let with = target.path().join("with");
    let restored = backup::restore(&archive, &with, options(Some(passphrase)))
        .await
        .unwrap();
    assert_eq!(restored.keys, ["fal"]);
    let cluster = RunningCluster::start(ClusterOptions {
        dir: with.join("postgres"),
        bin_dir: Some(bin_dir()),
        fsync: false,
    })
    .await
    .unwrap();
    let mut conn = AsyncPgConnection::establish(cluster.database_url())
        .await
        .unwrap();
    let new_vault = Vault::open_dir(&with).unwrap();
    let (back, unreadable) = factory::credentials::open_stored(&mut conn, &new_vault)
        .await
        .unwrap();
    let (_, under_old) = factory::credentials::open_stored(&mut conn, &vault)
        .await
        .unwrap();
    drop(conn);
    cluster.stop().await.unwrap();
    assert!(unreadable.is_empty());
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].key.expose(), key_text);
    assert_eq!(
        under_old,
        ["fal"],
        "the old data key does not open the restored row"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_backups_run_once_when_due_and_keep_only_the_last_n() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let data_dir = setup.engine.media().root().to_path_buf();
    let engine = setup.engine.clone().with_backups(Source {
        bin_dir: bin_dir(),
        database_url: setup.db.url().to_string(),
        media: setup.engine.media().clone(),
    });
    let schedule = engine.set_backup_schedule(true, 2).await.unwrap();
    assert!(schedule.enabled);
    assert!(schedule.next_due_at.unwrap() > chrono::Utc::now() + chrono::Duration::hours(23));
    assert!(
        engine.run_due_backup().await.unwrap().is_none(),
        "not due yet"
    );

    let manual = engine.backup_now(None).await.unwrap();
    let mut conn = AsyncPgConnection::establish(setup.db.url()).await.unwrap();
    let mut made = Vec::new();
    for _ in 0..3 {
        diesel::sql_query("UPDATE backup_schedule SET next_due_at = now() - interval '1 second'")
            .execute(&mut conn)
            .await
            .unwrap();
        // Two at once (as two processes would): one claims it, the other finds nothing due.
        let (a, b) = tokio::join!(engine.run_due_backup(), engine.run_due_backup());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.is_some() != b.is_some(),
            "exactly one makes the due backup"
        );
        made.push(a.or(b).unwrap().path);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let after = engine.backup_schedule().await.unwrap();
    assert!(after.next_due_at.unwrap() > chrono::Utc::now() + chrono::Duration::hours(23));
    assert_eq!(after.last_error, None);
    let left: Vec<PathBuf> = backup::list(&backup::backups_dir(&data_dir))
        .into_iter()
        .map(|l| l.path)
        .collect();
    assert!(!made[0].exists(), "the oldest scheduled one went");
    assert!(made[1].exists() && made[2].exists());
    assert!(
        manual.path.exists(),
        "a backup made by hand is never pruned"
    );
    assert_eq!(left.len(), 3);

    let off = engine.set_backup_schedule(false, 2).await.unwrap();
    assert_eq!(off.next_due_at, None);
}
