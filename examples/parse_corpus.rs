//! Parses every template file under the given directories and reports parse failures
//! (a corpus check: published charts all parse with Go's text/template).
use chartup::template::parse;

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().contains("/templates/") {
                out.push(p);
            }
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for a in std::env::args().skip(1) {
        walk(std::path::Path::new(&a), &mut files);
    }
    let mut bad = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        let name = f.to_string_lossy();
        if let Err(e) = chartup::template::exec::with_big_stack(|| parse::parse(&name, &text, &|_| true)).unwrap() {
            bad += 1;
            println!("{e}");
        }
    }
    println!("{} files, {} failed", files.len(), bad);
}
