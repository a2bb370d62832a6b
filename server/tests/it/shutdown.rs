//! Stopping the real binary while browser tabs are connected: open feeds end, and the server
//! exits cleanly (its PostgreSQL stopped) instead of waiting for them for ever.

use std::time::Duration;

use futures::StreamExt;
use nix::sys::signal::Signal;

use crate::support::ServerProcess;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_open_event_streams_and_sockets_and_the_server_exits_and_its_data_dir_is_private(
) {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("art-factory");
    let server = ServerProcess::start(&data_dir, &[]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "a new data directory is the person's alone");
    let client = reqwest::Client::new();
    let mut events = client.get(server.url("/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let first = events.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("event: snapshot"));
    let ws_url = server.url("/ws").replacen("http://", "ws://", 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    socket.next().await.unwrap().unwrap();

    server.signal(Signal::SIGTERM);
    // Both feeds end on their own...
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream ended at shutdown");
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket was closed at shutdown");
    // ...and the process exits cleanly while the clients are still connected.
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}
