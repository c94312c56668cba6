//! The image catalogue: which images "exist" for the simulated container runtime.
//!
//! A pod whose image is not in the catalogue fails to pull (ErrImagePull, then ImagePullBackOff),
//! which is how the e2e tests provoke a broken rollout. The file has one pattern per line (`#`
//! comments, blank lines ignored). References are normalised as Docker does (`nginx` →
//! `docker.io/library/nginx:latest`) on both sides, and:
//! - a pattern without tag or digest (`nginx`, `docker.io/bitnami/redis`) allows every tag of it;
//! - a pattern with a tag or digest allows exactly that;
//! - a pattern containing `*` is a glob (`*` = any characters) over the normalised reference
//!   (`quay.io/*`, `*/busybox:*`).
//!
//! The file is read again whenever its modification time changes, so a test can extend it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Normalise an image reference the way Docker does: add the registry and `library/` for
/// Docker Hub's official images and the `latest` tag when there is neither tag nor digest.
pub fn normalize(image: &str) -> String {
    let (name, suffix) = split_suffix(image);
    let name = qualify(name);
    match suffix {
        Some(s) => format!("{name}{s}"),
        None => format!("{name}:latest"),
    }
}

/// Split `repo[:tag][@digest]` into the repository and the `:tag`/`@digest` suffix, if any.
fn split_suffix(image: &str) -> (&str, Option<&str>) {
    if let Some(at) = image.find('@') {
        return (&image[..at], Some(&image[at..]));
    }
    // A ':' after the last '/' is a tag; before it, it's a registry port.
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].find(':') {
        Some(c) => (&image[..last_slash + c], Some(&image[last_slash + c..])),
        None => (image, None),
    }
}

fn qualify(repo: &str) -> String {
    match repo.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => repo.to_string(),
        Some(_) => format!("docker.io/{repo}"),
        None => format!("docker.io/library/{repo}"),
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Does one catalogue pattern allow this image?
pub fn pattern_matches(pattern: &str, image: &str) -> bool {
    let image_n = normalize(image);
    if pattern.contains('*') {
        return glob(pattern, &image_n) || glob(pattern, image);
    }
    let (repo, suffix) = split_suffix(pattern);
    match suffix {
        None => {
            let (irepo, _) = split_suffix(&image_n);
            qualify(repo) == irepo
        }
        Some(_) => normalize(pattern) == image_n,
    }
}

/// The catalogue file, cached by modification time.
pub struct Catalogue {
    path: Option<PathBuf>,
    cache: Mutex<(Option<SystemTime>, Vec<String>)>,
}

impl Catalogue {
    /// Without a file every image exists.
    pub fn new(path: Option<&Path>) -> Catalogue {
        Catalogue {
            path: path.map(Path::to_path_buf),
            cache: Mutex::new((None, Vec::new())),
        }
    }

    pub fn has(&self, image: &str) -> bool {
        let Some(path) = &self.path else { return true };
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.0.is_none() || cache.0 != mtime {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), "cannot read the image catalogue: {e}");
                String::new()
            });
            let patterns = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            *cache = (mtime, patterns);
        }
        cache.1.iter().any(|p| pattern_matches(p, image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        // Docker's reference.ParseNormalizedNamed rules (distribution/reference docs).
        assert_eq!(normalize("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalize("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(normalize("bitnami/redis:7.2"), "docker.io/bitnami/redis:7.2");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalize("quay.io/a/b@sha256:00"), "quay.io/a/b@sha256:00");
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("nginx", "nginx:1.25"));
        assert!(pattern_matches("nginx", "docker.io/library/nginx"));
        assert!(!pattern_matches("nginx", "nginx-extra:1"));
        assert!(pattern_matches("nginx:1.25", "docker.io/library/nginx:1.25"));
        assert!(!pattern_matches("nginx:1.25", "nginx:1.26"));
        assert!(pattern_matches("quay.io/*", "quay.io/x/y:1"));
        assert!(!pattern_matches("quay.io/*", "ghcr.io/x/y:1"));
        assert!(pattern_matches("*/busybox:*", "busybox:1.36"));
    }
}
