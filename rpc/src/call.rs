//! `eth_call` / `eth_estimateGas` request objects and their conversion to revm.

use std::collections::BTreeMap;

use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256};
use qrs_evm::revm::context::TxEnv;
use qrs_evm::{AccountOverride, StateOverrides};
use serde::Deserialize;

use crate::error::{RpcError, RpcResult};

/// A transaction object as clients send it. Unknown fields are ignored; web3.js sends both
/// `gas` and `gasLimit`, and GoQuorum's privacy fields ride along.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRequest {
    /// Sender.
    pub from: Option<Address>,
    /// Recipient (absent for creations).
    pub to: Option<Address>,
    /// Gas limit.
    pub gas: Option<U64>,
    /// web3.js's alias of `gas`.
    pub gas_limit: Option<U64>,
    /// Legacy gas price.
    pub gas_price: Option<U256>,
    /// EIP-1559 fee cap.
    pub max_fee_per_gas: Option<U256>,
    /// EIP-1559 tip.
    pub max_priority_fee_per_gas: Option<U256>,
    /// Value.
    pub value: Option<U256>,
    /// Calldata (`data`).
    pub data: Option<Bytes>,
    /// Calldata (`input`).
    pub input: Option<Bytes>,
    /// Nonce.
    pub nonce: Option<U64>,
    /// EIP-2930 access list.
    pub access_list: Option<AccessList>,
    /// Transaction type.
    #[serde(rename = "type")]
    pub tx_type: Option<U64>,
    /// Chain id.
    pub chain_id: Option<U64>,
    /// GoQuorum: recipients of a private transaction (presence makes it private).
    pub private_for: Option<Vec<String>>,
    /// GoQuorum: the sender's TM key.
    pub private_from: Option<String>,
    /// GoQuorum: privacy flag.
    pub privacy_flag: Option<u64>,
    /// GoQuorum: mandatory recipients.
    pub mandatory_for: Option<Vec<String>>,
}

impl CallRequest {
    /// The calldata, refusing different `data` and `input` like geth.
    pub fn calldata(&self) -> RpcResult<Bytes> {
        match (&self.input, &self.data) {
            (Some(i), Some(d)) if i != d => {
                Err(RpcError::InvalidParams("both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass transaction call data".into()))
            }
            (Some(i), _) => Ok(i.clone()),
            (None, Some(d)) => Ok(d.clone()),
            (None, None) => Ok(Bytes::new()),
        }
    }

    /// The gas limit, if any was given.
    pub fn gas_limit(&self) -> Option<u64> {
        self.gas.or(self.gas_limit).map(|g| g.to::<u64>())
    }

    /// GoQuorum's checks of the privacy fields. Returns true when the request is private
    /// (`privateFor` present, even empty).
    pub fn check_privacy_fields(&self) -> RpcResult<bool> {
        check_privacy_metadata(self.privacy_flag, self.mandatory_for.is_some())?;
        let private = self.private_for.is_some() || self.private_from.is_some();
        Ok(private)
    }

    /// True for EIP-1559 fee fields.
    pub fn is_dynamic_fee(&self) -> bool {
        self.max_fee_per_gas.is_some()
            || self.max_priority_fee_per_gas.is_some()
            || self.tx_type == Some(U64::from(2))
    }

    /// The revm environment for a simulated call.
    pub fn to_tx_env(&self, gas_cap: u64) -> RpcResult<TxEnv> {
        let to_u128 = |v: Option<U256>| v.map(|x| u128::try_from(x).unwrap_or(u128::MAX));
        let dynamic = self.is_dynamic_fee();
        let tx_type = if dynamic {
            2
        } else if self.access_list.is_some() {
            1
        } else {
            0
        };
        Ok(TxEnv {
            tx_type,
            caller: self.from.unwrap_or_default(),
            gas_limit: self.gas_limit().unwrap_or(gas_cap).min(gas_cap),
            gas_price: if dynamic {
                to_u128(self.max_fee_per_gas).unwrap_or_default()
            } else {
                to_u128(self.gas_price).unwrap_or_default()
            },
            kind: self.to.map(TxKind::Call).unwrap_or(TxKind::Create),
            value: self.value.unwrap_or_default(),
            data: self.calldata()?,
            nonce: self.nonce.map(|n| n.to::<u64>()).unwrap_or_default(),
            chain_id: self.chain_id.map(|c| c.to::<u64>()),
            access_list: self.access_list.clone().unwrap_or_default(),
            gas_priority_fee: if dynamic {
                to_u128(self.max_priority_fee_per_gas).or(Some(0))
            } else {
                None
            },
            ..Default::default()
        })
    }
}

/// geth's per-account override object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverrideJson {
    balance: Option<U256>,
    nonce: Option<U64>,
    code: Option<Bytes>,
    state: Option<BTreeMap<B256, B256>>,
    state_diff: Option<BTreeMap<B256, B256>>,
}

/// Converts geth's `stateOverride` map.
pub fn overrides(json: Option<BTreeMap<Address, OverrideJson>>) -> RpcResult<StateOverrides> {
    let mut out = StateOverrides::new();
    for (address, o) in json.unwrap_or_default() {
        if o.state.is_some() && o.state_diff.is_some() {
            return Err(RpcError::InvalidParams(format!(
                "account {address:#x} has both 'state' and 'stateDiff'"
            )));
        }
        out.insert(
            address,
            AccountOverride {
                balance: o.balance,
                nonce: o.nonce.map(|n| n.to::<u64>()),
                code: o.code,
                state: o.state,
                state_diff: o.state_diff,
            },
        );
    }
    Ok(out)
}

/// GoQuorum's checks of `privacyFlag` and `mandatoryFor`, shared by every private path.
pub(crate) fn check_privacy_metadata(flag: Option<u64>, has_mandatory: bool) -> RpcResult<()> {
    let flag = flag.unwrap_or_default();
    if flag > 3 {
        return Err(RpcError::Rejected("invalid privacy flag".into()));
    }
    if has_mandatory && flag != 2 {
        return Err(RpcError::Rejected("privacy metadata invalid. mandatory recipients are only applicable for PrivacyFlag=2(MandatoryRecipients)".into()));
    }
    if !has_mandatory && flag == 2 {
        return Err(RpcError::Rejected("missing mandatory recipients data. if no mandatory recipients required consider using PrivacyFlag=1(PartyProtection)".into()));
    }
    Ok(())
}
