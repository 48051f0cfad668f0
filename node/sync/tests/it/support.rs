//! Test nodes: a real chain (MDBX in a temp dir), a real qrs-network service on 127.0.0.1:0, the
//! sync service, and optionally the dev engine.

use std::{path::Path, sync::Arc, time::Duration};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, eyre};
use qrs_chain::{BuildAttributes, Chain};
use qrs_chainspec::ChainSpec;
use qrs_consensus::{ConsensusEngine, DevEngine, DevMode, NoProofVerifier, SharedVerifier};
use qrs_network::{Enode, NetworkConfig, NetworkEvent, NetworkHandle, NodeKey, PeerId};
use qrs_primitives::RecoveredTx;
use qrs_sync::{ChainRequestHandler, SyncHandle};
use qrs_txpool::PoolConfig;
use tokio::sync::{mpsc, watch};

pub const CHAIN_ID: u64 = 1337;
/// How long any "eventually" condition may take (generous: the CI box is shared).
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn signer() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy_primitives::keccak256(b"qrs-sync test key"))
        .expect("valid key")
}

pub fn spec() -> ChainSpec {
    ChainSpec::dev(CHAIN_ID, &[(signer().address(), U256::from(10u128.pow(24)))], 0)
}

/// A signed transfer of `value` wei from the test key.
pub fn transfer(nonce: u64, value: u64) -> RecoveredTx {
    let s = signer();
    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(Address::with_last_byte(0x42)),
        value: U256::from(value),
        input: Default::default(),
    };
    let sig = s.sign_hash_sync(&tx.signature_hash()).expect("signs");
    let env: TxEnvelope = tx.into_signed(sig).into();
    RecoveredTx::new_unchecked(env, s.address())
}

/// Commits one block on `chain` holding whatever is pending (what an engine would do).
pub fn mine(chain: &Chain) -> eyre::Result<()> {
    let number = chain.head().header.number + 1;
    let built = chain
        .build_block(BuildAttributes { timestamp: 1_700_000_000 + number, ..Default::default() })?;
    chain.commit_block(built)?;
    Ok(())
}

/// Mines `blocks` blocks, one transfer in each, starting at the chain's next nonce.
pub fn mine_transfers(chain: &Chain, blocks: u64) -> eyre::Result<()> {
    for _ in 0..blocks {
        let nonce = chain.head().header.number; // one transfer per block since genesis
        chain.submit(transfer(nonce, 1))?;
        mine(chain)?;
    }
    Ok(())
}

/// Options of one test node.
pub struct NodeOpts {
    pub mining: bool,
    pub static_nodes: Vec<Enode>,
    pub verifier: SharedVerifier,
    pub key: NodeKey,
}

impl NodeOpts {
    pub fn follower(static_nodes: Vec<Enode>) -> Self {
        Self {
            mining: false,
            static_nodes,
            verifier: Arc::new(NoProofVerifier),
            key: NodeKey::generate(),
        }
    }

    pub fn miner() -> Self {
        Self { mining: true, ..Self::follower(Vec::new()) }
    }
}

/// A running node.
pub struct Node {
    pub chain: Chain,
    pub network: NetworkHandle,
    pub sync: SyncHandle,
    pub enode: Enode,
    handler: ChainRequestHandler,
    shutdown: watch::Sender<bool>,
}

impl Node {
    /// Starts a node on the chain in `dir` (created with the test genesis when empty).
    pub async fn start(dir: &Path, opts: NodeOpts) -> eyre::Result<Self> {
        let chain = Chain::open(dir, spec(), PoolConfig::default())?;
        let mut config = NetworkConfig::new("127.0.0.1:0".parse()?);
        config.static_nodes = opts.static_nodes;
        let handler = ChainRequestHandler::new(chain.clone(), config.max_response_bytes);
        config.request_handler = Some(Arc::new(handler.clone()));
        let (network, _addr) = qrs_network::spawn(opts.key, config).await?;
        let (shutdown, rx) = watch::channel(false);
        let sync = qrs_sync::spawn(chain.clone(), network.clone(), opts.verifier, rx.clone());
        if opts.mining {
            let engine = Box::new(DevEngine::new(DevMode::Instant, Address::ZERO));
            tokio::spawn(engine.run(chain.clone(), rx));
        }
        let enode = network.local_enode();
        Ok(Self { chain, network, sync, enode, handler, shutdown })
    }

    /// Stops the node: the sync tasks have ended, the request handler has let go of the chain
    /// and the network is shut down (`peer` saw the disconnect) when this returns.
    pub async fn stop(self, peer: &Node) -> eyre::Result<()> {
        let _ = self.shutdown.send(true);
        self.sync.join().await;
        self.network.shutdown();
        self.handler.close();
        let me = self.peer_id();
        eventually("peer sees the stopped node disconnect", || {
            !peer.network.peers().iter().any(|p| p.peer_id == me)
        })
        .await?;
        Ok(())
    }

    pub fn peer_id(&self) -> PeerId {
        self.enode.peer_id()
    }

    /// (number, hash, state root) of the head.
    pub fn head(&self) -> (u64, alloy_primitives::B256, alloy_primitives::B256) {
        let h = self.chain.head();
        (h.header.number, h.hash, h.header.state_root)
    }
}

/// Polls `cond` every 20 ms until it holds; fails with `what` after [`PATIENCE`].
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) -> eyre::Result<()> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            return Err(eyre!("timed out waiting for: {what}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Waits for a `PeerPenalised` event about `peer` on `events`; returns its reason text.
pub async fn penalised(
    events: &mut mpsc::Receiver<NetworkEvent>,
    peer: PeerId,
) -> eyre::Result<String> {
    let wait = async {
        while let Some(ev) = events.recv().await {
            if let NetworkEvent::PeerPenalised { peer: p, reason, .. } = ev
                && p == peer
            {
                return Ok(format!("{reason:?}"));
            }
        }
        Err(eyre!("event stream ended"))
    };
    tokio::time::timeout(PATIENCE, wait).await.wrap_err("no penalty seen")?
}

/// Asserts every node has the same head (number, hash, state root).
pub fn assert_same_head(nodes: &[&Node]) {
    let first = nodes[0].head();
    for n in nodes {
        assert_eq!(n.head(), first, "heads differ");
    }
}
