//! Tessera-format configs for each member's qtm (the quickstart's
//! `tessera-config-template.json`, with loopback URLs and paths relative to the network
//! directory, which is qtm's working directory).

use serde_json::{Value, json};

use crate::layout::{HOST, Layout, NodePlan, TmPorts};

/// `http://127.0.0.1:<port>`.
pub fn url(port: u16) -> String {
    format!("http://{HOST}:{port}")
}

/// The Tessera config of `node`'s TM; its `peer` list holds every other TM's P2P URL.
pub fn tessera_config(layout: &Layout, node: &NodePlan, tm: TmPorts) -> Value {
    let peers: Vec<Value> = layout
        .members()
        .filter(|other| other.name != node.name)
        .filter_map(|other| other.tm)
        .map(|other| json!({ "url": url(other.p2p) }))
        .collect();
    let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    json!({
        "mode": "tessera",
        "useWhiteList": false,
        "jdbc": {
            "username": "sa",
            "password": "",
            "url": node.tm_jdbc_url(),
            "autoCreateTables": true,
        },
        "serverConfigs": [
            {
                "app": "ThirdParty",
                "enabled": true,
                "serverAddress": url(tm.third_party),
                "communicationType": "REST",
            },
            {
                "app": "Q2T",
                "enabled": true,
                "serverAddress": url(tm.q2t),
                "sslConfig": { "tls": "OFF" },
                "communicationType": "REST",
            },
            {
                "app": "P2P",
                "enabled": true,
                "serverAddress": url(tm.p2p),
                "sslConfig": { "tls": "OFF" },
                "communicationType": "REST",
            },
        ],
        "peer": peers,
        "keys": {
            "passwords": [],
            "keyData": [{
                "privateKeyPath": path(node.tm_private_key()),
                "publicKeyPath": path(node.tm_public_key()),
            }],
        },
        "alwaysSendTo": [],
        "bootstrapNode": false,
        "features": {
            "enableRemoteKeyValidation": false,
            "enablePrivacyEnhancements": true,
        },
    })
}
