//! Test input shared by the YAML readers' differential tests: every YAML-ish file of the
//! repository's charts, fixtures and matrices (templates included — their `{{ }}` make many of
//! them invalid YAML, which is the point), split into documents.

/// The documents (split at `\n---`) of every `.yaml`, `.yml` and `.tpl` file under `dirs`.
pub fn documents(dirs: &[&str]) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack: Vec<_> = dirs.iter().map(|d| root.join(d)).collect();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml" | "tpl")) {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    out.extend(text.split("\n---").map(str::to_string));
                }
            }
        }
    }
    out
}
