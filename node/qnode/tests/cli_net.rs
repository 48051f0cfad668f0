//! GoQuorum p2p flags and data-directory files: flag parsing, engine selection, nodekey and
//! static-nodes.json / permissioned-nodes.json as geth / GoQuorum read them.

use std::{path::Path, time::Duration};

use clap::Parser;
use eyre::eyre;
use qrs_network::NodeKey;
use qrs_node::{
    ConsensusChoice, NetworkOptions, NodeConfig, NodeHandle, cli::Cli, init_datadir, launch,
};

const QUICKSTART: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/goquorum-quickstart/genesis");
const KEY_HEX: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn config(args: &[&str]) -> eyre::Result<NodeConfig> {
    let cli = Cli::try_parse_from(std::iter::once("qnode").chain(args.iter().copied()))?;
    let datadir = cli.run.datadir.clone().ok_or_else(|| eyre!("no --datadir"))?;
    cli.run.node_config(datadir)
}

#[test]
fn p2p_flags_map_to_network_options() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().to_str().unwrap_or_default();
    let peer = NodeKey::generate();
    let boot =
        format!("enode://{}@127.0.0.1:30305", alloy_primitives::hex::encode(peer.enode_id()));
    let c = config(&[
        "--datadir",
        d,
        "--port",
        "30399",
        "--nodekeyhex",
        KEY_HEX,
        "--maxpeers",
        "7",
        "--permissioned",
        "--nodiscover",
        "--bootnodes",
        &boot,
        "--verbosity",
        "4",
    ])?;
    let net = c.network.ok_or_else(|| eyre!("network off"))?;
    assert_eq!(net.listen.port(), 30399);
    assert_eq!(net.max_peers, 7);
    assert!(net.permissioned);
    assert_eq!(net.extra_static_nodes.len(), 1);
    assert_eq!(net.extra_static_nodes[0].id, peer.enode_id());
    assert_eq!(net.node_key.map(|k| k.enode_id()), Some(NodeKey::from_hex(KEY_HEX)?.enode_id()));

    // defaults: p2p on 30303 with the datadir key; --dev has no p2p unless --port is given
    let c = config(&["--datadir", d])?;
    assert_eq!(c.network.as_ref().map(|n| n.listen.port()), Some(30303));
    assert!(c.network.is_some_and(|n| n.node_key.is_none()));
    assert!(config(&["--dev", "--datadir", d])?.network.is_none());
    assert!(config(&["--dev", "--datadir", d, "--port", "0"])?.network.is_some());

    // a later --port overrides an earlier one (test harnesses append their own)
    let c = config(&["--datadir", d, "--port", "0", "--port", "31000"])?;
    assert_eq!(c.network.map(|n| n.listen.port()), Some(31000));

    // --nodekey FILE, and the two key flags are exclusive
    let file = dir.path().join("key");
    std::fs::write(&file, KEY_HEX)?;
    let f = file.to_str().unwrap_or_default();
    let c = config(&["--datadir", d, "--nodekey", f])?;
    assert!(c.network.is_some_and(|n| n.node_key.is_some()));
    assert!(config(&["--datadir", d, "--nodekey", f, "--nodekeyhex", KEY_HEX]).is_err());
    assert!(config(&["--datadir", d, "--bootnodes", "enode://zz@1.2.3.4:1"]).is_err());
    Ok(())
}

#[test]
fn mine_selects_qbft_on_istanbul_genesis_and_raft_flag_selects_raft() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    for (file, expect_qbft) in [
        ("qbft-standard-genesis.json", true),
        ("istanbul-standard-genesis.json", true),
        ("raft-standard-genesis.json", false),
    ] {
        let datadir = dir.path().join(file);
        init_datadir(&datadir, &Path::new(QUICKSTART).join(file))?;
        let d = datadir.to_str().unwrap_or_default();
        let c = config(&["--datadir", d, "--mine"])?;
        assert_eq!(matches!(c.consensus, ConsensusChoice::Qbft(_)), expect_qbft, "{file}");
        assert!(matches!(config(&["--datadir", d])?.consensus, ConsensusChoice::None));
        assert!(matches!(config(&["--datadir", d, "--raft"])?.consensus, ConsensusChoice::Raft(_)));
    }
    Ok(())
}

async fn start(datadir: &Path, net: NetworkOptions) -> eyre::Result<NodeHandle> {
    let mut c = NodeConfig::dev_test(datadir.to_path_buf());
    c.consensus = ConsensusChoice::None;
    c.http = None;
    c.ws = None;
    c.network = Some(net);
    launch(c).await
}

fn datadir_key_net() -> NetworkOptions {
    NetworkOptions { node_key: None, ..NetworkOptions::local_test() }
}

async fn until(what: &str, cond: impl Fn() -> bool) -> eyre::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            return Err(eyre!("timed out: {what}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// `<datadir>/geth/nodekey` is generated once and reused; `<datadir>/static-nodes.json` is
/// dialled; with `--permissioned`, `<datadir>/permissioned-nodes.json` decides who may connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datadir_nodekey_static_and_permissioned_nodes() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));

    let a = start(&a_dir, datadir_key_net()).await?;
    let a_enode = a.enode().ok_or_else(|| eyre!("no enode"))?;
    let key = NodeKey::load(a_dir.join("geth").join("nodekey"))?;
    assert_eq!(key.enode_id(), a_enode.id, "enode is not the datadir nodekey's");
    a.stop().await?;
    let a = start(&a_dir, datadir_key_net()).await?;
    let a_enode = a.enode().ok_or_else(|| eyre!("no enode"))?;
    assert_eq!(a_enode.id, key.enode_id(), "nodekey changed across restarts");

    // b dials a from its static-nodes.json, a only admits listed nodes
    std::fs::create_dir_all(&b_dir)?;
    std::fs::write(
        b_dir.join("static-nodes.json"),
        serde_json::to_string(&[a_enode.to_string()])?,
    )?;
    let b_key = NodeKey::generate();
    let b_enode =
        format!("enode://{}@127.0.0.1:1", alloy_primitives::hex::encode(b_key.enode_id()));
    a.stop().await?;
    std::fs::write(a_dir.join("permissioned-nodes.json"), "[]")?;
    let permissioned = NetworkOptions {
        listen: a_enode_listen(&a_enode)?,
        permissioned: true,
        ..datadir_key_net()
    };
    let a = start(&a_dir, permissioned.clone()).await?;
    let b = start(&b_dir, NetworkOptions { node_key: Some(b_key), ..NetworkOptions::local_test() })
        .await?;
    // b keeps dialling (every 250 ms at first); a refuses it while it is not listed. A bounded
    // negative check: it can only miss a violation, never fail a correct node.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        a.network.as_ref().map(|n| n.num_connected_peers()),
        Some(0),
        "unlisted peer admitted"
    );
    a.stop().await?;
    std::fs::write(a_dir.join("permissioned-nodes.json"), serde_json::to_string(&[b_enode])?)?;
    let a = start(&a_dir, permissioned).await?;
    until("listed peer connects", || {
        a.network.as_ref().is_some_and(|n| n.num_connected_peers() == 1)
    })
    .await?;
    b.stop().await?;
    a.stop().await?;
    Ok(())
}

/// Same port again, so the peer's static-nodes entry stays valid across restarts.
fn a_enode_listen(e: &qrs_network::Enode) -> eyre::Result<std::net::SocketAddr> {
    Ok(format!("127.0.0.1:{}", e.port).parse()?)
}

/// `--maxpeers`: an inbound peer beyond the limit is dropped; the first one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxpeers_drops_inbound_peers_beyond_the_limit() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let a = start(
        &dir.path().join("a"),
        NetworkOptions { max_peers: 1, ..NetworkOptions::local_test() },
    )
    .await?;
    let a_enode = a.enode().ok_or_else(|| eyre!("no enode"))?;
    let dialer = || NetworkOptions {
        extra_static_nodes: vec![a_enode.clone()],
        ..NetworkOptions::local_test()
    };
    let b = start(&dir.path().join("b"), dialer()).await?;
    let a_net = a.network.clone().ok_or_else(|| eyre!("no network"))?;
    until("first peer admitted", || a_net.num_connected_peers() == 1).await?;
    let c = start(&dir.path().join("c"), dialer()).await?;
    let mut c_events = c.network.as_ref().ok_or_else(|| eyre!("no network"))?.events();
    // c re-dials with backoff; each time a drops it again
    let dropped = async {
        while let Some(ev) = c_events.recv().await {
            if let qrs_network::NetworkEvent::PeerDisconnected(p) = ev
                && p == a_enode.peer_id()
            {
                return true;
            }
        }
        false
    };
    assert!(tokio::time::timeout(Duration::from_secs(60), dropped).await?, "c was never dropped");
    let peers = a_net.peers();
    assert_eq!(peers.len(), 1);
    assert_eq!(Some(peers[0].peer_id), b.enode().map(|e| e.peer_id()));
    c.stop().await?;
    b.stop().await?;
    a.stop().await?;
    Ok(())
}
