//! `debug_traceTransaction` with geth's default struct logger and with `callTracer`.

use alloy_primitives::{Address, Bytes, U256, hex};
use alloy_sol_types::{SolCall, SolConstructor};
use qrs_contracts::bindings::{QrsToken, SimpleStorage};
use qrs_e2e::{DEV_ADDRESS, Wallet, rpc::quantity, wallet::CALL_GAS};
use serde_json::{Value, json};

use crate::common::{DevNode, deploy, dev_node};

struct Traced {
    n: DevNode,
    token: Address,
    storage: Address,
    transfer_tx: Value,
    transfer_input: Vec<u8>,
    set_tx: Value,
}

/// Deploys QrsToken and SimpleStorage and makes one call to each.
fn setup() -> eyre::Result<Traced> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let token = qrs_contracts::qrs_token();
    let simple = qrs_contracts::simple_storage();
    let (token_addr, _) = deploy(
        &n.rpc,
        &w,
        0,
        token.deploy_data(
            &QrsToken::constructorCall { initialSupply: U256::from(1000) }.abi_encode(),
        ),
    )?;
    let (storage, _) = deploy(
        &n.rpc,
        &w,
        1,
        simple.deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(1) }.abi_encode()),
    )?;
    let transfer_input =
        QrsToken::transferCall { to: Address::with_last_byte(0x99), value: U256::from(25) }
            .abi_encode();
    let transfer_tx = n.rpc.send_and_wait(&w.call(2, token_addr, transfer_input.clone())?)?;
    let set_tx = n.rpc.send_and_wait(&w.call(
        3,
        storage,
        SimpleStorage::setCall { x: U256::from(42) }.abi_encode(),
    )?)?;
    Ok(Traced { n, token: token_addr, storage, transfer_tx, transfer_input, set_tx })
}

/// Hex with or without `0x` (geth 1.10 prints the struct logger's `returnValue` without it).
fn hex_bytes(v: &Value) -> eyre::Result<Vec<u8>> {
    let s = v.as_str().ok_or_else(|| eyre::eyre!("not a string: {v}"))?;
    Ok(hex::decode(s.strip_prefix("0x").unwrap_or(s))?)
}

fn ops(trace: &Value) -> Vec<&str> {
    trace["structLogs"].as_array().into_iter().flatten().filter_map(|l| l["op"].as_str()).collect()
}

#[test]
fn struct_logger_trace() -> eyre::Result<()> {
    let t = setup()?;
    let trace: Value =
        t.n.rpc.req("debug_traceTransaction", json!([t.transfer_tx["transactionHash"]]))?;
    assert_eq!(trace["failed"], json!(false), "{trace}");
    let gas = trace["gas"]
        .as_u64()
        .ok_or_else(|| eyre::eyre!("gas is not a number: {}", trace["gas"]))?;
    assert_eq!(gas, quantity(&t.transfer_tx["gasUsed"])?, "trace gas vs receipt gasUsed");
    assert_eq!(
        hex_bytes(&trace["returnValue"])?,
        true.abi_encode_returns_bool(),
        "transfer returns true"
    );
    let logs =
        trace["structLogs"].as_array().ok_or_else(|| eyre::eyre!("no structLogs: {trace}"))?;
    assert!(logs.len() > 50, "suspiciously short trace: {} steps", logs.len());
    let first = &logs[0];
    assert_eq!((first["pc"].as_u64(), first["depth"].as_u64()), (Some(0), Some(1)), "{first}");
    for step in logs {
        for key in ["pc", "op", "gas", "gasCost", "depth"] {
            assert!(!step[key].is_null(), "step without {key}: {step}");
        }
    }
    let steps = ops(&trace);
    assert!(steps.contains(&"SSTORE"), "a transfer writes two balances");
    assert!(steps.contains(&"LOG3"), "a transfer emits Transfer(from, to, value)");
    assert_eq!(steps.last(), Some(&"RETURN"));

    let set_trace: Value =
        t.n.rpc.req("debug_traceTransaction", json!([t.set_tx["transactionHash"], {}]))?;
    assert_eq!(set_trace["failed"], json!(false));
    assert_eq!(hex_bytes(&set_trace["returnValue"])?, Vec::<u8>::new(), "set() returns nothing");
    assert!(ops(&set_trace).contains(&"LOG1"));
    assert_eq!(ops(&set_trace).last(), Some(&"STOP"));
    Ok(())
}

#[test]
fn call_tracer_trace() -> eyre::Result<()> {
    let t = setup()?;
    let lower = |a: Address| json!(format!("{a:#x}"));
    let trace: Value = t.n.rpc.req(
        "debug_traceTransaction",
        json!([t.transfer_tx["transactionHash"], { "tracer": "callTracer" }]),
    )?;
    assert_eq!(trace["type"], json!("CALL"), "{trace}");
    assert_eq!(trace["from"], lower(DEV_ADDRESS));
    assert_eq!(trace["to"], lower(t.token));
    assert_eq!(trace["input"], json!(hex::encode_prefixed(&t.transfer_input)));
    assert_eq!(
        quantity(&trace["gasUsed"])?,
        quantity(&t.transfer_tx["gasUsed"])?,
        "callTracer gasUsed vs receipt"
    );
    assert!(quantity(&trace["gas"])? > quantity(&trace["gasUsed"])?, "{trace}");
    assert_eq!(hex_bytes(&trace["output"])?, true.abi_encode_returns_bool());
    assert_eq!(quantity(&trace["value"])?, 0);
    assert!(trace.get("error").is_none(), "{trace}");

    let set_trace: Value = t.n.rpc.req(
        "debug_traceTransaction",
        json!([t.set_tx["transactionHash"], { "tracer": "callTracer" }]),
    )?;
    assert_eq!(set_trace["type"], json!("CALL"));
    assert_eq!(set_trace["to"], lower(t.storage));
    assert_eq!(quantity(&set_trace["gasUsed"])?, quantity(&t.set_tx["gasUsed"])?);
    let input: Bytes = serde_json::from_value(set_trace["input"].clone())?;
    assert_eq!(SimpleStorage::setCall::abi_decode(&input)?.x, U256::from(42));
    Ok(())
}

/// geth's callTracer reports the transaction's gas limit as the top frame's `gas`
/// (`callTracer.OnEnter`: `if depth == 0 { call.Gas = t.gasLimit }`).
#[test]
fn call_tracer_top_level_gas_is_the_gas_limit() -> eyre::Result<()> {
    let t = setup()?;
    let trace: Value = t.n.rpc.req(
        "debug_traceTransaction",
        json!([t.transfer_tx["transactionHash"], { "tracer": "callTracer" }]),
    )?;
    assert_eq!(quantity(&trace["gas"])?, CALL_GAS, "{trace}");
    Ok(())
}

/// ABI encoding of a `bool` return value.
trait AbiBool {
    fn abi_encode_returns_bool(self) -> Vec<u8>;
}

impl AbiBool for bool {
    fn abi_encode_returns_bool(self) -> Vec<u8> {
        QrsToken::transferCall::abi_encode_returns(&self)
    }
}
