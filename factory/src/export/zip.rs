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

/// An entry of an archive being read: its name and where its stored bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub crc: u32,
    pub size: u64,
    /// Where its local header starts.
    header_at: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("this is not an archive this app wrote ({0})")]
    Format(&'static str),
    #[error("an entry is compressed; this app reads only the archives it writes")]
    Compressed,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads the archives [`ZipWriter`] makes (stored entries, ZIP64), from a file.
pub struct ZipReader {
    file: std::fs::File,
    pub entries: Vec<Entry>,
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ZipError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(ZipError::Format("a record is cut short"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ZipError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
        .ok_or(ZipError::Format("a record is cut short"))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, ZipError> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
        .ok_or(ZipError::Format("a record is cut short"))
}

impl ZipReader {
    pub fn open(path: &std::path::Path) -> Result<Self, ZipError> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        // The end record is the last 22 bytes (this app writes no comment); the ZIP64 locator
        // and record come just before it.
        let tail_len = len.min(22 + 20 + 56);
        file.seek(SeekFrom::Start(len - tail_len))?;
        let mut tail = vec![0u8; tail_len as usize];
        file.read_exact(&mut tail)?;
        let end = tail
            .len()
            .checked_sub(22)
            .ok_or(ZipError::Format("too short"))?;
        if u32_at(&tail, end)? != END_OF_CENTRAL {
            return Err(ZipError::Format("no end record"));
        }
        let mut count = u16_at(&tail, end + 10)? as u64;
        let mut size = u32_at(&tail, end + 12)? as u64;
        let mut start = u32_at(&tail, end + 16)? as u64;
        if end >= 20 && u32_at(&tail, end - 20)? == ZIP64_LOCATOR {
            let at = u64_at(&tail, end - 12)?;
            file.seek(SeekFrom::Start(at))?;
            let mut record = vec![0u8; 56];
            file.read_exact(&mut record)?;
            if u32_at(&record, 0)? != ZIP64_END {
                return Err(ZipError::Format("no ZIP64 end record"));
            }
            count = u64_at(&record, 32)?;
            size = u64_at(&record, 40)?;
            start = u64_at(&record, 48)?;
        }
        if start.checked_add(size).is_none_or(|e| e > len) {
            return Err(ZipError::Format("the directory lies outside the file"));
        }
        file.seek(SeekFrom::Start(start))?;
        let mut dir = vec![0u8; size as usize];
        file.read_exact(&mut dir)?;
        let mut entries = Vec::with_capacity(count.min(1 << 20) as usize);
        let mut at = 0usize;
        for _ in 0..count {
            if u32_at(&dir, at)? != CENTRAL_HEADER {
                return Err(ZipError::Format("a damaged directory"));
            }
            if u16_at(&dir, at + 10)? != 0 {
                return Err(ZipError::Compressed);
            }
            let crc = u32_at(&dir, at + 16)?;
            let mut size = u32_at(&dir, at + 24)? as u64;
            let name_len = u16_at(&dir, at + 28)? as usize;
            let extra_len = u16_at(&dir, at + 30)? as usize;
            let comment_len = u16_at(&dir, at + 32)? as usize;
            let mut header_at = u32_at(&dir, at + 42)? as u64;
            let name = dir
                .get(at + 46..at + 46 + name_len)
                .ok_or(ZipError::Format("a name is cut short"))?;
            let name = String::from_utf8(name.to_vec())
                .map_err(|_| ZipError::Format("a name is not UTF-8"))?;
            let extra = dir
                .get(at + 46 + name_len..at + 46 + name_len + extra_len)
                .ok_or(ZipError::Format("an extra field is cut short"))?;
            if u16_at(extra, 0).ok() == Some(1) {
                let mut field = 4;
                if size == u32::MAX as u64 {
                    size = u64_at(extra, field)?;
                    field += 16;
                }
                if header_at == u32::MAX as u64 {
                    header_at = u64_at(extra, field)?;
                }
            }
            entries.push(Entry {
                name,
                crc,
                size,
                header_at,
            });
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(Self { file, entries })
    }

    /// The entry named `name`.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Copies an entry's bytes to `out`, checking its CRC; returns its SHA-256 (hex).
    pub fn copy_to(
        &mut self,
        entry: &Entry,
        out: &mut impl std::io::Write,
    ) -> Result<String, ZipError> {
        use sha2::Digest;
        use std::io::{Read, Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(entry.header_at))?;
        let mut header = [0u8; 30];
        self.file.read_exact(&mut header)?;
        if u32_at(&header, 0)? != LOCAL_HEADER {
            return Err(ZipError::Format("a damaged entry header"));
        }
        let skip = u16_at(&header, 26)? as i64 + u16_at(&header, 28)? as i64;
        self.file.seek(SeekFrom::Current(skip))?;
        let mut left = entry.size;
        let mut buffer = vec![0u8; 1 << 20];
        let mut crc = crc32fast::Hasher::new();
        let mut sha = sha2::Sha256::new();
        while left > 0 {
            let n = (left as usize).min(buffer.len());
            self.file.read_exact(&mut buffer[..n])?;
            crc.update(&buffer[..n]);
            sha.update(&buffer[..n]);
            out.write_all(&buffer[..n])?;
            left -= n as u64;
        }
        if crc.finalize() != entry.crc {
            return Err(ZipError::Format("an entry's checksum does not match"));
        }
        Ok(sha.finalize().iter().map(|b| format!("{b:02x}")).collect())
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
