//! Hand-written OpenAPI 3.0 documents of the Q2T, ThirdParty and P2P APIs, served at `/api`.

use axum::{Router, http::StatusCode, response::Response, routing::get};
use serde_json::{Value, json};

use super::{AppState, json_response};
use crate::{config::AppType, media};

fn components() -> Value {
    json!({
        "schemas": {
            "Key": {"type": "string", "description": "Base64 of a 32-byte public key", "pattern": "^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$", "example": "/+UuD63zItL1EbjxkKUljMgG8Z1w0AJ8pNOR4iq2yQc="},
            "Hash": {"type": "string", "description": "Base64 of a 64-byte SHA3-512 hash", "pattern": "^[A-Za-z0-9+/]{85}[AQgw]==$"},
            "Bytes": {"type": "string", "format": "byte", "description": "Standard base64"},
            "SendRequest": {
                "type": "object", "required": ["payload"],
                "properties": {
                    "payload": {"$ref": "#/components/schemas/Bytes"},
                    "from": {"$ref": "#/components/schemas/Key"},
                    "to": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                    "privacyFlag": {"type": "integer", "format": "int32"},
                    "affectedContractTransactions": {"type": "array", "items": {"$ref": "#/components/schemas/Hash"}},
                    "execHash": {"type": "string"},
                    "privacyGroupId": {"$ref": "#/components/schemas/Bytes"},
                    "mandatoryRecipients": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}}
                }
            },
            "SendSignedRequest": {
                "type": "object", "required": ["hash"],
                "properties": {
                    "hash": {"$ref": "#/components/schemas/Hash"},
                    "to": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                    "privacyFlag": {"type": "integer", "format": "int32"},
                    "affectedContractTransactions": {"type": "array", "items": {"$ref": "#/components/schemas/Hash"}},
                    "execHash": {"type": "string"},
                    "privacyGroupId": {"$ref": "#/components/schemas/Bytes"},
                    "mandatoryRecipients": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}}
                }
            },
            "SendResponse": {
                "type": "object", "required": ["key"],
                "properties": {
                    "key": {"$ref": "#/components/schemas/Hash"},
                    "managedParties": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                    "senderKey": {"$ref": "#/components/schemas/Key"}
                }
            },
            "StoreRawRequest": {
                "type": "object", "required": ["payload"],
                "properties": {"payload": {"$ref": "#/components/schemas/Bytes"}, "from": {"$ref": "#/components/schemas/Key"}}
            },
            "KeyResponse": {"type": "object", "required": ["key"], "properties": {"key": {"$ref": "#/components/schemas/Hash"}}},
            "ReceiveResponse": {
                "type": "object",
                "properties": {
                    "payload": {"$ref": "#/components/schemas/Bytes"},
                    "affectedContractTransactions": {"type": "array", "items": {"$ref": "#/components/schemas/Hash"}},
                    "execHash": {"type": "string"},
                    "privacyFlag": {"type": "integer"},
                    "managedParties": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                    "senderKey": {"$ref": "#/components/schemas/Key"},
                    "privacyGroupId": {"$ref": "#/components/schemas/Bytes"}
                }
            },
            "EncodedPayload": {
                "type": "object",
                "required": ["senderKey", "cipherText", "cipherTextNonce", "recipientNonce", "recipientBoxes"],
                "properties": {
                    "senderKey": {"$ref": "#/components/schemas/Key"},
                    "cipherText": {"$ref": "#/components/schemas/Bytes"},
                    "cipherTextNonce": {"$ref": "#/components/schemas/Bytes"},
                    "recipientNonce": {"$ref": "#/components/schemas/Bytes"},
                    "recipientBoxes": {"type": "array", "items": {"$ref": "#/components/schemas/Bytes"}},
                    "recipientKeys": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                    "privacyMode": {"type": "integer"},
                    "affectedContractTransactions": {"type": "object", "additionalProperties": {"type": "string"}},
                    "execHash": {"$ref": "#/components/schemas/Bytes"},
                    "mandatoryRecipients": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                    "privacyGroupId": {"$ref": "#/components/schemas/Bytes"}
                }
            },
            "DeleteRequest": {"type": "object", "required": ["key"], "properties": {"key": {"$ref": "#/components/schemas/Hash"}}},
            "KeyList": {
                "type": "object",
                "properties": {"keys": {"type": "array", "items": {"type": "object", "properties": {"key": {"$ref": "#/components/schemas/Key"}}}}}
            },
            "ResendRequest": {
                "type": "object", "required": ["type", "publicKey"],
                "properties": {
                    "type": {"type": "string", "enum": ["ALL", "INDIVIDUAL"]},
                    "publicKey": {"$ref": "#/components/schemas/Key"},
                    "key": {"$ref": "#/components/schemas/Hash"}
                }
            },
            "ResendBatchRequest": {
                "type": "object", "required": ["publicKey"],
                "properties": {"publicKey": {"$ref": "#/components/schemas/Key"}, "batchSize": {"type": "integer"}}
            },
            "PushBatchRequest": {
                "type": "object", "required": ["encodedPayloads"],
                "properties": {"encodedPayloads": {"type": "array", "items": {"$ref": "#/components/schemas/Bytes"}}}
            },
            "PartyInfo": {
                "type": "object",
                "properties": {
                    "url": {"type": "string"},
                    "peers": {"type": "array", "items": {"type": "object", "properties": {"url": {"type": "string"}}}},
                    "keys": {"type": "array", "items": {"type": "object", "properties": {"key": {"$ref": "#/components/schemas/Key"}, "url": {"type": "string"}}}}
                }
            }
        }
    })
}

fn text(description: &str) -> Value {
    json!({"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}})
}

fn json_body(schema: &str) -> Value {
    let s = json!({"$ref": format!("#/components/schemas/{schema}")});
    json!({
        "required": true,
        "content": {
            "application/json": {"schema": s},
            "application/vnd.tessera-2.1+json": {"schema": s},
            "application/vnd.tessera-4.0+json": {"schema": s}
        }
    })
}

fn json_ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn errors() -> Value {
    json!({
        "400": text("Malformed input"),
        "403": text("Privacy rule violated or feature disabled"),
        "404": text("Not found (transaction, key or recipient)"),
        "406": text("No acceptable media type"),
        "410": text("A recipient node is offline; nothing stored"),
        "413": text("Body too large"),
        "415": text("Unsupported content type"),
        "502": text("A recipient node rejected the payload; nothing stored"),
        "503": text("Store or enclave unavailable")
    })
}

fn with_errors(mut responses: Value) -> Value {
    if let (Some(map), Value::Object(errs)) = (responses.as_object_mut(), errors()) {
        for (k, v) in errs {
            map.entry(k).or_insert(v);
        }
    }
    responses
}

fn common_paths() -> Value {
    json!({
        "/upcheck": {"get": {"operationId": "upcheck", "responses": {"200": text("I'm up!")}}},
        "/version": {"get": {"operationId": "version", "responses": {"200": text("Distribution version")}}},
        "/version/distribution": {"get": {"operationId": "versionDistribution", "responses": {"200": text("Distribution version")}}},
        "/version/api": {"get": {"operationId": "apiVersions", "responses": {"200": {"description": "Supported API versions", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}}}}
    })
}

fn hash_param() -> Value {
    json!({"name": "hash", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Hash"}})
}

fn q2t_paths() -> Value {
    json!({
        "/send": {"post": {"operationId": "send", "requestBody": json_body("SendRequest"),
            "responses": with_errors(json!({"201": json_ok("Sent", "SendResponse")}))}},
        "/sendsignedtx": {"post": {"operationId": "sendSignedTransaction", "requestBody": json_body("SendSignedRequest"),
            "responses": with_errors(json!({"201": json_ok("Sent", "SendResponse")}))}},
        "/storeraw": {"post": {"operationId": "storeRaw", "requestBody": json_body("StoreRawRequest"),
            "responses": with_errors(json!({"200": json_ok("Stored", "KeyResponse")}))}},
        "/transaction/{hash}": {
            "get": {"operationId": "receive", "parameters": [hash_param(),
                    {"name": "to", "in": "query", "required": false, "schema": {"$ref": "#/components/schemas/Key"}},
                    {"name": "isRaw", "in": "query", "required": false, "schema": {"type": "boolean"}}],
                "responses": with_errors(json!({"200": json_ok("The decrypted transaction", "ReceiveResponse")}))},
            "delete": {"operationId": "deleteTransaction", "parameters": [hash_param()],
                "responses": with_errors(json!({"204": {"description": "Deleted"}}))}
        },
        "/transaction/{hash}/isSender": {"get": {"operationId": "isSender", "parameters": [hash_param()],
            "responses": with_errors(json!({"200": text("true or false")}))}},
        "/transaction/{hash}/participants": {"get": {"operationId": "participants", "parameters": [hash_param()],
            "responses": with_errors(json!({"200": text("Comma-separated keys")}))}},
        "/transaction/{hash}/mandatory": {"get": {"operationId": "mandatoryRecipients", "parameters": [hash_param()],
            "responses": with_errors(json!({"200": text("Comma-separated keys")}))}},
        "/delete": {"post": {"operationId": "deleteLegacy", "requestBody": json_body("DeleteRequest"),
            "responses": with_errors(json!({"200": text("Delete successful")}))}},
        "/encodedpayload/create": {"post": {"operationId": "encodedPayloadCreate", "requestBody": json_body("SendRequest"),
            "responses": with_errors(json!({"200": json_ok("Encrypted, not stored", "EncodedPayload")}))}},
        "/encodedpayload/decrypt": {"post": {"operationId": "encodedPayloadDecrypt", "requestBody": json_body("EncodedPayload"),
            "responses": with_errors(json!({"200": json_ok("Decrypted", "ReceiveResponse")}))}},
        "/groups/{type}": {"get": {"operationId": "groups",
            "parameters": [{"name": "type", "in": "path", "required": true, "schema": {"type": "string", "enum": ["legacy", "pantheon", "resident"]}}],
            "responses": with_errors(json!({"200": {"description": "Privacy groups", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}))}},
        "/sendraw": {"post": {"operationId": "sendRaw",
            "parameters": [{"name": "c11n-from", "in": "header", "required": false, "schema": {"$ref": "#/components/schemas/Key"}},
                           {"name": "c11n-to", "in": "header", "required": false, "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": with_errors(json!({"200": text("Base64 hash")}))}},
        "/receiveraw": {"get": {"operationId": "receiveRaw",
            "parameters": [{"name": "c11n-key", "in": "header", "required": true, "schema": {"$ref": "#/components/schemas/Hash"}},
                           {"name": "c11n-to", "in": "header", "required": false, "schema": {"$ref": "#/components/schemas/Key"}}],
            "responses": with_errors(json!({"200": {"description": "Plaintext", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}))}}
    })
}

fn third_party_paths() -> Value {
    json!({
        "/storeraw": {"post": {"operationId": "storeRaw", "requestBody": json_body("StoreRawRequest"),
            "responses": with_errors(json!({"200": json_ok("Stored", "KeyResponse")}))}},
        "/keys": {"get": {"operationId": "keys", "responses": {"200": json_ok("Local keys", "KeyList")}}},
        "/partyinfo/keys": {"get": {"operationId": "partyInfoKeys", "responses": {"200": json_ok("Every known key", "KeyList")}}}
    })
}

fn p2p_paths() -> Value {
    let octet = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
    json!({
        "/push": {"post": {"operationId": "push", "requestBody": octet, "responses": with_errors(json!({"201": text("Base64 hash")}))}},
        "/partyinfo": {
            "post": {"operationId": "partyInfo", "requestBody": octet,
                "responses": with_errors(json!({"200": {"description": "PartyInfo with this node's URL", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}))},
            "get": {"operationId": "getPartyInfo", "responses": {"200": json_ok("This node's view of the network", "PartyInfo")}}
        },
        "/partyinfo/validate": {"post": {"operationId": "validate", "requestBody": octet, "responses": with_errors(json!({"200": text("The decrypted UUID")}))}},
        "/resend": {"post": {"operationId": "resend",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResendRequest"}}}},
            "responses": with_errors(json!({"200": {"description": "INDIVIDUAL: the encoded payload; ALL: empty", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}))}},
        "/resendBatch": {"post": {"operationId": "resendBatch",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResendBatchRequest"}}}},
            "responses": with_errors(json!({"200": {"description": "Total pushed", "content": {"application/json": {"schema": {"type": "object", "properties": {"total": {"type": "integer"}}}}}}}))}},
        "/pushBatch": {"post": {"operationId": "pushBatch",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushBatchRequest"}}}},
            "responses": with_errors(json!({"200": {"description": "Stored"}}))}}
    })
}

/// The OpenAPI document of one server.
pub fn document(app: AppType) -> Value {
    let mut paths = common_paths();
    let specific = match app {
        AppType::Q2T => q2t_paths(),
        AppType::ThirdParty => third_party_paths(),
        _ => p2p_paths(),
    };
    if let (Some(map), Value::Object(extra)) = (paths.as_object_mut(), specific) {
        map.extend(extra);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": format!("qtm {} API (Tessera-compatible)", app.as_str()), "version": media::DISTRIBUTION_VERSION},
        "paths": paths,
        "components": components()
    })
}

/// `GET /api` serving `document(app)`.
pub fn routes(app: AppType) -> Router<AppState> {
    let doc = document(app);
    Router::new().route(
        "/api",
        get(move || {
            let doc = doc.clone();
            async move { json_response::<Value>(StatusCode::OK, media::JSON, &doc) as Response }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_have_paths() {
        let q2t = document(AppType::Q2T);
        assert!(q2t["paths"]["/send"]["post"].is_object());
        assert!(q2t["paths"]["/transaction/{hash}"]["get"].is_object());
        let p2p = document(AppType::P2P);
        assert!(p2p["paths"]["/push"]["post"].is_object());
        assert!(p2p["paths"]["/send"].is_null());
        assert!(document(AppType::ThirdParty)["paths"]["/keys"]["get"].is_object());
    }
}
