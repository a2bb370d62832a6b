//! The stand-in providers as one process, for the browser tests: fal, Replicate, Civitai and a
//! ComfyUI server on free local ports, speaking their real protocols. Prints one `name=url`
//! line per API (`fal`, `replicate`, `comfyui`, `civitai`, `civitai_catalog` last), then serves
//! until killed.
//!
//! `standins fixtures DIR` instead writes sample files of other tools into DIR (for the import
//! tests), `standins ours DIR` one image of each provider as this app stores it (for
//! `scripts/check-readers`), `standins models DIR` the glTF test models (for the asset pages),
//! and stops.

use factory::testing::civitai_standin::{CivitaiStandIn, CivitaiStandInOptions};
use factory::testing::comfyui_standin::ComfyStandIn;
use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use factory::testing::replicate_standin::{ReplicateStandIn, ReplicateStandInOptions};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, dir] = &args[..] {
        let write = match command.as_str() {
            "fixtures" => factory::testing::fixtures::write_sample_files,
            "ours" => factory::testing::fixtures::write_ours,
            "models" => factory::testing::fixtures::write_models,
            _ => panic!("unknown command {command}: fixtures DIR, ours DIR or models DIR"),
        };
        let dir = std::path::Path::new(dir);
        std::fs::create_dir_all(dir).expect("make the directory");
        for name in write(dir).expect("write") {
            println!("{}", dir.join(name).display());
        }
        return;
    }
    // Slow enough that a person (or a test) sees each job wait and run.
    let fal = FalStandIn::start(StandInOptions {
        queue_time: Duration::from_millis(300),
        run_time: Duration::from_millis(600),
        // A video job runs long enough to watch its progress and the time left.
        clip_run_time: Some(Duration::from_secs(6)),
        image_side: 128,
        ..StandInOptions::default()
    })
    .await;
    let replicate = ReplicateStandIn::start(ReplicateStandInOptions {
        start_time: Duration::from_millis(300),
        run_time: Duration::from_millis(600),
        image_side: 128,
        ..ReplicateStandInOptions::default()
    })
    .await;
    let civitai = CivitaiStandIn::start(CivitaiStandInOptions {
        queue_time: Duration::from_millis(300),
        run_time: Duration::from_millis(600),
        image_side: 128,
        ..CivitaiStandInOptions::default()
    })
    .await;
    let comfyui = ComfyStandIn::start(Duration::from_millis(40)).await;
    println!("fal={}", fal.base_url());
    println!("comfyui={}", comfyui.base_url);
    println!("replicate={}", replicate.api_url());
    println!("civitai={}", civitai.api_url());
    println!("civitai_catalog={}", civitai.catalog_url());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
