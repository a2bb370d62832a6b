//! The configuration's layering, validation and secrecy.

use super::*;

/// Environment variables the tests read: the real names behind a prefix no developer's
/// shell sets, so their own `FAL_KEY` or `ART_FACTORY_LISTEN` never changes a test.
const TEST_ENV_PREFIX: &str = "ART_FACTORY_CONFIG_TEST_";

fn command() -> clap::Command {
    use clap::CommandFactory;
    let rename = |arg: clap::Arg| match arg.get_env() {
        Some(name) => {
            let renamed = format!("{TEST_ENV_PREFIX}{}", name.to_string_lossy());
            let renamed: &'static str = Box::leak(renamed.into_boxed_str());
            arg.env(renamed)
        }
        None => arg,
    };
    Cli::command()
        .mut_args(rename)
        .mut_subcommand("serve", |serve| serve.mut_args(rename))
}

fn parse(args: &[&str]) -> ServeArgs {
    use clap::FromArgMatches;
    let matches = command()
        .try_get_matches_from(std::iter::once("art-factory").chain(args.iter().copied()))
        .unwrap();
    match Cli::from_arg_matches(&matches).unwrap().into_command() {
        Command::Serve(args) => args,
        other => panic!("not serve: {other:?}"),
    }
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let config = Config::resolve(ServeArgs::default(), FileConfig::default(), "/d".into()).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
    assert!(matches!(
        config.database,
        DatabaseChoice::Managed { bin_dir: None }
    ));
    assert_eq!(config.site_root, PathBuf::from("target/site"));
    assert_eq!(config.db_pool_size, 16);
    assert_eq!(
        (config.workers, config.max_items, config.confirm_items),
        (8, 1000, 100)
    );
    assert!(config.provider_concurrency.is_empty());
}

#[test]
fn provider_concurrency_is_a_list_of_pairs_and_a_bad_pair_is_named() {
    assert_eq!(
        parse_concurrency("local=2, fal = 4").unwrap(),
        [("local".to_string(), 2), ("fal".to_string(), 4)]
    );
    let err = parse_concurrency("local=two").unwrap_err().to_string();
    assert!(err.contains("local=two"), "{err}");
    assert!(parse_concurrency("local=0").is_err());
}

#[test]
fn the_config_file_overrides_defaults_and_flags_override_the_file() {
    let file: FileConfig = toml::from_str("listen = \"127.0.0.1:4000\"\ndb_pool_size = 4").unwrap();
    let from_file = Config::resolve(ServeArgs::default(), file, "/d".into()).unwrap();
    assert_eq!(from_file.listen.port(), 4000);
    assert_eq!(from_file.db_pool_size, 4);

    let file: FileConfig = toml::from_str("listen = \"127.0.0.1:4000\"").unwrap();
    let flagged =
        Config::resolve(parse(&["--listen", "127.0.0.1:5000"]), file, "/d".into()).unwrap();
    assert_eq!(flagged.listen.port(), 5000);
}

#[test]
fn environment_variables_override_the_file_and_flags_override_the_environment() {
    // The only test that sets this variable (under the tests' own prefix).
    let name = format!("{TEST_ENV_PREFIX}ART_FACTORY_DB_POOL_SIZE");
    std::env::set_var(&name, "7");
    let file = || toml::from_str::<FileConfig>("db_pool_size = 4").unwrap();
    let from_env = Config::resolve(parse(&[]), file(), "/d".into()).unwrap();
    let from_flag = Config::resolve(parse(&["--db-pool-size", "9"]), file(), "/d".into()).unwrap();
    std::env::remove_var(&name);
    assert_eq!(from_env.db_pool_size, 7);
    assert_eq!(from_flag.db_pool_size, 9);
}

#[test]
fn serve_is_the_default_command_and_takes_the_same_flags() {
    assert_eq!(parse(&["--db-pool-size", "3"]).db_pool_size, Some(3));
    assert_eq!(
        parse(&["serve", "--db-pool-size", "5"]).db_pool_size,
        Some(5)
    );
}

#[test]
fn a_database_url_means_no_managed_database() {
    let args = parse(&["--database-url", "postgres://u:hunter2@db.example/af"]);
    let config = Config::resolve(args, FileConfig::default(), "/d".into()).unwrap();
    let DatabaseChoice::External(url) = &config.database else {
        panic!("expected external")
    };
    assert_eq!(url.expose(), "postgres://u:hunter2@db.example/af");
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "the password never prints"
    );
    assert_eq!(url.to_string(), "postgres://u:***@db.example/af");
}

#[test]
fn listening_beyond_this_machine_needs_a_password_and_says_how_to_set_one() {
    let config = Config::resolve(
        parse(&["--listen", "0.0.0.0:3000"]),
        FileConfig::default(),
        "/d".into(),
    )
    .unwrap();
    let err = super::check_exposure(config.listen, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("0.0.0.0:3000") && err.contains("set-password") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(super::check_exposure(config.listen, true).is_ok());
    assert!(super::check_exposure("127.0.0.1:3000".parse().unwrap(), false).is_ok());
}

#[test]
fn a_fal_key_enables_fal_and_never_shows_in_the_printed_config() {
    let config = Config::resolve(
        parse(&[
            "--fal-key",
            "id:sup3rsecret",
            "--fal-base-url",
            "http://127.0.0.1:9",
        ]),
        FileConfig::default(),
        "/data".into(),
    )
    .unwrap();
    let (key, origin) = config.fal.key.as_ref().expect("fal is configured");
    assert_eq!(key.expose(), "id:sup3rsecret");
    assert!(origin.contains("FAL_KEY"), "{origin}");
    assert!(!format!("{config:?}").contains("sup3rsecret"));
    let err = Config::resolve(
        parse(&["--fal-key", "k", "--fal-base-url", "http://example.com"]),
        FileConfig::default(),
        "/data".into(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unencrypted"), "{err}");
    let none = Config::resolve(parse(&[]), FileConfig::default(), "/data".into()).unwrap();
    assert!(none.fal.key.is_none());
}

#[test]
fn a_broken_line_in_the_file_is_reported_by_line_and_column_without_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_FILE);
    let canary = "fal-id:CANARY0s3cr3tK3y";
    for (broken, line) in [
        (format!("workers = 2\nfal_key = \"{canary}\n"), 2),
        (format!("workers = 2\n\nfal_key = {canary}\n"), 3),
        (format!("fal_key = '{canary}\"\n"), 1),
        (format!("fal_key = [\"{canary}\"]\n"), 1),
        (format!("max_items = \"{canary}\"\n"), 1),
    ] {
        std::fs::write(&file, &broken).unwrap();
        let message = format!("{:#}", read_config_file(&file).unwrap_err());
        assert!(!message.contains("CANARY0"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(
            message.contains(&format!("line {line}, column")),
            "{broken:?}: {message}"
        );
        assert!(message.contains("art-factory.toml"), "{message}");
    }
}

#[test]
fn a_config_file_holding_a_key_becomes_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_FILE);
    std::fs::write(&file, "fal_key = \"id:secret\"\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    read_config_file(&file).unwrap();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn an_unknown_setting_in_the_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), "lisen = \"127.0.0.1:1\"\n").unwrap();
    let err = read_config_file(&dir.path().join(CONFIG_FILE)).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("lisen") && message.contains("art-factory.toml"),
        "{message}"
    );
}

#[test]
fn the_password_in_a_key_value_database_url_is_redacted() {
    assert_eq!(
        redact_url("host=db password=s3cret user=u"),
        "host=db password=*** user=u"
    );
}

#[test]
fn help_documents_every_setting_and_its_environment_variable() {
    let help = <Cli as clap::CommandFactory>::command()
        .render_long_help()
        .to_string();
    for needle in [
        "--data-dir",
        "ART_FACTORY_DATA_DIR",
        "--listen",
        "ART_FACTORY_LISTEN",
        "--database-url",
        "DATABASE_URL",
        "--postgres-bin-dir",
        "ART_FACTORY_POSTGRES_BIN_DIR",
        "--site-root",
        "ART_FACTORY_SITE_ROOT",
        "--db-pool-size",
        "ART_FACTORY_DB_POOL_SIZE",
        "art-factory.toml",
    ] {
        assert!(help.contains(needle), "--help does not mention {needle}");
    }
}

#[test]
fn the_data_key_store_is_chosen_by_name_and_a_wrong_one_says_the_choices() {
    use factory::credentials::vault::KeyStore;
    let default = Config::resolve(parse(&[]), FileConfig::default(), "/data".into()).unwrap();
    assert_eq!(default.data_key_store, KeyStore::Auto);
    let file = FileConfig {
        data_key_store: Some("keyring".into()),
        ..FileConfig::default()
    };
    let from_file = Config::resolve(parse(&[]), file, "/data".into()).unwrap();
    assert_eq!(from_file.data_key_store, KeyStore::Keyring);
    let flag = Config::resolve(
        parse(&["--data-key-store", "file"]),
        FileConfig::default(),
        "/data".into(),
    )
    .unwrap();
    assert_eq!(flag.data_key_store, KeyStore::File);
    let err = Config::resolve(
        parse(&["--data-key-store", "vault"]),
        FileConfig::default(),
        "/data".into(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("auto, keyring or file"), "{err}");
}

#[test]
fn a_media_url_puts_the_pictures_in_a_bucket_and_its_secret_never_prints() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_FILE);
    std::fs::write(
        &file,
        "media_url = \"s3://pictures/studio\"\nmedia_secret_access_key = \"bucket-s3cret-value\"\n",
    )
    .unwrap();
    let config = Config::resolve(
        parse(&[
            "--media-endpoint",
            "http://127.0.0.1:9000",
            "--media-access-key-id",
            "AKIDEXAMPLE",
            "--media-presign",
            "600",
        ]),
        read_config_file(&file).unwrap(),
        "/data".into(),
    )
    .unwrap();
    let bucket = config.media_bucket.as_ref().expect("a bucket");
    assert_eq!(bucket.url, "s3://pictures/studio");
    assert_eq!(bucket.region, "us-east-1");
    assert_eq!(bucket.presign, Some(Duration::from_secs(600)));
    assert_eq!(
        bucket.secret_access_key.as_ref().unwrap().expose(),
        "bucket-s3cret-value"
    );
    assert!(!format!("{config:?}").contains("bucket-s3cret-value"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "a file holding the bucket's secret is kept private"
    );

    let local = Config::resolve(parse(&[]), FileConfig::default(), "/data".into()).unwrap();
    assert!(
        local.media_bucket.is_none(),
        "the data directory by default"
    );
    for (args, says) in [
        (
            vec!["--media-endpoint", "http://127.0.0.1:9000"],
            "need media_url",
        ),
        (
            vec!["--media-url", "s3://b1b", "--media-presign", "9999999"],
            "at most 604800",
        ),
    ] {
        let err = Config::resolve(parse(&args), FileConfig::default(), "/data".into())
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
