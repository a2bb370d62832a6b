//! Characters over the REST API: made from a seed and locks (the same request, the same
//! character), a party, a search, a changed lock and a reroll, a copy, a delete; bad locks
//! refused with what to do; a project with characters is not deleted under them.

use reqwest::Method;
use serde_json::json;

use crate::api::{api, assert_problem};
use crate::support::TestApp;

#[tokio::test]
async fn a_script_makes_searches_rerolls_and_deletes_characters() {
    let app = TestApp::spawn().await;
    let (_, project, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Table"})),
    )
    .await;
    let project = project["id"].as_i64().unwrap();
    let body = json!({"project_id": project, "seed": 1234,
        "locks": {"class": "wizard", "level": 3, "ancestry": "gnome"}});
    let (status, made, _) = api(
        &app,
        Method::POST,
        "/api/v1/characters",
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let sheet = &made["sheet"];
    assert_eq!(
        (
            sheet["class"].as_str(),
            sheet["level"].as_i64(),
            sheet["ancestry_name"].as_str()
        ),
        (Some("wizard"), Some(3), Some("Gnome"))
    );
    assert_eq!(sheet["spellcasting"]["slots"], json!([4, 2]));
    assert!(sheet["rolls"].as_array().unwrap().len() > 10);
    // The same seed and locks: the same character.
    let (_, again, _) = api(&app, Method::POST, "/api/v1/characters", None, Some(body)).await;
    assert_eq!(again["sheet"], made["sheet"]);

    let (status, party, _) = api(
        &app,
        Method::POST,
        "/api/v1/characters/party",
        None,
        Some(json!({"project_id": project, "seed": 9, "size": 4})),
    )
    .await;
    assert_eq!(status, 201, "{party}");
    let classes: std::collections::HashSet<&str> = party
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sheet"]["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes.len(), 4);

    let id = made["id"].as_i64().unwrap();
    let name = sheet["name"].as_str().unwrap();
    let part = &name[..3].to_lowercase();
    let (_, found, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/characters?project_id={project}&search={part}"),
        None,
        None,
    )
    .await;
    assert!(
        found.as_array().unwrap().iter().any(|c| c["id"] == id),
        "{found}"
    );
    let (_, all, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/characters?project_id={project}"),
        None,
        None,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 6);

    // A changed lock keeps the seed and the name; a reroll keeps the locks.
    let (status, bard, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/characters/{id}/regenerate"),
        None,
        Some(json!({"seed": 1234, "locks": {"class": "bard", "level": 3, "ancestry": "gnome"}})),
    )
    .await;
    assert_eq!(status, 200, "{bard}");
    assert_eq!(
        (
            bard["sheet"]["class"].as_str(),
            bard["sheet"]["name"].as_str()
        ),
        (Some("bard"), Some(name))
    );
    let (_, rerolled, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/characters/{id}/regenerate"),
        None,
        Some(json!({"locks": {"class": "bard", "level": 3, "ancestry": "gnome"}})),
    )
    .await;
    assert_ne!(rerolled["seed"], 1234);
    assert_eq!(rerolled["sheet"]["class"], "bard");

    let (status, copy, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/characters/{id}/duplicate"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 201, "{copy}");
    assert!(copy["sheet"]["name"].as_str().unwrap().ends_with("(copy)"));

    // Refusals say what to do.
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/characters",
        None,
        Some(json!({"project_id": project, "locks": {"level": 9}})),
    )
    .await;
    assert_problem("level 9", &bad, 422);
    assert!(bad.1.to_string().contains("choose 1 to 5"), "{}", bad.1);
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/characters",
        None,
        Some(json!({"project_id": project, "locks": {"class": "necromancer"}})),
    )
    .await;
    assert_problem("unknown class", &bad, 422);
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/characters/party",
        None,
        Some(json!({"project_id": project, "size": 20})),
    )
    .await;
    assert_problem("party of 20", &bad, 422);
    let (status, _, _) = api(&app, Method::GET, "/api/v1/characters/999999", None, None).await;
    assert_eq!(status, 404);

    // The project holds characters: it is not deleted under them.
    let refused = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/projects/{project}"),
        None,
        None,
    )
    .await;
    assert_problem("delete a project with characters", &refused, 409);
    assert!(refused.1.to_string().contains("character"), "{}", refused.1);

    let (status, _, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/characters/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/characters/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
}
