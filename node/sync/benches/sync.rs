//! Measures range sync and transaction gossip between two real nodes on loopback:
//!
//! * range sync: a node with `BLOCKS` blocks of `TXS_PER_BLOCK` transfers each; a fresh
//!   follower connects and imports them all (decode, verify, re-execute, commit);
//! * gossip: `GOSSIP_TXS` pre-signed transfers submitted on one node until all are in the other
//!   node's pool (batching, recovery, admission).
//!
//! `cargo bench -p qrs-sync --bench sync` (plain timing, no criterion: each run is seconds long).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Instant};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use qrs_chain::{BuildAttributes, Chain};
use qrs_chainspec::ChainSpec;
use qrs_consensus::NoProofVerifier;
use qrs_network::{Enode, NetworkConfig, NetworkHandle, NodeKey};
use qrs_primitives::RecoveredTx;
use qrs_sync::ChainRequestHandler;
use qrs_txpool::PoolConfig;
use tokio::sync::watch;

const BLOCKS: u64 = 300;
const TXS_PER_BLOCK: u64 = 50;
const GOSSIP_TXS: u64 = 4_000;

fn signers(n: usize) -> Vec<PrivateKeySigner> {
    (1..=n as u64)
        .map(|i| {
            PrivateKeySigner::from_bytes(&alloy_primitives::keccak256(i.to_be_bytes())).unwrap()
        })
        .collect()
}

fn spec(signers: &[PrivateKeySigner]) -> ChainSpec {
    let alloc: Vec<_> = signers.iter().map(|s| (s.address(), U256::from(10u128.pow(24)))).collect();
    ChainSpec::dev(1337, &alloc, 0)
}

fn transfer(s: &PrivateKeySigner, nonce: u64) -> RecoveredTx {
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_limit: 21_000,
        to: TxKind::Call(Address::with_last_byte(0x42)),
        value: U256::from(1),
        ..Default::default()
    };
    let sig = s.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    RecoveredTx::new_unchecked(env, s.address())
}

async fn node(
    dir: &std::path::Path,
    spec: ChainSpec,
    peers: Vec<Enode>,
    shutdown: watch::Receiver<bool>,
) -> (Chain, NetworkHandle) {
    let chain = Chain::open(dir, spec, PoolConfig::default()).unwrap();
    let mut config = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
    config.static_nodes = peers;
    config.request_handler =
        Some(Arc::new(ChainRequestHandler::new(chain.clone(), config.max_response_bytes)));
    let (network, _) = qrs_network::spawn(NodeKey::generate(), config).await.unwrap();
    qrs_sync::spawn(chain.clone(), network.clone(), Arc::new(NoProofVerifier), shutdown);
    (chain, network)
}

async fn wait(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let keys = signers(TXS_PER_BLOCK as usize);
    let (_tx, rx) = watch::channel(false);
    let (source, source_net) = node(&dir.path().join("a"), spec(&keys), vec![], rx.clone()).await;
    for n in 0..BLOCKS {
        for k in &keys {
            source.submit(transfer(k, n)).unwrap();
        }
        let built = source
            .build_block(BuildAttributes { timestamp: 1_700_000_000 + n, ..Default::default() })
            .unwrap();
        source.commit_block(built).unwrap();
    }
    let start = Instant::now();
    let (follower, _net) =
        node(&dir.path().join("b"), spec(&keys), vec![source_net.local_enode()], rx.clone()).await;
    wait(|| follower.head().header.number == BLOCKS).await;
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(follower.head().hash, source.head().hash);
    println!(
        "range sync: {BLOCKS} blocks x {TXS_PER_BLOCK} transfers in {secs:.2} s = {:.0} blocks/s, {:.0} tx/s",
        BLOCKS as f64 / secs,
        (BLOCKS * TXS_PER_BLOCK) as f64 / secs
    );

    // gossip: pre-sign, then submit on the follower and wait for the source's pool
    let per_key = GOSSIP_TXS / TXS_PER_BLOCK;
    let txs: Vec<RecoveredTx> =
        keys.iter().flat_map(|k| (BLOCKS..BLOCKS + per_key).map(move |n| transfer(k, n))).collect();
    let start = Instant::now();
    let f = follower.clone();
    tokio::task::spawn_blocking(move || {
        for tx in txs {
            f.submit(tx).unwrap();
        }
    })
    .await
    .unwrap();
    let total = per_key * TXS_PER_BLOCK;
    wait(|| source.pool().status().0 as u64 == total).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "gossip: {total} transfers submitted on one node and pooled on the other in {secs:.2} s = {:.0} tx/s",
        total as f64 / secs
    );
}
