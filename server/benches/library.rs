//! Library benchmark: `cargo bench -p server --bench library` (or `scripts/bench library`).
//!
//! Writes `LIBRARY_FILES` (default 10,000) PNGs of 1024² with AUTOMATIC1111 metadata, imports
//! them (files per second until all are searchable, and until every thumbnail exists), then
//! seeds the library to `LIBRARY_PRODUCTS` (default 100,000) products and times a backup
//! against `tar` of the same media directory, measured side by side in this run, and a restore
//! into a fresh data directory. Prints a table; nothing here passes or fails.

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use factory::backup::{self, Source};
use factory::db::binaries;
use factory::gallery::seed::{fill, SeedOptions};
use factory::import::{self, Outcome};
use factory::projects::{self, Description, ProjectName};
use factory::providers::Providers;
use factory::testing::fixtures::{a1111_parameters, grainy_png_with_texts};
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// Each table's row count and a digest of all its rows (sorted JSON), provider keys aside.
async fn table_digests(url: &str) -> Vec<(String, i64, String)> {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{AsyncConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        t: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Digest {
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = Text)]
        d: String,
    }
    let mut conn = diesel_async::AsyncPgConnection::establish(url)
        .await
        .unwrap();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'
         AND table_type = 'BASE TABLE' AND table_name NOT IN ('__diesel_schema_migrations', 'provider_credentials') ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let digest: Vec<Digest> = diesel::sql_query(format!(
            "SELECT count(*) AS n, coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '') AS d
             FROM (SELECT to_jsonb(x)::text AS r FROM \"{}\" x) rows",
            table.t
        ))
        .load(&mut conn)
        .await
        .unwrap();
        let d = digest.into_iter().next().unwrap();
        out.push((table.t, d.n, d.d));
    }
    out
}

/// Every file under `root`: its path and SHA-256.
fn file_digests(root: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    use sha2::Digest;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let sum = sha2::Sha256::digest(std::fs::read(&path).unwrap());
                out.push((
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    format!("{sum:x}"),
                ));
            }
        }
    }
    out.sort();
    out
}

const SUBJECTS: &[&str] = &[
    "a red fox",
    "a lighthouse",
    "a castle",
    "an owl",
    "a dragon",
    "a koi pond",
    "a robot",
    "a city at night",
];
const STYLES: &[&str] = &[
    "oil painting",
    "watercolor",
    "35mm photo",
    "ink sketch",
    "isometric render",
];

fn main() {
    let files = env_number("LIBRARY_FILES", 10_000) as usize;
    let products = env_number("LIBRARY_PRODUCTS", 100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let work = tempfile::tempdir().unwrap();
        std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let incoming = work.path().join("incoming");
        std::fs::create_dir_all(&incoming).unwrap();
        eprintln!("writing {files} PNGs of 1024² …");
        let started = Instant::now();
        for i in 0..files {
            let prompt = format!(
                "{}, {}, detailed, number {i}",
                SUBJECTS[i % SUBJECTS.len()],
                STYLES[(i / SUBJECTS.len()) % STYLES.len()]
            );
            let png = grainy_png_with_texts(1024, 1024, i as u64, &[("parameters", &a1111_parameters(&prompt, i as i64))]);
            std::fs::write(incoming.join(format!("{i:05}.png")), png).unwrap();
        }
        let input_bytes = dir_bytes(&incoming);
        eprintln!("wrote {:.0} MB in {:.0} s", input_bytes as f64 / 1e6, started.elapsed().as_secs_f64());

        let db = TestDb::new().await;
        let data = work.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let engine = Engine::new(db.pool(), Providers::builtin(), EngineSettings::new(&data));
        let project = projects::create(&mut *db.conn().await, &ProjectName::parse("Imported").unwrap(), &Description::default())
            .await
            .unwrap()
            .id;
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
        let sources = import::run::collect(std::slice::from_ref(&incoming)).unwrap();
        let report = import::run(&db.pool(), engine.media(), project, sources, parallel, &AtomicBool::new(false), |_| {}).await;
        let imported = report.count(|o| matches!(o, Outcome::Imported { .. }));
        let searchable = report.searchable_after.as_secs_f64();
        let finished = report.finished_after.as_secs_f64();
        std::fs::remove_dir_all(&incoming).unwrap();

        eprintln!("seeding the library to {products} products …");
        let seeded = products.saturating_sub(imported as u64);
        fill(&mut *db.conn().await, engine.media(), &SeedOptions { count: seeded, ..SeedOptions::default() }).await.unwrap();
        let media_bytes = dir_bytes(&data.join("projects"));

        let bin_dir = binaries::discover(&binaries::candidate_dirs(None)).into_iter().next().unwrap().dir;
        let source = Source { bin_dir: bin_dir.clone(), database_url: db.url().to_string(), media: factory::media::MediaStore::new(&data) };
        let tar_out = work.path().join("media.tar");
        let started = Instant::now();
        let tar = std::process::Command::new("tar")
            .arg("-cf")
            .arg(&tar_out)
            .arg("-C")
            .arg(&data)
            .arg("projects")
            .status()
            .unwrap();
        assert!(tar.success());
        let tar_s = started.elapsed().as_secs_f64();
        std::fs::remove_file(&tar_out).unwrap();
        let archive = work.path().join("backup.zip");
        let started = Instant::now();
        let made = backup::backup(&source, &archive, None).await.unwrap();
        let backup_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let restored_dir = work.path().join("restored");
        let options = backup::RestoreOptions { bin_dir: Some(bin_dir.clone()), passphrase: None, key_store: factory::credentials::vault::KeyStore::File, bucket: None };
        let restored = backup::restore(&archive, &restored_dir, options).await.unwrap();
        let restore_s = started.elapsed().as_secs_f64();

        // Every row and every file, compared.
        let cluster = factory::db::cluster::RunningCluster::start(factory::db::cluster::ClusterOptions {
            dir: restored_dir.join("postgres"),
            bin_dir: Some(bin_dir),
            fsync: false,
        })
        .await
        .unwrap();
        let (before, after) = (table_digests(db.url()).await, table_digests(cluster.database_url()).await);
        cluster.stop().await.unwrap();
        let tables_differing = before.iter().zip(&after).filter(|(a, b)| a != b).count() + before.len().abs_diff(after.len());
        let rows_compared: i64 = before.iter().map(|(_, n, _)| n).sum();
        let (files_a, files_b) = (file_digests(&data.join("projects")), file_digests(&restored_dir.join("projects")));
        let files_differing = files_a.iter().zip(&files_b).filter(|(a, b)| a != b).count() + files_a.len().abs_diff(files_b.len());

        let mb = |b: u64| b as f64 / 1e6;
        println!("\n| measure | value |\n|---|---:|");
        println!("| PNGs imported (1024², A1111 metadata) | {imported} of {files} ({:.0} MB) |", mb(input_bytes));
        println!("| until all searchable | {searchable:.1} s — {:.0} files/s |", imported as f64 / searchable);
        println!("| until every thumbnail exists | {finished:.1} s — {:.0} files/s |", imported as f64 / finished);
        println!("| library backed up | {} products, {} rows, {} media files, {:.0} MB |", products, made.manifest.tables.values().sum::<i64>(), made.files, mb(media_bytes));
        println!("| `tar -cf` of the media directory | {tar_s:.1} s — {:.0} MB/s |", mb(media_bytes) / tar_s);
        println!("| `art-factory backup` (dump + media + hashes) | {backup_s:.1} s — {:.0} MB/s, {:.2}× tar |", mb(made.bytes) / backup_s, (mb(made.bytes) / backup_s) / (mb(media_bytes) / tar_s));
        println!("| archive size | {:.0} MB |", mb(made.bytes));
        println!("| restore (hash checks, pg_restore, counts) | {restore_s:.1} s — {} files, {} rows |", restored.files, restored.rows);
        println!("| round trip: rows compared / tables differing | {rows_compared} in {} tables / {tables_differing} |", before.len());
        println!("| round trip: files compared byte for byte / differing | {} / {files_differing} |", files_a.len());
    });
}
