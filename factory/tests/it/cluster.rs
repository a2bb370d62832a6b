//! The managed cluster, as a person's machine would see it: first start, restart, crashes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use factory::db::cluster::{ClusterError, ClusterOptions, RunningCluster};

fn options(data_dir: &Path) -> ClusterOptions {
    ClusterOptions {
        dir: data_dir.join("postgres"),
        bin_dir: None,
        fsync: false,
    }
}

async fn execute(cluster: &RunningCluster, sql: &str) {
    let mut conn = AsyncPgConnection::establish(cluster.database_url())
        .await
        .unwrap();
    sql_query(sql).execute(&mut conn).await.unwrap();
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count_rows(cluster: &RunningCluster) -> i64 {
    let mut conn = AsyncPgConnection::establish(cluster.database_url())
        .await
        .unwrap();
    let rows: Vec<Count> = sql_query("SELECT count(*) AS n FROM marks")
        .load(&mut conn)
        .await
        .unwrap();
    rows[0].n
}

async fn start_with_a_row(data_dir: &Path) -> RunningCluster {
    start_with_a_row_using(options(data_dir)).await
}

async fn start_with_a_row_using(options: ClusterOptions) -> RunningCluster {
    let cluster = RunningCluster::start(options).await.unwrap();
    execute(&cluster, "CREATE TABLE IF NOT EXISTS marks (n int)").await;
    execute(&cluster, "INSERT INTO marks VALUES (1)").await;
    cluster
}

fn wait_for_exit(pid: i32) {
    factory::testing::eventually_blocking(Duration::from_secs(20), || {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            .is_err()
            .then_some(())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_start_creates_the_cluster_and_the_second_start_reuses_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = start_with_a_row(data_dir.path()).await;
    assert!(first.pgdata().join("PG_VERSION").exists());
    assert!(
        first.database_url().contains("host='"),
        "connects over the Unix socket only"
    );
    first.stop().await.unwrap();

    let second = RunningCluster::start(options(data_dir.path()))
        .await
        .unwrap();
    assert_eq!(
        count_rows(&second).await,
        1,
        "the row written before the restart is there"
    );
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cluster_listens_on_no_tcp_port() {
    let data_dir = tempfile::tempdir().unwrap();
    let cluster = RunningCluster::start(options(data_dir.path()))
        .await
        .unwrap();
    let settings = std::fs::read_to_string(cluster.pgdata().join("art-factory.conf")).unwrap();
    assert!(settings.contains("listen_addresses = ''"));
    let mut conn = AsyncPgConnection::establish(cluster.database_url())
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        listen_addresses: String,
    }
    let rows: Vec<Setting> = sql_query("SHOW listen_addresses")
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows[0].listen_addresses, "");
    drop(conn);
    cluster.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postmaster_killed_with_sigkill_leaves_a_stale_pid_file_that_the_next_start_recovers() {
    let data_dir = tempfile::tempdir().unwrap();
    // The settings user data gets: a commit is on disk when it returns.
    let durable = ClusterOptions {
        fsync: true,
        ..options(data_dir.path())
    };
    let cluster = start_with_a_row_using(durable.clone()).await;
    let pid = cluster
        .postmaster_pid()
        .expect("postmaster.pid while running");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for_exit(pid);
    let pgdata = cluster.pgdata().to_path_buf();
    drop(cluster); // the crashed server's lock goes with it
    assert!(
        pgdata.join("postmaster.pid").exists(),
        "the crash left its pid file"
    );

    let restarted = RunningCluster::start(durable).await.unwrap();
    assert_ne!(restarted.postmaster_pid(), Some(pid));
    assert_eq!(
        count_rows(&restarted).await,
        1,
        "committed data survived the crash"
    );
    restarted.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgresql_orphaned_by_a_killed_server_is_replaced_on_the_next_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let cluster = start_with_a_row(data_dir.path()).await;
    let orphan = cluster.postmaster_pid().unwrap();
    drop(cluster); // as if the server died: PostgreSQL keeps running, the lock is gone

    let restarted = RunningCluster::start(options(data_dir.path()))
        .await
        .unwrap();
    wait_for_exit(orphan);
    assert_ne!(restarted.postmaster_pid(), Some(orphan));
    assert_eq!(count_rows(&restarted).await, 1);
    restarted.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pid_file_naming_a_reused_pid_after_a_reboot_does_not_block_the_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let cluster = start_with_a_row(data_dir.path()).await;
    let pgdata = cluster.pgdata().to_path_buf();
    cluster.stop().await.unwrap();
    // A live process that is not PostgreSQL now owns the recorded pid.
    let stale = format!("{}\n{}\n", std::process::id(), pgdata.display());
    std::fs::write(pgdata.join("postmaster.pid"), stale).unwrap();

    let restarted = RunningCluster::start(options(data_dir.path()))
        .await
        .unwrap();
    assert_eq!(count_rows(&restarted).await, 1);
    restarted.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_server_on_the_same_data_dir_is_refused_while_the_first_runs() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = RunningCluster::start(options(data_dir.path()))
        .await
        .unwrap();
    let second = RunningCluster::start(options(data_dir.path())).await;
    match second {
        Err(ClusterError::InUse(dir)) => assert_eq!(dir, data_dir.path().join("postgres")),
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(
        first.postmaster_pid().is_some(),
        "the first server's database is untouched"
    );
    first.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn as_root_a_data_dir_the_postgres_user_cannot_enter_gets_a_linked_cluster_elsewhere() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: PostgreSQL runs as this user and no relocation happens");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let data_dir = home.path().join("art-factory");
    let cluster = RunningCluster::start(options(&data_dir)).await.unwrap();
    let link = data_dir.join("postgres");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), cluster.root());
    assert!(cluster.root().starts_with("/var/lib/art-factory/clusters"));
    let mode = std::fs::metadata(home.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o700,
        "the home directory's permissions are left alone"
    );
    let root = cluster.root().to_path_buf();
    cluster.stop().await.unwrap();

    let again = RunningCluster::start(options(&data_dir)).await.unwrap();
    assert_eq!(again.root(), root, "the link is followed on the next start");
    again.stop().await.unwrap();
    std::fs::remove_dir_all(root).unwrap();
}
