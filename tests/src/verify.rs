//! Independent checks of what a node reports: a header's hash is the keccak of its RLP (for
//! istanbul/QBFT headers, of the RLP with the committed seals and round left out, as GoQuorum
//! hashes them), an account proof verifies against a state root.

use alloy_primitives::{Address, B256, keccak256};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use alloy_trie::{Nibbles, TrieAccount, proof::verify_proof};
use eyre::{WrapErr, eyre};
use serde_json::Value;

/// Recomputes the hash of a block from the header fields in its JSON (`eth_getBlockByNumber`)
/// and checks it equals the block's `hash` (the istanbul hash for QBFT/IBFT headers, computed by
/// qrs-qbft, which is checked against GoQuorum's own vectors). Returns the hash.
pub fn check_header_hash(block: &Value) -> eyre::Result<B256> {
    let header: alloy_rpc_types_eth::Header = serde_json::from_value(block.clone())
        .wrap_err_with(|| format!("block JSON is not a header: {block}"))?;
    let computed = if header.inner.mix_hash == qrs_qbft::ISTANBUL_DIGEST {
        qrs_qbft::istanbul_block_hash(&header.inner)
    } else {
        header.inner.hash_slow()
    };
    if computed != header.hash {
        return Err(eyre!(
            "block {} reports hash {:#x} but its header hashes to {computed:#x}",
            header.number,
            header.hash
        ));
    }
    Ok(header.hash)
}

/// Verifies an `eth_getProof` answer for `address` against `state_root`: the account's
/// `(nonce, balance, storageHash, codeHash)` are what the proof commits to.
pub fn check_account_proof(
    proof: &EIP1186AccountProofResponse,
    address: Address,
    state_root: B256,
) -> eyre::Result<()> {
    if proof.address != address {
        return Err(eyre!("proof is for {:#x}, not {address:#x}", proof.address));
    }
    let account = TrieAccount {
        nonce: proof.nonce,
        balance: proof.balance,
        storage_root: proof.storage_hash,
        code_hash: proof.code_hash,
    };
    let key = Nibbles::unpack(keccak256(address));
    verify_proof(state_root, key, Some(alloy_rlp::encode(account)), &proof.account_proof)
        .map_err(|e| eyre!("account proof of {address:#x} does not verify against state root {state_root:#x}: {e}"))
}
