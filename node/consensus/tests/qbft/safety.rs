//! A validator restarted mid-round never signs a different block at the same height and round:
//! the driver's safety record (`SafetyStore`) read back into a fresh core refuses it.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes};
use qrs_consensus::qbft::safety::SafetyStore;
use qrs_qbft::{
    Proposal, ProposerPolicy, RawBlock, ValidatorKey, ValidatorSet,
    core::{ChainHead, Config, Core, Input},
    header::prepare_qbft_header,
    messages::{Message, PREPARE_CODE, Preprepare, View},
};

const NOW_MS: u64 = 100_000;

fn keys() -> Vec<ValidatorKey> {
    (1..=4u8).map(|i| ValidatorKey::from_bytes(&[i; 32]).unwrap()).collect()
}

fn head(keys: &[ValidatorKey]) -> ChainHead {
    ChainHead {
        number: 0,
        hash: B256::repeat_byte(9),
        timestamp: 0,
        proposer: Address::ZERO,
        validators: ValidatorSet::qbft(
            keys.iter().map(|k| k.address()),
            ProposerPolicy::RoundRobin,
        ),
    }
}

fn config() -> Config {
    Config { block_period_secs: 1, ..Config::default() }
}

/// A proposal for height 1 by `proposer`; `vanity` makes different blocks.
fn block(proposer: Address, validators: &[Address], vanity: u8) -> RawBlock {
    let mut header = Header {
        number: 1,
        parent_hash: B256::repeat_byte(9),
        gas_limit: 30_000_000,
        extra_data: Bytes::from(vec![vanity; 31]), // shorter than 32: taken as vanity
        ..Default::default()
    };
    prepare_qbft_header(&mut header, proposer, 0, 1, 50, validators, None).unwrap();
    RawBlock::empty(header)
}

/// Feeds the PRE-PREPARE and returns the digests of the PREPAREs the core broadcast.
fn prepares_for(core: &mut Core<RawBlock>, pp: &Preprepare<RawBlock>) -> Vec<B256> {
    let msg = Message::Preprepare(pp.clone());
    core.step(Input::Message { code: msg.code(), payload: msg.encode_payload() });
    let ready = core.ready().unwrap_or_default();
    ready
        .broadcast
        .iter()
        .filter(|(code, _)| *code == PREPARE_CODE)
        .map(|(code, payload)| match Message::<RawBlock>::decode(*code, payload).unwrap() {
            Message::Prepare(p) => p.digest,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn restarted_validator_does_not_prepare_a_second_block_at_the_same_round() {
    let keys = keys();
    let head = head(&keys);
    let proposer_addr = head.validators.proposer(Address::ZERO, 0).unwrap();
    let proposer = keys.iter().find(|k| k.address() == proposer_addr).unwrap();
    let me = keys.iter().find(|k| k.address() != proposer_addr).unwrap().clone();
    let list = head.validators.list().to_vec();
    let view = View { sequence: 1, round: 0 };
    let a = block(proposer_addr, &list, 0xaa);
    let b = block(proposer_addr, &list, 0xbb);
    assert_ne!(a.hash(), b.hash());
    let pp_a = Preprepare::signed(proposer, view, a.clone(), vec![], vec![]);
    let pp_b = Preprepare::signed(proposer, view, b.clone(), vec![], vec![]);

    let dir = tempfile::tempdir().unwrap();
    let store = SafetyStore::new(dir.path());

    // Before the crash: PREPARE for A, with the record persisted as the driver does.
    let mut core: Core<RawBlock> =
        Core::new(me.clone(), config(), head.clone(), NOW_MS, store.load().unwrap());
    let msg = Message::Preprepare(pp_a.clone());
    core.step(Input::Message { code: msg.code(), payload: msg.encode_payload() });
    let ready = core.ready().unwrap();
    let record = ready.persist.expect("signing is recorded before sending");
    assert!(ready.broadcast.iter().any(|(c, _)| *c == PREPARE_CODE));
    store.save(&record).unwrap();
    drop(core);

    // After the restart (same height and round): B is refused, A is still acceptable.
    let loaded = store.load().unwrap();
    assert_eq!(loaded.as_ref(), Some(&record));
    let mut restarted = Core::new(me.clone(), config(), head.clone(), NOW_MS, loaded.clone());
    assert_eq!(prepares_for(&mut restarted, &pp_b), Vec::<B256>::new(), "no PREPARE for B");
    let mut again = Core::new(me.clone(), config(), head.clone(), NOW_MS, loaded);
    assert_eq!(prepares_for(&mut again, &pp_a), vec![a.hash()], "A may be re-sent");

    // Control: without the record the same core would have signed B.
    let mut amnesiac = Core::new(me, config(), head, NOW_MS, None);
    assert_eq!(prepares_for(&mut amnesiac, &pp_b), vec![b.hash()]);
}
