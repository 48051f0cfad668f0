//! The artifacts executed in revm (the EVM qnode embeds): the `sol!` bindings build calldata that does what the
//! JS client tests expect, and the EVM-target split holds (default builds need Shanghai+, the London build does not).

use alloy_primitives::{Address, Bytes, Log, U256, address};
use alloy_sol_types::{
    Panic, PanicKind, Revert, SolCall, SolConstructor, SolError, SolEvent, SolInterface, SolValue,
};
use qrs_contracts::bindings::{Modern, QrsToken, Reverter, SimpleStorage};
use qrs_contracts::{Artifact, modern, qrs_token, reverter, simple_storage, simple_storage_london};
use revm::context::TxEnv;
use revm::context::result::{ExecutionResult, HaltReason, Output};
use revm::database::InMemoryDB;
use revm::primitives::TxKind;
use revm::primitives::hardfork::SpecId;
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

const DEV: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

/// A one-account chain: every transaction comes from `DEV` with gas price 0 and is committed.
struct Chain {
    db: InMemoryDB,
    spec: SpecId,
    nonce: u64,
}

impl Chain {
    fn new(spec: SpecId) -> Self {
        Self { db: InMemoryDB::default(), spec, nonce: 0 }
    }

    fn exec(&mut self, kind: TxKind, data: impl Into<Bytes>) -> ExecutionResult<HaltReason> {
        let spec = self.spec;
        let mut evm = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(spec))
            .with_db(&mut self.db)
            .build_mainnet();
        let tx = TxEnv::builder()
            .caller(DEV)
            .kind(kind)
            .data(data.into())
            .nonce(self.nonce)
            .gas_limit(5_000_000)
            .build()
            .unwrap();
        let result = evm.transact_commit(tx).unwrap();
        self.nonce += 1;
        result
    }

    fn deploy(&mut self, artifact: &Artifact, args: &[u8]) -> (Address, Vec<Log>) {
        match self.exec(TxKind::Create, artifact.deploy_data(args)) {
            ExecutionResult::Success { output: Output::Create(_, Some(addr)), logs, .. } => {
                (addr, logs)
            }
            other => panic!("deploying {} failed: {other:?}", artifact.name),
        }
    }

    /// Calls `to` and returns (output, logs); panics unless the call succeeds.
    fn call<C: SolCall>(&mut self, to: Address, call: C) -> (C::Return, Vec<Log>) {
        match self.exec(TxKind::Call(to), call.abi_encode()) {
            ExecutionResult::Success { output: Output::Call(out), logs, .. } => {
                (C::abi_decode_returns(&out).unwrap(), logs)
            }
            other => panic!("{} failed: {other:?}", C::SIGNATURE),
        }
    }

    /// Calls `to` and returns the revert data; panics unless the call reverts.
    fn revert<C: SolCall>(&mut self, to: Address, call: C) -> Bytes {
        match self.exec(TxKind::Call(to), call.abi_encode()) {
            ExecutionResult::Revert { output, .. } => output,
            other => panic!("{} did not revert: {other:?}", C::SIGNATURE),
        }
    }
}

#[test]
fn simple_storage_quickstart_flow() {
    let mut chain = Chain::new(SpecId::PRAGUE);
    let ctor = SimpleStorage::constructorCall { initVal: U256::from(47) }.abi_encode();
    let (addr, logs) = chain.deploy(simple_storage(), &ctor);
    let stored = SimpleStorage::stored::decode_log(&logs[0]).unwrap();
    assert_eq!((stored._to, stored._amount), (DEV, U256::from(47)));
    assert_eq!(chain.call(addr, SimpleStorage::getCall {}).0, U256::from(47));

    let (_, logs) = chain.call(addr, SimpleStorage::setCall { x: U256::from(123) });
    assert_eq!(logs.len(), 1);
    assert_eq!(SimpleStorage::stored::decode_log(&logs[0]).unwrap()._amount, U256::from(123));
    assert_eq!(chain.call(addr, SimpleStorage::getCall {}).0, U256::from(123));
    assert_eq!(chain.call(addr, SimpleStorage::storedDataCall {}).0, U256::from(123));
}

#[test]
fn reverter_reverts_with_reason_custom_error_and_panic() {
    let mut chain = Chain::new(SpecId::PRAGUE);
    let (addr, _) = chain.deploy(reverter(), &[]);
    assert_eq!(chain.call(addr, Reverter::okCall {}).0, U256::from(7));

    let out = chain.revert(addr, Reverter::revertWithReasonCall {});
    assert_eq!(Revert::abi_decode(&out).unwrap().reason, "reason text");
    let out = chain.revert(addr, Reverter::viewRevertCall {});
    assert_eq!(Revert::abi_decode(&out).unwrap().reason, "view reason");

    let out = chain.revert(addr, Reverter::revertWithCustomErrorCall {});
    match Reverter::ReverterErrors::abi_decode(&out).unwrap() {
        Reverter::ReverterErrors::Unauthorized(e) => {
            assert_eq!((e.caller, e.code), (DEV, U256::from(42)))
        }
    }

    let out = chain.revert(addr, Reverter::panicAssertCall {});
    assert_eq!(Panic::abi_decode(&out).unwrap().kind(), Some(PanicKind::Assert));
    let out = chain.revert(addr, Reverter::divideCall { a: U256::ONE, b: U256::ZERO });
    assert_eq!(Panic::abi_decode(&out).unwrap().kind(), Some(PanicKind::DivisionByZero));
    assert!(chain.revert(addr, Reverter::revertEmptyCall {}).is_empty());

    // Every state change above was rolled back.
    assert_eq!(chain.call(addr, Reverter::counterCall {}).0, U256::ZERO);
}

#[test]
fn modern_transient_storage_and_mcopy_work_on_cancun() {
    let mut chain = Chain::new(SpecId::CANCUN);
    let (addr, _) = chain.deploy(modern(), &[]);
    assert_eq!(chain.call(addr, Modern::zeroCall {}).0, U256::ZERO);
    assert_eq!(
        chain.call(addr, Modern::transientRoundTripCall { value: U256::from(99) }).0,
        U256::from(99)
    );
    // Transient storage does not survive the transaction.
    assert_eq!(chain.call(addr, Modern::transientAfterTxCall {}).0, U256::ZERO);

    let values = vec![U256::from(1), U256::from(2), U256::from(3), U256::from(4)];
    let (sum, logs) = chain.call(addr, Modern::guardedSumCall { values });
    assert_eq!(sum, U256::from(10));
    assert_eq!(Modern::Summed::decode_log(&logs[0]).unwrap().sum, U256::from(10));
    assert_eq!(chain.call(addr, Modern::lastSumCall {}).0, U256::from(10));

    let data: Bytes = (0u8..70).collect::<Vec<u8>>().into();
    assert_eq!(chain.call(addr, Modern::memCopyCall { data: data.clone() }).0, data);
    let (out, logs) = chain.call(addr, Modern::storeCopyCall { data: data.clone() });
    assert_eq!(out, data);
    assert_eq!(Modern::Copied::decode_log(&logs[0]).unwrap().data.data, data);
    assert_eq!(chain.call(addr, Modern::lastCopyCall {}).0, data);
}

#[test]
fn pre_shanghai_evm_rejects_default_builds_but_runs_the_london_build() {
    for artifact in [modern(), simple_storage()] {
        let mut chain = Chain::new(SpecId::LONDON);
        let ctor =
            if artifact.name == "SimpleStorage" { U256::from(1).abi_encode() } else { Vec::new() };
        match chain.exec(TxKind::Create, artifact.deploy_data(&ctor)) {
            ExecutionResult::Halt { reason, .. } => {
                assert!(
                    matches!(reason, HaltReason::NotActivated | HaltReason::OpcodeNotFound),
                    "{reason:?}"
                )
            }
            other => panic!("{} deployed on London: {other:?}", artifact.name),
        }
    }
    let mut chain = Chain::new(SpecId::LONDON);
    let ctor = SimpleStorage::constructorCall { initVal: U256::from(5) }.abi_encode();
    let (addr, _) = chain.deploy(simple_storage_london(), &ctor);
    assert_eq!(chain.call(addr, SimpleStorage::getCall {}).0, U256::from(5));
}

#[test]
fn erc20_mint_transfer_approve_transfer_from() {
    let mut chain = Chain::new(SpecId::PRAGUE);
    let supply = U256::from(10).pow(U256::from(24));
    let (token, logs) = chain
        .deploy(qrs_token(), &QrsToken::constructorCall { initialSupply: supply }.abi_encode());
    let mint = QrsToken::Transfer::decode_log(&logs[0]).unwrap();
    assert_eq!((mint.from, mint.to, mint.value), (Address::ZERO, DEV, supply));

    let to = Address::repeat_byte(0x22);
    let (ok, logs) = chain.call(token, QrsToken::transferCall { to, value: U256::from(1000) });
    assert!(ok);
    let t = QrsToken::Transfer::decode_log(&logs[0]).unwrap();
    assert_eq!((t.from, t.to, t.value), (DEV, to, U256::from(1000)));
    assert_eq!(chain.call(token, QrsToken::balanceOfCall { owner: to }).0, U256::from(1000));
    assert_eq!(
        chain.call(token, QrsToken::balanceOfCall { owner: DEV }).0,
        supply - U256::from(1000)
    );

    let (_, logs) =
        chain.call(token, QrsToken::approveCall { spender: DEV, value: U256::from(10) });
    assert_eq!(QrsToken::Approval::decode_log(&logs[0]).unwrap().value, U256::from(10));
    let (ok, _) =
        chain.call(token, QrsToken::transferFromCall { from: DEV, to, value: U256::from(4) });
    assert!(ok);
    assert_eq!(
        chain.call(token, QrsToken::allowanceCall { owner: DEV, spender: DEV }).0,
        U256::from(6)
    );

    let out =
        chain.revert(token, QrsToken::transferFromCall { from: DEV, to, value: U256::from(7) });
    assert!(matches!(
        QrsToken::QrsTokenErrors::abi_decode(&out).unwrap(),
        QrsToken::QrsTokenErrors::InsufficientAllowance(_)
    ));
}
