//! The media store on disk and in a bucket on a real S3 API (moto's server): the same keys, the
//! same answers; and an engine whose pictures are in a bucket generating, exporting, moving
//! pictures between projects and emptying the trash.

use factory::export::Selection;
use factory::gallery::triage::Change;
use factory::media::{
    png, BucketError, BucketSettings, ImageFormat, MediaError, MediaStore, Served, THUMB_SIZES,
};
use factory::projects::{self, Description, ProjectName};

use crate::queue::{blocking, in_bucket, setup_with_providers};

fn picture(w: u32, h: u32, value: u8) -> Vec<u8> {
    png::encode_rgb(w, h, &vec![value; (w * h * 3) as usize]).unwrap()
}

/// What a store must do, whichever backend holds the bytes.
async fn exercise(media: MediaStore) {
    let bytes = picture(300, 200, 90);
    let (media2, bytes2) = (media.clone(), bytes.clone());
    blocking(move || {
        let media = media2;
        let a = media.put(7, &bytes2).unwrap();
        let b = media.put(7, &bytes2).unwrap();
        assert_eq!(a, b, "the same bytes are stored once");
        assert_eq!((a.width, a.height, a.format), (300, 200, ImageFormat::Png));
        let original = media.original_key(7, &a.hash, "png").unwrap();
        assert_eq!(a.rel_path, original.as_str());
        assert_eq!(media.read(&original).unwrap(), bytes2);
        for size in THUMB_SIZES {
            let thumb = media
                .read(&media.thumb_key(7, &a.hash, size).unwrap())
                .unwrap();
            assert_eq!(ImageFormat::sniff(&thumb), Some(ImageFormat::Webp));
        }
        let listed: Vec<String> = media
            .list()
            .unwrap()
            .into_iter()
            .map(|(key, size)| {
                assert!(size > 0);
                key.to_string()
            })
            .collect();
        assert_eq!(listed.len(), 3, "one original, two thumbnails: {listed:?}");

        // Not a picture: refused, and nothing is written.
        assert!(matches!(
            media.put(8, b"<html>hello</html>"),
            Err(MediaError::UnknownFormat)
        ));
        let mut fake = png::PNG_SIGNATURE.to_vec();
        fake.extend_from_slice(b"definitely not chunks");
        assert!(media.put(8, &fake).is_err());
        assert_eq!(media.list().unwrap().len(), 3);

        // Into another project, then out of the first.
        media.copy_to_project(7, 9, &a.hash, "png").unwrap();
        for key in media.keys_of(9, &a.hash, "png") {
            assert!(media.exists(&key).unwrap(), "{key}");
        }
        media.remove(7, &a.hash, "png").unwrap();
        media.remove(7, &a.hash, "png").unwrap();
        for key in media.keys_of(7, &a.hash, "png") {
            assert!(!media.exists(&key).unwrap(), "{key} removed");
        }
        assert_eq!(
            media
                .read(&media.original_key(9, &a.hash, "png").unwrap())
                .unwrap(),
            bytes2,
            "the copy stays"
        );

        // A file set aside is kept, out of the library's listing.
        let thumb = media.thumb_key(9, &a.hash, THUMB_SIZES[0]).unwrap();
        media.set_aside(&thumb).unwrap();
        assert!(!media.exists(&thumb).unwrap());
        assert!(media.exists(&MediaStore::aside_key(&thumb)).unwrap());
        assert_eq!(media.list().unwrap().len(), 2);

        // Thumbnails made again from the original.
        media.finish(9, &a.hash, "png").unwrap();
        assert!(media.exists(&thumb).unwrap());
    })
    .await;

    let hash = {
        let listed = media.list_async().await.unwrap();
        assert_eq!(listed.len(), 3);
        let original = listed
            .iter()
            .find(|(k, _)| k.as_str().contains("/products/"))
            .unwrap();
        assert_eq!(original.1, bytes.len() as u64, "sizes as stored");
        original.0.as_str().rsplit('/').next().unwrap()[..64].to_string()
    };
    let key = media.original_key(9, &hash, "png").unwrap();
    assert_eq!(media.read_async(&key).await.unwrap(), bytes);
    match media.serve(&key).await.unwrap() {
        Served::File(path) => {
            assert!(!media.is_bucket());
            assert_eq!(std::fs::read(path).unwrap(), bytes);
        }
        Served::Stream { size, body } => {
            use futures::TryStreamExt;
            assert!(media.is_bucket());
            assert_eq!(size, bytes.len() as u64);
            let chunks: Vec<bytes::Bytes> = body.try_collect().await.unwrap();
            assert_eq!(chunks.concat(), bytes);
        }
        _ => panic!("a stored file is served"),
    }
    let absent = media.original_key(9, &"0".repeat(64), "png").unwrap();
    assert!(matches!(
        media.serve(&absent).await.unwrap(),
        Served::Missing
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_keeps_files_the_same_way_on_disk_and_in_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    exercise(MediaStore::new(dir.path())).await;
    let data = tempfile::tempdir().unwrap();
    exercise(factory::testing::s3::media_store(data.path()).await).await;
    let mut left = factory::testing::walk(data.path());
    left.retain(|p| p.to_string_lossy().contains("projects"));
    assert!(
        left.is_empty(),
        "nothing of a bucket's goes to the data dir: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_presigned_bucket_sends_browsers_to_a_signed_url_that_answers_with_the_bytes() {
    let mut settings = factory::testing::s3::bucket().await;
    settings.presign = Some(std::time::Duration::from_secs(600));
    let data = tempfile::tempdir().unwrap();
    let media = MediaStore::in_bucket(data.path(), settings.open().unwrap());
    let bytes = picture(64, 64, 10);
    let stored = {
        let (media, bytes) = (media.clone(), bytes.clone());
        blocking(move || media.put(3, &bytes).unwrap()).await
    };
    let key = media.original_key(3, &stored.hash, "png").unwrap();
    let Served::Redirect { url, valid } = media.serve(&key).await.unwrap() else {
        panic!("a presigning store redirects");
    };
    assert_eq!(valid.as_secs(), 600);
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("X-Amz-Expires=600"), "{url}");
    assert!(
        !url.contains("test-secret-key-do-not-print"),
        "the secret never travels"
    );
    let got = reqwest::get(&url).await.unwrap();
    assert!(got.status().is_success(), "{}", got.status());
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bucket_settings_are_refused_with_what_to_write() {
    let good = BucketSettings {
        url: "s3://pictures/studio".into(),
        endpoint: Some("http://127.0.0.1:9000".into()),
        region: "us-east-1".into(),
        access_key_id: Some("id".into()),
        secret_access_key: factory::secret::Secret::new("very-secret-value"),
        presign: None,
    };
    let opened = good.open().unwrap();
    let debugged = format!("{opened:?}");
    let shown = format!(
        "{debugged} {}",
        MediaStore::in_bucket("/tmp", opened).describe()
    );
    assert!(shown.contains("s3://pictures/studio"), "{shown}");
    assert!(!shown.contains("very-secret-value"), "{shown}");
    for url in [
        "pictures",
        "https://pictures",
        "s3://",
        "s3://Pictures",
        "s3://pictures/../x",
    ] {
        let bad = BucketSettings {
            url: url.into(),
            ..good.clone()
        };
        let err = bad.open().unwrap_err();
        assert!(matches!(err, BucketError::Url(_)), "{url}: {err}");
        assert!(err.to_string().contains("s3://bucket"), "{err}");
    }
    let bad = BucketSettings {
        endpoint: Some("ftp://host".into()),
        ..good.clone()
    };
    assert!(matches!(bad.open(), Err(BucketError::Endpoint(_))));
    let bad = BucketSettings {
        access_key_id: None,
        ..good.clone()
    };
    assert!(matches!(bad.open(), Err(BucketError::HalfCredentials)));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_engine_with_its_pictures_in_a_bucket_generates_exports_moves_and_empties_the_trash() {
    let setup = in_bucket(setup_with_providers(5, Vec::new()).await).await;
    let made = crate::export::two_triaged_products(&setup).await;
    let media = setup.engine.media().clone();
    assert!(media.is_bucket());
    assert!(
        factory::testing::walk(media.root())
            .iter()
            .all(|p| !p.to_string_lossy().contains("/projects/")),
        "the pictures are in the bucket, not the data dir"
    );
    for p in &made {
        for key in media.keys_of(p.project_id, &p.content_hash, p.ext()) {
            let (m, k) = (media.clone(), key.clone());
            assert!(blocking(move || m.exists(&k).unwrap()).await, "{key}");
        }
    }

    // Exported from the bucket, byte for byte (PNGs get their metadata, so compare pixels).
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let pool = setup.db.pool();
    let exporting = {
        let media = media.clone();
        let project = setup.project;
        tokio::spawn(async move {
            factory::export::export(&pool, &media, Selection::Project(project), tx).await
        })
    };
    let mut zip = Vec::new();
    while let Some(chunk) = rx.recv().await {
        zip.extend(chunk);
    }
    let summary = exporting.await.unwrap().unwrap();
    assert_eq!((summary.products, summary.missing), (2, 0));
    assert!(zip.len() > 2 * 64, "the files are in the archive");

    // Moved to another project: the files are copied inside the bucket.
    let other = projects::create(
        &mut *setup.db.conn().await,
        &ProjectName::parse("Elsewhere").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    setup
        .engine
        .triage(&[made[0].id], &Change::MoveTo(other))
        .await
        .unwrap();
    let moved = media
        .original_key(other, &made[0].content_hash, made[0].ext())
        .unwrap();
    let (m, k) = (media.clone(), moved.clone());
    assert!(blocking(move || m.exists(&k).unwrap()).await);

    // The trash emptied: the file no product uses any more leaves the bucket.
    setup
        .engine
        .triage(&[made[1].id], &Change::Trash(true))
        .await
        .unwrap();
    let emptied = setup.engine.empty_trash(None).await.unwrap();
    assert_eq!(emptied.files_removed, 1);
    let gone = media
        .original_key(made[1].project_id, &made[1].content_hash, made[1].ext())
        .unwrap();
    let (m, k) = (media.clone(), gone.clone());
    assert!(!blocking(move || m.exists(&k).unwrap()).await);
}
