//! Helm's release-name rule (`chartutil.ValidateReleaseName`, pkg/chart/v2/util/validate_name.go):
//! a DNS-1123 subdomain of at most 53 bytes, checked by `helm install`/`template` and `upgrade`
//! after the chart and its dependencies are loaded and before they are processed — so a bad name
//! is reported at that point of the pipeline, with the command's own wording.
//!
//! The regular expression is matched by hand (labels split on `.`) rather than with a regex crate:
//! it is one line of Go and the crate would be a new dependency for it.

/// Helm's `maxReleaseNameLen`: 63 for a Kubernetes name, less 10 for what charts append.
pub const MAX_RELEASE_NAME_LEN: usize = 53;

/// Which command checks the name: the wording of the error differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameCheck {
    /// `helm install`/`template`: `release name check failed: release name "X": …`.
    Install(String),
    /// `helm upgrade`: `release name is invalid: X`.
    Upgrade(String),
}

impl NameCheck {
    /// The command's error for an invalid name.
    pub fn check(&self) -> Result<(), String> {
        match self {
            NameCheck::Install(name) => validate_release_name(name)
                .map_err(|e| format!("release name check failed: release name {name:?}: {e}")),
            NameCheck::Upgrade(name) => {
                validate_release_name(name).map_err(|_| format!("release name is invalid: {name}"))
            }
        }
    }
}

/// `ValidateReleaseName`: helm's error text (errMissingName, errInvalidName) for a bad name.
pub fn validate_release_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("no name provided".to_string());
    }
    // ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty() && alnum(&b[0]) && alnum(&b[b.len() - 1]) && b.iter().all(|c| alnum(c) || *c == b'-')
    };
    if name.len() > MAX_RELEASE_NAME_LEN || !name.split('.').all(label_ok) {
        return Err(
            r"invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
                .to_string(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expectations from Go's regexp on helm's pattern (pkg/chart/v2/util/validate_name_test.go
    // cases) and the 53-byte limit.
    #[test]
    fn names() {
        for ok in ["a", "0", "a-b", "a.b", "a-1.b-2.c", &"x".repeat(53)] {
            assert_eq!(validate_release_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "A",
            "a_b",
            "-a",
            "a-",
            ".a",
            "a.",
            "a..b",
            "a.-b",
            "é",
            " a",
            &"x".repeat(54),
        ] {
            assert!(validate_release_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate_release_name("").unwrap_err(), "no name provided");
    }

    #[test]
    fn wording_per_command() {
        assert_eq!(
            NameCheck::Upgrade("A".into()).check().unwrap_err(),
            "release name is invalid: A"
        );
        assert!(NameCheck::Install("A".into())
            .check()
            .unwrap_err()
            .starts_with("release name check failed: release name \"A\": invalid release name, must match regex"));
    }
}
