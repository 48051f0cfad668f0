//! qtm with `qenclave` as a separate process passes the send/receive tests.

use eyre::Result;

use crate::harness::{
    Node, NodeOptions, generate_keys, receive, send, start_qenclave, wait_for_discovery,
};

#[tokio::test(flavor = "multi_thread")]
async fn send_receive_through_remote_enclaves() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (prefixes, keys) = generate_keys(dir.path(), 1, "remote")?;
    let (enclave_url, _enclave) = start_qenclave(dir.path(), &prefixes).await?;
    let a =
        Node::start(NodeOptions { remote_enclave: Some(enclave_url), ..NodeOptions::default() })
            .await?;
    assert_eq!(a.keys, keys, "qtm serves the remote enclave's keys");
    let b =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    let c =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    wait_for_discovery(&[&a, &b, &c]).await?;

    let hash = send(&a, b"via qenclave", &[b.key()]).await?;
    assert_eq!(receive(&a, &hash).await?.as_deref(), Some(&b"via qenclave"[..]));
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"via qenclave"[..]));
    assert_eq!(receive(&c, &hash).await?, None);
    let back = send(&b, b"to the remote enclave", &[a.key()]).await?;
    assert_eq!(receive(&a, &back).await?.as_deref(), Some(&b"to the remote enclave"[..]));
    Ok(())
}
