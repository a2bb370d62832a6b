//! Storage on PostgreSQL and disk: bytes per project, old rejects to the trash after a dry run,
//! and the files checked against the rows and repaired.

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use factory::gallery::triage::Change;
use factory::storage;

use factory::media::MediaStore;

use crate::export::two_triaged_products;
use crate::queue::{blocking, in_bucket, setup_with_providers, Setup};

#[tokio::test(flavor = "multi_thread")]
async fn usage_old_rejects_and_a_check_that_repairs() {
    usage_and_check(setup_with_providers(5, Vec::new()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_the_check_work_the_same_on_a_bucket() {
    usage_and_check(in_bucket(setup_with_providers(5, Vec::new()).await).await).await;
}

async fn usage_and_check(setup: Setup) {
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
        .keys_of(first.project_id, &first.content_hash, first.ext())
        .into_iter()
        .skip(1)
        .collect();
    let stray = MediaStore::parse_key(&format!(
        "projects/{}/products/ff/{}.png",
        setup.project,
        "f".repeat(64)
    ))
    .unwrap();
    let second = &made[1];
    let gone = media
        .original_key(second.project_id, &second.content_hash, second.ext())
        .unwrap();
    let exists = |key: &factory::media::Key| {
        let (media, key) = (media.clone(), key.clone());
        blocking(move || media.exists(&key).unwrap())
    };
    {
        let (media, thumb, stray, gone) = (
            media.clone(),
            thumbs[0].clone(),
            stray.clone(),
            gone.clone(),
        );
        blocking(move || {
            media.delete(&thumb).unwrap();
            media.put_raw(&stray, b"nobody's").unwrap();
            media.delete(&gone).unwrap();
        })
        .await;
    }

    let found = storage::check(&mut conn, media, false).await.unwrap();
    assert_eq!(found.orphans, vec![stray.clone()]);
    assert_eq!(found.missing_thumbnails, vec![first.id]);
    assert_eq!(found.missing_originals, vec![second.id]);
    assert!(!exists(&thumbs[0]).await, "a check alone changes nothing");

    let repaired = storage::check(&mut conn, media, true).await.unwrap();
    assert!(repaired.repaired);
    assert!(exists(&thumbs[0]).await, "the thumbnail is made again");
    assert!(!exists(&stray).await);
    assert!(
        exists(&MediaStore::aside_key(&stray)).await,
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
