//! GoQuorum quickstart files, read in place.

use std::path::PathBuf;

use qrs_network::{
    Enode, NodeKey, Permissions, load_disallowed_nodes, load_permissioned_nodes, load_static_nodes,
};

fn quickstart() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/goquorum-quickstart"
    ))
}

fn raw_urls(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(quickstart().join("genesis").join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn static_and_permissioned_nodes_roundtrip() {
    for file in ["static-nodes.json", "permissioned-nodes.json"] {
        let path = quickstart().join("genesis").join(file);
        let nodes = if file.starts_with("static") {
            load_static_nodes(&path)
        } else {
            load_permissioned_nodes(&path)
        }
        .unwrap();
        let urls = raw_urls(file);
        assert_eq!(nodes.len(), 8);
        for (node, url) in nodes.iter().zip(&urls) {
            assert_eq!(&node.to_string(), url, "format(parse(url)) == url");
            assert_eq!(node.port, 30303);
            assert_eq!(node.raft_port, Some(53000));
            assert_eq!(node.discport, Some(0));
            assert!(node.host.starts_with("172.16.239."));
            assert_eq!(
                node.multiaddr().unwrap().to_string(),
                format!("/ip4/{}/tcp/30303", node.host)
            );
            assert_eq!(&Enode::parse(url).unwrap(), node);
        }
    }
    let disallowed =
        load_disallowed_nodes(quickstart().join("genesis/disallowed-nodes.json")).unwrap();
    assert!(disallowed.is_empty());
}

#[test]
fn nodekeys_match_pub_files_and_static_nodes() {
    let statics = load_static_nodes(quickstart().join("genesis/static-nodes.json")).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(quickstart().join("nodes")).unwrap() {
        let dir = entry.unwrap().path();
        let key = NodeKey::load(dir.join("nodekey")).unwrap();
        let expected = std::fs::read_to_string(dir.join("nodekey.pub")).unwrap();
        assert_eq!(hex::encode(key.enode_id()), expected.trim(), "{}", dir.display());
        // The node's enode is listed in static-nodes.json, and maps to the same libp2p peer id.
        let listed = statics
            .iter()
            .find(|e| e.id == key.enode_id())
            .expect("node listed in static-nodes.json");
        assert_eq!(listed.peer_id(), key.peer_id());
        assert_eq!(qrs_network::enode_id_of(&key.peer_id()), Some(key.enode_id()));
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn validator_address_is_keccak_of_pubkey() {
    // In the quickstart the QBFT validator list in extraData holds keccak(nodekey pub)[12..],
    // which is also what each node's `address` file holds.
    let genesis =
        std::fs::read_to_string(quickstart().join("genesis/qbft-standard-genesis.json")).unwrap();
    for v in 1..=4 {
        let dir = quickstart().join(format!("nodes/validator{v}"));
        let key = NodeKey::load(dir.join("nodekey")).unwrap();
        let addr = format!("{:x}", key.address());
        assert!(
            genesis.to_lowercase().contains(&addr),
            "validator address {addr} in QBFT extraData"
        );
        let file = std::fs::read_to_string(dir.join("address")).unwrap();
        assert_eq!(file.trim().trim_start_matches("0x").to_lowercase(), addr);
    }
}

#[test]
fn permissions_from_quickstart_files() {
    let genesis = quickstart().join("genesis");
    let perms = Permissions::load(
        genesis.join("permissioned-nodes.json"),
        genesis.join("disallowed-nodes.json"),
    )
    .unwrap();
    for enode in load_static_nodes(genesis.join("static-nodes.json")).unwrap() {
        assert!(perms.is_allowed(&enode.peer_id()));
    }
    assert!(!perms.is_allowed(&NodeKey::generate().peer_id()));
    // Missing allow list: deny all, like GoQuorum.
    let none =
        Permissions::load(genesis.join("no-such-file.json"), genesis.join("disallowed-nodes.json"))
            .unwrap();
    for enode in load_static_nodes(genesis.join("static-nodes.json")).unwrap() {
        assert!(!none.is_allowed(&enode.peer_id()), "a missing allow list admits nobody");
    }
    assert!(!none.is_allowed(&NodeKey::generate().peer_id()));
    // Deny list wins over allow list.
    let all = load_permissioned_nodes(genesis.join("permissioned-nodes.json")).unwrap();
    let perms = Permissions::new(&all, &all[..1]);
    assert!(!perms.is_allowed(&all[0].peer_id()));
    assert!(perms.is_allowed(&all[1].peer_id()));
}

#[test]
fn malformed_lists_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("static-nodes.json");
    std::fs::write(&p, "[\"enode://nothex@1.2.3.4:1\"]").unwrap();
    assert!(load_static_nodes(&p).is_err());
    std::fs::write(&p, "{not json").unwrap();
    assert!(load_static_nodes(&p).is_err());
    assert!(load_static_nodes(dir.path().join("missing.json")).is_err());
}
