//! 3D assets over the REST API, on real HTTP: a GLB and a `.gltf` with its files uploaded as
//! multipart forms, listed, read, their GLB and rendered preview served; refusals with the JSON
//! pointer of each problem, and nothing stored for them.

use factory::assets::gltf::sample::{self, Sample};
use factory::testing::gltf_cases;
use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{api, assert_problem};
use crate::support::TestApp;

/// A multipart form: (name, file name, bytes) parts.
pub(crate) fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "art-factory-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &TestApp,
    project: Option<i64>,
    files: &[(String, Vec<u8>)],
) -> (u16, Value, String) {
    let id = project.map(|p| p.to_string());
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = Vec::new();
    if let Some(id) = &id {
        parts.push(("project_id", None, id.as_bytes()));
    }
    for (name, bytes) in files {
        parts.push(("file", Some(name.as_str()), bytes.as_slice()));
    }
    let (content_type, body) = form(&parts);
    let response = app
        .client
        .post(app.url("/api/v1/assets"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        kind,
    )
}

#[tokio::test]
async fn a_script_uploads_models_and_gets_their_metadata_files_and_previews() {
    let app = TestApp::spawn().await;
    let (_, project, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Props"})),
    )
    .await;
    let project = project["id"].as_i64().unwrap();

    let glb = sample::glb(&Sample {
        instances: 3,
        texture: Some(sample::checker_png(32)),
        ..Sample::default()
    });
    let (status, asset, _) = upload(
        &app,
        Some(project),
        &[("Three balls.glb".into(), glb.clone())],
    )
    .await;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(asset["name"], "Three balls");
    assert_eq!(asset["info"]["scene"]["instances"], 3);
    assert_eq!(asset["info"]["totals"]["triangles"], 192);
    assert_eq!(asset["info"]["scene"]["counts"]["triangles"], 3 * 192);
    assert_eq!(asset["info"]["textures"][0]["width"], 32);
    assert_eq!(asset["warnings"], json!([]));

    let model = app.get(asset["model_url"].as_str().unwrap()).await;
    assert_eq!(model.headers()["content-type"], "model/gltf-binary");
    assert_eq!(model.bytes().await.unwrap().as_ref(), glb.as_slice());
    let preview = app.get(asset["preview_url"].as_str().unwrap()).await;
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["content-type"], "image/webp");
    // The asset is a product of kind model3d in the gallery, found by its name.
    let (_, product, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products/{}", asset["product_id"]),
        None,
        None,
    )
    .await;
    assert_eq!(product["product"]["kind"], "model3d", "{product}");
    assert_eq!(
        product["asset"]["id"], asset["id"],
        "the product links back to its asset"
    );
    let (_, found, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products?project={project}&kind=model3d&q=balls"),
        None,
        None,
    )
    .await;
    assert_eq!(found["products"].as_array().unwrap().len(), 1, "{found}");

    let separate = gltf_cases::cases()
        .into_iter()
        .find(|c| c.name == "separate files")
        .unwrap();
    let (status, second, _) = upload(&app, Some(project), &separate.files).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["info"]["container"], "gltf");

    let (status, listed, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/assets?project_id={project}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            second["id"].as_i64().unwrap(),
            asset["id"].as_i64().unwrap()
        ]
    );
    let (_, one, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/assets/{}", asset["id"]),
        None,
        None,
    )
    .await;
    assert_eq!(one, asset);

    let (_, doc, _) = api(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    for path in ["/api/v1/assets", "/api/v1/assets/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["AssetDto"].is_object());
}

#[tokio::test]
async fn bad_models_are_refused_with_where_and_what_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let (_, project, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Broken"})),
    )
    .await;
    let project = project["id"].as_i64().unwrap();
    let case = |name: &str| {
        gltf_cases::cases()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
            .files
    };

    let refusal = upload(&app, Some(project), &case("index out of range")).await;
    assert_problem("index out of range", &refusal, 422);
    assert_eq!(
        refusal.1["errors"][0]["field"], "/accessors/3",
        "{}",
        refusal.1
    );
    assert!(refusal.1["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("ACCESSOR_INDEX_OOB: index 99999"));

    for (name, words) in [
        ("uri outside the folder", "outside the model's folder"),
        ("http uri", "never fetches"),
        ("glb length header", "header says"),
        ("not a gltf", "None of the files is a glTF model"),
        ("2 GB declared buffer", "declares 2147483648 bytes"),
        ("texture not an image", "is not a PNG, JPEG or WebP image"),
    ] {
        let refusal = upload(&app, Some(project), &case(name)).await;
        assert_problem(name, &refusal, 422);
        assert!(
            refusal.1["detail"].as_str().unwrap().contains(words),
            "{name}: {}",
            refusal.1
        );
    }
    let bomb = upload(
        &app,
        Some(project),
        &[("bomb.zip".into(), gltf_cases::zip_bomb())],
    )
    .await;
    assert_problem("ZIP bomb", &bomb, 422);
    assert!(bomb.1["detail"].as_str().unwrap().contains("ZIP bomb"));

    let glb = sample::glb(&Sample::default());
    assert_problem(
        "no project",
        &upload(&app, None, &[("m.glb".into(), glb.clone())]).await,
        422,
    );
    assert_problem(
        "unknown project",
        &upload(&app, Some(987_654), &[("m.glb".into(), glb)]).await,
        404,
    );
    let not_a_form = app
        .client
        .post(app.url("/api/v1/assets"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 415);

    let (_, listed, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/assets?project_id={project}"),
        None,
        None,
    )
    .await;
    assert_eq!(listed, json!([]), "nothing was stored");
    let (_, products, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products?project={project}"),
        None,
        None,
    )
    .await;
    assert_eq!(products["products"], json!([]), "{products}");
}
