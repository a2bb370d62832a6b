//! The media store's unit tests.

use super::*;
use std::fs;

fn png_bytes(w: u32, h: u32, value: u8) -> Vec<u8> {
    png::encode_rgb(w, h, &vec![value; (w * h * 3) as usize]).unwrap()
}

#[test]
fn the_same_bytes_are_stored_once_under_their_hash_with_thumbnails() {
    let root = tempfile::tempdir().unwrap();
    let store = MediaStore::new(root.path());
    let bytes = png_bytes(300, 200, 90);
    let a = store.put(7, &bytes).unwrap();
    let b = store.put(7, &bytes).unwrap();
    assert_eq!(a, b);
    assert_eq!((a.width, a.height, a.format), (300, 200, ImageFormat::Png));
    assert_eq!(
        a.rel_path,
        format!("projects/7/products/{}/{}.png", &a.hash[..2], a.hash)
    );
    assert_eq!(fs::read(root.path().join(&a.rel_path)).unwrap(), bytes);
    for size in THUMB_SIZES {
        let thumb = store
            .read(&store.thumb_key(7, &a.hash, size).unwrap())
            .unwrap();
        assert_eq!(ImageFormat::sniff(&thumb), Some(ImageFormat::Webp));
        let decoded = image::load_from_memory(&thumb).unwrap();
        assert!(decoded.width() <= size.pixels() && decoded.height() <= size.pixels());
    }
    assert!(!a.thumbhash.is_empty());
    let leftovers: Vec<_> = crate::testing::walk(root.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files remain: {leftovers:?}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let original = root.path().join(&a.rel_path);
    assert_eq!(
        mode(&original),
        0o600,
        "others cannot read a person's images"
    );
    assert_eq!(mode(original.parent().unwrap()), 0o700);
    assert_eq!(mode(&root.path().join("projects")), 0o700);
}

#[test]
fn bytes_that_are_not_an_image_or_lie_about_their_type_are_refused() {
    let store = MediaStore::new(tempfile::tempdir().unwrap().path());
    assert!(matches!(
        store.put(1, b"<html>hello</html>"),
        Err(MediaError::UnknownFormat)
    ));
    let mut fake = png::PNG_SIGNATURE.to_vec();
    fake.extend_from_slice(b"definitely not chunks");
    assert!(matches!(
        store.put(1, &fake),
        Err(MediaError::Undecodable { .. })
    ));
}

#[test]
fn an_openexr_render_is_stored_as_it_is_with_srgb_thumbnails() {
    let root = tempfile::tempdir().unwrap();
    let store = MediaStore::new(root.path());
    // Linear 0.5 grey, with a highlight past white in one corner.
    let mut linear = image::Rgba32FImage::from_pixel(40, 30, image::Rgba([0.5, 0.5, 0.5, 1.0]));
    linear.put_pixel(0, 0, image::Rgba([8.0, 8.0, 8.0, 1.0]));
    let mut exr = Vec::new();
    image::DynamicImage::ImageRgba32F(linear)
        .write_to(
            &mut std::io::Cursor::new(&mut exr),
            image::ImageFormat::OpenExr,
        )
        .unwrap();
    let stored = store.put(3, &exr).unwrap();
    assert_eq!(
        (stored.format, stored.width, stored.height),
        (ImageFormat::Exr, 40, 30)
    );
    assert!(stored.rel_path.ends_with(".exr"), "{}", stored.rel_path);
    assert_eq!(fs::read(root.path().join(&stored.rel_path)).unwrap(), exr);
    assert_eq!(mime_of_ext("exr"), Some("image/x-exr"));
    let thumb = store
        .read(&store.thumb_key(3, &stored.hash, ThumbSize::Large).unwrap())
        .unwrap();
    let shown = image::load_from_memory(&thumb).unwrap().to_rgb8();
    // sRGB of linear 0.5 is 188; lossy WebP moves it a little.
    let centre = shown.get_pixel(20, 15).0;
    assert!(centre.iter().all(|c| c.abs_diff(188) <= 4), "{centre:?}");
    // The thumbnails are remade from the original the same way.
    let (thumbhash, rgba) = store.finish(3, &stored.hash, "exr").unwrap();
    assert_eq!(thumbhash, stored.thumbhash);
    assert_eq!(rgba.get_pixel(20, 15).0, [188, 188, 188, 255]);
    assert_eq!(rgba.get_pixel(0, 0).0, [255, 255, 255, 255]);

    // The magic number and nothing after it: refused, nothing written.
    let mut fake = super::format::EXR_MAGIC.to_vec();
    fake.extend_from_slice(b"not a header");
    let refused = store.put(3, &fake).unwrap_err();
    assert!(
        matches!(
            refused,
            MediaError::Undecodable {
                format: "image/x-exr",
                ..
            }
        ),
        "{refused}"
    );
    assert_eq!(store.list().unwrap().len(), 1 + THUMB_SIZES.len());
}

#[test]
fn paths_are_only_built_from_a_hash_and_a_known_extension() {
    let store = MediaStore::new("/data");
    let hash = "ab".repeat(32);
    assert_eq!(
        store.original_key(3, &hash, "png").unwrap().as_str(),
        format!("projects/3/products/ab/{hash}.png")
    );
    assert!(store.original_key(3, "../../etc/passwd", "png").is_none());
    assert!(store.original_key(3, &"AB".repeat(32), "png").is_none());
    assert!(store.original_key(3, &hash, "exe").is_none());
    for key in store.keys_of(3, &hash, "png") {
        assert_eq!(MediaStore::parse_key(key.as_str()), Some(key));
    }
}
