//! What `qnet init` writes, checked with the loaders that will consume it.

use std::path::Path;

use alloy_primitives::{Address, U256};
use qrs_chainspec::{ChainSpec, ConsensusConfig};
use qrs_keystore::{KeyFile, Keystore, PrivateKey};
use qrs_network::{NodeKey, load_permissioned_nodes, load_static_nodes};
use qrs_qbft::QbftExtra;
use qrs_qnet::{Consensus, NetworkJson, NetworkSpec, Role};
use serde_json::Value;

use crate::common::{free_base, network, network_with, qnet, read};

fn exists(dir: &Path, rel: impl AsRef<Path>) {
    let path = dir.join(rel.as_ref());
    assert!(path.exists(), "missing {}", path.display());
}

#[test]
fn init_binary_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("net");
    let base = free_base(64).to_string();
    let out = qnet(&["init", "--dir", d.to_str().unwrap(), "--base-port", &base, "--lightkdf"]);
    assert!(out.status.success(), "qnet init failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("qbft network (chain id 1337)"), "{stdout}");

    for f in [
        "network.json",
        "genesis.json",
        "static-nodes.json",
        "permissioned-nodes.json",
        "docker-compose.yml",
        "prometheus.yml",
        "Dockerfile",
        "Dockerfile.dockerignore",
    ] {
        exists(&d, f);
    }
    let json = NetworkJson::load(&d).unwrap();
    let names: Vec<_> = json.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "validator1",
            "validator2",
            "validator3",
            "validator4",
            "rpcnode",
            "member1",
            "member2",
            "member3"
        ]
    );
    // `qnet add-node` rewrites prometheus.yml from network.json: the same file for the same nodes.
    assert_eq!(
        qrs_qnet::generate::monitoring::prometheus_yml_for(&json),
        read(&d, "prometheus.yml")
    );
    for n in &json.nodes {
        for f in [
            "nodekey",
            "nodekey.pub",
            "address",
            "accountKeystore",
            "accountPassword",
            "accountPrivateKey",
            "static-nodes.json",
            "permissioned-nodes.json",
            "qnode.flags",
            "start.sh",
            "qnode/genesis.json",
            "chaindata",
        ] {
            exists(&d, Path::new(&n.name).join(f));
        }
        assert_eq!(std::fs::read_dir(d.join(&n.name).join("keystore")).unwrap().count(), 1);
        for f in [
            &n.account_key_file,
            &n.account_keystore_file,
            &n.account_password_file,
            &n.nodekey_file,
            &n.flags_file,
            &n.start_script,
            &n.datadir,
        ] {
            assert!(f.is_relative(), "{} is not relative to D", f.display());
            exists(&d, f);
        }
        match &n.tm {
            Some(tm) => {
                for f in
                    [&tm.public_key_file, &tm.private_key_file, &tm.config_file, &tm.start_script]
                {
                    assert!(f.is_relative());
                    exists(&d, f);
                }
            }
            None => assert!(!d.join(&n.name).join("tm").exists()),
        }
        // the flags name the node's own files and ports, with GoQuorum's flag names
        let flags = n.qnode_args(&d).unwrap();
        let value_of = |flag: &str| {
            let i = flags.iter().position(|f| f == flag).unwrap_or_else(|| panic!("no {flag}"));
            flags[i + 1].clone()
        };
        assert_eq!(value_of("--datadir"), n.name);
        assert_eq!(value_of("--nodekey"), n.nodekey_file.display().to_string());
        assert_eq!(value_of("--port"), n.p2p_port.to_string());
        assert_eq!(format!("http://127.0.0.1:{}", value_of("--http.port")), n.rpc);
        assert_eq!(format!("ws://127.0.0.1:{}", value_of("--ws.port")), n.ws);
        assert_eq!(value_of("--unlock").parse::<Address>().unwrap(), n.account);
        assert_eq!(value_of("--password"), n.account_password_file.display().to_string());
        assert_eq!(value_of("--networkid"), "1337");
        assert!(flags.contains(&"--permissioned".to_owned()));
        assert_eq!(flags.contains(&"--mine".to_owned()), n.role == Role::Validator);
        if n.role == Role::Validator {
            assert_eq!(value_of("--istanbul.blockperiod"), "5");
        }
        match &n.tm {
            Some(tm) => assert_eq!(value_of("--ptm.url"), tm.q2t),
            None => assert!(!flags.contains(&"--ptm.url".to_owned())),
        }
        // the quickstart's metrics and checkpoint flags
        for flag in ["--metrics", "--pprof", "--emitcheckpoints"] {
            assert!(flags.contains(&flag.to_owned()), "no {flag}");
        }
        assert_eq!(value_of("--pprof.addr"), "127.0.0.1");
        let metrics =
            format!("http://127.0.0.1:{}/debug/metrics/prometheus", value_of("--pprof.port"));
        assert_eq!(n.metrics.as_deref(), Some(metrics.as_str()));
        let prometheus = read(&d, "prometheus.yml");
        let target = format!("targets: [\"127.0.0.1:{}\"]", value_of("--pprof.port"));
        assert!(prometheus.contains(&target), "{target} not in prometheus.yml");
        if let Some(tm) = &n.tm {
            let p2p = tm.p2p.trim_start_matches("http://");
            assert!(prometheus.contains(&format!("targets: [\"{p2p}\"]")), "{p2p} not scraped");
        }
        let compose = read(&d, "docker-compose.yml");
        let label = format!("prometheus.io/port: \"{}\"", value_of("--pprof.port"));
        assert!(compose.contains(&label), "{label} not in docker-compose.yml");
        let script = read(&d, &n.start_script);
        assert!(script.starts_with("#!/bin/sh\n") && script.contains("exec \"${QNODE:-qnode}\""));
    }
}

#[test]
fn init_refuses_a_non_empty_dir_unless_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("precious.txt"), "keep me").unwrap();
    let base = free_base(64).to_string();
    let args = |extra: &[&'static str]| {
        let mut a = vec!["init", "--dir", d.to_str().unwrap(), "--base-port", &base, "--lightkdf"];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| qnet(&a.iter().map(String::as_str).collect::<Vec<_>>());

    let out = run(args(&[]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not empty") && err.contains("--force"), "{err}");
    // --force never deletes a directory that is not a qnet network
    let out = run(args(&["--force"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to delete"));
    assert_eq!(std::fs::read_to_string(d.join("precious.txt")).unwrap(), "keep me");

    // an earlier network is replaced with --force (fresh keys)
    std::fs::remove_file(d.join("precious.txt")).unwrap();
    assert!(run(args(&[])).status.success());
    let first = read(d, "validator1/nodekey");
    assert!(!run(args(&[])).status.success(), "second init without --force must fail");
    assert_eq!(read(d, "validator1/nodekey"), first);
    assert!(run(args(&["--force"])).status.success());
    assert_ne!(read(d, "validator1/nodekey"), first);

    // bad options are refused with a message naming the option
    let out = qnet(&["init", "--dir", dir.path().join("x").to_str().unwrap(), "--validators", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--validators"));
    assert!(!dir.path().join("x").join("network.json").exists());
}

#[test]
fn network_json_has_the_issue_shape_and_quickstart_ports() {
    // the default (quickstart) ports: generating does not bind them
    let net = network_with(NetworkSpec::default());
    let v: Value = serde_json::from_str(&read(net.path(), "network.json")).unwrap();
    assert_eq!(v["chainId"], 1337);
    assert_eq!(v["consensus"], "qbft");
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 8);
    for (i, n) in nodes.iter().enumerate() {
        for key in ["name", "role", "rpc", "ws", "account", "accountKeyFile"] {
            assert!(n[key].is_string(), "node {i} lacks {key}: {n}");
        }
        let name = n["name"].as_str().unwrap();
        assert_eq!(n["accountKeyFile"], format!("{name}/accountPrivateKey"));
        let role = n["role"].as_str().unwrap();
        assert!(["validator", "rpcnode", "member"].contains(&role));
        assert_eq!(n.get("tm").is_some(), role == "member", "tm only on members: {n}");
        if i < 4 {
            assert_eq!(role, "validator");
            assert_eq!(n["rpc"], format!("http://127.0.0.1:{}", 21001 + i));
        }
        // the quickstart's metrics port 9545, one per node on the host
        assert_eq!(n["metrics"], format!("http://127.0.0.1:{}/debug/metrics/prometheus", 9545 + i));
    }
    assert_eq!(nodes[4]["name"], "rpcnode");
    assert_eq!(nodes[4]["rpc"], "http://127.0.0.1:8545");
    assert_eq!(nodes[4]["ws"], "ws://127.0.0.1:8546");
    for m in 0..3 {
        let n = &nodes[5 + m];
        assert_eq!(n["name"], format!("member{}", m + 1));
        assert_eq!(n["rpc"], format!("http://127.0.0.1:{}", 20000 + 2 * m));
        assert_eq!(n["ws"], format!("ws://127.0.0.1:{}", 20001 + 2 * m));
        let tm = &n["tm"];
        assert_eq!(tm["thirdParty"], format!("http://127.0.0.1:{}", 9081 + m));
        assert_eq!(tm["q2t"], format!("http://127.0.0.1:{}", 9101 + m));
        assert_eq!(tm["p2p"], format!("http://127.0.0.1:{}", 9001 + m));
        let key = tm["publicKey"].as_str().unwrap();
        assert_eq!(key.len(), 44, "base64 of 32 bytes: {key}");
        assert_eq!(key, read(net.path(), format!("member{}/tm/tm.pub", m + 1)));
    }
    // the typed view round-trips
    assert_eq!(serde_json::to_value(&net.json).unwrap(), v);
}

#[test]
fn qbft_genesis_loads_and_extra_data_names_exactly_the_validators() {
    let net = network(Consensus::Qbft, 4, 1);
    let d = net.path();
    let spec = ChainSpec::from_file(&d.join("genesis.json")).unwrap();
    assert_eq!(spec.chain_id, 1337);
    assert!(spec.is_quorum());
    let ConsensusConfig::Qbft(bft) = spec.consensus() else {
        panic!("not qbft: {:?}", spec.consensus())
    };
    assert_eq!(bft.block_period_seconds(), 5);
    let extra = QbftExtra::decode_extra(&spec.genesis.extra_data).unwrap();
    let mut expected: Vec<Address> = net
        .json
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .map(|n| NodeKey::load(d.join(&n.nodekey_file)).unwrap().address())
        .collect();
    assert_eq!(expected.len(), 4);
    expected.sort();
    assert_eq!(extra.validators, expected);
    assert_eq!((extra.round, extra.vote, extra.committed_seals.len()), (0, None, 0));
    for n in &net.json.nodes {
        assert_eq!(NodeKey::load(d.join(&n.nodekey_file)).unwrap().address(), n.node_address);
        let funded = spec.genesis.alloc.get(&n.account).expect("node account funded");
        assert_eq!(funded.balance, U256::from(10u128.pow(27)));
        // qnode init wrote the same genesis into every datadir
        assert_eq!(read(d, format!("{}/qnode/genesis.json", n.name)), read(d, "genesis.json"));
    }
}

#[test]
fn raft_network_has_raft_ports_ids_and_flags() {
    let net = network(Consensus::Raft, 3, 2);
    let d = net.path();
    let spec = ChainSpec::from_file(&d.join("genesis.json")).unwrap();
    assert_eq!(spec.consensus(), &ConsensusConfig::None, "GoQuorum selects raft with --raft");
    let enodes = load_static_nodes(d.join("static-nodes.json")).unwrap();
    assert_eq!(enodes.len(), 6);
    for (i, n) in net.json.nodes.iter().enumerate() {
        assert_eq!(n.raft_id, Some(i as u64 + 1));
        assert_eq!(enodes[i].raft_port, n.raft_port);
        let flags = read(d, &n.flags_file);
        assert!(flags.contains("--raft\n--raftblocktime\n300\n"), "{flags}");
        assert!(flags.contains(&format!("--raftport\n{}\n", n.raft_port.unwrap())));
        assert!(!flags.contains("--mine"));
    }
    assert!(net.json.raft_block_time_ms == Some(300) && net.json.block_period.is_none());
}

#[test]
fn every_keystore_unlocks_to_its_account_and_private_key_file_matches() {
    let net = network(Consensus::Qbft, 1, 2);
    let d = net.path();
    for n in &net.json.nodes {
        let password = read(d, &n.account_password_file);
        let password = password.strip_suffix('\n').unwrap();
        let file = KeyFile::from_json(&read(d, &n.account_keystore_file)).unwrap();
        assert_eq!(file.decrypt(password).unwrap().address(), n.account);
        let hex_key = read(d, &n.account_key_file);
        let raw = hex::decode(hex_key.strip_prefix("0x").unwrap()).unwrap();
        assert_eq!(PrivateKey::from_slice(&raw).unwrap().address(), n.account);
        // qnode's keystore directory holds the same account and unlocks it
        let keystore = Keystore::open(d.join(&n.datadir).join("keystore")).unwrap();
        assert_eq!(keystore.accounts(), vec![n.account]);
        keystore.unlock(&n.account, password, None).unwrap();
        assert!(keystore.unlock(&n.account, "wrong", None).is_err());
    }
}

#[test]
fn tm_keys_load_and_qtm_configs_parse() {
    let net = network(Consensus::Qbft, 1, 3);
    let d = net.path();
    let members: Vec<_> = net.json.nodes.iter().filter(|n| n.tm.is_some()).collect();
    assert_eq!(members.len(), 3);
    for n in &members {
        let tm = n.tm.as_ref().unwrap();
        let public =
            qrs_enclave::keys::config::read_public_key_file(&d.join(&tm.public_key_file)).unwrap();
        assert_eq!(public.to_base64(), tm.public_key);
        let private =
            qrs_enclave::keys::config::read_private_key_file(&d.join(&tm.private_key_file), None)
                .unwrap();
        assert_eq!(private.public_key(), public);

        let config = qrs_qtm::TesseraConfig::from_file(&d.join(&tm.config_file)).unwrap();
        let addr = |app| config.server(app).unwrap().server_address.clone();
        use qrs_qtm::config::AppType;
        assert_eq!(addr(AppType::ThirdParty), tm.third_party);
        assert_eq!(addr(AppType::Q2T), tm.q2t);
        assert_eq!(addr(AppType::P2P), tm.p2p);
        let mut peers: Vec<_> = config.peer.iter().map(|p| p.url.clone()).collect();
        peers.sort();
        let mut others: Vec<_> = members
            .iter()
            .filter(|o| o.name != n.name)
            .map(|o| o.tm.as_ref().unwrap().p2p.clone())
            .collect();
        others.sort();
        assert_eq!(peers, others);
        // the enclave's key loader reads the keyData paths (relative to D, qtm's cwd)
        let keys = config.keys.clone().unwrap();
        let key_data = &keys["keyData"][0];
        let resolved = serde_json::json!({ "keyData": [{
            "privateKeyPath": d.join(key_data["privateKeyPath"].as_str().unwrap()),
            "publicKeyPath": d.join(key_data["publicKeyPath"].as_str().unwrap()),
        }]});
        let key_config: qrs_enclave::KeyConfiguration = serde_json::from_value(resolved).unwrap();
        let pairs = qrs_enclave::load_key_pairs(&key_config).unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].public.to_base64(), tm.public_key);
    }
}

#[test]
fn static_and_permissioned_nodes_match_the_nodekeys() {
    let net = network(Consensus::Qbft, 4, 3);
    let d = net.path();
    let enodes = load_static_nodes(d.join("static-nodes.json")).unwrap();
    assert_eq!(load_permissioned_nodes(d.join("permissioned-nodes.json")).unwrap(), enodes);
    assert_eq!(enodes.len(), net.json.nodes.len());
    for (enode, n) in enodes.iter().zip(&net.json.nodes) {
        let key = NodeKey::load(d.join(&n.nodekey_file)).unwrap();
        assert_eq!(enode.id, key.enode_id());
        assert_eq!(enode.to_string(), n.enode);
        assert_eq!((enode.host.as_str(), enode.port), ("127.0.0.1", n.p2p_port));
        assert_eq!((enode.discport, enode.raft_port), (Some(0), None));
        assert_eq!(read(d, format!("{}/nodekey.pub", n.name)), hex::encode(key.enode_id()));
        // every datadir has the same lists, where GoQuorum reads them
        assert_eq!(
            load_static_nodes(d.join(&n.datadir).join("static-nodes.json")).unwrap(),
            enodes
        );
        assert_eq!(
            load_permissioned_nodes(d.join(&n.datadir).join("permissioned-nodes.json")).unwrap(),
            enodes
        );
    }
}

#[test]
fn smallest_network_one_validator_no_members() {
    let net = network(Consensus::Qbft, 1, 0);
    let d = net.path();
    let names: Vec<_> = net.json.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["validator1", "rpcnode"]);
    assert!(net.json.nodes.iter().all(|n| n.tm.is_none()));
    let spec = ChainSpec::from_file(&d.join("genesis.json")).unwrap();
    let extra = QbftExtra::decode_extra(&spec.genesis.extra_data).unwrap();
    assert_eq!(extra.validators, vec![net.json.nodes[0].node_address]);
    let compose = read(d, "docker-compose.yml");
    assert!(!compose.contains("qtm") && !compose.contains("depends_on"));
}

#[test]
fn genesis_forks_latest_by_default_or_exactly_the_quickstarts() {
    use qrs_chainspec::Hardfork;
    // default: through Prague from genesis, so solc >= 0.8.20 output (PUSH0, ...) deploys
    let net = network(Consensus::Qbft, 1, 0);
    let spec = ChainSpec::from_file(&net.path().join("genesis.json")).unwrap();
    assert_eq!(spec.hardfork_at(0, 0), Hardfork::Prague);
    // --forks quickstart: Berlin only at block 10,000,000 (GoQuorum's EVM)
    let quickstart = network_with(NetworkSpec {
        validators: 1,
        members: 0,
        ports: qrs_qnet::PortScheme::Compact(free_base(16)),
        forks: qrs_qnet::Forks::Quickstart,
        ..NetworkSpec::default()
    });
    let spec = ChainSpec::from_file(&quickstart.path().join("genesis.json")).unwrap();
    assert!(!spec.is_active(Hardfork::Berlin, 9_999_999, u64::MAX / 2));
    assert!(spec.is_active(Hardfork::Berlin, 10_000_000, 0));
    assert!(!spec.is_active(Hardfork::Shanghai, 10_000_000, u64::MAX / 2));
}
