//! Projects through the HTTP surface: server functions and the server-rendered page.

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn a_project_created_through_the_server_function_is_on_the_server_rendered_page() {
    let app = TestApp::spawn().await;
    let created = app
        .call(
            "projects/create",
            &[
                ("name", "Neon & Cats"),
                ("description", "Glowing <b>cats</b>"),
            ],
        )
        .await;
    assert_eq!(created.status(), 200);
    let project: serde_json::Value = created.json().await.unwrap();
    assert_eq!(project["name"], "Neon & Cats");
    assert_eq!(project["slug"], "neon-cats");

    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Neon &amp; Cats"),
        "the name is on the page, escaped"
    );
    assert!(
        html.contains("Glowing &lt;b&gt;cats&lt;/b&gt;"),
        "markup in descriptions is escaped"
    );
    assert!(html.contains("<title>Projects · Art Factory</title>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_name_is_refused_with_a_field_error_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let response = app
        .call("projects/create", &[("name", "   "), ("description", "")])
        .await;
    assert_eq!(
        response.status(),
        422,
        "bad input is a client error, not a server failure"
    );
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["Invalid"]["field"], "name");
    assert_eq!(error["Invalid"]["message"], "A project needs a name.");

    let listed: serde_json::Value = app
        .call("projects/list", &[("archived", "false")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_over_one_hundred_characters_or_already_used_is_a_name_field_error() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(101);
    let error: serde_json::Value = app
        .call("projects/create", &[("name", &long), ("description", "")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error["Invalid"]["field"], "name");
    assert!(error["Invalid"]["message"]
        .as_str()
        .unwrap()
        .contains("101"));

    app.call("projects/create", &[("name", "Taken"), ("description", "")])
        .await;
    let error: serde_json::Value = app
        .call("projects/create", &[("name", "taken"), ("description", "")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error["Invalid"]["field"], "name");
    assert!(error["Invalid"]["message"]
        .as_str()
        .unwrap()
        .contains("already exists"));
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_project_that_does_not_exist_says_so_without_internals() {
    let app = TestApp::spawn().await;
    let error: serde_json::Value = app
        .call("projects/delete", &[("id", "424242")])
        .await
        .json()
        .await
        .unwrap();
    let message = error["NotFound"].as_str().unwrap();
    assert!(message.contains("424242"), "{message}");
    assert!(!message.to_lowercase().contains("diesel") && !message.contains("SQL"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_page_is_a_404_with_a_way_back() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("your projects"));
}
