//! Media types, API versions and the `tesseraSupportedApiVersions` header.

use axum::http::{HeaderMap, header};

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/vnd.tessera-2.1+json` (multi-tenancy).
pub const JSON_2_1: &str = "application/vnd.tessera-2.1+json";
/// `application/vnd.tessera-3.0+json` (privacy groups / MPS).
pub const JSON_3_0: &str = "application/vnd.tessera-3.0+json";
/// `application/vnd.tessera-4.0+json` (mandatory recipients).
pub const JSON_4_0: &str = "application/vnd.tessera-4.0+json";
/// `application/octet-stream`.
pub const OCTET: &str = "application/octet-stream";
/// `text/plain`.
pub const TEXT: &str = "text/plain";

/// The P2P capability header.
pub const API_VERSION_HEADER: &str = "tesseraSupportedApiVersions";

/// Raw version strings advertised to peers (Tessera `ApiVersion.versions()` without CBOR `5.0`).
pub const RAW_API_VERSIONS: [&str; 5] = ["v1", "v2", "2.1", "3.0", "4.0"];

/// Versions shown by `GET /version/api`.
pub const DISPLAY_API_VERSIONS: [&str; 5] = ["1.0", "2.0", "2.1", "3.0", "4.0"];

/// The distribution version shown by `GET /version` (Tessera-style so GoQuorum parses it).
pub const DISTRIBUTION_VERSION: &str = "24.4.2";

/// The JSON dialect a Q2T request uses; it decides which response fields are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JsonFlavor {
    /// Plain `application/json` (Tessera `TransactionResource`).
    Plain,
    /// `vnd.tessera-2.1+json`.
    V2_1,
    /// `vnd.tessera-3.0+json`.
    V3,
    /// `vnd.tessera-4.0+json`.
    V4,
}

impl JsonFlavor {
    /// The media type string.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Plain => JSON,
            Self::V2_1 => JSON_2_1,
            Self::V3 => JSON_3_0,
            Self::V4 => JSON_4_0,
        }
    }

    /// Parses a media type, ignoring parameters such as `charset`.
    pub fn parse(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.as_str() {
            JSON => Some(Self::Plain),
            JSON_2_1 => Some(Self::V2_1),
            JSON_3_0 => Some(Self::V3),
            JSON_4_0 => Some(Self::V4),
            _ => None,
        }
    }

    /// Responses carry `senderKey` and `managedParties`.
    pub fn is_enhanced(self) -> bool {
        self != Self::Plain
    }
}

/// The request `Content-Type` essence in lower case, if present.
pub fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// The flavor named by `Accept`: the highest Tessera JSON type listed, plain JSON for `*/*`
/// or no header, `None` when only other types are acceptable.
pub fn accepted_flavor(headers: &HeaderMap) -> Option<JsonFlavor> {
    let mut any = false;
    let mut best: Option<JsonFlavor> = None;
    let mut seen = false;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            seen = true;
            let essence = item.split(';').next().unwrap_or_default().trim();
            if essence == "*/*" || essence == "application/*" {
                any = true;
            } else if let Some(flavor) = JsonFlavor::parse(essence) {
                best = best.max(Some(flavor));
            }
        }
    }
    match (best, any || !seen) {
        (Some(flavor), _) => Some(flavor),
        (None, true) => Some(JsonFlavor::Plain),
        (None, false) => None,
    }
}

/// The comma-joined raw version list for the capability header.
pub fn api_version_header_value() -> String {
    RAW_API_VERSIONS.join(",")
}

/// Parses every `tesseraSupportedApiVersions` header value (comma separated, any case of name).
pub fn peer_versions(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(API_VERSION_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(accepted_flavor(&h), Some(JsonFlavor::Plain));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/vnd.tessera-2.1+json"));
        assert_eq!(accepted_flavor(&h), Some(JsonFlavor::V2_1));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        assert_eq!(accepted_flavor(&h), None);
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html, */*;q=0.1"));
        assert_eq!(accepted_flavor(&h), Some(JsonFlavor::Plain));
    }

    #[test]
    fn versions_header() {
        let mut h = HeaderMap::new();
        h.insert(API_VERSION_HEADER, HeaderValue::from_static("v1,v2, 2.1"));
        h.append(API_VERSION_HEADER, HeaderValue::from_static("4.0"));
        assert_eq!(peer_versions(&h), vec!["v1", "v2", "2.1", "4.0"]);
        assert_eq!(api_version_header_value(), "v1,v2,2.1,3.0,4.0");
        assert_eq!(JsonFlavor::parse("Application/JSON; charset=utf-8"), Some(JsonFlavor::Plain));
    }
}
