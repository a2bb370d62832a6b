//! Image files as other tools write them, for the import tests, the import benchmark and the
//! browser tests (`standins fixtures DIR`): PNG text chunks in each tool's format, JPEG with an
//! EXIF `UserComment` as AUTOMATIC1111 writes it, text hidden in the alpha bits, and files
//! damaged in the ways real libraries are.

use std::io::Write;

use serde_json::json;

/// A `width`×`height` RGB gradient (distinct per `shade`).
pub fn pixels(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            out.extend([
                (x * 255 / width.max(1)) as u8,
                (y * 255 / height.max(1)) as u8,
                shade,
            ]);
        }
    }
    out
}

/// A PNG with these text chunks (tEXt when Latin-1, else iTXt), before the image data.
pub fn png_with_texts(width: u32, height: u32, shade: u8, texts: &[(&str, &str)]) -> Vec<u8> {
    png_of(width, height, &pixels(width, height, shade), texts)
}

/// As [`png_with_texts`], with grain in the low bits as generated pictures have, so the file
/// is as large as theirs (1024² comes to about 1.5 MB, against a few kB for the gradient).
pub fn grainy_png_with_texts(
    width: u32,
    height: u32,
    seed: u64,
    texts: &[(&str, &str)],
) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut data = pixels(width, height, (seed % 251) as u8);
    for byte in &mut data {
        // xorshift64: fast, and fixed by the seed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = (*byte & 0xF0) | (state as u8 & 0x0F);
    }
    png_of(width, height, &data, texts)
}

fn png_of(width: u32, height: u32, data: &[u8], texts: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_compression(png::Compression::Fast);
    for (key, text) in texts {
        if text.chars().all(|c| (c as u32) < 256) {
            encoder
                .add_text_chunk(key.to_string(), text.to_string())
                .expect("a valid keyword");
        } else {
            encoder
                .add_itxt_chunk(key.to_string(), text.to_string())
                .expect("a valid keyword");
        }
    }
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(data).expect("pixels");
    writer.finish().expect("end");
    out
}

/// AUTOMATIC1111's `parameters` for `prompt` and `seed`, as version 1.10 writes it.
pub fn a1111_parameters(prompt: &str, seed: i64) -> String {
    format!(
        "{prompt}\nNegative prompt: blurry, lowres\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: {seed}, Size: 64x48, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: \"detail: 8d0c1a2b3c4d\", Version: v1.10.1"
    )
}

/// ComfyUI's API graph for `prompt` and `seed`.
pub fn comfy_prompt(prompt: &str, seed: i64) -> String {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "juggernautXL_v9.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "watermark", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 30, "cfg": 5.5, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}}
    })
    .to_string()
}

/// InvokeAI's `invokeai_metadata` for `prompt` and `seed`.
pub fn invokeai_metadata(prompt: &str, seed: i64) -> String {
    json!({"positive_prompt": prompt, "negative_prompt": "blurry", "seed": seed, "width": 64, "height": 48,
           "steps": 30, "cfg_scale": 7.5, "scheduler": "dpmpp_2m_k", "model": {"name": "juggernautXL", "base": "sdxl"}})
    .to_string()
}

/// A JPEG whose EXIF `UserComment` holds `text` as AUTOMATIC1111 writes it (piexif's UNICODE,
/// UTF-16 big-endian, in a big-endian TIFF).
pub fn jpeg_with_user_comment(width: u32, height: u32, shade: u8, text: &str) -> Vec<u8> {
    let mut comment = b"UNICODE\0".to_vec();
    comment.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    // TIFF: header, IFD0 (1 entry: the Exif pointer), Exif IFD (1 entry: UserComment), data.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    let exif_ifd = 8 + 2 + 12 + 4;
    tiff.extend(1u16.to_be_bytes());
    tiff.extend(0x8769u16.to_be_bytes());
    tiff.extend(4u16.to_be_bytes()); // LONG
    tiff.extend(1u32.to_be_bytes());
    tiff.extend((exif_ifd as u32).to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    let data_at = exif_ifd + 2 + 12 + 4;
    tiff.extend(1u16.to_be_bytes());
    tiff.extend(0x9286u16.to_be_bytes());
    tiff.extend(7u16.to_be_bytes()); // UNDEFINED
    tiff.extend((comment.len() as u32).to_be_bytes());
    tiff.extend((data_at as u32).to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(&comment);

    let mut jpeg = Vec::new();
    let image = image::RgbImage::from_raw(width, height, pixels(width, height, shade))
        .expect("sized pixels");
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&image)
        .expect("encodes");
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(((tiff.len() + 8) as u16).to_be_bytes());
    segment.extend(b"Exif\0\0");
    segment.extend(&tiff);
    jpeg.splice(2..2, segment);
    jpeg
}

/// RGBA pixels whose alpha bits hide `text` as the stealth extension's `stealth_pnginfo`
/// writes it: down each column, left to right.
pub fn stealth_rgba(width: u32, height: u32, text: &str) -> Vec<u8> {
    let mut rgba = vec![180u8; (width * height * 4) as usize];
    let mut payload = b"stealth_pnginfo".to_vec();
    payload.extend(((text.len() * 8) as u32).to_be_bytes());
    payload.extend(text.as_bytes());
    let bits = payload
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |i| (byte >> i) & 1));
    for (i, bit) in bits.enumerate() {
        let (x, y) = (i / height as usize, i % height as usize);
        let alpha = &mut rgba[(y * width as usize + x) * 4 + 3];
        *alpha = (*alpha & !1) | bit;
    }
    rgba
}

/// An RGBA PNG without text chunks whose alpha bits hide `text`.
pub fn png_with_stealth_text(width: u32, height: u32, text: &str) -> Vec<u8> {
    let rgba = stealth_rgba(width, height, text);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(&rgba).expect("pixels");
    writer.finish().expect("end");
    out
}

/// A PNG whose header is whole but whose image data is garbage.
pub fn png_with_damaged_pixels() -> Vec<u8> {
    let mut png = png_with_texts(64, 48, 9, &[]);
    let idat = png
        .windows(4)
        .position(|w| w == b"IDAT")
        .expect("an IDAT chunk");
    for b in &mut png[idat + 4..idat + 40] {
        *b = 0x5A;
    }
    png
}

/// Writes one file of each tool and of each kind of damage into `dir`; returns their names.
pub fn write_sample_files(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "a1111.png",
            png_with_texts(
                64,
                48,
                10,
                &[(
                    "parameters",
                    &a1111_parameters("a red fox in the snow, BREAK soft light", 3141592653),
                )],
            ),
        ),
        (
            "comfyui.png",
            png_with_texts(
                64,
                48,
                20,
                &[("prompt", &comfy_prompt("a lighthouse at dusk", 424242))],
            ),
        ),
        (
            "invokeai.png",
            png_with_texts(
                64,
                48,
                30,
                &[(
                    "invokeai_metadata",
                    &invokeai_metadata("a castle in the fog", 77),
                )],
            ),
        ),
        (
            "forge.jpg",
            jpeg_with_user_comment(64, 48, 40, &a1111_parameters("a jpeg owl at night", 5150)),
        ),
        (
            "stealth.png",
            png_with_stealth_text(64, 48, &a1111_parameters("a hidden cat", 99)),
        ),
        ("plain.png", png_with_texts(64, 48, 50, &[])),
        ("damaged.png", png_with_damaged_pixels()),
        ("empty.png", Vec::new()),
        ("notes.txt", b"not a picture".to_vec()),
    ];
    let mut names = Vec::new();
    for (name, bytes) in files {
        std::fs::File::create(dir.join(name))?.write_all(&bytes)?;
        names.push(name.to_string());
    }
    Ok(names)
}

/// glTF models for the asset pages' tests (`standins models DIR`; kept apart from the import
/// fixtures, whose folder is imported whole), in `dir`: every case of
/// [`gltf_cases`](super::gltf_cases) in a folder of its own (`sphere/model.glb`,
/// `separate-files/model.gltf` with its `.bin` and texture, ...).
pub fn write_models(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for case in super::gltf_cases::cases() {
        let folder = case.name.replace(' ', "-");
        for (name, bytes) in &case.files {
            let path = dir.join(&folder).join(name);
            std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
            std::fs::write(&path, bytes)?;
            names.push(format!("3d/{folder}/{name}"));
        }
    }
    Ok(names)
}

/// What each provider's images record, as the worker stores them (`jobs::worker::task`): the
/// job's provider, model and request parameters, the picture's size.
pub fn ours_per_provider() -> Vec<(&'static str, crate::media::png::ImageMetadata)> {
    let meta =
        |provider: &str, model: &str, params: serde_json::Value| crate::media::png::ImageMetadata {
            prompt: "a red fox in the snow, (soft light:1.2)\nBREAK film grain".into(),
            negative_prompt: "blurry, lowres".into(),
            provider: provider.into(),
            model: model.into(),
            seed: 3141592653,
            width: 64,
            height: 48,
            params: params.as_object().cloned().unwrap_or_default(),
            bindings: json!({"animal": "fox"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
    vec![
        ("local", meta("local", "aurora", json!({"width": 64, "height": 48}))),
        (
            "fal",
            meta(
                "fal",
                "fal-ai/flux/schnell",
                json!({"num_inference_steps": 4, "image_size": {"width": 64, "height": 48}, "enable_safety_checker": true}),
            ),
        ),
        (
            "replicate",
            meta(
                "replicate",
                "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
                json!({"num_inference_steps": 30, "guidance_scale": 7.5, "scheduler": "K_EULER", "width": 64, "height": 48}),
            ),
        ),
        (
            "civitai",
            meta(
                "civitai",
                "urn:air:sdxl:checkpoint:civitai:101055@128078",
                json!({"steps": 25, "cfgScale": 7, "scheduler": "EulerA", "clipSkip": 2, "width": 64, "height": 48}),
            ),
        ),
    ]
}

/// Writes `<provider>.png` for each of [`ours_per_provider`] into `dir`.
pub fn write_ours(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for (provider, meta) in ours_per_provider() {
        let png = crate::media::png::encode_rgb(64, 48, &pixels(64, 48, 60))
            .map_err(std::io::Error::other)?;
        let png = crate::media::png::embed_metadata(&png, &meta).map_err(std::io::Error::other)?;
        let name = format!("{provider}.png");
        std::fs::write(dir.join(&name), png)?;
        names.push(name);
    }
    Ok(names)
}
