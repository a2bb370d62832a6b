//! Backup and restore for real: `pg_dump` of a live database, every media file, a restore into
//! a fresh managed cluster in an empty data directory, then every row and every file compared.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use factory::backup::{self, BackupError, Source};
use factory::db::binaries;
use factory::db::cluster::{ClusterOptions, RunningCluster};

use crate::queue::setup_with_providers;

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

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_into_an_empty_data_directory_with_every_row_and_file_equal() {
    let setup = setup_with_providers(5, Vec::new()).await;
    crate::export::two_triaged_products(&setup).await;

    let source = Source {
        bin_dir: bin_dir(),
        database_url: setup.db.url().to_string(),
        data_dir: setup.engine.media().root().to_path_buf(),
    };
    let place = open_dir();
    let archive = place.path().join("library.zip");
    let backup = backup::backup(&source, &archive).await.unwrap();
    let original_files = files(&source.data_dir.join("projects"));
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
    let restored = backup::restore(&archive, &data, Some(bin_dir()))
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
    let err = backup::restore(&archive, &data, Some(bin_dir()))
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::Refused(_)), "{err}");

    // A damaged archive is refused, naming what is wrong.
    let mut bytes = std::fs::read(&archive).unwrap();
    let at = bytes.windows(4).position(|w| w == b"IDAT").unwrap();
    bytes[at + 10] ^= 0xFF;
    let damaged = place.path().join("damaged.zip");
    std::fs::write(&damaged, bytes).unwrap();
    let err = backup::restore(&damaged, &target.path().join("other"), Some(bin_dir()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
}
