//! A ZIP archive written front to back, entry by entry, so that it can be streamed as it is
//! made: each entry is stored (pictures are compressed already) with its CRC and sizes in its
//! header, and the central directory follows the last entry. Past 4 GiB or 65,535 entries the
//! ZIP64 records take over, as `unzip`, Python's `zipfile` and every desktop archiver read them.

use chrono::{DateTime, Datelike, Timelike, Utc};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// Names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;

struct Central {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
    time: u16,
    date: u16,
}

/// Writes entries as bytes to send; [`finish`](Self::finish) gives the closing directory.
#[derive(Default)]
pub struct ZipWriter {
    offset: u64,
    entries: Vec<Central>,
}

fn le16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// MS-DOS time and date (2-second resolution, from 1980).
fn dos_time(at: DateTime<Utc>) -> (u16, u16) {
    let year = at.year().clamp(1980, 2107) as u16;
    let time = ((at.hour() as u16) << 11) | ((at.minute() as u16) << 5) | (at.second() as u16 / 2);
    let date = ((year - 1980) << 9) | ((at.month() as u16) << 5) | at.day() as u16;
    (time, date)
}

impl ZipWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// One stored entry: its local header and its data.
    pub fn entry(&mut self, name: &str, modified: DateTime<Utc>, data: &[u8]) -> Vec<u8> {
        let mut out = self.header(name, modified, crc32fast::hash(data), data.len() as u64);
        out.extend_from_slice(data);
        out
    }

    /// The local header of an entry whose `size` bytes (with this `crc`) the caller sends
    /// right after it, for data too large to hold at once.
    pub fn header(&mut self, name: &str, modified: DateTime<Utc>, crc: u32, size: u64) -> Vec<u8> {
        let (time, date) = dos_time(modified);
        let big = size >= u32::MAX as u64;
        let mut out = Vec::with_capacity(name.len() + 64);
        le32(&mut out, LOCAL_HEADER);
        le16(&mut out, if big { 45 } else { 20 });
        le16(&mut out, FLAG_UTF8);
        le16(&mut out, 0); // stored
        le16(&mut out, time);
        le16(&mut out, date);
        le32(&mut out, crc);
        let shown = if big { u32::MAX } else { size as u32 };
        le32(&mut out, shown);
        le32(&mut out, shown);
        le16(&mut out, name.len() as u16);
        le16(&mut out, if big { 20 } else { 0 });
        out.extend_from_slice(name.as_bytes());
        if big {
            le16(&mut out, 1);
            le16(&mut out, 16);
            le64(&mut out, size);
            le64(&mut out, size);
        }
        self.entries.push(Central {
            name: name.to_string(),
            crc,
            size,
            offset: self.offset,
            time,
            date,
        });
        self.offset += out.len() as u64 + size;
        out
    }

    /// The central directory and the end records.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::new();
        let start = self.offset;
        for e in &self.entries {
            let big_size = e.size >= u32::MAX as u64;
            let big_offset = e.offset >= u32::MAX as u64;
            let mut extra = Vec::new();
            if big_size || big_offset {
                le16(&mut extra, 1);
                let fields = if big_size { 16 } else { 0 } + if big_offset { 8 } else { 0 };
                le16(&mut extra, fields);
                if big_size {
                    le64(&mut extra, e.size);
                    le64(&mut extra, e.size);
                }
                if big_offset {
                    le64(&mut extra, e.offset);
                }
            }
            le32(&mut out, CENTRAL_HEADER);
            le16(&mut out, 0x031e); // made on Unix, spec 3.0
            le16(&mut out, if extra.is_empty() { 20 } else { 45 });
            le16(&mut out, FLAG_UTF8);
            le16(&mut out, 0);
            le16(&mut out, e.time);
            le16(&mut out, e.date);
            le32(&mut out, e.crc);
            let shown = if big_size { u32::MAX } else { e.size as u32 };
            le32(&mut out, shown);
            le32(&mut out, shown);
            le16(&mut out, e.name.len() as u16);
            le16(&mut out, extra.len() as u16);
            le16(&mut out, 0); // comment
            le16(&mut out, 0); // disk
            le16(&mut out, 0); // internal attributes
            le32(&mut out, 0o100644 << 16); // a regular file, rw-r--r--
            le32(
                &mut out,
                if big_offset {
                    u32::MAX
                } else {
                    e.offset as u32
                },
            );
            out.extend_from_slice(e.name.as_bytes());
            out.extend_from_slice(&extra);
        }
        let size = out.len() as u64;
        let count = self.entries.len() as u64;
        let zip64 = count >= 0xFFFF || start >= u32::MAX as u64 || size >= u32::MAX as u64;
        if zip64 {
            let at = start + size;
            le32(&mut out, ZIP64_END);
            le64(&mut out, 44);
            le16(&mut out, 45);
            le16(&mut out, 45);
            le32(&mut out, 0);
            le32(&mut out, 0);
            le64(&mut out, count);
            le64(&mut out, count);
            le64(&mut out, size);
            le64(&mut out, start);
            le32(&mut out, ZIP64_LOCATOR);
            le32(&mut out, 0);
            le64(&mut out, at);
            le32(&mut out, 1);
        }
        le32(&mut out, END_OF_CENTRAL);
        le16(&mut out, 0);
        le16(&mut out, 0);
        let shown_count = count.min(0xFFFF) as u16;
        le16(&mut out, shown_count);
        le16(&mut out, shown_count);
        le32(&mut out, size.min(u32::MAX as u64) as u32);
        le32(&mut out, start.min(u32::MAX as u64) as u32);
        le16(&mut out, 0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unzip_lists_and_extracts_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.zip");
        let mut zip = ZipWriter::new();
        let at = DateTime::parse_from_rfc3339("2026-05-17T10:20:30Z")
            .unwrap()
            .to_utc();
        let mut bytes = zip.entry("products/1.png", at, b"first");
        bytes.extend(zip.entry("renard/狐.txt", at, &vec![7u8; 100_000]));
        bytes.extend(zip.finish());
        std::fs::write(&path, &bytes).unwrap();
        let test = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            test.status.success(),
            "{}",
            String::from_utf8_lossy(&test.stdout)
        );
        let list = std::process::Command::new("unzip")
            .arg("-l")
            .arg(&path)
            .output()
            .unwrap();
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(
            list.contains("products/1.png") && list.contains("renard/狐.txt"),
            "{list}"
        );
        assert!(list.contains("2026-05-17 10:20"), "{list}");
    }

    #[test]
    fn more_than_65535_entries_use_the_zip64_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.zip");
        let mut zip = ZipWriter::new();
        let at = Utc::now();
        let mut bytes = Vec::new();
        for i in 0..70_000 {
            bytes.extend(zip.entry(&format!("{i}"), at, b"x"));
        }
        bytes.extend(zip.finish());
        std::fs::write(&path, &bytes).unwrap();
        let test = std::process::Command::new("unzip")
            .arg("-qt")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            test.status.success(),
            "{}",
            String::from_utf8_lossy(&test.stderr)
        );
    }
}
