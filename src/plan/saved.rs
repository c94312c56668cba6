//! A saved plan (`--out plan.json`): everything `apply` needs to execute exactly what was
//! reviewed — the plan (chart and values digests, base revision, matrix verdicts, volume
//! verdicts), the rendered manifests of both sides, the migration scripts of the path — and a
//! sha256 fingerprint over all of it, so apply can refuse a plan that was edited after review or
//! made against another revision.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Plan, ReleaseSide};
use crate::manifest::Document;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifests {
    pub from: Vec<Document>,
    pub to: Vec<Document>,
    /// An install's CustomResourceDefinitions from the charts' `crds/` directories: created before
    /// anything else where none of that name exists, never updated or deleted (helm install's
    /// rule; an upgrade leaves them alone). Absent from plans made before they travelled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crds: Vec<Document>,
}

/// The file `--out` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub plan: Plan,
    pub manifests: Manifests,
    /// The migration scripts the matrix names for the path's hops, by their path relative to the
    /// matrix file's directory: apply runs what was reviewed, not what the working tree holds later.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scripts: BTreeMap<String, String>,
    /// When planned against a cluster: each live object's version (`generation:N` or
    /// `resourceVersion:N`, `absent`) by object key, so apply can refuse a plan whose objects
    /// changed since planning. (Added by the apply work.)
    #[serde(rename = "liveVersions", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub live_versions: BTreeMap<String, String>,
    /// The user-supplied values of the new side (Helm's release `config`, which `helm get values`
    /// prints and `--reuse-values` reuses), when known. (Added by the apply work.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// The new chart as Helm's release record stores it (`chart`: metadata, values, templates),
    /// when known, so `helm upgrade --reuse-values` and `helm get` work on chartup's revisions.
    /// (Added by the apply work.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<serde_json::Value>,
    /// `sha256:<hex>` over the canonical JSON of `plan`, `manifests`, `scripts`, `live_versions`
    /// and `config`.
    pub fingerprint: String,
    /// An Ed25519 signature over the fingerprint (`plan --sign-key`), checked by
    /// `apply --verify-key`; not part of the fingerprint (see the sign module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<PlanSignature>,
}

/// Lower-case hex of a sha256 digest (sha2 0.11 output has no LowerHex).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn fingerprint(
    plan: &Plan,
    manifests: &Manifests,
    scripts: &BTreeMap<String, String>,
    live_versions: &BTreeMap<String, String>,
    config: Option<&serde_json::Value>,
    chart: Option<&serde_json::Value>,
) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        plan: &'a Plan,
        manifests: &'a Manifests,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        scripts: &'a BTreeMap<String, String>,
        #[serde(rename = "liveVersions", skip_serializing_if = "BTreeMap::is_empty")]
        live_versions: &'a BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        config: Option<&'a serde_json::Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        chart: Option<&'a serde_json::Value>,
    }
    let bytes = serde_json::to_vec(&Body {
        plan,
        manifests,
        scripts,
        live_versions,
        config,
        chart,
    })
    .unwrap_or_default();
    format!("sha256:{}", sha256_hex(&bytes))
}

impl SavedPlan {
    /// Reviewed means applied: each side whose chart came from a repository or registry was
    /// rendered from exactly the archive its recorded source names (the digests agree).
    pub fn check_sources(&self) -> Result<(), String> {
        for (side, info) in [("from", &self.plan.from), ("to", &self.plan.to)] {
            if let (Some(src), Some(rendered)) = (&info.source, &info.chart_digest) {
                if &src.digest != rendered {
                    return Err(format!(
                        "the {side} side was rendered from {rendered}, but its source {} {} is {}",
                        src.reference, src.version, src.digest
                    ));
                }
            }
        }
        Ok(())
    }

    /// Save a plan; migration scripts are read from beside the matrix file.
    pub fn new(plan: Plan, old: &ReleaseSide, new: &ReleaseSide) -> Result<SavedPlan, String> {
        let manifests = Manifests {
            from: old.documents.clone(),
            to: new.documents.clone(),
            crds: Vec::new(),
        };
        let mut scripts = BTreeMap::new();
        if let Some(m) = &plan.matrix {
            let dir = Path::new(&m.file).parent().unwrap_or(Path::new("."));
            for mg in m.hops.iter().flat_map(|h| h.migrations.iter()) {
                // Down scripts travel too: the release record keeps them for `chartup rollback`.
                for path in std::iter::once(&mg.path).chain(mg.down.as_ref()) {
                    let file = dir.join(path);
                    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                    scripts.insert(path.clone(), text);
                }
            }
        }
        let fingerprint = fingerprint(&plan, &manifests, &scripts, &BTreeMap::new(), None, None);
        Ok(SavedPlan {
            plan,
            manifests,
            scripts,
            live_versions: BTreeMap::new(),
            config: None,
            chart: None,
            fingerprint,
            signature: None,
        })
    }

    /// Record the live objects' versions (planning against a cluster) and re-seal the plan.
    pub fn with_live_versions(mut self, live_versions: BTreeMap<String, String>) -> SavedPlan {
        self.live_versions = live_versions;
        self.reseal();
        self
    }

    /// Recompute the fingerprint after an edit made while saving (not after review).
    pub fn reseal(&mut self) {
        // A signature covers the old fingerprint: it must be made again.
        self.signature = None;
        self.fingerprint = fingerprint(
            &self.plan,
            &self.manifests,
            &self.scripts,
            &self.live_versions,
            self.config.as_ref(),
            self.chart.as_ref(),
        );
    }

    /// True when the fingerprint matches the content.
    pub fn verify(&self) -> bool {
        fingerprint(
            &self.plan,
            &self.manifests,
            &self.scripts,
            &self.live_versions,
            self.config.as_ref(),
            self.chart.as_ref(),
        ) == self.fingerprint
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub fn from_json(text: &str) -> Result<SavedPlan, String> {
        let p: SavedPlan = serde_json::from_str(text).map_err(|e| format!("not a saved chartup plan: {e}"))?;
        if p.plan.schema != super::SCHEMA {
            return Err(format!("plan schema {} is not {}", p.plan.schema, super::SCHEMA));
        }
        Ok(p)
    }
}

/// A saved plan's signature (`signature` in plan.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSignature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// `sha256:` of the signer's public key (SPKI DER), to tell keys apart in errors.
    pub key_id: String,
    /// Base64 of the 64-byte Ed25519 signature over the signing domain (`plan::sign::DOMAIN`) + fingerprint.
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{self, PlanOptions, ReleaseSide};
    use crate::source::SourceRecord;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n";

    fn saved_with(digest_rendered: &str, digest_source: &str) -> SavedPlan {
        let side = |o: &str| ReleaseSide::new(o, crate::manifest::split_documents(CM), "ns").expect("a valid side");
        let (a, b) = (side("old"), side("new"));
        let opts = PlanOptions {
            release: "r".into(),
            namespace: "ns".into(),
            ..Default::default()
        };
        let mut p = plan::build(&a, &b, None, &opts);
        p.to.chart_digest = Some(digest_rendered.into());
        p.to.source = Some(SourceRecord {
            reference: "demo/demo".into(),
            version: "1.1.0".into(),
            digest: digest_source.into(),
        });
        SavedPlan::new(p, &a, &b).expect("a saveable plan")
    }

    #[test]
    fn a_side_rendered_from_another_archive_than_its_source_is_refused() {
        assert_eq!(saved_with("sha256:aa", "sha256:aa").check_sources(), Ok(()));
        let e = saved_with("sha256:aa", "sha256:bb").check_sources().unwrap_err();
        assert!(
            e.contains("the to side was rendered from sha256:aa") && e.contains("demo/demo 1.1.0 is sha256:bb"),
            "{e}"
        );
    }
}
