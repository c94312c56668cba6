//! Helm's record encoding: `base64(gzip(json))` (`pkg/storage/driver/util.go`).
//!
//! Gzip at best compression like Helm; on read, gunzip only when the gzip magic is present,
//! because releases stored before Helm compressed them are plain base64 JSON.

use std::io::{Read, Write};

use base64::Engine;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::Release;

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// Refuse to inflate a record beyond this: a release holding a chart is rarely over a few MiB,
/// and the Secret itself is capped at 1 MiB by the API server.
const MAX_DECODED: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("release record is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("release record is not valid gzip: {0}")]
    Gzip(std::io::Error),
    #[error("release record is larger than {MAX_DECODED} bytes when decompressed")]
    TooLarge,
    #[error("release record is not a valid release: {0}")]
    Json(#[from] serde_json::Error),
}

/// Encode a release as Helm stores it in `data.release` (before the API's own base64).
pub fn encode(rel: &Release) -> Result<String, CodecError> {
    let json = serde_json::to_vec(rel)?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&json).map_err(CodecError::Gzip)?;
    let bytes = gz.finish().map_err(CodecError::Gzip)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decode a release from the text Helm stored in `data.release`.
pub fn decode(data: &str) -> Result<Release, CodecError> {
    let raw = base64::engine::general_purpose::STANDARD.decode(data.trim())?;
    let json = if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(raw.as_slice())
            .take(MAX_DECODED + 1)
            .read_to_end(&mut out)
            .map_err(CodecError::Gzip)?;
        if out.len() as u64 > MAX_DECODED {
            return Err(CodecError::TooLarge);
        }
        out
    } else {
        raw
    };
    Ok(serde_json::from_slice(&json)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as Helm 3.17 writes it (zero `deleted` time, Go's JSON field names), built by hand
    /// from Helm's structs: it must read, and keep unknown fields through a round trip.
    const HELM3_JSON: &str = r#"{"name":"db","info":{"first_deployed":"2026-11-20T10:00:00.123456789+01:00","last_deployed":"2026-11-20T10:00:00.123456789+01:00","deleted":"0001-01-01T00:00:00Z","description":"Install complete","status":"deployed","notes":"hi"},"chart":{"metadata":{"name":"db","version":"1.2.0","appVersion":"8.0","apiVersion":"v2","type":"application"},"lock":null,"templates":[{"name":"templates/sts.yaml","data":"a2luZDogU3RhdGVmdWxTZXQK"}],"values":{"replicas":1},"schema":null,"files":[]},"config":{"replicas":3},"manifest":"---\n# Source: db/templates/sts.yaml\nkind: StatefulSet\n","version":1,"namespace":"prod","future_field":{"x":1}}"#;

    fn helm_encode(json: &str) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(json.as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
    }

    #[test]
    fn reads_a_helm3_record_and_keeps_unknown_fields() {
        let rel = decode(&helm_encode(HELM3_JSON)).unwrap();
        assert_eq!(rel.name, "db");
        assert_eq!(rel.version, 1);
        assert_eq!(rel.status(), super::super::Status::Deployed);
        assert!(rel.info.deleted.is_none(), "Go zero time reads as none");
        assert_eq!(rel.chart_label(), "db-1.2.0");
        assert_eq!(rel.chart.templates[0].bytes(), b"kind: StatefulSet\n");
        let again = decode(&encode(&rel).unwrap()).unwrap();
        assert_eq!(again.extra.get("future_field"), rel.extra.get("future_field"));
        assert_eq!(again.info.first_deployed, rel.info.first_deployed);
        // Zero times are omitted on write (Helm 4 style), which Helm 3 reads as zero.
        let written: serde_json::Value = serde_json::from_str(&serde_json::to_string(&rel).unwrap()).unwrap();
        assert!(written["info"].get("deleted").is_none());
    }

    #[test]
    fn reads_uncompressed_and_helm4_empty_times() {
        let json = HELM3_JSON.replace(r#""deleted":"0001-01-01T00:00:00Z""#, r#""deleted":"""#);
        let plain = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
        let rel = decode(&plain).unwrap();
        assert!(rel.info.deleted.is_none());
        assert!(rel.info.last_deployed.is_some());
    }

    #[test]
    fn bad_records_are_errors_not_panics() {
        assert!(matches!(decode("%%%"), Err(CodecError::Base64(_))));
        let truncated = &helm_encode(HELM3_JSON)[..40];
        assert!(decode(truncated).is_err());
        let not_json = base64::engine::general_purpose::STANDARD.encode(b"{nope");
        assert!(matches!(decode(&not_json), Err(CodecError::Json(_))));
    }
}
