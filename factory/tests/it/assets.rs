//! Assets stored: a checked model kept once per project as a GLB with a rendered preview, as a
//! product of kind `model3d` with its metadata, on disk and in a bucket; a refused one leaves
//! no row and no file.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use factory::assets::gltf::sample::{self, Sample};
use factory::assets::store::{self, AssetError};
use factory::media::{ImageFormat, THUMB_SIZES};
use factory::schema::products;
use factory::testing::gltf_cases;

use crate::queue::{blocking, in_bucket, setup_with_providers, Setup};

async fn product_count(setup: &Setup) -> i64 {
    products::table
        .count()
        .get_result(&mut *setup.db.conn().await)
        .await
        .unwrap()
}

async fn exercise(setup: Setup) {
    let engine = &setup.engine;
    let glb = sample::glb(&Sample {
        instances: 2,
        texture: Some(sample::checker_png(32)),
        ..Sample::default()
    });
    let asset = engine
        .upload_asset(
            setup.project,
            vec![("Twin spheres.glb".into(), glb.clone())],
            None,
        )
        .await
        .unwrap();
    assert_eq!(asset.name, "Twin spheres");
    assert_eq!(asset.bytes, glb.len() as i64);
    assert_eq!(asset.info.scene.as_ref().unwrap().instances, 2);
    assert!(asset.warnings.is_empty(), "{:?}", asset.warnings);
    let product = store::product(&mut *setup.db.conn().await, asset.id)
        .await
        .unwrap();
    assert_eq!(
        (product.kind.as_str(), product.mime.as_str(), product.ext()),
        ("model3d", "model/gltf-binary", "glb")
    );
    assert_eq!(
        product.prompt, "Twin spheres",
        "the gallery's search finds it by name"
    );
    let media = engine.media().clone();
    let hash = asset.content_hash.clone();
    let project = setup.project;
    blocking(move || {
        let key = media.original_key(project, &hash, "glb").unwrap();
        assert_eq!(
            media.read(&key).unwrap(),
            glb,
            "a self-contained GLB is stored as uploaded"
        );
        for size in THUMB_SIZES {
            let thumb = media
                .read(&media.thumb_key(project, &hash, size).unwrap())
                .unwrap();
            assert_eq!(
                ImageFormat::sniff(&thumb),
                Some(ImageFormat::Webp),
                "the rendered preview is its thumbnail"
            );
        }
    })
    .await;

    // The same model again is the same asset; another name does not make a copy.
    let again = engine
        .upload_asset(
            setup.project,
            vec![(
                "copy.glb".into(),
                sample::glb(&Sample {
                    instances: 2,
                    texture: Some(sample::checker_png(32)),
                    ..Sample::default()
                }),
            )],
            Some("Other"),
        )
        .await
        .unwrap();
    assert_eq!(again.id, asset.id);
    let listed = store::list(&mut *setup.db.conn().await, setup.project, None, 50)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![asset.id]
    );

    // Refused uploads: a clear reason, no row, no new file.
    let before_rows = product_count(&setup).await;
    let media = engine.media().clone();
    let files_before = blocking(move || media.list().unwrap().len()).await;
    for case in gltf_cases::cases()
        .into_iter()
        .filter(|c| c.expect != gltf_cases::Expect::Valid)
    {
        let error = engine
            .upload_asset(setup.project, case.files, None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, AssetError::Refused(_)),
            "{}: {error}",
            case.name
        );
    }
    let error = engine
        .upload_asset(
            setup.project,
            vec![("bomb.zip".into(), gltf_cases::zip_bomb())],
            None,
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("ZIP bomb"), "{error}");
    assert_eq!(product_count(&setup).await, before_rows);
    let media = engine.media().clone();
    assert_eq!(
        blocking(move || media.list().unwrap().len()).await,
        files_before
    );

    let missing = engine
        .upload_asset(
            999_999,
            vec![("m.glb".into(), sample::glb(&Sample::default()))],
            None,
        )
        .await;
    assert!(matches!(missing, Err(AssetError::NoProject(999_999))));
    assert!(matches!(
        store::get(&mut *setup.db.conn().await, 424_242).await,
        Err(AssetError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_model_is_stored_once_with_its_preview_and_a_refused_one_leaves_nothing() {
    exercise(setup_with_providers(1, Vec::new()).await).await;
}

#[tokio::test]
async fn models_go_to_the_bucket_like_pictures() {
    exercise(in_bucket(setup_with_providers(1, Vec::new()).await).await).await;
}

#[tokio::test]
async fn a_gltf_with_its_files_is_stored_as_one_glb() {
    let setup = setup_with_providers(1, Vec::new()).await;
    let case = gltf_cases::cases()
        .into_iter()
        .find(|c| c.name == "zip of a folder")
        .unwrap();
    let asset = setup
        .engine
        .upload_asset(setup.project, case.files, None)
        .await
        .unwrap();
    assert_eq!(asset.name, "model");
    assert_eq!(asset.info.container, "gltf");
    assert_eq!(asset.info.textures.len(), 1);
    let media = setup.engine.media().clone();
    let (project, hash) = (setup.project, asset.content_hash.clone());
    let stored = blocking(move || {
        media
            .read(&media.original_key(project, &hash, "glb").unwrap())
            .unwrap()
    })
    .await;
    let reread = factory::assets::gltf::read(vec![("stored.glb".into(), stored)]).unwrap();
    assert_eq!(reread.info.totals, asset.info.totals);
}
