//! Pictures in an S3-compatible bucket (moto's server, a real S3 API on loopback): a worker
//! process writes them, a web process with another data directory serves them, streamed through
//! with immutable caching or by a signed redirect, and the bucket's secret never shows.

use std::time::Duration;

use factory::media::{BucketSettings, MediaStore};
use factory::testing::TestDb;

use crate::processes::worker;
use crate::support::{local_launch, ServerProcess};

const SECRET: &str = "bucket-secret-never-in-any-log-9f3a";

fn flags(bucket: &BucketSettings) -> Vec<String> {
    vec![
        "--media-url".into(),
        bucket.url.clone(),
        "--media-endpoint".into(),
        bucket.endpoint.clone().unwrap(),
        "--media-access-key-id".into(),
        bucket.access_key_id.clone().unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_picture_a_worker_put_in_the_bucket_is_served_by_another_process() {
    let db = TestDb::new().await;
    let bucket = factory::testing::s3::bucket().await;
    let flags = flags(&bucket);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (worker_dir, web_dir, presign_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let env = [
        ("DATABASE_URL", db.url()),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let mut web_args = vec!["--no-workers"];
    web_args.extend(&flags);
    let web = ServerProcess::start_logging(web_dir.path(), &web_args, &env);
    let mut presign_args = web_args.clone();
    presign_args.extend(["--media-presign", "300"]);
    let presigning = ServerProcess::start_logging(presign_dir.path(), &presign_args, &env);
    let mut worker_args = flags.clone();
    worker_args.extend(["--media-secret-access-key", SECRET]);
    let mut working = worker(&db, worker_dir.path(), &worker_args);

    // Queued on the shared database; the worker process makes the pictures.
    let project = factory::projects::create(
        &mut *db.conn().await,
        &factory::projects::ProjectName::parse("Shared").unwrap(),
        &factory::projects::Description::default(),
    )
    .await
    .unwrap()
    .id;
    let queueing = factory::Engine::new(
        db.pool(),
        factory::providers::Providers::builtin(),
        factory::EngineSettings::new(worker_dir.path()),
    );
    let (batch, _) = queueing
        .launch(&local_launch(project, "a heron at {dawn|dusk}", 1))
        .await
        .unwrap();
    let made = factory::testing::eventually(Duration::from_secs(60), async || {
        let made = factory::products::list_for_batch(&mut *db.conn().await, batch.id)
            .await
            .unwrap();
        (made.len() == 2).then_some(made)
    })
    .await;
    working.kill().unwrap();
    working.wait().unwrap();
    for dir in [&worker_dir, &web_dir, &presign_dir] {
        assert!(
            crate::support::walk(dir.path())
                .iter()
                .all(|p| !p.to_string_lossy().contains("/projects/")),
            "no picture is kept in a data directory"
        );
    }

    // What the bucket holds, read directly.
    let store = MediaStore::in_bucket(
        worker_dir.path(),
        BucketSettings {
            secret_access_key: factory::secret::Secret::new(SECRET),
            ..bucket.clone()
        }
        .open()
        .unwrap(),
    );
    let product = &made[0];
    let key = store
        .original_key(product.project_id, &product.content_hash, product.ext())
        .unwrap();
    let in_bucket = store.read_async(&key).await.unwrap();

    // Streamed through the web process, cached for a year; a browser that has it gets a 304.
    let dto: app::dto::ProductDto = product.clone().into();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let got = client
        .get(web.url(&dto.url))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let headers = got.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let etag = headers["etag"].clone();
    assert_eq!(got.bytes().await.unwrap().to_vec(), in_bucket);
    let again = client
        .get(web.url(&dto.url))
        .header("sec-fetch-site", "same-origin")
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let thumb = client
        .get(web.url(&format!(
            "/media/{}/{}-256.webp",
            product.project_id, product.content_hash
        )))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/webp");
    let missing = client
        .get(web.url(&format!(
            "/media/{}/{}.png",
            product.project_id,
            "0".repeat(64)
        )))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Sent to a signed URL by the presigning process; the URL answers with the same bytes.
    let redirected = client
        .get(presigning.url(&dto.url))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(redirected.status(), 307);
    let location = redirected.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.contains("X-Amz-Signature="), "{location}");
    assert!(!location.contains(SECRET));
    let signed = reqwest::get(&location).await.unwrap();
    assert_eq!(signed.status(), 200);
    assert_eq!(signed.bytes().await.unwrap().to_vec(), in_bucket);

    let logs = format!("{}{}", web.log(), presigning.log());
    assert!(
        logs.contains("pictures are kept in the bucket s3://"),
        "{logs}"
    );
    assert!(!logs.contains(SECRET), "the secret never reaches a log");
}
