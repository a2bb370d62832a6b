//! Video and sound benchmark: `cargo bench -p server --bench av` (or `scripts/bench av`).
//!
//! For a 5 s 1280×720 24 fps H.264/AAC clip (the size hosted video models return) and a 30 s
//! stereo MP3: the time from a job's bytes in hand to its poster, thumbnails and looping preview
//! stored (`MediaStore::put_av`, what stands between a finished video job and its first
//! preview), p50 and worst of 5, with its parts (probe, poster, preview; the sound's decode and
//! waveform) and baselines measured in the same run (writing and hashing the bytes; starting
//! ffprobe with nothing to read). Then the bytes a gallery page of 100 video tiles fetches: 100
//! different clips (the offline generator's, 1280×720) are stored, and the page's JSON (the
//! tiles as the server sends them) plus each tile's 256 px poster are counted, against the
//! originals. Prints a table; nothing passes or fails.

#[path = "support/timing.rs"]
mod timing;

use std::path::Path;
use std::process::Command;

use factory::media::av::Container;
use factory::media::{MediaStore, ThumbSize};
use sha2::{Digest, Sha256};

const RUNS: usize = 5;

fn timed(f: impl FnMut()) -> (f64, f64) {
    timing::p50_worst(RUNS, f)
}

fn make(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg runs (scripts/setup installs it)")
        .success();
    assert!(ok, "ffmpeg made {name}");
    std::fs::read(path).unwrap()
}

fn row(what: &str, (p50, worst): (f64, f64)) {
    println!("| {what} | {p50:.0} ms | {worst:.0} ms |");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make(
        dir.path(),
        "clip.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=24:duration=5",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=5",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    );
    let song = make(
        dir.path(),
        "song.mp3",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:duration=30",
            "-ac",
            "2",
            "-b:a",
            "192k",
        ],
    );
    let path = dir.path().join("clip.mp4");
    // Each run stores into an empty store (content addressing would skip the work otherwise).
    let made = std::cell::Cell::new(0);
    let fresh = || {
        made.set(made.get() + 1);
        MediaStore::new(dir.path().join(format!("store-{}", made.get())))
    };
    let store = fresh();
    let tools = store.av_tools().expect("ffmpeg is installed").clone();

    println!(
        "{}; clip {:.1} MB, song {:.1} MB",
        tools.version,
        clip.len() as f64 / 1e6,
        song.len() as f64 / 1e6
    );
    println!();
    println!("| measure | p50 | worst of {RUNS} |");
    println!("|---|---|---|");
    row(
        "**video: bytes in hand → poster, thumbnails and preview stored** (`put_av`)",
        timed(|| {
            fresh().put_av(1, &clip).unwrap();
        }),
    );
    row(
        "  part: probe (ffprobe, then its packets)",
        timed(|| {
            tools.probe(&path, Container::Mp4).unwrap();
        }),
    );
    row(
        "  part: poster frame",
        timed(|| {
            tools.poster(&path, 5.0).unwrap();
        }),
    );
    row(
        "  part: 3 s looping preview (animated WebP, 256 px, 10 fps)",
        timed(|| {
            tools.preview(&path).unwrap();
        }),
    );
    row(
        "**sound: bytes in hand → waveform thumbnails stored** (`put_av`, 30 s MP3)",
        timed(|| {
            fresh().put_av(1, &song).unwrap();
        }),
    );
    row(
        "baseline: write the clip to a file and SHA-256 it",
        timed(|| {
            std::fs::write(dir.path().join("copy.mp4"), &clip).unwrap();
            let _ = Sha256::digest(&clip);
        }),
    );
    row(
        "baseline: start ffprobe with nothing to read (-version)",
        timed(|| {
            Command::new("ffprobe").arg("-version").output().unwrap();
        }),
    );

    let stored = store.put_av(1, &clip).unwrap();
    let size = |key| store.read(&key).unwrap().len();
    let preview = size(store.preview_key(1, &stored.hash).unwrap());

    // A gallery page of 100 different videos, stored as a job's outputs are.
    let tools = store.av_tools().unwrap().clone();
    let mut tiles = Vec::new();
    let (mut posters, mut originals) = (0usize, 0usize);
    for n in 0..100 {
        let request = factory::providers::GenerationRequest::simple(
            factory::providers::local::clips::MOTION,
            &format!("harbour lights {n}"),
            n,
            serde_json::json!({"duration": 1, "fps": 8, "resolution": "720p"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let mp4 = factory::providers::local::clips::video(&tools, &request).unwrap();
        let stored = store.put_av(2, &mp4).unwrap();
        posters += size(store.thumb_key(2, &stored.hash, ThumbSize::Small).unwrap());
        originals += mp4.len();
        tiles.push(app::dto::TileDto {
            id: 1_000_000 + n,
            project_id: 2,
            hash: stored.hash,
            ext: "mp4".into(),
            rating: None,
            favourite: false,
            rejected: false,
            color: Some("#334455".into()),
            prompt: request.prompt.clone(),
            duration_ms: Some((stored.probe.duration_secs * 1000.0) as i32),
            kind: Some(app::dto::ProductKind::Video),
        });
    }
    let page = serde_json::to_vec(&app::dto::GalleryPageDto {
        tiles,
        next: Some("c".repeat(40)),
    })
    .unwrap();
    println!();
    println!("| a gallery page of 100 video tiles fetches | bytes |");
    println!("|---|---|");
    println!(
        "| the page's JSON (100 tiles) | {:.1} KB |",
        page.len() as f64 / 1e3
    );
    println!(
        "| 100 × the 256 px poster (what a tile shows until pointed at) | {:.0} KB |",
        posters as f64 / 1e3
    );
    println!(
        "| total for the page | {:.0} KB |",
        (page.len() + posters) as f64 / 1e3
    );
    println!(
        "| + the looping preview of a tile pointed at (the 5 s 720p clip) | {:.0} KB |",
        preview as f64 / 1e3
    );
    println!(
        "| baseline: the 100 originals (1 s each at 720p) | {:.1} MB |",
        originals as f64 / 1e6
    );
}
