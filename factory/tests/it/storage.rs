//! Storage on PostgreSQL and disk: bytes per project, old rejects to the trash after a dry run,
//! and the files checked against the rows and repaired.

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use factory::gallery::triage::Change;
use factory::storage;

use crate::export::two_triaged_products;
use crate::queue::setup_with_providers;

#[tokio::test(flavor = "multi_thread")]
async fn usage_old_rejects_and_a_check_that_repairs() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let made = two_triaged_products(&setup).await;
    let media = setup.engine.media();
    let mut conn = setup.db.conn().await;

    let usage = storage::usage(&mut conn, media).await.unwrap();
    let ours = usage
        .iter()
        .find(|u| u.project_id == setup.project)
        .unwrap();
    assert_eq!(ours.products, 2);
    assert!(ours.originals > 0 && ours.thumbnails > 0, "{ours:?}");
    assert_eq!(ours.trash, 0);

    // A reject from 40 days ago: counted first, then sent to the trash.
    setup
        .engine
        .triage(&[made[1].id], &Change::Reject(true))
        .await
        .unwrap();
    diesel::sql_query("UPDATE products SET created_at = now() - interval '40 days' WHERE id = $1")
        .bind::<BigInt, _>(made[1].id)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        storage::trash_rejected(&mut conn, 30, true).await.unwrap(),
        1
    );
    assert_eq!(
        storage::trash_rejected(&mut conn, 60, true).await.unwrap(),
        0,
        "younger than 60 days"
    );
    assert_eq!(
        storage::trash_rejected(&mut conn, 30, false).await.unwrap(),
        1
    );
    assert_eq!(
        storage::trash_rejected(&mut conn, 30, true).await.unwrap(),
        0,
        "already in the trash"
    );
    let usage = storage::usage(&mut conn, media).await.unwrap();
    let ours = usage
        .iter()
        .find(|u| u.project_id == setup.project)
        .unwrap();
    assert_eq!((ours.products, ours.trash), (1, made[1].bytes as u64));

    // Damage: a thumbnail lost, a stray file, an original gone.
    let first = &made[0];
    let thumbs: Vec<_> = media
        .files_of(first.project_id, &first.content_hash, first.ext())
        .into_iter()
        .skip(1)
        .collect();
    std::fs::remove_file(&thumbs[0]).unwrap();
    let stray_dir = media
        .root()
        .join(format!("projects/{}/products/zz", setup.project));
    std::fs::create_dir_all(&stray_dir).unwrap();
    let stray = stray_dir.join(format!("{}.png", "f".repeat(64)));
    std::fs::write(&stray, b"nobody's").unwrap();
    let second = &made[1];
    let gone = media
        .original_path(second.project_id, &second.content_hash, second.ext())
        .unwrap();
    std::fs::remove_file(&gone).unwrap();

    let found = storage::check(&mut conn, media, false).await.unwrap();
    assert_eq!(found.orphans, vec![stray.clone()]);
    assert_eq!(found.missing_thumbnails, vec![first.id]);
    assert_eq!(found.missing_originals, vec![second.id]);
    assert!(!thumbs[0].exists(), "a check alone changes nothing");

    let repaired = storage::check(&mut conn, media, true).await.unwrap();
    assert!(repaired.repaired);
    assert!(thumbs[0].exists(), "the thumbnail is made again");
    assert!(!stray.exists());
    assert!(
        media
            .root()
            .join(format!("trash/orphans/{}/products/zz", setup.project))
            .join(stray.file_name().unwrap())
            .exists(),
        "kept in the trash"
    );
    let after = storage::check(&mut conn, media, false).await.unwrap();
    assert!(after.orphans.is_empty() && after.missing_thumbnails.is_empty());
    assert_eq!(
        after.missing_originals,
        vec![second.id],
        "only a backup brings an original back"
    );
}
