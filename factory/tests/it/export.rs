//! Exports on PostgreSQL: a project's ZIP lists every picture with its metadata files, and
//! importing its pictures into another project gives back every field.

use std::sync::atomic::AtomicBool;

use factory::export::{self, Selection};
use factory::gallery::triage::Change;
use factory::import::{self, Outcome};
use factory::metadata::Tool;
use factory::products;
use factory::projects::{self, Description, ProjectName};
use serde_json::json;

use crate::queue::{run_batch, setup_with_providers};

/// The archive of `selection`, as bytes.
async fn archive(setup: &crate::queue::Setup, selection: Selection) -> (Vec<u8>, export::Summary) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let pool = setup.db.pool();
    let media = setup.engine.media().clone();
    let task = tokio::spawn(async move { export::export(&pool, &media, selection, tx).await });
    let mut bytes = Vec::new();
    while let Some(chunk) = rx.recv().await {
        bytes.extend(chunk);
    }
    (bytes, task.await.unwrap().unwrap())
}

fn unzip(args: &[&str]) -> String {
    let out = std::process::Command::new("unzip")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two pictures from the offline generator ("a red fox, at dusk" and the blue one), the first
/// tagged "Keeper", the second rated 4.
pub(crate) async fn two_triaged_products(setup: &crate::queue::Setup) -> Vec<products::Product> {
    let (batch, _) = run_batch(
        setup,
        "local",
        "waves",
        "a {red|blue} fox, at dusk",
        json!({"width": 64, "height": 64}),
        1,
    )
    .await;
    let mut made = products::list_for_batch(&mut *setup.db.conn().await, batch)
        .await
        .unwrap();
    made.sort_by_key(|p| p.id);
    assert_eq!(made.len(), 2);
    setup
        .engine
        .tag_products(&[made[0].id], "Keeper")
        .await
        .unwrap();
    setup
        .engine
        .triage(&[made[1].id], &Change::Rate(Some(4)))
        .await
        .unwrap();
    made
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exported_project_imports_into_another_with_every_field_equal() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let made = two_triaged_products(&setup).await;
    let mut conn = setup.db.conn().await;

    let (bytes, summary) = archive(&setup, Selection::Project(setup.project)).await;
    assert_eq!((summary.products, summary.missing), (2, 0));
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("export.zip");
    std::fs::write(&zip, &bytes).unwrap();
    let listing = unzip(&["-l", zip.to_str().unwrap()]);
    for p in &made {
        assert!(
            listing.contains(&format!("Tests/{}.png", p.id)),
            "{listing}"
        );
    }
    assert!(
        listing.contains("metadata.jsonl") && listing.contains("metadata.csv"),
        "{listing}"
    );

    let jsonl = unzip(&["-p", zip.to_str().unwrap(), "metadata.jsonl"]);
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["tags"], json!(["Keeper"]));
    assert_eq!(rows[1]["rating"], json!(4));
    assert_eq!(rows[0]["bindings"], made[0].bindings);
    let csv = unzip(&["-p", zip.to_str().unwrap(), "metadata.csv"]);
    assert!(csv.starts_with("id,project_id,project,file,"), "{csv}");
    assert_eq!(
        csv.lines().count(),
        3,
        "a header and a row per product: {csv}"
    );
    assert!(
        csv.contains("\"a red fox, at dusk\""),
        "commas are quoted: {csv}"
    );

    // Into another project: every field the picture carries comes back.
    let out = dir.path().join("out");
    unzip(&["-q", zip.to_str().unwrap(), "-d", out.to_str().unwrap()]);
    let other = projects::create(
        &mut conn,
        &ProjectName::parse("Elsewhere").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    let sources = import::run::collect(&[out.join("Tests")]).unwrap();
    let report = import::run(
        &setup.db.pool(),
        setup.engine.media(),
        other,
        sources,
        2,
        &AtomicBool::new(false),
        |_| {},
    )
    .await;
    assert_eq!(report.files.len(), 2);
    for ((name, outcome), original) in report.files.iter().zip(&made) {
        let Outcome::Imported { product_id, tool } = outcome else {
            panic!("{name}: {outcome:?}");
        };
        assert_eq!(*tool, Some(Tool::ArtFactory));
        let copy = products::get(&mut conn, *product_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(copy.prompt, original.prompt);
        assert_eq!(copy.negative_prompt, original.negative_prompt);
        assert_eq!(copy.seed, original.seed);
        assert_eq!(copy.model, original.model);
        assert_eq!(copy.provider, original.provider);
        assert_eq!(copy.bindings, original.bindings);
        assert_eq!((copy.width, copy.height), (original.width, original.height));
        let mut params = copy.params.as_object().unwrap().clone();
        params.remove("imported");
        assert_eq!(serde_json::Value::Object(params), original.params);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_selection_is_refused_with_a_reason() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let err = export::export(
        &setup.db.pool(),
        setup.engine.media(),
        Selection::Ids(vec![999_999]),
        tx,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Nothing to export"), "{err}");
}
