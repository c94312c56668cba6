//! A saved plan (`--out plan.json`): everything `apply` needs to execute exactly what was
//! reviewed — the plan (chart and values digests, base revision, matrix verdicts, volume
//! verdicts), the rendered manifests of both sides — and a sha256 fingerprint over all of it, so
//! apply can refuse a plan that was edited after review or made against another revision.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Plan, ReleaseSide};
use crate::manifest::Document;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifests {
    pub from: Vec<Document>,
    pub to: Vec<Document>,
}

/// The file `--out` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub plan: Plan,
    pub manifests: Manifests,
    /// `sha256:<hex>` over the canonical JSON of `plan` and `manifests`.
    pub fingerprint: String,
}

/// Lower-case hex of a sha256 digest (sha2 0.11 output has no LowerHex).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn fingerprint(plan: &Plan, manifests: &Manifests) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        plan: &'a Plan,
        manifests: &'a Manifests,
    }
    let bytes = serde_json::to_vec(&Body { plan, manifests }).unwrap_or_default();
    format!("sha256:{}", sha256_hex(&bytes))
}

impl SavedPlan {
    pub fn new(plan: Plan, old: &ReleaseSide, new: &ReleaseSide) -> SavedPlan {
        let manifests = Manifests {
            from: old.documents.clone(),
            to: new.documents.clone(),
        };
        let fingerprint = fingerprint(&plan, &manifests);
        SavedPlan {
            plan,
            manifests,
            fingerprint,
        }
    }

    /// True when the fingerprint matches the content.
    pub fn verify(&self) -> bool {
        fingerprint(&self.plan, &self.manifests) == self.fingerprint
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
