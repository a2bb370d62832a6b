//! Video and sound benchmark: `cargo bench -p server --bench av` (or `scripts/bench av`).
//!
//! For a 5 s 1280×720 24 fps H.264/AAC clip (the size hosted video models return) and a 30 s
//! stereo MP3: the time from a job's bytes in hand to its poster, thumbnails and looping preview
//! stored (`MediaStore::put_av`, what stands between a finished video job and its first
//! preview), p50 and worst of 5, with its parts (probe, poster, preview; the sound's decode and
//! waveform) and baselines measured in the same run (writing and hashing the bytes; starting
//! ffprobe with nothing to read). Then the bytes a page of 100 video tiles fetches when each
//! tile shows its 256 px poster, against the originals. Prints a table; nothing passes or
//! fails.

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
    let poster = size(store.thumb_key(1, &stored.hash, ThumbSize::Small).unwrap());
    let preview = size(store.preview_key(1, &stored.hash).unwrap());
    println!();
    println!("| a page of 100 video tiles fetches | bytes |");
    println!("|---|---|");
    println!(
        "| 100 × the 256 px poster (what a tile shows until hovered) | {:.0} KB |",
        100.0 * poster as f64 / 1e3
    );
    println!(
        "| + the looping preview of the one tile hovered | {:.0} KB |",
        preview as f64 / 1e3
    );
    println!(
        "| baseline: 100 × the original clip | {:.1} MB |",
        100.0 * clip.len() as f64 / 1e6
    );
}
