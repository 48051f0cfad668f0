//! The load: which node each transaction goes through ("lanes") and the transactions, built
//! and (for public load) signed before the clock starts.
//!
//! * Public (`erc20`, `storage`): many fresh sender keys, each sending its transactions in
//!   nonce order through one node (senders spread round-robin over every node), interleaved so
//!   that every batch carries many senders' next nonces.
//! * Private: every member node sends `SimpleStorage.set` to its own private contract,
//!   node-signed (`eth_sendTransaction` with `privateFor` and an explicit nonce), from its
//!   unlocked account.

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::SolCall as _;
use qrs_contracts::bindings::{QrsToken, SimpleStorage};
use serde::Serialize;
use serde_json::json;

use super::{error::BenchError, rpc::Rpc, setup, sign::Signer};
use crate::{layout::Role, network_json::NetworkJson};

/// At most this many transactions per bench sender (the pool keeps 16 pending per account
/// even when full, so senders stay few-nonces-deep).
const PER_SENDER: usize = 16;
/// At most this many bench senders.
const MAX_SENDERS: usize = 4096;
/// Gas limit of a private `set` (the public block counts the declared limit).
const PRIVATE_SET_GAS: u64 = 100_000;

/// What the public load does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// ERC-20 `transfer`s of one token unit to fresh recipients.
    Erc20,
    /// `SimpleStorage.set` calls on one shared contract.
    Storage,
}

/// One transaction, ready to go into a JSON-RPC batch.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Its hash, when signed here (node-signed ones learn it from the answer).
    pub hash: Option<B256>,
    /// The request without `jsonrpc` and `id`: `"method":"...","params":[...]`.
    pub request: String,
}

impl Prepared {
    /// The request as batch entry `id`.
    pub fn with_id(&self, id: usize) -> String {
        format!(r#"{{"jsonrpc":"2.0","id":{id},{}}}"#, self.request)
    }
}

/// The transactions sent through one node, in order.
#[derive(Debug, Clone)]
pub struct Lane {
    /// The node's name.
    pub node: String,
    /// Its HTTP JSON-RPC URL.
    pub url: String,
    /// What it sends.
    pub txs: Vec<Prepared>,
}

/// The whole prepared load.
#[derive(Debug)]
pub struct Load {
    /// One lane per submitting node.
    pub lanes: Vec<Lane>,
    /// Distinct sending accounts.
    pub senders: usize,
    /// The contract(s) the load calls.
    pub contracts: Vec<Address>,
    /// Gas limit per transaction.
    pub gas: u64,
}

impl Load {
    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.lanes.iter().map(|l| l.txs.len()).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The node that deploys for the public load: the first member (whose account the quickstart
/// uses), else the first node.
fn deployer(net: &NetworkJson) -> Result<&crate::network_json::NodeEntry, BenchError> {
    net.nodes
        .iter()
        .find(|n| n.role == Role::Member)
        .or_else(|| net.nodes.first())
        .ok_or_else(|| BenchError::Setup("network.json lists no nodes".into()))
}

/// Public load of `total` transactions over every node: deploys (and funds) through the
/// deployer's key, then signs everything.
pub fn public(
    dir: &std::path::Path,
    net: &NetworkJson,
    rpc: &Rpc,
    kind: WorkloadKind,
    total: usize,
    run_id: &str,
    report: &mut dyn FnMut(&str),
) -> Result<Load, BenchError> {
    let chain_id = net.chain_id;
    let owner_node = deployer(net)?;
    let owner = Signer::from_key_file(&dir.join(&owner_node.account_key_file), chain_id)?;
    let url = owner_node.rpc.as_str();
    let nodes = &net.nodes;
    let senders_n = total.div_ceil(PER_SENDER).clamp(nodes.len(), MAX_SENDERS);
    let per_sender = total.div_ceil(senders_n);
    let senders: Vec<Signer> = (0..senders_n)
        .map(|i| Signer::bench_sender(run_id, i, chain_id))
        .collect::<Result<_, _>>()?;
    let sample_to = Address::from_slice(&keccak256(format!("qnet bench {run_id} probe"))[12..]);
    let (contract, gas) = match kind {
        WorkloadKind::Erc20 => {
            report(&format!("deploying an ERC-20 token from {}", owner_node.name));
            let supply = U256::from(total as u64) * U256::from(2u64);
            let token = setup::deploy_signed(
                rpc,
                url,
                &owner,
                setup::token_code(supply),
                "deploying the ERC-20 token",
            )?;
            report(&format!(
                "token at {token:#x}; giving {senders_n} senders {per_sender} units each"
            ));
            let to: Vec<Address> = senders.iter().map(Signer::address).collect();
            setup::fund_token(rpc, url, &owner, token, &to, U256::from(per_sender as u64))?;
            let input =
                QrsToken::transferCall { to: sample_to, value: U256::from(1u64) }.abi_encode();
            (token, setup::gas_for(rpc, url, to[0], token, &input, 90_000))
        }
        WorkloadKind::Storage => {
            report(&format!("deploying SimpleStorage from {}", owner_node.name));
            let store = setup::deploy_signed(
                rpc,
                url,
                &owner,
                setup::simple_storage_code(),
                "deploying SimpleStorage",
            )?;
            let input = SimpleStorage::setCall { x: U256::from(7u64) }.abi_encode();
            let from = senders[0].address();
            (store, setup::gas_for(rpc, url, from, store, &input, 60_000))
        }
    };
    report(&format!("pre-signing {total} transactions from {senders_n} senders (gas {gas} each)"));
    // per sender, its transactions in nonce order
    let mut left = total;
    let mut per: Vec<Vec<Prepared>> = Vec::with_capacity(senders_n);
    for (i, s) in senders.iter().enumerate() {
        let n = per_sender.min(left);
        left -= n;
        let mut list = Vec::with_capacity(n);
        for nonce in 0..n as u64 {
            let input = match kind {
                WorkloadKind::Erc20 => {
                    let seed = format!("qnet bench {run_id} to {i} {nonce}");
                    let to = Address::from_slice(&keccak256(seed)[12..]);
                    QrsToken::transferCall { to, value: U256::from(1u64) }.abi_encode()
                }
                WorkloadKind::Storage => {
                    let x = U256::from((i as u64) << 32 | (nonce + 2));
                    SimpleStorage::setCall { x }.abi_encode()
                }
            };
            let tx = s.sign(nonce, TxKind::Call(contract), input.into(), gas)?;
            let request = format!(r#""method":"eth_sendRawTransaction","params":["{}"]"#, tx.raw);
            list.push(Prepared { hash: Some(tx.hash), request });
        }
        per.push(list);
    }
    let lanes = nodes
        .iter()
        .enumerate()
        .map(|(l, node)| {
            let mine: Vec<&Vec<Prepared>> = per.iter().skip(l).step_by(nodes.len()).collect();
            Lane { node: node.name.clone(), url: node.rpc.clone(), txs: interleave(&mine) }
        })
        .collect();
    Ok(Load { lanes, senders: senders_n, contracts: vec![contract], gas })
}

/// Every list's first element, then every list's second, ...
fn interleave(lists: &[&Vec<Prepared>]) -> Vec<Prepared> {
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(lists.iter().map(|l| l.len()).sum());
    for n in 0..longest {
        out.extend(lists.iter().filter_map(|l| l.get(n).cloned()));
    }
    out
}

/// Private load of `total` transactions: every member node deploys its own private
/// SimpleStorage for `parties` other members' TMs, then gets `total / members` `set` calls.
pub fn private(
    net: &NetworkJson,
    rpc: &Rpc,
    parties: usize,
    total: usize,
    report: &mut dyn FnMut(&str),
) -> Result<Load, BenchError> {
    let members: Vec<_> = net.nodes.iter().filter(|n| n.tm.is_some()).collect();
    if members.len() < 2 {
        return Err(BenchError::InvalidOption(format!(
            "--private needs at least 2 members with a transaction manager; the network has {}",
            members.len()
        )));
    }
    if parties == 0 || parties >= members.len() {
        return Err(BenchError::InvalidOption(format!(
            "--parties {parties}: each member can send to 1..={} other members",
            members.len() - 1
        )));
    }
    let mut lanes = Vec::with_capacity(members.len());
    let mut contracts = Vec::with_capacity(members.len());
    let mut left = total;
    for (j, m) in members.iter().enumerate() {
        let recipients: Vec<String> = (1..=parties)
            .filter_map(|k| members[(j + k) % members.len()].tm.as_ref())
            .map(|tm| tm.public_key.clone())
            .collect();
        report(&format!("{} deploys a private SimpleStorage for {} part(ies)", m.name, parties));
        let what = format!("deploying a private SimpleStorage from {}", m.name);
        let store = setup::deploy_private(
            rpc,
            &m.rpc,
            m.account,
            setup::simple_storage_code(),
            &recipients,
            &what,
        )?;
        contracts.push(store);
        let first = setup::next_nonce(rpc, &m.rpc, m.account)?;
        let n = left.div_ceil(members.len() - j);
        left -= n;
        let txs = (0..n as u64)
            .map(|k| {
                let input: Bytes =
                    SimpleStorage::setCall { x: U256::from(k + 2) }.abi_encode().into();
                let params = json!([{
                    "from": m.account,
                    "to": store,
                    "data": input,
                    "gas": format!("{PRIVATE_SET_GAS:#x}"),
                    "gasPrice": "0x0",
                    "nonce": format!("{:#x}", first + k),
                    "privateFor": recipients,
                }]);
                Prepared {
                    hash: None,
                    request: format!(r#""method":"eth_sendTransaction","params":{params}"#),
                }
            })
            .collect();
        lanes.push(Lane { node: m.name.clone(), url: m.rpc.clone(), txs });
    }
    Ok(Load { lanes, senders: members.len(), contracts, gas: PRIVATE_SET_GAS })
}

#[cfg(test)]
mod tests {
    use super::{Prepared, interleave};

    fn p(s: &str) -> Prepared {
        Prepared { hash: None, request: s.to_owned() }
    }

    #[test]
    fn interleaving_keeps_each_senders_nonce_order() {
        let a = vec![p("a0"), p("a1"), p("a2")];
        let b = vec![p("b0")];
        let out: Vec<String> = interleave(&[&a, &b]).into_iter().map(|x| x.request).collect();
        assert_eq!(out, ["a0", "b0", "a1", "a2"]);
    }

    #[test]
    fn batch_entries_are_json_rpc_requests() {
        let e = p(r#""method":"eth_chainId","params":[]"#).with_id(7);
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []})
        );
    }
}
