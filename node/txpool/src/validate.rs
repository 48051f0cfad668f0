//! Admission checks with geth/GoQuorum semantics: stateless ones ([`check_stateless`]) run before
//! the pool looks at the sender's account, [`check_account`] after.

use alloy_consensus::{Transaction, TxEnvelope, Typed2718};
use alloy_primitives::U256;

use crate::{
    PoolConfig, PoolError, TxRules,
    intrinsic::{MAX_INITCODE_SIZE, floor_data_gas, intrinsic_gas},
    private::is_private,
};

/// What admission computed about a transaction that passed the stateless checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admitted {
    pub size: usize,
    pub cost: U256,
    pub priority: u128,
    pub private: bool,
    pub local: bool,
}

/// Every check that needs no account state, in geth's order (RPC-level checks first).
pub(crate) fn check_stateless(
    tx: &TxEnvelope,
    size: usize,
    rules: &TxRules,
    cfg: &PoolConfig,
    from_rpc: bool,
) -> Result<Admitted, PoolError> {
    let private = rules.chain_id != crate::private::PRIVATE_TX_ALLOY_CHAIN_ID && is_private(tx);

    // internal/ethapi SubmitTransaction: unprotected legacy transactions.
    if from_rpc && !cfg.allow_unprotected && !tx.is_replay_protected() {
        return Err(PoolError::UnprotectedTx);
    }
    check_type(tx, rules)?;
    if size > rules.max_tx_size {
        return Err(PoolError::OversizedData { size, limit: rules.max_tx_size });
    }
    if rules.shanghai && tx.is_create() && tx.input().len() > MAX_INITCODE_SIZE {
        return Err(PoolError::MaxInitCodeSizeExceeded {
            size: tx.input().len(),
            limit: MAX_INITCODE_SIZE,
        });
    }
    if tx.gas_limit() > rules.block_gas_limit {
        return Err(PoolError::GasLimitExceeded {
            gas: tx.gas_limit(),
            block_gas_limit: rules.block_gas_limit,
        });
    }
    if tx.nonce() == u64::MAX {
        return Err(PoolError::NonceMax);
    }
    if let Some(tip) = tx.max_priority_fee_per_gas()
        && tip > tx.max_fee_per_gas()
    {
        return Err(PoolError::TipAboveFeeCap {
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: tx.max_fee_per_gas(),
        });
    }
    check_chain_id(tx, rules, private)?;
    check_price(tx, rules)?;
    if private && (!tx.value().is_zero() || tx.input().is_empty()) {
        return Err(PoolError::PrivateTxValue { value: tx.value(), data_len: tx.input().len() });
    }
    if tx.authorization_list().is_some_and(|list| list.is_empty()) {
        return Err(PoolError::EmptyAuthorizationList);
    }
    let intrinsic = intrinsic_gas(tx, rules);
    if tx.gas_limit() < intrinsic {
        return Err(PoolError::IntrinsicGasTooLow { gas: tx.gas_limit(), intrinsic });
    }
    let floor = floor_data_gas(tx, rules);
    if tx.gas_limit() < floor {
        return Err(PoolError::FloorDataGas { gas: tx.gas_limit(), floor });
    }
    Ok(Admitted {
        size,
        cost: cost(tx, rules),
        priority: priority(tx, rules),
        private,
        local: from_rpc,
    })
}

/// The account checks: nonce and balance.
pub(crate) fn check_account(
    tx: &TxEnvelope,
    admitted: &Admitted,
    state_nonce: u64,
    balance: U256,
) -> Result<(), PoolError> {
    if tx.nonce() < state_nonce {
        return Err(PoolError::NonceTooLow { tx_nonce: tx.nonce(), state_nonce });
    }
    if balance < admitted.cost {
        return Err(PoolError::InsufficientFunds { balance, cost: admitted.cost });
    }
    Ok(())
}

/// Typed transactions need their fork; blob transactions are never accepted.
fn check_type(tx: &TxEnvelope, rules: &TxRules) -> Result<(), PoolError> {
    let ty = tx.ty();
    let supported = match tx {
        TxEnvelope::Legacy(_) => true,
        TxEnvelope::Eip2930(_) => rules.berlin,
        TxEnvelope::Eip1559(_) => rules.london,
        TxEnvelope::Eip4844(_) => false,
        TxEnvelope::Eip7702(_) => rules.prague,
    };
    if supported { Ok(()) } else { Err(PoolError::TxTypeNotSupported { ty }) }
}

/// EIP-155 / typed chain id must be ours; private transactions (alloy chain id 1) are exempt.
fn check_chain_id(tx: &TxEnvelope, rules: &TxRules, private: bool) -> Result<(), PoolError> {
    match tx.chain_id() {
        Some(got) if got != rules.chain_id && !private => {
            Err(PoolError::InvalidChainId { expected: rules.chain_id, got })
        }
        _ => Ok(()),
    }
}

/// Free gas: legacy/2930 gas price must be 0, EIP-1559 fees are ignored. Paid gas: the fee cap
/// must cover the base fee.
fn check_price(tx: &TxEnvelope, rules: &TxRules) -> Result<(), PoolError> {
    if !rules.gas_price_enabled {
        if !tx.is_dynamic_fee() {
            let gas_price = tx.max_fee_per_gas();
            if gas_price != 0 {
                return Err(PoolError::GasPriceNotZero { gas_price });
            }
        }
        return Ok(());
    }
    if rules.base_fee > 0 && tx.max_fee_per_gas() < u128::from(rules.base_fee) {
        return Err(PoolError::FeeCapBelowBaseFee {
            max_fee_per_gas: tx.max_fee_per_gas(),
            base_fee: rules.base_fee,
        });
    }
    Ok(())
}

/// `value + gas * maxFee` when gas is paid, `value` on a free-gas chain.
fn cost(tx: &TxEnvelope, rules: &TxRules) -> U256 {
    if !rules.gas_price_enabled {
        return tx.value();
    }
    let fee = U256::from(tx.gas_limit()).saturating_mul(U256::from(tx.max_fee_per_gas()));
    tx.value().saturating_add(fee)
}

/// Effective tip at the current base fee; 0 when gas is free.
fn priority(tx: &TxEnvelope, rules: &TxRules) -> u128 {
    if !rules.gas_price_enabled {
        return 0;
    }
    tx.effective_tip_per_gas(rules.base_fee).unwrap_or(0)
}

/// geth's replacement rule (`txList.Add`): the new fee cap AND tip must both be strictly higher
/// and at least `bump` percent above the old ones. Nominal prices are compared even on a free-gas
/// chain (see the crate docs).
pub(crate) fn bumps_price(old: &TxEnvelope, new: &TxEnvelope, bump_percent: u64) -> bool {
    let (old_cap, old_tip) = nominal_prices(old);
    let (new_cap, new_tip) = nominal_prices(new);
    if old_cap >= new_cap || old_tip >= new_tip {
        return false;
    }
    let factor = U256::from(100u64.saturating_add(bump_percent));
    let hundred = U256::from(100u64);
    let threshold = |old: u128| U256::from(old).saturating_mul(factor).wrapping_div(hundred);
    U256::from(new_cap) >= threshold(old_cap) && U256::from(new_tip) >= threshold(old_tip)
}

/// (fee cap, tip): `(gasPrice, gasPrice)` for legacy/2930, `(maxFee, maxPriorityFee)` otherwise.
fn nominal_prices(tx: &TxEnvelope) -> (u128, u128) {
    let cap = tx.max_fee_per_gas();
    (cap, tx.max_priority_fee_per_gas().unwrap_or(cap))
}
