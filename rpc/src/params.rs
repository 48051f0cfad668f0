//! Positional parameter parsing with geth's error messages.

use alloy_primitives::{B256, U64};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{RpcError, RpcResult};

/// The positional parameters of one call.
#[derive(Debug)]
pub struct Args {
    values: Vec<Value>,
}

impl Args {
    /// Parses the raw params (absent, or a JSON array; objects are refused like geth does).
    pub fn parse(raw: Option<&str>) -> RpcResult<Self> {
        let values = match raw.map(str::trim) {
            None | Some("") => Vec::new(),
            Some(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(v)) => v,
                Ok(Value::Null) => Vec::new(),
                Ok(_) => return Err(RpcError::InvalidParams("non-array args".into())),
                Err(e) => return Err(RpcError::InvalidParams(e.to_string())),
            },
        };
        Ok(Self { values })
    }

    /// Refuses more than `max` arguments.
    pub fn at_most(self, max: usize) -> RpcResult<Self> {
        if self.values.len() > max {
            return Err(RpcError::InvalidParams(format!("too many arguments, want at most {max}")));
        }
        Ok(self)
    }

    /// A required argument.
    pub fn req<T: DeserializeOwned>(&self, index: usize) -> RpcResult<T> {
        match self.values.get(index) {
            None | Some(Value::Null) => {
                Err(RpcError::InvalidParams(format!("missing value for required argument {index}")))
            }
            Some(v) => T::deserialize(v).map_err(|e| RpcError::arg(index, e)),
        }
    }

    /// An optional argument (`null` counts as absent).
    pub fn opt<T: DeserializeOwned>(&self, index: usize) -> RpcResult<Option<T>> {
        match self.values.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::deserialize(v).map(Some).map_err(|e| RpcError::arg(index, e)),
        }
    }

    /// The raw value of an argument.
    pub fn raw(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }
}

/// A block selector: tag, number, or hash (EIP-1898).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockSel {
    /// `latest` (also `safe`/`finalized`: blocks are final once committed on our chains).
    #[default]
    Latest,
    /// `pending`: the latest state plus, for nonces, the pool.
    Pending,
    /// `earliest`.
    Earliest,
    /// A number.
    Number(u64),
    /// A hash.
    Hash(B256),
}

impl<'de> serde::Deserialize<'de> for BlockSel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = Value::deserialize(d)?;
        match v {
            Value::String(s) => parse_block_str(&s).map_err(D::Error::custom),
            Value::Object(map) => {
                if let Some(h) = map.get("blockHash") {
                    let hash: B256 = serde_json::from_value(h.clone()).map_err(D::Error::custom)?;
                    Ok(Self::Hash(hash))
                } else if let Some(n) = map.get("blockNumber") {
                    let s = n.as_str().ok_or_else(|| D::Error::custom("invalid blockNumber"))?;
                    parse_block_str(s).map_err(D::Error::custom)
                } else {
                    Err(D::Error::custom("invalid block object: need blockHash or blockNumber"))
                }
            }
            Value::Number(n) => {
                n.as_u64().map(Self::Number).ok_or_else(|| D::Error::custom("invalid block number"))
            }
            _ => Err(D::Error::custom("invalid block number or tag")),
        }
    }
}

fn parse_block_str(s: &str) -> Result<BlockSel, String> {
    Ok(match s {
        "latest" | "safe" | "finalized" => BlockSel::Latest,
        "pending" => BlockSel::Pending,
        "earliest" => BlockSel::Earliest,
        hex if hex.len() == 66 => BlockSel::Hash(hex.parse::<B256>().map_err(|e| e.to_string())?),
        hex => {
            let n: U64 = serde_json::from_value(Value::String(hex.to_string())).map_err(|_| {
                format!("hex string without 0x prefix or invalid block number {hex:?}")
            })?;
            BlockSel::Number(n.to::<u64>())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn block_selectors() {
        let p = |v: Value| serde_json::from_value::<BlockSel>(v);
        assert_eq!(p(Value::from("latest")).unwrap(), BlockSel::Latest);
        assert_eq!(p(Value::from("0x10")).unwrap(), BlockSel::Number(16));
        assert_eq!(p(serde_json::json!({"blockNumber": "0x2"})).unwrap(), BlockSel::Number(2));
        let h = B256::repeat_byte(7);
        assert_eq!(p(serde_json::json!({"blockHash": h})).unwrap(), BlockSel::Hash(h));
        assert!(p(Value::from("0xzz")).is_err());
        assert!(p(Value::from(true)).is_err());
    }

    #[test]
    fn geth_style_argument_errors() {
        let args = Args::parse(Some(r#"["0xzz"]"#)).unwrap();
        let err = args.req::<alloy_primitives::Address>(0).unwrap_err().to_string();
        assert!(err.starts_with("invalid argument 0:"), "{err}");
        let err = args.req::<u64>(1).unwrap_err().to_string();
        assert_eq!(err, "missing value for required argument 1");
        assert!(Args::parse(Some(r#"{"a":1}"#)).is_err());
        assert!(Args::parse(Some("[1,2,3]")).unwrap().at_most(2).is_err());
    }

    proptest! {
        /// Any JSON text as params parses or errors, never panics; any value as a block
        /// selector likewise.
        #[test]
        fn arbitrary_params_never_panic(s in ".{0,200}") {
            if let Ok(args) = Args::parse(Some(&s)) {
                let _ = args.req::<BlockSel>(0);
                let _ = args.opt::<alloy_primitives::Address>(1);
                let _ = args.req::<crate::call::CallRequest>(0);
            }
        }
    }
}
