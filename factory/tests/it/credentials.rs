//! Provider keys managed in the app: tested before they are stored, sealed at rest, in force at
//! once, overridden by configuration, and absent from a database dump.

use std::sync::Arc;
use std::time::Duration;

use factory::credentials::vault::Vault;
use factory::credentials::{Build, Credentials, Hosted, KeyError, KeySource};
use factory::providers::fal::{FalConfig, FalProvider};
use factory::providers::limits::{Gate, RateLimits};
use factory::providers::replicate::{ReplicateConfig, ReplicateProvider};
use factory::providers::{Provider, Providers};
use factory::secret::Secret;
use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use factory::testing::replicate_standin::{ReplicateStandIn, ReplicateStandInOptions};
use factory::testing::TestDb;

struct Setup {
    db: TestDb,
    providers: Providers,
    credentials: Credentials,
    fal: FalStandIn,
    replicate: ReplicateStandIn,
    _data: tempfile::TempDir,
}

fn hosted(id: &str, configured: Option<&str>, build: Build) -> Hosted {
    Hosted {
        id: id.into(),
        name: id.to_uppercase(),
        configured: configured.map(|k| (Secret::new(k).unwrap(), "TEST_KEY".to_string())),
        limits: RateLimits::published(id),
        limits_configured: false,
        gate: Arc::new(Gate::new(
            RateLimits::published(id),
            Duration::from_secs(60),
        )),
        build,
    }
}

async fn setup(fal_configured: Option<&str>) -> Setup {
    let db = TestDb::new().await;
    let fal = FalStandIn::start(StandInOptions::default()).await;
    let replicate = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let (fal_url, replicate_url) = (fal.base_url(), replicate.api_url());
    let providers = Providers::builtin();
    let credentials = Credentials::new(
        Vault::open_dir(data.path()).unwrap(),
        vec![
            hosted(
                "fal",
                fal_configured,
                Arc::new(move |key| {
                    let config = FalConfig {
                        key,
                        base_url: Some(fal_url.clone()),
                        timeout: None,
                    };
                    Ok(Arc::new(FalProvider::new(config)?) as Arc<dyn Provider>)
                }),
            ),
            hosted(
                "replicate",
                None,
                Arc::new(move |token| {
                    let config = ReplicateConfig {
                        token,
                        base_url: Some(replicate_url.clone()),
                        timeout: None,
                    };
                    Ok(Arc::new(ReplicateProvider::new(config)?) as Arc<dyn Provider>)
                }),
            ),
        ],
        providers.clone(),
    );
    Setup {
        db,
        providers,
        credentials,
        fal,
        replicate,
        _data: data,
    }
}

async fn stored_rows(db: &TestDb) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM provider_credentials")
        .get_result(&mut *db.conn().await)
        .await
        .unwrap();
    count.n
}

#[tokio::test]
async fn a_key_that_fails_its_test_is_neither_stored_nor_used_and_never_echoed() {
    let s = setup(None).await;
    let mut conn = s.db.conn().await;
    let wrong = "r8_wrongtoken_4242424242";
    let error = s
        .credentials
        .set(&mut conn, "replicate", wrong)
        .await
        .unwrap_err();
    assert!(matches!(error, KeyError::Rejected { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("did not accept") && message.contains("Nothing was saved"),
        "{message}"
    );
    assert!(!message.contains("wrongtoken") && !format!("{error:?}").contains("wrongtoken"));
    assert_eq!(stored_rows(&s.db).await, 0);
    assert!(s.providers.get("replicate").is_none());

    for (bad, says) in [
        ("", "Paste the key"),
        ("two words key", "no spaces"),
        ("abc", "too short"),
    ] {
        let error = s
            .credentials
            .set(&mut conn, "replicate", bad)
            .await
            .unwrap_err();
        assert!(error.to_string().contains(says), "{bad:?}: {error}");
    }
    let unknown = s
        .credentials
        .set(&mut conn, "nowhere", "r8_whatever_123")
        .await
        .unwrap_err();
    assert!(matches!(unknown, KeyError::UnknownProvider(_)));
    assert_eq!(stored_rows(&s.db).await, 0);
}

#[tokio::test]
async fn a_key_set_in_the_app_is_tested_sealed_put_in_force_at_once_and_removable() {
    let s = setup(None).await;
    let mut conn = s.db.conn().await;
    assert!(s.credentials.install(&mut conn).await.unwrap().is_empty());
    let token = ReplicateStandInOptions::default().token;
    s.credentials
        .set(&mut conn, "replicate", &format!("  {token}\n"))
        .await
        .unwrap();
    assert!(
        s.providers.get("replicate").is_some(),
        "in force without a restart"
    );
    assert!(
        s.providers.get("replicate").unwrap().gate().is_some(),
        "behind its rate limits"
    );
    assert!(
        s.replicate
            .requests()
            .iter()
            .any(|(_, r)| r == "GET /v1/account 200"),
        "tested with GET /account: {:?}",
        s.replicate.requests()
    );

    let statuses = s.credentials.statuses(&mut conn).await.unwrap();
    let replicate = statuses.iter().find(|k| k.provider == "replicate").unwrap();
    assert_eq!(replicate.in_force, KeySource::App);
    assert_eq!(replicate.hint.as_deref(), Some(&token[token.len() - 4..]));
    let stored = replicate.stored.as_ref().unwrap();
    assert!(stored.readable && stored.verified_at.is_some());
    assert_eq!(replicate.limits.submissions_per_minute, Some(600));
    let fal = statuses.iter().find(|k| k.provider == "fal").unwrap();
    assert_eq!(fal.in_force, KeySource::None);

    // A restart with the same data key finds it again.
    let providers_before = s.providers.ids();
    s.providers.remove("replicate");
    assert_eq!(
        s.credentials.install(&mut conn).await.unwrap(),
        vec!["replicate"]
    );
    assert_eq!(s.providers.ids(), providers_before);

    s.credentials.test(&mut conn, "replicate").await.unwrap();
    s.credentials.remove(&mut conn, "replicate").await.unwrap();
    assert!(s.providers.get("replicate").is_none());
    assert_eq!(stored_rows(&s.db).await, 0);
    let error = s
        .credentials
        .test(&mut conn, "replicate")
        .await
        .unwrap_err();
    assert!(matches!(error, KeyError::NoKey(_)), "{error:?}");
}

#[tokio::test]
async fn configuration_overrides_a_stored_key_and_the_status_says_so() {
    let fal_key = StandInOptions::default().key;
    let s = setup(Some(&fal_key)).await;
    let mut conn = s.db.conn().await;
    assert_eq!(s.credentials.install(&mut conn).await.unwrap(), vec!["fal"]);
    // The stored key is tested and kept, but the configured one stays in force.
    s.credentials.set(&mut conn, "fal", &fal_key).await.unwrap();
    let statuses = s.credentials.statuses(&mut conn).await.unwrap();
    let fal = statuses.iter().find(|k| k.provider == "fal").unwrap();
    assert_eq!(
        fal.in_force,
        KeySource::Configured {
            origin: "TEST_KEY".into()
        }
    );
    assert!(fal.stored.is_some());
    // Removing the stored key leaves the configured one working.
    s.credentials.remove(&mut conn, "fal").await.unwrap();
    assert!(s.providers.get("fal").is_some());
    s.credentials.test(&mut conn, "fal").await.unwrap();
    let _ = &s.fal;
}

#[tokio::test]
async fn a_database_dump_after_setting_every_key_holds_none_of_them() {
    let s = setup(None).await;
    let mut conn = s.db.conn().await;
    let fal_key = StandInOptions::default().key;
    let token = ReplicateStandInOptions::default().token;
    s.credentials.set(&mut conn, "fal", &fal_key).await.unwrap();
    s.credentials
        .set(&mut conn, "replicate", &token)
        .await
        .unwrap();
    assert_eq!(stored_rows(&s.db).await, 2);
    let dump = s.db.dump();
    assert!(
        dump.contains("provider_credentials"),
        "the table is in the dump"
    );
    for key in [&fal_key, &token] {
        let secret_part = key.rsplit(':').next().unwrap();
        assert!(
            !dump.contains(secret_part),
            "a key is in the dump in clear text"
        );
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!dump.contains(&hex), "a key is in the dump as bytea hex");
    }
    // Another machine's data key opens nothing from this database.
    let elsewhere = tempfile::tempdir().unwrap();
    let stranger = Credentials::new(
        Vault::open_dir(elsewhere.path()).unwrap(),
        vec![hosted(
            "replicate",
            None,
            Arc::new(|_| Err("never built".to_string())),
        )],
        Providers::builtin(),
    );
    assert!(stranger.install(&mut conn).await.unwrap().is_empty());
    let status = stranger.statuses(&mut conn).await.unwrap();
    assert!(!status[0].stored.as_ref().unwrap().readable);
    assert_eq!(status[0].in_force, KeySource::None);
}

#[tokio::test]
async fn rates_set_in_the_app_apply_at_once_survive_a_restart_and_are_checked() {
    use factory::providers::limits::RateLimits;
    let s = setup(None).await;
    let mut conn = s.db.conn().await;
    let slower = RateLimits {
        submissions_per_minute: Some(60),
        calls_per_minute: None,
        concurrency: Some(2),
    };
    s.credentials
        .set_limits(&mut conn, "replicate", slower)
        .await
        .unwrap();
    let status = |statuses: Vec<factory::credentials::KeyStatus>| {
        statuses
            .into_iter()
            .find(|k| k.provider == "replicate")
            .unwrap()
    };
    assert_eq!(
        status(s.credentials.statuses(&mut conn).await.unwrap()).limits,
        slower
    );
    // Another start of the app (its gates at the published rates) reads them back.
    let again = setup(None).await;
    let fresh = Credentials::new(
        Vault::open_dir(again._data.path()).unwrap(),
        vec![hosted(
            "replicate",
            None,
            Arc::new(|_| Err("no key".to_string())),
        )],
        Providers::builtin(),
    );
    drop(again);
    fresh.install(&mut conn).await.unwrap();
    assert_eq!(
        status(fresh.statuses(&mut conn).await.unwrap()).limits,
        slower
    );

    let too_many = RateLimits {
        submissions_per_minute: Some(0),
        calls_per_minute: None,
        concurrency: None,
    };
    let error = s
        .credentials
        .set_limits(&mut conn, "replicate", too_many)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("from 1 to 100000"), "{error}");
    for cap in [0, 100_000] {
        let error = s
            .credentials
            .set_limits(
                &mut conn,
                "replicate",
                RateLimits {
                    concurrency: Some(cap),
                    ..slower
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(error, KeyError::BadConcurrency), "{error}");
    }
    assert_eq!(
        status(s.credentials.statuses(&mut conn).await.unwrap()).limits,
        slower,
        "a refused change changes nothing"
    );
    let fixed = Credentials::new(
        Vault::open_dir(s._data.path()).unwrap(),
        vec![Hosted {
            limits_configured: true,
            ..hosted("fal", None, Arc::new(|_| Err("no key".to_string())))
        }],
        Providers::builtin(),
    );
    let error = fixed
        .set_limits(&mut conn, "fal", slower)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("change them there"), "{error}");
}

/// The data key in a real Secret Service (GNOME Keyring on a private session bus): made there
/// for a new data directory, no key file written, the same key found on the next start, one key
/// per data directory, and an unreachable keyring refused with the way out rather than a new
/// key that would strand the stored ones.
#[test]
fn the_data_key_lives_in_the_os_keyring_when_there_is_one() {
    use factory::credentials::keyring::OsKeyring;
    use factory::credentials::vault::{KeyStore, VaultError, KEYRING_MARKER, KEY_FILE};
    use factory::testing::keyring::PrivateKeyring;

    let keyring = PrivateKeyring::start();
    let data = tempfile::tempdir().unwrap();
    let key = Secret::new("r8_keyring_canary_0123456789").unwrap();
    // Keyring, not Auto: a failure here shows its reason instead of falling back to a file.
    let vault =
        Vault::load_with(data.path(), KeyStore::Keyring, Some(keyring.os_keyring())).unwrap();
    assert!(vault.origin().contains("OS keyring"), "{}", vault.origin());
    assert!(
        !data.path().join(KEY_FILE).exists(),
        "no key file beside a keyring"
    );
    let marker = std::fs::read_to_string(data.path().join(KEYRING_MARKER)).unwrap();
    let sealed = vault.seal("replicate", &key);

    // The entry is in the keyring itself, as secret-tool shows it.
    let dir = std::fs::canonicalize(data.path()).unwrap();
    let account = format!("data key for {}", dir.display());
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "art-factory", "account", &account])
        .env("DBUS_SESSION_BUS_ADDRESS", keyring.address())
        .output()
        .unwrap();
    let stored = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stored.trim().len(), 64, "a 256-bit key in hex");
    assert!(
        !marker.contains(stored.trim()),
        "the marker holds no secret"
    );

    // Next start: the same key opens what was sealed.
    let again = Vault::load_with(data.path(), KeyStore::Auto, Some(keyring.os_keyring())).unwrap();
    assert_eq!(
        again.open("replicate", &sealed).unwrap().expose(),
        key.expose()
    );
    // Another data directory gets its own key.
    let other = tempfile::tempdir().unwrap();
    let stranger =
        Vault::load_with(other.path(), KeyStore::Keyring, Some(keyring.os_keyring())).unwrap();
    assert!(stranger.open("replicate", &sealed).is_none());

    // A data directory whose key is in a file keeps using it under Auto.
    let filed = tempfile::tempdir().unwrap();
    let by_file = Vault::load_with(filed.path(), KeyStore::File, None).unwrap();
    let sealed_in_file = by_file.seal("fal", &key);
    let reopened =
        Vault::load_with(filed.path(), KeyStore::Auto, Some(keyring.os_keyring())).unwrap();
    assert!(reopened.open("fal", &sealed_in_file).is_some());
    assert!(!filed.path().join(KEYRING_MARKER).exists());

    // The keyring gone (no daemon on that bus): a clear refusal, and still no key file made.
    let address = keyring.address().to_string();
    drop(keyring);
    let error = Vault::load_with(
        data.path(),
        KeyStore::Auto,
        Some(OsKeyring::secret_service_on(&address)),
    )
    .err()
    .unwrap();
    assert!(matches!(error, VaultError::KeyringLost { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("data_key_store"), "{message}");
    let error = Vault::load_with(data.path(), KeyStore::Auto, None)
        .err()
        .unwrap();
    assert!(error.to_string().contains("OS keyring"), "{error}");
    assert!(!data.path().join(KEY_FILE).exists());
}
