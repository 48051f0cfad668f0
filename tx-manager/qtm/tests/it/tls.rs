//! Mutual TLS on P2P with CA-verified certificates generated in the test (rcgen).

use std::path::Path;

use eyre::Result;
use qrs_qtm::config::SslConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use serde_json::json;

use crate::harness::{Node, NodeOptions, receive, send, wait_for_discovery};

struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn make_pki(dir: &Path, name: &str) -> Result<Pki> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, format!("{name} CA"));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()])?;
    leaf.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse()?));
    leaf.distinguished_name.push(DnType::CommonName, format!("{name} node"));
    leaf.extended_key_usages =
        vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let leaf_key = KeyPair::generate()?;
    let cert = leaf.signed_by(&leaf_key, &ca, &ca_key)?;
    let write = |file: &str, pem: String| -> Result<String> {
        let path = dir.join(format!("{name}-{file}"));
        std::fs::write(&path, pem)?;
        Ok(path.display().to_string())
    };
    Ok(Pki {
        ca: write("ca.pem", ca.pem())?,
        cert: write("cert.pem", cert.pem())?,
        key: write("key.pem", leaf_key.serialize_pem())?,
    })
}

fn ssl_json(pki: &Pki) -> serde_json::Value {
    json!({"sslConfig": {
        "tls": "STRICT",
        "serverTrustMode": "CA", "clientTrustMode": "CA",
        "serverTlsKeyPath": pki.key, "serverTlsCertificatePath": pki.cert, "serverTrustCertificates": [pki.ca],
        "clientTlsKeyPath": pki.key, "clientTlsCertificatePath": pki.cert, "clientTrustCertificates": [pki.ca]
    }})
}

fn ssl(pki: &Pki, with_client_cert: bool) -> SslConfig {
    SslConfig {
        client_trust_certificates: vec![pki.ca.clone()],
        client_tls_certificate_path: with_client_cert.then(|| pki.cert.clone()),
        client_tls_key_path: with_client_cert.then(|| pki.key.clone()),
        ..SslConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn p2p_over_mutual_tls() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = make_pki(dir.path(), "net")?;
    let tls =
        NodeOptions { https: true, p2p_extra: Some(ssl_json(&pki)), ..NodeOptions::default() };
    let a = Node::start(tls.clone()).await?;
    assert!(a.p2p.starts_with("https://"), "{}", a.p2p);
    let b = Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..tls }).await?;
    wait_for_discovery(&[&a, &b]).await?;
    let hash = send(&a, b"over TLS", &[b.key()]).await?;
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"over TLS"[..]));

    // A client with the CA and a client certificate gets in.
    let trusted = reqwest::Client::builder()
        .use_preconfigured_tls(qrs_qtm::tls::client_config(&ssl(&pki, true))?)
        .build()?;
    let resp = trusted.get(format!("{}/upcheck", b.p2p)).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers().contains_key("tesseraSupportedApiVersions"));

    // Without a client certificate, or with one from another CA, the handshake fails.
    let anonymous = reqwest::Client::builder()
        .use_preconfigured_tls(qrs_qtm::tls::client_config(&ssl(&pki, false))?)
        .build()?;
    assert!(anonymous.get(format!("{}/upcheck", b.p2p)).send().await.is_err());
    let other = make_pki(dir.path(), "other")?;
    let stranger_cfg = SslConfig {
        client_trust_certificates: vec![pki.ca.clone()],
        client_tls_certificate_path: Some(other.cert.clone()),
        client_tls_key_path: Some(other.key.clone()),
        ..SslConfig::default()
    };
    let stranger = reqwest::Client::builder()
        .use_preconfigured_tls(qrs_qtm::tls::client_config(&stranger_cfg)?)
        .build()?;
    assert!(stranger.get(format!("{}/upcheck", b.p2p)).send().await.is_err());
    // Plain HTTP on the TLS port does not work either.
    let plain = b.p2p.replace("https://", "http://");
    let plain_result = reqwest::Client::new().get(format!("{plain}/upcheck")).send().await;
    assert!(plain_result.map(|r| r.status().as_u16() != 200).unwrap_or(true));
    Ok(())
}
