//! [`PoolError`]: why a transaction was refused. `Display` is geth/GoQuorum's exact message,
//! because clients (ethers, web3, wallets) match on those strings.

use alloy_primitives::{B256, U256};

/// A transaction refused by the pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The same transaction (same hash) is already in the pool.
    #[error("already known")]
    AlreadyKnown {
        /// Hash of the transaction.
        hash: B256,
    },
    /// The nonce is below the sender's account nonce.
    #[error("nonce too low")]
    NonceTooLow {
        /// Nonce of the transaction.
        tx_nonce: u64,
        /// The sender's nonce in the head state.
        state_nonce: u64,
    },
    /// The nonce is `2^64 - 1` (EIP-2681).
    #[error("nonce has max value")]
    NonceMax,
    /// The sender cannot pay `value` (+ `gas * price` when gas is paid).
    #[error("insufficient funds for gas * price + value")]
    InsufficientFunds {
        /// Balance of the sender.
        balance: U256,
        /// What the transaction may cost.
        cost: U256,
    },
    /// A legacy/EIP-2930 transaction with a non-zero gas price on a free-gas chain (GoQuorum).
    #[error("Gas price not 0")]
    GasPriceNotZero {
        /// The transaction's gas price.
        gas_price: u128,
    },
    /// The transaction type is not active at the head (or never supported, e.g. blob transactions).
    #[error("transaction type not supported")]
    TxTypeNotSupported {
        /// EIP-2718 type byte.
        ty: u8,
    },
    /// A legacy transaction without EIP-155 chain id while unprotected transactions are refused.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    UnprotectedTx,
    /// The transaction is signed for another chain (modern geth's exact text: `invalid sender`
    /// wrapping `invalid chain id for signer: have X want Y`; GoQuorum 1.10 said only
    /// `invalid sender`).
    #[error("invalid sender: invalid chain id for signer: have {got} want {expected}")]
    InvalidChainId {
        /// The chain id of this node.
        expected: u64,
        /// The chain id in the transaction.
        got: u64,
    },
    /// `maxFeePerGas` (or legacy gas price) below the block base fee (only when gas is paid).
    #[error("max fee per gas less than block base fee")]
    FeeCapBelowBaseFee {
        /// The transaction's fee cap.
        max_fee_per_gas: u128,
        /// The next block's base fee.
        base_fee: u64,
    },
    /// `maxPriorityFeePerGas > maxFeePerGas`.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap {
        /// The priority fee (tip).
        max_priority_fee_per_gas: u128,
        /// The fee cap.
        max_fee_per_gas: u128,
    },
    /// A transaction with the same sender and nonce exists and the new one does not bump its price
    /// enough.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced {
        /// Hash of the transaction that stays in the pool.
        existing: B256,
    },
    /// The encoded transaction exceeds the chain's size limit.
    #[error("oversized data")]
    OversizedData {
        /// Encoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The gas limit exceeds the block gas limit.
    #[error("exceeds block gas limit")]
    GasLimitExceeded {
        /// The transaction's gas limit.
        gas: u64,
        /// The block gas limit.
        block_gas_limit: u64,
    },
    /// The gas limit is below the intrinsic gas.
    #[error("intrinsic gas too low")]
    IntrinsicGasTooLow {
        /// The transaction's gas limit.
        gas: u64,
        /// The intrinsic gas.
        intrinsic: u64,
    },
    /// The gas limit is below the EIP-7623 calldata floor (Prague).
    #[error("insufficient gas for floor data gas cost")]
    FloorDataGas {
        /// The transaction's gas limit.
        gas: u64,
        /// The calldata floor.
        floor: u64,
    },
    /// A contract creation with init code over the EIP-3860 limit (Shanghai).
    #[error("max initcode size exceeded")]
    MaxInitCodeSizeExceeded {
        /// Init code length.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An EIP-7702 transaction without authorizations.
    #[error("set code tx must have at least one authorization tuple")]
    EmptyAuthorizationList,
    /// A Quorum private transaction with `value != 0` or empty data.
    #[error("ether value is not supported for private transactions")]
    PrivateTxValue {
        /// The transaction's value.
        value: U256,
        /// Length of its data (the 64-byte TM hash for a well-formed one).
        data_len: usize,
    },
    /// No room in the pool and nothing of lower priority to evict.
    #[error("txpool is full")]
    PoolFull,
}
