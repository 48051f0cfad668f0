//! Shared state of the RPC methods.

use std::sync::Arc;

use alloy_primitives::B256;
use qrs_chain::Chain;
use qrs_keystore::Keystore;
use qrs_storage::{ReadTx, StoredBlock};

use crate::{
    error::{RpcError, RpcResult},
    filters::Filters,
    params::BlockSel,
};

/// Static facts about the node for `admin_nodeInfo`, `web3_clientVersion`, `net_*`.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    /// `web3_clientVersion`.
    pub client_version: String,
    /// Node name.
    pub name: String,
    /// `enode://...` URL, if networking runs.
    pub enode: String,
    /// Node id (hex public key).
    pub id: String,
    /// Listening address.
    pub listen_addr: String,
    /// Data directory.
    pub datadir: String,
    /// Network id for `net_version`.
    pub network_id: u64,
}

/// What every method can reach.
#[derive(Debug)]
pub struct RpcContext {
    /// The chain.
    pub chain: Chain,
    /// Accounts of the node (`eth_accounts`, `eth_sendTransaction`, `personal_*`).
    pub keystore: Option<Arc<Keystore>>,
    /// Installed filters.
    pub filters: Filters,
    /// Node facts.
    pub node: NodeInfo,
    /// Gas cap of `eth_call` and `eth_estimateGas` (geth's `--rpc.gascap`, 50,000,000).
    pub gas_cap: u64,
    /// The private transaction manager (`--ptm.url`, `--ptm.socket`, `PRIVATE_CONFIG`).
    pub ptm: Option<qrs_ptm::PtmClient>,
    /// The p2p network (`admin_peers`, `admin_addPeer`, `net_peerCount`, ...), when it runs.
    pub network: Option<qrs_network::NetworkHandle>,
    /// Block sync progress (`eth_syncing`), when the network runs.
    pub sync: Option<qrs_sync::SyncHandle>,
    /// The QBFT engine, when it runs (`istanbul_*`).
    pub qbft: Option<qrs_consensus::qbft::QbftHandle>,
    /// The Raft engine, when it runs (`raft_*`).
    pub raft: Option<qrs_consensus::raft::RaftHandle>,
    /// `--privacymarker.enable`: node-signed private transactions are sent as privacy marker
    /// transactions.
    pub privacy_marker: bool,
}

impl RpcContext {
    /// A new context.
    pub fn new(chain: Chain, keystore: Option<Arc<Keystore>>, node: NodeInfo) -> Self {
        Self {
            chain,
            keystore,
            filters: Filters::default(),
            node,
            gas_cap: 50_000_000,
            ptm: None,
            network: None,
            sync: None,
            qbft: None,
            raft: None,
            privacy_marker: false,
        }
    }

    /// The block number a selector names (`None` if it names an unknown hash).
    pub fn resolve(&self, reader: &ReadTx, sel: BlockSel) -> RpcResult<Option<u64>> {
        let head = reader.head_number()?.unwrap_or_default();
        Ok(match sel {
            BlockSel::Latest | BlockSel::Pending => Some(head),
            BlockSel::Earliest => Some(0),
            BlockSel::Number(n) => (n <= head).then_some(n),
            BlockSel::Hash(h) => reader.block_number(&h)?,
        })
    }

    /// Like [`RpcContext::resolve`], but a missing block is geth's `header not found`.
    pub fn resolve_existing(&self, reader: &ReadTx, sel: BlockSel) -> RpcResult<u64> {
        self.resolve(reader, sel)?.ok_or(RpcError::HeaderNotFound)
    }

    /// A block by number.
    pub fn block(&self, reader: &ReadTx, number: u64) -> RpcResult<Option<StoredBlock>> {
        Ok(reader.block(number)?)
    }

    /// Where a transaction was mined: (block, index).
    pub fn mined_tx(
        &self,
        reader: &ReadTx,
        hash: &B256,
    ) -> RpcResult<Option<(StoredBlock, usize)>> {
        let Some(loc) = reader.tx_location(hash)? else { return Ok(None) };
        let Some(block) = reader.block(loc.block_number)? else { return Ok(None) };
        Ok(Some((block, loc.index as usize)))
    }

    /// The keystore, or geth's error when the node has none.
    pub fn keystore(&self) -> RpcResult<&Arc<Keystore>> {
        self.keystore.as_ref().ok_or_else(|| RpcError::Rejected("no keystore configured".into()))
    }

    /// True when no fee is charged at the next block.
    pub fn free_gas(&self) -> bool {
        let next = self.chain.head().header.number.saturating_add(1);
        !self.chain.spec().gas_price_enabled_at(next)
    }
}
