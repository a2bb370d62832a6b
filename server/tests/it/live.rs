//! The live event stream over a real WebSocket (tokio-tungstenite) and SSE, and media files.

use std::time::Duration;

use app::dto::{JobState, LiveMessage};
use factory::jobs::worker::WorkerConfig;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{local_launch, project, TestApp};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    socket
}

async fn next(socket: &mut Socket) -> LiveMessage {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        idle_poll: Duration::from_millis(50),
        ..WorkerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn events_arrive_in_order_and_a_reconnecting_client_misses_no_terminal_state() {
    let app = TestApp::spawn().await;
    let project = project(&app, "Live").await;
    let worker = app
        .engine
        .start_worker(fast_worker(), Duration::from_secs(1));

    let mut socket = connect(&app).await;
    let LiveMessage::Snapshot {
        seq: start, jobs, ..
    } = next(&mut socket).await
    else {
        panic!("the first message is a snapshot")
    };
    assert!(jobs.is_empty());

    let (_, launched) = app
        .engine
        .launch(&local_launch(project, "first batch", 3))
        .await
        .unwrap();
    let mut last = start;
    let mut succeeded = std::collections::HashSet::new();
    let mut products = 0;
    while succeeded.len() < launched.len() || products < launched.len() {
        let message = next(&mut socket).await;
        assert!(
            message.seq() > last,
            "sequence numbers increase: {} after {last}",
            message.seq()
        );
        last = message.seq();
        match message {
            LiveMessage::Job { job, .. } if job.state == JobState::Succeeded => {
                succeeded.insert(job.id);
            }
            LiveMessage::ProductCreated { product, .. } => {
                products += 1;
                assert!(product.thumb_url.ends_with("-256.webp"));
            }
            _ => {}
        }
    }

    // Disconnect; more work finishes while no one listens.
    socket.close(None).await.unwrap();
    let (batch, second) = app
        .engine
        .launch(&local_launch(project, "while away", 2))
        .await
        .unwrap();
    factory::testing::eventually(Duration::from_secs(30), async || {
        let mut conn = app.engine.conn().await.unwrap();
        let jobs = factory::jobs::queue::list_for_batch(&mut conn, batch.id)
            .await
            .unwrap();
        jobs.iter().all(|j| j.state().is_terminal()).then_some(())
    })
    .await;

    let mut again = connect(&app).await;
    let LiveMessage::Snapshot { jobs, totals, .. } = next(&mut again).await else {
        panic!("a reconnect starts with a snapshot")
    };
    for job in launched.iter().chain(&second) {
        let seen = jobs
            .iter()
            .find(|j| j.id == job.id)
            .expect("every job is in the snapshot");
        assert_eq!(
            seen.state,
            JobState::Succeeded,
            "job {} shows its terminal state",
            job.id
        );
    }
    assert_eq!(totals.succeeded, 5);
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sse_stream_starts_with_a_snapshot_event() {
    let app = TestApp::spawn().await;
    let mut response = app.get("/events").await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.starts_with("event: snapshot\n"), "{text}");
    assert!(text.contains("\"type\":\"snapshot\""), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn media_is_served_at_content_hash_urls_with_immutable_caching_and_nothing_else_is() {
    let app = TestApp::spawn().await;
    let project = project(&app, "Media").await;
    let worker = app
        .engine
        .start_worker(fast_worker(), Duration::from_secs(1));
    let mut socket = connect(&app).await;
    next(&mut socket).await;
    app.engine
        .launch(&local_launch(project, "a file", 1))
        .await
        .unwrap();
    let product = loop {
        if let LiveMessage::ProductCreated { product, .. } = next(&mut socket).await {
            break product;
        }
    };
    worker.shut_down(Duration::from_secs(1)).await;

    for (url, mime) in [
        (&product.url, "image/png"),
        (&product.thumb_url, "image/webp"),
        (&product.preview_url, "image/webp"),
    ] {
        let response = app.get(url).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["content-type"], mime);
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let hash = product
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".png");
    for missing in [
        format!("/media/{project}/{hash}.jpg"),
        format!("/media/{}/{hash}.png", project + 1),
        format!("/media/{project}/{hash}-100.webp"),
        format!("/media/{project}/..%2F..%2Fpostgres.lock"),
        format!("/media/{project}/{}.png", "0".repeat(64)),
    ] {
        assert_eq!(app.get(&missing).await.status(), 404, "{missing}");
    }
    let _ = socket.send(Message::Close(None)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_paused_by_a_429_is_in_every_snapshot_until_the_reset() {
    let app = TestApp::spawn().await;
    let until = chrono::Utc::now() + chrono::Duration::seconds(30);
    factory::providers::limits::record_pause(
        &mut app.engine.conn().await.unwrap(),
        "replicate",
        until,
        "Replicate: rate limited",
    )
    .await
    .unwrap();
    let mut socket = connect(&app).await;
    let LiveMessage::Snapshot {
        provider_pauses, ..
    } = next(&mut socket).await
    else {
        panic!("the first message is a snapshot")
    };
    assert_eq!(provider_pauses.len(), 1);
    assert_eq!(provider_pauses[0].provider, "replicate");
    assert_eq!(provider_pauses[0].reason, "Replicate: rate limited");
    assert_eq!(
        provider_pauses[0].until.timestamp_millis(),
        until.timestamp_millis()
    );
}
