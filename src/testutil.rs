//! Test input shared by the differential tests of the YAML readers and writers: the repository's
//! own YAML files (charts, fixtures, matrices — templates included, whose `{{ }}` make many of
//! them invalid YAML, which is the point).

use std::path::{Path, PathBuf};

/// Every file under `dirs` (relative to the repository root; `""` for all of it) whose
/// extension is one of `exts`, skipping `target` and hidden directories.
pub fn repo_files(dirs: &[&str], exts: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(p);
                }
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
            {
                out.push(p);
            }
        }
    }
    out
}

/// The documents (split at `\n---`) of every `.yaml`, `.yml` and `.tpl` file under `dirs`.
pub fn yaml_documents(dirs: &[&str]) -> Vec<String> {
    repo_files(dirs, &["yaml", "yml", "tpl"])
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| t.split("\n---").map(str::to_string).collect::<Vec<_>>())
        .collect()
}
