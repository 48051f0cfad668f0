//! Intrinsic gas (EIP-2/2028/2930/3860/7702) and the EIP-7623 calldata floor, as the fork allows.

use alloy_consensus::{Transaction, TxEnvelope};

use crate::TxRules;

/// Base cost of any transaction.
pub const TX_GAS: u64 = 21_000;
/// Base cost of a contract creation (EIP-2, Homestead).
pub const TX_CREATE_GAS: u64 = 53_000;
/// Cost of a zero calldata byte.
pub const ZERO_BYTE_GAS: u64 = 4;
/// Cost of a non-zero calldata byte before Istanbul.
pub const NON_ZERO_BYTE_GAS_FRONTIER: u64 = 68;
/// Cost of a non-zero calldata byte from Istanbul (EIP-2028).
pub const NON_ZERO_BYTE_GAS_ISTANBUL: u64 = 16;
/// EIP-2930 cost per access-list address.
pub const ACCESS_LIST_ADDRESS_GAS: u64 = 2_400;
/// EIP-2930 cost per access-list storage key.
pub const ACCESS_LIST_STORAGE_KEY_GAS: u64 = 1_900;
/// EIP-3860 cost per 32-byte word of init code.
pub const INITCODE_WORD_GAS: u64 = 2;
/// EIP-3860 init-code size limit (2 × the EIP-170 code size limit).
pub const MAX_INITCODE_SIZE: usize = 49_152;
/// EIP-7702 cost per authorization (`PER_EMPTY_ACCOUNT_COST`).
pub const PER_AUTHORIZATION_GAS: u64 = 25_000;
/// EIP-7623 floor cost per calldata token.
pub const FLOOR_GAS_PER_TOKEN: u64 = 10;

/// The intrinsic gas of `tx` under `rules`: what a transaction costs before any execution.
///
/// Counts the base cost (creation or call), calldata (EIP-2028 prices from Istanbul), the access
/// list (from Berlin), init-code words for creations (from Shanghai) and EIP-7702 authorizations
/// (from Prague). The EIP-7623 floor is separate: see [`floor_data_gas`]. Saturates instead of
/// overflowing, so absurd inputs yield `u64::MAX` and fail the gas check.
pub fn intrinsic_gas(tx: &TxEnvelope, rules: &TxRules) -> u64 {
    let input = tx.input();
    let create = tx.is_create();
    let mut gas = if create { TX_CREATE_GAS } else { TX_GAS };

    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = (input.len() as u64).saturating_sub(zeros);
    let non_zero_cost =
        if rules.istanbul { NON_ZERO_BYTE_GAS_ISTANBUL } else { NON_ZERO_BYTE_GAS_FRONTIER };
    gas = gas
        .saturating_add(zeros.saturating_mul(ZERO_BYTE_GAS))
        .saturating_add(non_zeros.saturating_mul(non_zero_cost));

    if create && rules.shanghai {
        let words = (input.len() as u64).div_ceil(32);
        gas = gas.saturating_add(words.saturating_mul(INITCODE_WORD_GAS));
    }
    if rules.berlin
        && let Some(list) = tx.access_list()
    {
        let keys: u64 = list.iter().map(|item| item.storage_keys.len() as u64).sum();
        gas = gas
            .saturating_add((list.len() as u64).saturating_mul(ACCESS_LIST_ADDRESS_GAS))
            .saturating_add(keys.saturating_mul(ACCESS_LIST_STORAGE_KEY_GAS));
    }
    if rules.prague
        && let Some(auths) = tx.authorization_list()
    {
        gas = gas.saturating_add((auths.len() as u64).saturating_mul(PER_AUTHORIZATION_GAS));
    }
    gas
}

/// The EIP-7623 calldata floor of `tx` (0 before Prague): `21000 + 10 * (zeros + 4 * non_zeros)`.
pub fn floor_data_gas(tx: &TxEnvelope, rules: &TxRules) -> u64 {
    if !rules.prague {
        return 0;
    }
    let input = tx.input();
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = (input.len() as u64).saturating_sub(zeros);
    let tokens = zeros.saturating_add(non_zeros.saturating_mul(4));
    TX_GAS.saturating_add(tokens.saturating_mul(FLOOR_GAS_PER_TOKEN))
}

/// The smallest gas limit `tx` may carry: `max(intrinsic_gas, floor_data_gas)`.
pub fn min_gas_limit(tx: &TxEnvelope, rules: &TxRules) -> u64 {
    intrinsic_gas(tx, rules).max(floor_data_gas(tx, rules))
}
