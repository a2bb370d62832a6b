//! Characters over the REST API: made from a seed and locks (the same request, the same
//! character), a party, a search, a changed lock and a reroll, a copy, a delete; bad locks
//! refused with what to do; a project with characters is not deleted under them.

use std::time::Duration;

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

/// A real PDF reader's view of `pdf`: its text (poppler's `pdftotext`), its fonts
/// (`pdffonts`) and its images (`pdfimages -list`).
fn read_pdf(pdf: &[u8]) -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.pdf");
    std::fs::write(&path, pdf).unwrap();
    let run = |program: &str, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .arg(&path)
            .args(if program == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} (poppler-utils, installed by scripts/setup): {e}")
            });
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    (
        run("pdftotext", &["-layout"]),
        run("pdffonts", &[]),
        run("pdfimages", &["-list"]),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn portraits_go_through_the_queue_keep_the_face_and_the_sheet_downloads_as_pdf_and_json() {
    let app = TestApp::spawn().await;
    let _worker = crate::api::worker(&app);
    let project = crate::support::project(&app, "Portraits").await;
    let (_, made, _) = api(
        &app,
        Method::POST,
        "/api/v1/characters",
        None,
        Some(json!({"project_id": project, "seed": 77, "locks": {"class": "cleric"}})),
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let name = made["sheet"]["name"].as_str().unwrap().to_string();

    // Before any portrait, the PDF is the sheet alone, read back by a real reader.
    let response = app.get(&format!("/api/v1/characters/{id}/sheet.pdf")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let plain = response.bytes().await.unwrap();
    let (text, fonts, images) = read_pdf(&plain);
    assert!(text.contains(&name) && text.contains("Cleric"), "{text}");
    assert!(
        text.contains("Roll log") && text.contains("CC-BY-4.0"),
        "{text}"
    );
    assert!(
        fonts
            .lines()
            .any(|l| l.starts_with("DejaVuSans") && l.contains("TrueType") && l.contains(" yes ")),
        "the font is embedded: {fonts}"
    );
    assert_eq!(images.lines().count(), 2, "no picture yet: {images}");

    // A portrait in the default style, on the offline generator.
    let path = format!("/api/v1/characters/{id}/portrait");
    let (status, first, _) = api(&app, Method::POST, &path, None, Some(json!({}))).await;
    assert_eq!(status, 201, "{first}");
    let (_, same, _) = api(&app, Method::POST, &path, None, Some(json!({}))).await;
    assert_eq!(
        (&same["prompt"], &same["seed"]),
        (&first["prompt"], &first["seed"]),
        "the same character and style make the same request"
    );
    let (_, outfit, _) = api(
        &app,
        Method::POST,
        &path,
        None,
        Some(json!({"style": "painted", "variation": {"outfit": 1}})),
    )
    .await;
    assert_eq!(outfit["seed"], first["seed"]);
    assert_ne!(outfit["prompt"], first["prompt"]);
    let clothing = made["sheet"]["appearance"]["clothing"].as_str().unwrap();
    assert!(first["prompt"].as_str().unwrap().contains(clothing));
    assert!(!outfit["prompt"].as_str().unwrap().contains(clothing));
    let skin = made["sheet"]["appearance"]["skin"].as_str().unwrap();
    assert!(
        outfit["prompt"].as_str().unwrap().contains(skin),
        "the face stays"
    );

    let bad = api(
        &app,
        Method::POST,
        &path,
        None,
        Some(json!({"style": "a knight"})),
    )
    .await;
    assert_problem("a style without the subject", &bad, 422);
    assert!(bad.1.to_string().contains("{subject}"), "{}", bad.1);
    let bad = api(
        &app,
        Method::POST,
        &path,
        None,
        Some(json!({"provider": "local", "model": "no-such-model"})),
    )
    .await;
    assert_problem("an unknown model", &bad, 422);
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/characters/999999/portrait",
        None,
        Some(json!({})),
    )
    .await;
    assert_problem("no such character", &bad, 404);

    // The queue makes the three pictures; they are products linked both ways.
    let listed = factory::testing::eventually(Duration::from_secs(60), async || {
        let (_, listed, _) = api(
            &app,
            Method::GET,
            &format!("/api/v1/characters/{id}/portraits"),
            None,
            None,
        )
        .await;
        let portraits = listed["portraits"].as_array().unwrap();
        (portraits.len() == 3 && portraits.iter().all(|p| p["product"].is_object()))
            .then_some(listed)
    })
    .await;
    assert_eq!(listed["styles"][0]["name"], "Painted");
    let newest = &listed["portraits"][0];
    assert_eq!(
        (
            newest["style_name"].as_str(),
            newest["variation"]["outfit"].as_i64()
        ),
        (Some("Painted"), Some(1))
    );
    assert_eq!(newest["state"], "succeeded");
    let product = newest["product"]["id"].as_i64().unwrap();
    let detail = app_detail(&app, product).await;
    assert_eq!(detail["character"], json!({"id": id, "name": name}));
    assert_eq!(detail["product"]["seed"], first["seed"]);

    // Now the PDF carries the newest portrait.
    let with = app
        .get(&format!("/api/v1/characters/{id}/sheet.pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    let (_, _, images) = read_pdf(&with);
    assert_eq!(images.lines().count(), 3, "one picture: {images}");
    assert!(images.contains("rgb"), "{images}");

    // The JSON download is the sheet exactly as made.
    let response = app
        .get(&format!("/api/v1/characters/{id}/sheet.json"))
        .await;
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".json"));
    let sheet: serde_json::Value = response.json().await.unwrap();
    assert_eq!(sheet, made["sheet"]);

    // Deleting the character keeps its pictures in the gallery, no longer linked.
    let (status, _, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/characters/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let detail = app_detail(&app, product).await;
    assert!(detail["character"].is_null() && detail["product"]["id"] == product);
}

async fn app_detail(app: &TestApp, product: i64) -> serde_json::Value {
    let (status, detail, _) = api(
        app,
        Method::GET,
        &format!("/api/v1/products/{product}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    detail
}
