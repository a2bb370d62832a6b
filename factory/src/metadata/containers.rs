//! Where image files keep their text: PNG text chunks (`tEXt`, `zTXt`, `iTXt`, before or after
//! the image data), EXIF `UserComment` in JPEG (`APP1`) and WebP (`EXIF`), JPEG comments, and
//! the "stealth" text some AUTOMATIC1111 extensions hide in the pixels' low bits.
//!
//! Every reader is bounded: a text is at most [`MAX_TEXT_BYTES`] after decompression, and a
//! damaged structure is an error naming what is wrong, never a panic.

use std::io::Read;

use super::MetadataError;

/// The largest text read from one chunk or field.
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Every text entry of a PNG, `(keyword, text)`, in file order.
pub fn png_texts(bytes: &[u8]) -> Result<Vec<(String, String)>, MetadataError> {
    let mut body = bytes
        .strip_prefix(PNG_SIGNATURE)
        .ok_or(MetadataError::Damaged("not a PNG"))?;
    let mut texts = Vec::new();
    while !body.is_empty() {
        let header = body
            .get(..8)
            .ok_or(MetadataError::Damaged("the PNG is truncated"))?;
        let len = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let kind = &header[4..8];
        let data = body
            .get(8..8usize.saturating_add(len))
            .ok_or(MetadataError::Damaged("the PNG is truncated"))?;
        body = body
            .get(8 + len + 4..)
            .ok_or(MetadataError::Damaged("the PNG is truncated"))?;
        match kind {
            b"tEXt" | b"zTXt" | b"iTXt" => {
                if let Some(entry) = text_chunk(kind, data)? {
                    texts.push(entry);
                }
            }
            b"IEND" => break,
            _ => {}
        }
    }
    Ok(texts)
}

fn text_chunk(kind: &[u8], data: &[u8]) -> Result<Option<(String, String)>, MetadataError> {
    let Some(key_end) = data.iter().position(|b| *b == 0) else {
        return Ok(None);
    };
    let key = latin1(&data[..key_end]);
    let rest = &data[key_end + 1..];
    let text = match kind {
        b"tEXt" => {
            check_size(&key, rest.len())?;
            latin1(rest)
        }
        b"zTXt" => {
            // compression method (0), then zlib data
            let Some(compressed) = rest.get(1..) else {
                return Ok(None);
            };
            latin1(&inflate(&key, compressed)?)
        }
        _ => {
            // iTXt: flag, method, language\0, translated keyword\0, text
            let (Some(&flag), Some(rest)) = (rest.first(), rest.get(2..)) else {
                return Ok(None);
            };
            let Some(lang_end) = rest.iter().position(|b| *b == 0) else {
                return Ok(None);
            };
            let rest = &rest[lang_end + 1..];
            let Some(tkey_end) = rest.iter().position(|b| *b == 0) else {
                return Ok(None);
            };
            let raw = &rest[tkey_end + 1..];
            let text = if flag == 1 {
                inflate(&key, raw)?
            } else {
                check_size(&key, raw.len())?;
                raw.to_vec()
            };
            String::from_utf8_lossy(&text).into_owned()
        }
    };
    Ok(Some((key, text)))
}

fn check_size(key: &str, bytes: usize) -> Result<(), MetadataError> {
    if bytes > MAX_TEXT_BYTES {
        return Err(MetadataError::TextTooLarge {
            key: key.chars().take(80).collect(),
            bytes,
        });
    }
    Ok(())
}

/// zlib data, at most [`MAX_TEXT_BYTES`] once inflated.
fn inflate(key: &str, compressed: &[u8]) -> Result<Vec<u8>, MetadataError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_TEXT_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| MetadataError::Damaged("a compressed text chunk does not inflate"))?;
    check_size(key, out.len())?;
    Ok(out)
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| *b as char).collect()
}

/// The EXIF block (a TIFF structure) and the comment of a JPEG, if it has them.
pub fn jpeg_segments(bytes: &[u8]) -> (Option<&[u8]>, Option<String>) {
    let (mut exif, mut comment) = (None, None);
    let mut at = 2; // after SOI
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        // Start of scan: the image data follows; no more metadata segments.
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let Some(len) = bytes
            .get(at + 2..at + 4)
            .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize)
        else {
            break;
        };
        let Some(data) = bytes.get(at + 4..at + 2 + len.max(2)) else {
            break;
        };
        match marker {
            0xE1 if data.starts_with(b"Exif\0\0") && exif.is_none() => exif = Some(&data[6..]),
            0xFE if comment.is_none() => comment = Some(String::from_utf8_lossy(data).into_owned()),
            _ => {}
        }
        at += 2 + len.max(2);
    }
    (exif, comment)
}

/// The EXIF block of a WebP (its `EXIF` chunk), if it has one.
pub fn webp_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut at = 12; // RIFF, size, WEBP
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
        let data = bytes.get(at + 8..(at + 8).checked_add(len)?)?;
        if &header[..4] == b"EXIF" {
            // Some writers keep the JPEG-style prefix.
            return Some(data.strip_prefix(b"Exif\0\0").unwrap_or(data));
        }
        at += 8 + len + (len & 1);
    }
    None
}

/// The text of the EXIF `UserComment` (in the Exif sub-directory), or else of
/// `ImageDescription`.
pub fn exif_text(tiff: &[u8]) -> Option<String> {
    let big = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at + 2)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    // (tag, count, where its value is) for each entry of the directory at `dir`.
    let entries = |dir: usize| -> Vec<(u16, usize, usize)> {
        let Some(n) = u16_at(dir) else {
            return Vec::new();
        };
        (0..n as usize)
            .filter_map(|i| {
                let entry = dir + 2 + i * 12;
                let tag = u16_at(entry)?;
                let count = u32_at(entry + 4)? as usize;
                let value = if count > 4 {
                    u32_at(entry + 8)? as usize
                } else {
                    entry + 8
                };
                Some((tag, count, value))
            })
            .collect()
    };
    let ifd0 = u32_at(4)? as usize;
    let top = entries(ifd0);
    let from_sub = top
        .iter()
        .find(|(tag, _, _)| *tag == 0x8769)
        .and_then(|(_, _, at)| u32_at(*at))
        .and_then(|sub| {
            entries(sub as usize)
                .into_iter()
                .find(|(tag, _, _)| *tag == 0x9286)
        })
        .and_then(|(_, count, at)| tiff.get(at..at.checked_add(count.min(MAX_TEXT_BYTES))?))
        .and_then(|raw| user_comment(raw, big));
    from_sub.or_else(|| {
        let (_, count, at) = top.into_iter().find(|(tag, _, _)| *tag == 0x010E)?;
        let raw = tiff.get(at..at.checked_add(count.min(MAX_TEXT_BYTES))?)?;
        let text = String::from_utf8_lossy(raw.strip_suffix(&[0]).unwrap_or(raw)).into_owned();
        (!text.trim().is_empty()).then_some(text)
    })
}

/// A `UserComment`: an 8-byte character code, then the text. `UNICODE` is UTF-16, in the
/// byte order most writers use (big-endian, as piexif writes it) unless the bytes say otherwise.
fn user_comment(raw: &[u8], big_endian_file: bool) -> Option<String> {
    let (code, text) = (raw.get(..8)?, raw.get(8..)?);
    let text = match code {
        b"UNICODE\0" => {
            let units: Vec<[u8; 2]> = text.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
            // ASCII text in UTF-16: the zero byte is first in big-endian.
            let zeros_first = units.iter().filter(|u| u[0] == 0 && u[1] != 0).count();
            let zeros_second = units.iter().filter(|u| u[1] == 0 && u[0] != 0).count();
            let big = match zeros_first.cmp(&zeros_second) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Less => false,
                std::cmp::Ordering::Equal => big_endian_file,
            };
            let units: Vec<u16> = units
                .into_iter()
                .map(|u| {
                    if big {
                        u16::from_be_bytes(u)
                    } else {
                        u16::from_le_bytes(u)
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    let text = text.trim_end_matches('\0').to_string();
    (!text.trim().is_empty()).then_some(text)
}

/// Text hidden in the low bits of the pixels by the "stealth pnginfo" extension: a signature,
/// a 32-bit length in bits, then the text (gzip when the signature says `comp`). The alpha
/// variant uses one bit per pixel, the RGB one three; bits run down each column, left to right.
pub fn stealth_text(width: u32, height: u32, rgba: &[u8]) -> Option<String> {
    if rgba.len() < (width as usize) * (height as usize) * 4 {
        return None;
    }
    for rgb in [false, true] {
        let mut bits = StealthBits {
            rgba,
            width,
            height,
            rgb,
            at: 0,
        };
        let signature: Vec<u8> = (0..15).map_while(|_| bits.byte()).collect();
        let compressed = match &signature[..] {
            b"stealth_pnginfo" | b"stealth_rgbinfo" => false,
            b"stealth_pngcomp" | b"stealth_rgbcomp" => true,
            _ => continue,
        };
        let mut len_bits = 0usize;
        for _ in 0..32 {
            len_bits = (len_bits << 1) | bits.bit()? as usize;
        }
        let len = len_bits / 8;
        if len > MAX_TEXT_BYTES {
            return None;
        }
        let data: Vec<u8> = (0..len).map_while(|_| bits.byte()).collect();
        if data.len() != len {
            return None;
        }
        let text = if compressed {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&data[..])
                .take(MAX_TEXT_BYTES as u64)
                .read_to_end(&mut out)
                .ok()?;
            out
        } else {
            data
        };
        return String::from_utf8(text).ok();
    }
    None
}

struct StealthBits<'a> {
    rgba: &'a [u8],
    width: u32,
    height: u32,
    rgb: bool,
    at: usize,
}

impl StealthBits<'_> {
    fn bit(&mut self) -> Option<u8> {
        let per_pixel = if self.rgb { 3 } else { 1 };
        let pixel = self.at / per_pixel;
        let (x, y) = (pixel / self.height as usize, pixel % self.height as usize);
        if x >= self.width as usize {
            return None;
        }
        let offset = (y * self.width as usize + x) * 4;
        let channel = if self.rgb { self.at % 3 } else { 3 };
        self.at += 1;
        Some(self.rgba[offset + channel] & 1)
    }

    fn byte(&mut self) -> Option<u8> {
        let mut b = 0u8;
        for _ in 0..8 {
            b = (b << 1) | self.bit()?;
        }
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixtures::stealth_rgba;

    #[test]
    fn stealth_text_in_the_alpha_bits_is_read_back() {
        let rgba = stealth_rgba(64, 48, "a fox\nSteps: 20, Seed: 7");
        assert_eq!(
            stealth_text(64, 48, &rgba).as_deref(),
            Some("a fox\nSteps: 20, Seed: 7")
        );
        assert_eq!(stealth_text(64, 48, &vec![255u8; 64 * 48 * 4]), None);
    }

    #[test]
    fn a_unicode_user_comment_is_read_in_either_byte_order() {
        let mut be = b"UNICODE\0".to_vec();
        be.extend(
            "a fox, Steps: 20"
                .encode_utf16()
                .flat_map(|u| u.to_be_bytes()),
        );
        let mut le = b"UNICODE\0".to_vec();
        le.extend(
            "a fox, Steps: 20"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        );
        assert_eq!(
            user_comment(&be, false).as_deref(),
            Some("a fox, Steps: 20")
        );
        assert_eq!(user_comment(&le, true).as_deref(), Some("a fox, Steps: 20"));
    }
}
