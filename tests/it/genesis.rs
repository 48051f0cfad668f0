//! `qnode init` with the GoQuorum quickstart genesis files (read in place), and refusals.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use alloy_primitives::{Address, B256, U256};
use qrs_e2e::{QNode, QNodeOptions, process::run_init, verify::check_header_hash};
use serde_json::{Value, json};

const QUICKSTART_GENESIS_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/goquorum-quickstart/genesis");

fn quickstart_genesis_files() -> eyre::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(QUICKSTART_GENESIS_DIR)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("-genesis.json"))
    });
    files.sort();
    Ok(files)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The genesis hash `qnode init` logs (`... hash=0x<64 hex>`; the log may carry ANSI colours).
fn logged_hash(out: &str) -> eyre::Result<B256> {
    let line =
        out.lines().find(|l| l.contains("successfully wrote genesis state")).ok_or_else(|| {
            eyre::eyre!("init did not log 'successfully wrote genesis state':\n{out}")
        })?;
    let at = line.find("0x").ok_or_else(|| eyre::eyre!("no hash in {line:?}"))?;
    let hex = line.get(at..at + 66).ok_or_else(|| eyre::eyre!("short hash in {line:?}"))?;
    Ok(hex.parse()?)
}

/// A number from a genesis file as geth reads it (`math.HexOrDecimal256`): `0x` hex (any
/// case), otherwise decimal.
fn hex_number(v: &Value) -> eyre::Result<U256> {
    let s = v.as_str().ok_or_else(|| eyre::eyre!("not a string: {v}"))?;
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some("") => Ok(U256::ZERO),
        Some(digits) => Ok(U256::from_str_radix(digits, 16)?),
        None => Ok(U256::from_str_radix(s, 10)?),
    }
}

/// Block 0 as served agrees with the genesis file's header fields and alloc balances.
fn check_block0_matches_file(node: &QNode, genesis: &Value, block0: &Value) -> eyre::Result<()> {
    let rpc = node.rpc()?;
    let num = |k: &str| hex_number(&block0[k]);
    assert_eq!(num("gasLimit")?, hex_number(&genesis["gasLimit"])?, "gasLimit");
    assert_eq!(num("timestamp")?, hex_number(&genesis["timestamp"])?, "timestamp");
    assert_eq!(num("difficulty")?, hex_number(&genesis["difficulty"])?, "difficulty");
    assert_eq!(num("nonce")?, hex_number(&genesis["nonce"])?, "nonce");
    assert_eq!(
        block0["extraData"].as_str().map(str::to_lowercase),
        genesis["extraData"].as_str().map(str::to_lowercase),
        "extraData"
    );
    let mix = genesis.get("mixHash").or_else(|| genesis.get("mixhash")).unwrap_or(&Value::Null);
    assert_eq!(hex_number(&block0["mixHash"])?, hex_number(mix)?, "mixHash");
    let alloc = genesis["alloc"].as_object().ok_or_else(|| eyre::eyre!("genesis without alloc"))?;
    assert!(!alloc.is_empty());
    for (addr, account) in alloc {
        let address: Address = addr.parse()?;
        assert_eq!(
            rpc.balance(address, "0x0")?,
            hex_number(&account["balance"])?,
            "balance of {addr}"
        );
    }
    Ok(())
}

/// Every quickstart genesis is accepted unchanged; the node serves chain id 0x539 and a block 0
/// whose hash is the keccak of its header, is the hash init wrote, and survives a restart.
#[test]
fn quickstart_genesis_files_init_and_serve() -> eyre::Result<()> {
    let files = quickstart_genesis_files()?;
    assert!(
        files.len() >= 6,
        "expected the six quickstart genesis files in {QUICKSTART_GENESIS_DIR}, found {files:?}"
    );
    for file in files {
        let name = file.display();
        let genesis: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let dir = tempfile::tempdir()?;
        let datadir = dir.path().join("node");
        let out = run_init(&datadir, &file)?;
        assert!(out.status.success(), "qnode init {name} failed:\n{}", text(&out));
        let init_hash = logged_hash(&text(&out))?;

        let mut node = QNode::start(QNodeOptions::chain(&datadir))?;
        let rpc = node.rpc()?;
        assert_eq!(rpc.req::<String>("eth_chainId", json!([]))?, "0x539", "{name}");
        assert_eq!(rpc.block_number()?, 0, "{name}");
        let block0 = rpc.block(0, false)?;
        assert_eq!(
            check_header_hash(&block0)?,
            init_hash,
            "{name}: served block 0 is not the block init wrote"
        );
        check_block0_matches_file(&node, &genesis, &block0)?;

        let status = node.terminate()?;
        assert!(status.success(), "{name}: SIGTERM exit {status:?}");
        node.restart()?;
        let again = node.rpc()?.block(0, false)?;
        assert_eq!(again, block0, "{name}: block 0 changed across a restart");
        let by_hash: Value = node.rpc()?.req("eth_getBlockByHash", json!([init_hash, false]))?;
        assert_eq!(by_hash, block0, "{name}");
    }
    Ok(())
}

/// Writes `genesis` to a temp file, runs `qnode init` on a fresh datadir; returns the output and
/// whether the datadir could then be started.
fn init_refused(genesis_text: &str) -> eyre::Result<(Output, PathBuf, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("genesis.json");
    std::fs::write(&file, genesis_text)?;
    let datadir = dir.path().join("node");
    let out = run_init(&datadir, &file)?;
    Ok((out, datadir, dir))
}

fn assert_nothing_written(datadir: &Path) -> eyre::Result<()> {
    assert!(
        !datadir.join("chaindata").exists(),
        "a refused genesis left chain data in {}",
        datadir.display()
    );
    let started = QNode::start(QNodeOptions::chain(datadir));
    assert!(started.is_err(), "a node started on a datadir whose genesis was refused");
    Ok(())
}

#[test]
fn chain_id_1_is_refused() -> eyre::Result<()> {
    let file = Path::new(QUICKSTART_GENESIS_DIR).join("qbft-standard-genesis.json");
    let mut genesis: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    genesis["config"]["chainId"] = json!(1);
    let (out, datadir, _dir) = init_refused(&genesis.to_string())?;
    assert!(!out.status.success(), "chain id 1 accepted:\n{}", text(&out));
    assert!(
        text(&out).contains("Cannot have chain id or network id as 1."),
        "missing GoQuorum's message:\n{}",
        text(&out)
    );
    assert_nothing_written(&datadir)
}

#[test]
fn malformed_genesis_is_refused() -> eyre::Result<()> {
    let file = Path::new(QUICKSTART_GENESIS_DIR).join("qbft-standard-genesis.json");
    let good = std::fs::read_to_string(file)?;
    let cases = [
        ("truncated", good[..good.len() / 2].to_string()),
        ("empty", String::new()),
        ("not an object", "[1, 2, 3]".to_string()),
        ("config of the wrong type", r#"{"config": "yes", "alloc": {}}"#.to_string()),
        ("bad alloc balance", good.replacen("0x130EE8E7179044400000", "lots", 1)),
    ];
    for (what, body) in cases {
        let (out, datadir, _dir) = init_refused(&body)?;
        let output = text(&out);
        assert!(!out.status.success(), "{what}: malformed genesis accepted:\n{output}");
        assert!(output.contains("invalid genesis"), "{what}: no clear error:\n{output}");
        assert!(!output.contains("panicked"), "{what}: qnode panicked:\n{output}");
        assert_nothing_written(&datadir)?;
    }
    Ok(())
}

/// A quickstart chain run with `--mine` makes blocks from raw transactions signed with a key from
/// its alloc, and keeps them across a SIGTERM restart.
#[test]
fn quickstart_chain_mines_and_restarts() -> eyre::Result<()> {
    use qrs_e2e::Wallet;
    let file = Path::new(QUICKSTART_GENESIS_DIR).join("qbft-standard-genesis.json");
    let genesis: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    // The quickstart's first alloc entry carries its private key (for tests only).
    let (addr, account) = genesis["alloc"]
        .as_object()
        .and_then(|a| a.iter().find(|(_, v)| v.get("privateKey").is_some()))
        .ok_or_else(|| eyre::eyre!("no alloc entry with a privateKey"))?;
    let key: B256 = format!("0x{}", account["privateKey"].as_str().unwrap_or_default()).parse()?;
    let wallet = Wallet::from_key(key, 1337)?;
    assert_eq!(wallet.address(), addr.parse::<Address>()?);

    // One node can only make QBFT blocks alone as the only validator: the quickstart genesis
    // with validator1 (its nodekey read in place from the fixtures) as the whole set.
    let validator1 = Path::new(QUICKSTART_GENESIS_DIR).join("../nodes/validator1");
    let v1: Address = std::fs::read_to_string(validator1.join("address"))?.trim().parse()?;
    let mut one = genesis.clone();
    one["extraData"] = serde_json::json!(qrs_e2e::network::qbft_genesis_extra(&[v1]).to_string());
    one["config"]["qbft"]["blockPeriodSeconds"] = serde_json::json!(1);
    let dir = tempfile::tempdir()?;
    let one_file = dir.path().join("genesis-one-validator.json");
    std::fs::write(&one_file, serde_json::to_vec(&one)?)?;
    let datadir = dir.path().join("node");
    let out = run_init(&datadir, &one_file)?;
    assert!(out.status.success(), "{}", text(&out));
    let nodekey = validator1.join("nodekey");
    let mut node = QNode::start(
        QNodeOptions::chain(&datadir).mine().arg("--nodekey").arg(nodekey.display().to_string()),
    )?;
    let rpc = node.rpc()?;
    let to = Address::with_last_byte(0x42);
    let receipt = rpc.send_and_wait(&wallet.transfer(0, to, U256::from(12345))?)?;
    let number = qrs_e2e::rpc::quantity(&receipt["blockNumber"])?;
    assert!(number >= 1);
    let block = rpc.block(number, true)?;
    check_header_hash(&block)?;
    assert!(node.terminate()?.success());
    node.restart()?;
    let rpc = node.rpc()?;
    assert_eq!(rpc.block(number, true)?, block, "mined block changed across a restart");
    assert_eq!(rpc.receipt(serde_json::from_value(receipt["transactionHash"].clone())?)?, receipt);
    assert_eq!(rpc.balance(to, "latest")?, U256::from(12345));
    assert_eq!(rpc.nonce(wallet.address(), "latest")?, 1);
    Ok(())
}
