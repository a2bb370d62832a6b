//! `POST /uploads/{project}`: a picture as the raw body becomes an upload product; anything
//! else is refused with words that say what to do, and nothing is stored.

use factory::testing::standin::result_png;

use crate::support::{project, TestApp};

async fn post(app: &TestApp, project_id: i64, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/uploads/{project_id}")))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_picture_is_kept_as_an_upload_and_bad_input_is_refused_with_reasons() {
    let app = TestApp::spawn().await;
    let id = project(&app, "Uploads").await;
    let png = result_png("a pier", 5, 96);
    let response = post(&app, id, png.clone()).await;
    assert_eq!(response.status(), 201);
    let product: serde_json::Value = response.json().await.unwrap();
    assert_eq!(product["width"], 96);
    let url = product["url"].as_str().unwrap().to_string();
    let served = app.get(&url).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);

    let text = post(&app, id, b"not a picture".to_vec()).await;
    assert_eq!(text.status(), 422);
    assert!(text
        .text()
        .await
        .unwrap()
        .contains("Use a PNG, JPEG or WebP file"));
    let large = post(
        &app,
        id,
        vec![0x89; factory::uploads::MAX_UPLOAD_BYTES + 10],
    )
    .await;
    assert_eq!(large.status(), 413);
    let nowhere = post(&app, 987_654, png).await;
    assert_eq!(nowhere.status(), 404);
    let mut conn = app.engine.conn().await.unwrap();
    assert_eq!(
        factory::products::count_for_project(&mut conn, id)
            .await
            .unwrap(),
        1
    );
}
