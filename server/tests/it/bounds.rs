//! Work per request is bounded: a request that would make the server build something huge is
//! refused with a message saying what to change, and the server keeps serving.

use crate::support::{local_launch, project, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn a_seed_by_seed_grid_of_a_thousand_items_is_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let project = project(&app, "Thousand").await;
    // A thousand images of one prompt: a thousand seeds, no tokens.
    let (batch, _) = app
        .engine
        .launch(&local_launch(project, "one prompt, many seeds", 1000))
        .await
        .unwrap();

    let refused = app
        .get(&format!("/batches/{}/grid.png?x=seed&y=seed", batch.id))
        .await;
    assert_eq!(refused.status(), 422);
    let message = refused.text().await.unwrap();
    assert!(message.contains("two different axes"), "{message}");

    let page = app
        .call(
            "generate/grid",
            &[
                ("batch_id", &batch.id.to_string()),
                ("x", "seed"),
                ("y", "seed"),
            ],
        )
        .await;
    assert_eq!(page.status(), 422);

    // The same thousand seeds in one row is a picture of bounded size.
    let drawn = app
        .get(&format!("/batches/{}/grid.png?x=seed&y=-", batch.id))
        .await;
    assert_eq!(drawn.status(), 200);
    let png = drawn.bytes().await.unwrap();
    let size = image::load_from_memory(&png).unwrap();
    assert!(
        u64::from(size.width()) * u64::from(size.height()) <= factory::grids::MAX_CANVAS_PIXELS
    );
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_body_over_the_limit_is_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    let huge = format!(
        "name=x&description={}",
        "a".repeat(server::http::MAX_BODY_BYTES + 1)
    );
    let response = app
        .client
        .post(app.url("/api/projects/create"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(app.get("/healthz").await.status(), 200);
}
