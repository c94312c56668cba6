//! Helm's Secret driver (the default): one Secret per revision (`sh.helm.release.v1.<name>.v<revision>`,
//! see [`crate::release::records`]), written by [`super::objects::ObjectStore`]. An update keeps
//! the Secret's `createdAt` label.

use serde_json::Value as Json;

use super::objects::{Format, ObjectStore};
use crate::release::codec::CodecError;
use crate::release::records::{self, RecordError};
use crate::release::Release;

/// The Secret layout of a record.
pub struct Secrets;

impl Format for Secrets {
    const KIND: &'static str = "Secret";
    const WHAT: &'static str = "release records";

    fn decode(obj: &Json) -> Result<Release, RecordError> {
        records::from_secret(obj)
    }

    fn encode(rel: &Release, created_at: Option<i64>, modified_at: Option<i64>) -> Result<Json, CodecError> {
        records::to_secret(rel, created_at, modified_at)
    }

    fn created_on_update(live: Option<&Json>) -> Option<i64> {
        live.and_then(|s| s.pointer("/metadata/labels/createdAt"))
            .and_then(Json::as_str)
            .and_then(|v| v.parse::<i64>().ok())
    }
}

/// One namespace's release records, as Secrets.
pub type SecretStore<'a> = ObjectStore<'a, Secrets>;
