//! Video and sound in the media store with the real ffmpeg: what is probed, the poster, the
//! looping preview and the waveform, on disk and in a bucket; and the files that are refused
//! (cut short, a picture under another name, a header that claims ten hours) leaving nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use factory::media::av::{AvError, Container, Tools};
use factory::media::{ImageFormat, MediaStore, THUMB_SIZES};

use factory::jobs::JobState;

use crate::queue::{blocking, run_scripted, setup_with_providers};

/// A file made by ffmpeg from its test sources, in `dir`.
fn make(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path: PathBuf = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg made {name}");
    std::fs::read(path).unwrap()
}

const CLIP: &[&str] = &[
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=24:duration=3",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:duration=3",
    "-c:v",
    "libx264",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-shortest",
];

async fn exercise(media: MediaStore) {
    blocking(move || {
        media.av_tools().unwrap_or_else(|e| {
            panic!("this test runs the real ffmpeg ({e}); install it with scripts/setup")
        });
        let dir = tempfile::tempdir().unwrap();
        let mp4 = make(dir.path(), "clip.mp4", CLIP);
        let stored = media.put_av(4, &mp4).unwrap();
        let probe = &stored.probe;
        assert_eq!(probe.container, Container::Mp4);
        assert!((probe.duration_secs - 3.0).abs() < 0.1, "{probe:?}");
        let video = probe.video.as_ref().unwrap();
        assert_eq!(
            (video.codec.as_str(), video.width, video.height),
            ("h264", 320, 240)
        );
        assert!((video.frames_per_second - 24.0).abs() < 0.01);
        let audio = probe.audio.as_ref().unwrap();
        assert_eq!(
            (audio.codec.as_str(), audio.sample_rate, audio.channels),
            ("aac", 44100, 1)
        );
        assert_eq!(probe.mime(), "video/mp4");
        let original = media.original_key(4, &stored.hash, "mp4").unwrap();
        assert_eq!(stored.rel_path, original.as_str());
        assert_eq!(media.read(&original).unwrap(), mp4);
        // The poster's thumbnails, and a small looping animated WebP of the first seconds.
        for size in THUMB_SIZES {
            let thumb = media
                .read(&media.thumb_key(4, &stored.hash, size).unwrap())
                .unwrap();
            let poster = image::load_from_memory(&thumb).unwrap();
            assert_eq!(poster.width() * 3, poster.height() * 4, "4:3 kept");
        }
        let preview = media
            .read(&media.preview_key(4, &stored.hash).unwrap())
            .unwrap();
        assert_eq!(ImageFormat::sniff(&preview), Some(ImageFormat::Webp));
        assert!(preview.windows(4).any(|w| w == b"ANIM"), "animated");
        assert!(preview.len() < mp4.len(), "{} bytes", preview.len());
        let frames = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&preview))
            .map(|d| image::AnimationDecoder::into_frames(d).count())
            .unwrap();
        assert_eq!(frames, 30, "3 s at 10 frames a second");

        // WebM with VP9 and Opus.
        let webm = make(
            dir.path(),
            "clip.webm",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=160x90:rate=12:duration=1",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=1",
                "-c:v",
                "libvpx-vp9",
                "-c:a",
                "libopus",
                "-shortest",
            ],
        );
        let stored = media.put_av(4, &webm).unwrap();
        assert_eq!(stored.probe.container, Container::Webm);
        assert_eq!(stored.probe.video.as_ref().unwrap().codec, "vp9");
        assert_eq!(stored.probe.audio.as_ref().unwrap().codec, "opus");

        // A sound: its waveform is what pages show; loud where the sound is loud.
        let wav = make(
            dir.path(),
            "tone.wav",
            // The sine source is at 1/8 of full scale: four times that is half.
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=220:duration=2",
                "-af",
                "volume=4",
            ],
        );
        let stored = media.put_av(4, &wav).unwrap();
        assert_eq!(stored.probe.mime(), "audio/wav");
        assert!(stored.probe.video.is_none());
        assert!((stored.probe.duration_secs - 2.0).abs() < 0.01);
        assert!(
            media
                .read(&media.preview_key(4, &stored.hash).unwrap())
                .is_err(),
            "no preview"
        );
        let thumb = media
            .read(
                &media
                    .thumb_key(4, &stored.hash, factory::media::ThumbSize::Large)
                    .unwrap(),
            )
            .unwrap();
        let waveform = image::load_from_memory(&thumb).unwrap().to_rgb8();
        assert_eq!(waveform.dimensions(), (768, 192));
        let column: Vec<_> = (0..192).map(|y| waveform.get_pixel(384, y).0).collect();
        let lit = column.iter().filter(|p| p[2] > 150).count();
        assert!(
            (80..=115).contains(&lit),
            "half volume reaches half way up and down: {lit} of 192 pixels"
        );

        // A WAV whose header claims ten hours holds two seconds: it is stored as two.
        let mut long = wav.clone();
        let data = long.windows(4).position(|w| w == b"data").unwrap();
        let claimed: u32 = 44_100 * 2 * 36_000;
        long[data + 4..data + 8].copy_from_slice(&claimed.to_le_bytes());
        long[4..8].copy_from_slice(&(claimed + 36).to_le_bytes());
        let stored = media.put_av(5, &long).unwrap();
        assert!(
            (stored.probe.duration_secs - 2.0).abs() < 0.01,
            "{:?}",
            stored.probe
        );

        // Refused, nothing written.
        let before = media.list().unwrap();
        let cut = |bytes: &[u8]| bytes[..bytes.len() * 2 / 5].to_vec();
        let faststart = make(
            dir.path(),
            "fast.mp4",
            &[CLIP, &["-movflags", "+faststart"]].concat(),
        );
        let png = factory::media::png::encode_rgb(4, 4, &[9; 48]).unwrap();
        let mut png_as_mp4 = vec![0, 0, 0, 0x18];
        png_as_mp4.extend_from_slice(b"ftypisom");
        png_as_mp4.extend_from_slice(&png);
        for (what, bytes, expect) in [
            (
                "an MP4 cut short (index at the end)",
                cut(&mp4),
                "moov atom not found",
            ),
            (
                "an MP4 cut short (index first)",
                cut(&faststart),
                "cut short",
            ),
            ("a PNG", png.clone(), "not an MP4, WebM, WAV"),
            ("a PNG behind an MP4's magic", png_as_mp4, "starts like mp4"),
            ("text", b"hello, world".to_vec(), "not an MP4, WebM, WAV"),
        ] {
            let e = media.put_av(4, &bytes).expect_err(what);
            assert!(e.to_string().contains(expect), "{what}: {e}");
        }
        assert_eq!(media.list().unwrap(), before, "nothing stored");
    })
    .await;
}

#[tokio::test]
async fn video_and_sound_are_probed_previewed_and_refused_when_damaged_on_disk_and_in_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    exercise(MediaStore::new(dir.path())).await;
    let data = tempfile::tempdir().unwrap();
    exercise(factory::testing::s3::media_store(data.path()).await).await;
}

#[test]
fn without_ffmpeg_the_error_says_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let e = Tools::detect(Some(empty.path())).unwrap_err();
    assert!(matches!(e, AvError::Missing(_)));
    assert!(e.to_string().contains("apt install ffmpeg"), "{e}");
}

/// A provider's video and sound become products of their kind, with what was probed; a
/// damaged one fails its job, saying why.
#[tokio::test]
async fn a_provider_s_video_and_sound_become_products_of_their_kind() {
    let setup = setup_with_providers(1, Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let mp4 = make(dir.path(), "clip.mp4", CLIP);
    let wav = make(
        dir.path(),
        "tone.wav",
        &["-f", "lavfi", "-i", "sine=duration=2"],
    );
    setup.scripted().answer_with("a clip", mp4.clone());
    setup.scripted().answer_with("a tone", wav);
    setup
        .scripted()
        .answer_with("a cut clip", mp4[..mp4.len() / 3].to_vec());

    let mut conn = setup.db.conn().await;
    for (prompt, kind, mime, size, duration_ms) in [
        ("a clip", "video", "video/mp4", Some((320, 240)), 3000),
        ("a tone", "audio", "audio/wav", None, 2000),
    ] {
        let jobs = run_scripted(&setup, prompt).await;
        assert_eq!(jobs[0].state(), JobState::Succeeded, "{:?}", jobs[0].error);
        let product = factory::products::list_for_batch(&mut conn, jobs[0].batch_id)
            .await
            .unwrap()
            .remove(0);
        assert_eq!((product.kind.as_str(), product.mime.as_str()), (kind, mime));
        assert_eq!(product.width.zip(product.height), size);
        assert_eq!(product.duration_ms, Some(duration_ms));
        let info = product.av_info.unwrap();
        assert_eq!(
            info["container"],
            if kind == "video" { "mp4" } else { "wav" }
        );
        assert!(product.thumbhash.is_some());
    }
    let jobs = run_scripted(&setup, "a cut clip").await;
    assert_eq!(jobs[0].state(), JobState::Failed);
    let error = jobs[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("the result was refused: the file starts like mp4"),
        "{error}"
    );
}
