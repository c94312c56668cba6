//! Reading a chart archive (`.tgz`) into memory, with Helm 4's path checks
//! (`pkg/chart/loader/archive/archive.go`) plus link checks of our own.
//!
//! Nothing is ever written to disk: entries are read into [`BufferedFile`]s, so a hostile archive
//! cannot place files anywhere. Like Helm, the first path component (the chart's directory) is
//! dropped, absolute paths, `..` escapes, drive-letter names and a top-level `Chart.yaml` are
//! refused, and the total and per-file decompressed sizes are capped. Helm reads a symlink or
//! hardlink entry as an empty file; we do the same for links that stay inside the chart, and refuse
//! links that point outside it, naming the entry. A UTF-8 BOM is stripped from every file.

use std::fmt;
use std::io::Read;

/// Helm's `MaxDecompressedChartSize`: 100 MiB.
pub const MAX_DECOMPRESSED_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Helm's `MaxDecompressedFileSize`: 5 MiB.
pub const MAX_DECOMPRESSED_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// Size limits for reading archives.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_chart_size: u64,
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_chart_size: MAX_DECOMPRESSED_CHART_SIZE,
            max_file_size: MAX_DECOMPRESSED_FILE_SIZE,
        }
    }
}

/// A file read from a chart, its name relative to the chart root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferedFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// Why an archive was refused; `Display` follows Helm's wording where Helm has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// Not gzip, or a corrupt gzip/tar stream.
    Corrupt(String),
    AbsolutePath(String),
    OutsideBase(String),
    ParentDirectory(String),
    IllegalName(String),
    ChartYamlNotInBase,
    /// The whole chart went over the limit while reading this entry.
    TooLarge(String, u64),
    FileTooLarge(String, u64),
    LinkEscapes {
        entry: String,
        target: String,
    },
    Empty,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Corrupt(m) => f.write_str(m),
            ArchiveError::AbsolutePath(e) => write!(f, "chart illegally contains absolute paths: {e:?}"),
            ArchiveError::OutsideBase(e) => {
                write!(f, "chart illegally contains content outside the base directory: {e:?}")
            }
            ArchiveError::ParentDirectory(e) => write!(f, "chart illegally references parent directory: {e:?}"),
            ArchiveError::IllegalName(e) => write!(f, "chart contains illegally named files: {e:?}"),
            ArchiveError::ChartYamlNotInBase => f.write_str("chart yaml not in base directory"),
            ArchiveError::TooLarge(e, max) => {
                write!(f, "decompressed chart is larger than the maximum size {max} (at {e:?})")
            }
            ArchiveError::FileTooLarge(e, max) => {
                write!(
                    f,
                    "decompressed chart file {e:?} is larger than the maximum file size {max}"
                )
            }
            ArchiveError::LinkEscapes { entry, target } => {
                write!(
                    f,
                    "chart illegally contains a link that leaves the chart: {entry:?} -> {target:?}"
                )
            }
            ArchiveError::Empty => f.write_str("no files in chart archive"),
        }
    }
}

impl std::error::Error for ArchiveError {}

/// True when the bytes start like a gzip stream (Helm's `isGZipApplication`).
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1F, 0x8B, 0x08])
}

/// Go's `path.Clean`.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn is_drive_path(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/'
}

/// Helm's path normalisation of one entry name: the chart-relative, cleaned name.
fn entry_name(raw: &str) -> Result<String, ArchiveError> {
    // Archives made on Windows may use `\`.
    let delimiter = if raw.contains('\\') { '\\' } else { '/' };
    let mut parts = raw.split(delimiter);
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let n = rest.join("/");
    if n.starts_with('/') {
        return Err(ArchiveError::AbsolutePath(raw.to_string()));
    }
    let n = clean_path(&n);
    if n == "." {
        return Err(ArchiveError::OutsideBase(raw.to_string()));
    }
    if n.starts_with("..") {
        return Err(ArchiveError::ParentDirectory(raw.to_string()));
    }
    if is_drive_path(&n) {
        return Err(ArchiveError::IllegalName(raw.to_string()));
    }
    if first == "Chart.yaml" {
        return Err(ArchiveError::ChartYamlNotInBase);
    }
    Ok(n)
}

/// Whether a link entry (`name` chart-relative) points inside the chart.
fn link_target_inside(name: &str, target: &str, symlink: bool) -> bool {
    if target.starts_with('/') || target.contains('\\') || is_drive_path(target) {
        return false;
    }
    // A symlink resolves against its own directory; a hardlink names an archive path (with the
    // chart directory in front).
    let joined = if symlink {
        match name.rfind('/') {
            Some(i) => format!("{}/{target}", &name[..i]),
            None => target.to_string(),
        }
    } else {
        match target.split_once('/') {
            Some(("..", _)) | Some((".", _)) | None => return false,
            Some((_, rest)) => rest.to_string(),
        }
    };
    // Walk the components: going above the chart root at any point leaves it.
    let mut depth: i64 = 0;
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// `LoadArchiveFiles`: every regular file of a gzipped tar, in archive order.
pub fn load_archive_files(gz: &[u8], limits: Limits) -> Result<Vec<BufferedFile>, ArchiveError> {
    if !is_gzip(gz) {
        return Err(ArchiveError::Corrupt("gzip: invalid header".into()));
    }
    let dec = flate2::read::MultiGzDecoder::new(gz);
    let mut ar = tar::Archive::new(dec);
    let entries = ar.entries().map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    let mut files = Vec::new();
    let mut remaining = limits.max_chart_size;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        let et = entry.header().entry_type();
        if et.is_dir() || et.is_pax_global_extensions() || et.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        // Go's tar reader turns an old-style regular entry (typeflag NUL) whose name ends in `/`
        // into a directory.
        if raw.ends_with('/') && entry.header().as_bytes()[156] == 0 {
            continue;
        }
        let name = entry_name(&raw)?;
        if et.is_symlink() || et.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            if !link_target_inside(&name, &target, et.is_symlink()) {
                return Err(ArchiveError::LinkEscapes { entry: raw, target });
            }
        }
        let size = entry.header().size().unwrap_or(0);
        if size > remaining {
            return Err(ArchiveError::TooLarge(raw, limits.max_chart_size));
        }
        if size > limits.max_file_size {
            return Err(ArchiveError::FileTooLarge(raw, limits.max_file_size));
        }
        let mut data = Vec::new();
        if !(et.is_symlink() || et.is_hard_link()) {
            (&mut entry)
                .take(remaining)
                .read_to_end(&mut data)
                .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        }
        let written = data.len() as u64;
        remaining = remaining.saturating_sub(written);
        if written < size || remaining == 0 {
            return Err(ArchiveError::TooLarge(raw, limits.max_chart_size));
        }
        if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
            data.drain(..3);
        }
        files.push(BufferedFile { name, data });
    }
    if files.is_empty() {
        return Err(ArchiveError::Empty);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_is_gos() {
        // Go's path.Clean table.
        for (i, o) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
        ] {
            assert_eq!(clean_path(i), o, "{i}");
        }
    }

    #[test]
    fn link_targets() {
        assert!(link_target_inside("templates/a.yaml", "b.yaml", true));
        assert!(link_target_inside("templates/a.yaml", "../values.yaml", true));
        assert!(!link_target_inside("templates/a.yaml", "../../x", true));
        assert!(!link_target_inside("a", "/etc/passwd", true));
        assert!(link_target_inside("c/a", "c/values.yaml", false));
        assert!(!link_target_inside("c/a", "c/../../x", false));
        assert!(!link_target_inside("c/a", "../etc/passwd", false));
    }
}
