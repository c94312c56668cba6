//! Helm's ConfigMap driver (`HELM_DRIVER=configmap`): one ConfigMap per revision, same name and
//! labels as the Secret driver, the payload in `data.release` (see [`crate::release::cfgmap`]),
//! written by [`super::objects::ObjectStore`] as the Secret driver's records are.

use serde_json::Value as Json;

use super::objects::{Format, ObjectStore};
use crate::release::cfgmap;
use crate::release::codec::CodecError;
use crate::release::records::RecordError;
use crate::release::Release;

/// The ConfigMap layout of a record.
pub struct ConfigMaps;

impl Format for ConfigMaps {
    const KIND: &'static str = "ConfigMap";
    const WHAT: &'static str = "release records (ConfigMaps)";

    fn decode(obj: &Json) -> Result<Release, RecordError> {
        cfgmap::from_configmap(obj)
    }

    fn encode(rel: &Release, created_at: Option<i64>, modified_at: Option<i64>) -> Result<Json, CodecError> {
        cfgmap::to_configmap(rel, created_at, modified_at)
    }

    /// helm's Update sets modifiedAt only (createdAt is dropped: observed on helm 4.1.4).
    fn created_on_update(_live: Option<&Json>) -> Option<i64> {
        None
    }
}

/// One namespace's release records, as ConfigMaps.
pub type ConfigMapStore<'a> = ObjectStore<'a, ConfigMaps>;
