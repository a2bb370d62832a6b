//! Password mode's sessions on a real PostgreSQL: a session lives until it is idle or old
//! enough, ends alone or with all the others, and a new password ends them all.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use factory::auth::{self, Expiry, Password};
use factory::testing::TestDb;

const EXPIRY: Expiry = Expiry {
    idle: Duration::from_secs(3600),
    absolute: Duration::from_secs(24 * 3600),
};

async fn shift(db: &TestDb, column: &str, by: &str) {
    diesel::sql_query(format!(
        "UPDATE auth_sessions SET {column} = {column} - interval '{by}'"
    ))
    .execute(&mut *db.conn().await)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_session_lives_until_idle_or_old_and_ends_alone_or_with_all() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    assert_eq!(auth::password_hash(&mut conn).await.unwrap(), None);
    let hash = auth::hash(&Password::new("correct horse battery staple".into()).unwrap());
    auth::set_password(&mut conn, &hash).await.unwrap();
    assert_eq!(
        auth::password_hash(&mut conn).await.unwrap(),
        Some(hash.clone())
    );

    let a = auth::start_session(&mut conn, "127.0.0.1 test")
        .await
        .unwrap();
    assert_eq!(a.expose().len(), 43);
    assert!(auth::check_session(&mut conn, a.expose(), EXPIRY)
        .await
        .unwrap());
    assert!(!auth::check_session(&mut conn, &"x".repeat(43), EXPIRY)
        .await
        .unwrap());
    assert!(!auth::check_session(&mut conn, "short", EXPIRY)
        .await
        .unwrap());

    // Idle for 59 minutes: still in, and the use moves the idle clock on.
    drop(conn);
    shift(&db, "last_seen_at", "59 minutes").await;
    let mut conn = db.conn().await;
    assert!(auth::check_session(&mut conn, a.expose(), EXPIRY)
        .await
        .unwrap());
    drop(conn);
    shift(&db, "last_seen_at", "59 minutes").await;
    let mut conn = db.conn().await;
    assert!(
        auth::check_session(&mut conn, a.expose(), EXPIRY)
            .await
            .unwrap(),
        "the last use restarted the idle clock"
    );
    drop(conn);
    shift(&db, "last_seen_at", "61 minutes").await;
    let mut conn = db.conn().await;
    assert!(
        !auth::check_session(&mut conn, a.expose(), EXPIRY)
            .await
            .unwrap(),
        "idle"
    );

    // In use all along, but older than the absolute expiry.
    let b = auth::start_session(&mut conn, "b").await.unwrap();
    drop(conn);
    shift(&db, "created_at", "25 hours").await;
    let mut conn = db.conn().await;
    assert!(
        !auth::check_session(&mut conn, b.expose(), EXPIRY)
            .await
            .unwrap(),
        "too old"
    );

    let c = auth::start_session(&mut conn, "c").await.unwrap();
    let d = auth::start_session(&mut conn, "d").await.unwrap();
    auth::end_session(&mut conn, c.expose()).await.unwrap();
    assert!(!auth::check_session(&mut conn, c.expose(), EXPIRY)
        .await
        .unwrap());
    assert!(auth::check_session(&mut conn, d.expose(), EXPIRY)
        .await
        .unwrap());
    assert!(auth::end_all_sessions(&mut conn).await.unwrap() >= 1);
    assert!(!auth::check_session(&mut conn, d.expose(), EXPIRY)
        .await
        .unwrap());

    // A new password signs everyone out.
    let e = auth::start_session(&mut conn, "e").await.unwrap();
    let other = auth::hash(&Password::new("another long password".into()).unwrap());
    auth::set_password(&mut conn, &other).await.unwrap();
    assert!(!auth::check_session(&mut conn, e.expose(), EXPIRY)
        .await
        .unwrap());
    assert!(auth::verify(
        &auth::password_hash(&mut conn).await.unwrap().unwrap(),
        &Password::attempt("another long password".into())
    ));
}
