//! Table-driven checks of single QBFT rules on one `Core`, each citing the GoQuorum code it
//! follows.

use alloy_consensus::Header;
use alloy_primitives::{Address, keccak256};
use qrs_qbft::{
    Proposal, ProposerPolicy, RawBlock, ValidatorKey, ValidatorSet,
    core::{ChainHead, Config, Core, Input, Ready, RoundStep},
    header::prepare_qbft_header,
    messages::{
        Message, PREPARE_CODE, Preprepare, ROUND_CHANGE_CODE, RoundChange, SignedRoundChange, View,
    },
    seal::qbft_committers,
};

use crate::common::test_key;

const NOW: u64 = 1_002_000;

fn config() -> Config {
    Config {
        request_timeout_ms: 1_000,
        max_request_timeout_secs: 0,
        block_period_secs: 1,
        empty_block_period_secs: 0,
        ceil_2n_by_3_block: Some(0),
    }
}

fn head(keys: &[ValidatorKey]) -> ChainHead {
    ChainHead {
        number: 0,
        hash: keccak256(b"genesis"),
        timestamp: 1_000,
        proposer: Address::ZERO,
        validators: ValidatorSet::qbft(
            keys.iter().map(|k| k.address()),
            ProposerPolicy::RoundRobin,
        ),
    }
}

fn block_by(head: &ChainHead, author: &ValidatorKey, salt: u64) -> RawBlock {
    let mut h = Header {
        parent_hash: head.hash,
        number: head.number + 1,
        gas_limit: salt,
        ..Default::default()
    };
    prepare_qbft_header(
        &mut h,
        author.address(),
        head.timestamp,
        1,
        NOW / 1000,
        head.validators.list(),
        None,
    )
    .unwrap();
    RawBlock::empty(h)
}

fn codes(r: &Option<Ready<RawBlock>>) -> Vec<u64> {
    r.as_ref().map(|r| r.broadcast.iter().map(|(c, _)| *c).collect()).unwrap_or_default()
}

fn feed(core: &mut Core<RawBlock>, msg: Message<RawBlock>) -> Option<Ready<RawBlock>> {
    core.step(Input::Message { code: msg.code(), payload: msg.encode_payload() });
    core.ready()
}

/// Keys, the head, and which key proposes round `r` at height 1 (round-robin from genesis).
fn setup(n: u8) -> (Vec<ValidatorKey>, ChainHead) {
    let keys: Vec<_> = (0..n).map(test_key).collect();
    let h = head(&keys);
    (keys, h)
}

fn key_of(keys: &[ValidatorKey], addr: Address) -> &ValidatorKey {
    keys.iter().find(|k| k.address() == addr).unwrap()
}

// Reference: GoQuorum consensus/istanbul/qbft/core/core.go newRoundChangeTimer (requestTimeout ×
// 2^round) and maxRequestTimeoutSeconds.
#[test]
fn round_timeout_doubles_and_is_capped() {
    let table = [
        (0u64, 0u64, 1_000u64),
        (1, 0, 2_000),
        (3, 0, 8_000),
        (10, 0, 1_024_000),
        (3, 5, 5_000),
        (63, 0, u64::MAX),
        (200, 7, 7_000),
    ];
    for (round, cap, expected) in table {
        let c = Config { max_request_timeout_secs: cap, ..config() };
        assert_eq!(c.round_timeout_ms(round), expected, "round {round} cap {cap}");
    }
}

// Reference: GoQuorum qbft/core/request.go, preprepare.go, prepare.go, commit.go: a lone
// validator (quorum 1) proposes, prepares, commits and decides.
#[test]
fn single_validator_builds_proposes_and_decides() {
    let (keys, h) = setup(1);
    let mut core = Core::new(keys[0].clone(), config(), h.clone(), NOW, None);
    let r = core.ready().unwrap();
    let build = r.build.expect("the proposer asks for a block");
    assert_eq!((build.height, build.round, build.not_before_secs), (1, 0, 1_001));
    core.step(Input::ProposalBuilt(block_by(&h, &keys[0], 1)));
    let r = core.ready().unwrap();
    assert!(r.persist.is_some(), "signatures are recorded before sending");
    let decided = r.commit.expect("decided");
    assert_eq!(decided.seals.len(), 1);
    assert_eq!(decided.round, 0);
    let mut header = decided.block.header().clone();
    qrs_qbft::header::commit_qbft_header(&mut header, &decided.seals, decided.round).unwrap();
    assert_eq!(qbft_committers(&header).unwrap(), vec![keys[0].address()]);
    assert_eq!(core.round_step(), RoundStep::Committed);
}

// Reference: GoQuorum qbft/core/preprepare.go handlePreprepareMsg (errNotFromProposer).
#[test]
fn preprepare_is_accepted_only_from_the_round_proposer() {
    let (keys, h) = setup(4);
    let proposer = key_of(&keys, h.validators.proposer(Address::ZERO, 0).unwrap()).clone();
    let me = keys.iter().find(|k| k.address() != proposer.address()).unwrap().clone();
    let other = keys
        .iter()
        .find(|k| k.address() != proposer.address() && k.address() != me.address())
        .unwrap()
        .clone();
    let mut core = Core::new(me, config(), h.clone(), NOW, None);
    let _ = core.ready();
    let view = View { sequence: 1, round: 0 };
    let bad = Preprepare::signed(&other, view, block_by(&h, &other, 1), vec![], vec![]);
    assert!(codes(&feed(&mut core, Message::Preprepare(bad))).is_empty());
    let good = Preprepare::signed(&proposer, view, block_by(&h, &proposer, 1), vec![], vec![]);
    assert_eq!(codes(&feed(&mut core, Message::Preprepare(good))), vec![PREPARE_CODE]);
    assert_eq!(core.round_step(), RoundStep::Preprepared);
}

// Reference: QBFT safety ("never sign two different blocks at the same height and round"): the
// persisted SafetyState survives a restart.
#[test]
fn a_restarted_validator_does_not_prepare_a_second_block_in_the_same_round() {
    let (keys, h) = setup(4);
    let proposer = key_of(&keys, h.validators.proposer(Address::ZERO, 0).unwrap()).clone();
    let me = keys.iter().find(|k| k.address() != proposer.address()).unwrap().clone();
    let view = View { sequence: 1, round: 0 };
    let mut core = Core::new(me.clone(), config(), h.clone(), NOW, None);
    let _ = core.ready();
    let a = Preprepare::signed(&proposer, view, block_by(&h, &proposer, 1), vec![], vec![]);
    let r = feed(&mut core, Message::Preprepare(a)).unwrap();
    let saved = r.persist.expect("persist before sending the PREPARE");

    // Restart with what was persisted; the (equivocating) proposer now sends block B.
    let mut restarted = Core::new(me, config(), h.clone(), NOW, Some(saved));
    let _ = restarted.ready();
    let b = Preprepare::signed(&proposer, view, block_by(&h, &proposer, 2), vec![], vec![]);
    assert!(codes(&feed(&mut restarted, Message::Preprepare(b))).is_empty());
    assert_eq!(restarted.round_step(), RoundStep::AcceptRequest);
}

// Reference: GoQuorum qbft/core/roundchange.go handleRoundChange: F+1 ROUND-CHANGEs for higher
// rounds move us to the lowest of them, and we send our own ROUND-CHANGE.
#[test]
fn f_plus_one_higher_round_changes_move_the_round() {
    let (keys, h) = setup(4); // F = 1
    let mut core = Core::new(keys[0].clone(), config(), h.clone(), NOW, None);
    let _ = core.ready();
    let rc = |k: &ValidatorKey, round| {
        Message::RoundChange(RoundChange::<RawBlock> {
            payload: SignedRoundChange::signed(k, View { sequence: 1, round }, None),
            prepared_block: None,
            justification: vec![],
        })
    };
    let _ = feed(&mut core, rc(&keys[1], 3));
    assert_eq!(core.round(), 0, "one validator is not enough");
    let r = feed(&mut core, rc(&keys[2], 5));
    assert_eq!(core.round(), 3, "moves to the lowest higher round");
    assert!(codes(&r).contains(&ROUND_CHANGE_CODE));
    // A non-validator's ROUND-CHANGE is ignored.
    let outsider = test_key(50);
    let _ = feed(&mut core, rc(&outsider, 9));
    assert_eq!(core.round(), 3);
}

// Reference: GoQuorum qbft/core/justification.go isJustified: a PRE-PREPARE for round > 0 needs a
// quorum of ROUND-CHANGEs for that round.
#[test]
fn round_one_preprepare_needs_a_round_change_quorum() {
    let (keys, h) = setup(4); // quorum 3
    let p1 = key_of(&keys, h.validators.proposer(Address::ZERO, 1).unwrap()).clone();
    let me = keys.iter().find(|k| k.address() != p1.address()).unwrap().clone();
    let mut core = Core::new(me, config(), h.clone(), NOW, None);
    let _ = core.ready();
    // Time out round 0.
    core.step(Input::Tick(NOW + 60_000));
    let r = core.ready();
    assert_eq!(core.round(), 1);
    assert!(codes(&r).contains(&ROUND_CHANGE_CODE));
    let view = View { sequence: 1, round: 1 };
    let block = block_by(&h, &p1, 3);
    let bare = Preprepare::signed(&p1, view, block.clone(), vec![], vec![]);
    assert!(codes(&feed(&mut core, Message::Preprepare(bare))).is_empty());
    // Two ROUND-CHANGEs are below quorum.
    let rcs: Vec<_> = keys.iter().map(|k| SignedRoundChange::signed(k, view, None)).collect();
    let short = Preprepare::signed(&p1, view, block.clone(), rcs[..2].to_vec(), vec![]);
    assert!(codes(&feed(&mut core, Message::Preprepare(short))).is_empty());
    // ROUND-CHANGEs for another round do not count.
    let wrong_round: Vec<_> = keys
        .iter()
        .map(|k| SignedRoundChange::signed(k, View { sequence: 1, round: 2 }, None))
        .collect();
    let wrong = Preprepare::signed(&p1, view, block.clone(), wrong_round, vec![]);
    assert!(codes(&feed(&mut core, Message::Preprepare(wrong))).is_empty());
    // Duplicated signers do not make a quorum.
    let dup = Preprepare::signed(
        &p1,
        view,
        block.clone(),
        vec![rcs[0].clone(), rcs[0].clone(), rcs[1].clone()],
        vec![],
    );
    assert!(codes(&feed(&mut core, Message::Preprepare(dup))).is_empty());
    let ok = Preprepare::signed(&p1, view, block, rcs[..3].to_vec(), vec![]);
    assert_eq!(codes(&feed(&mut core, Message::Preprepare(ok))), vec![PREPARE_CODE]);
}

// Reference: GoQuorum qbft/core/justification.go hasQuorumOfRoundChangeMessagesForPreparedRoundAndBlock:
// when a ROUND-CHANGE reports a prepared block, a fresh block is not justified.
#[test]
fn a_prepared_block_must_be_reproposed() {
    let (keys, h) = setup(4);
    let p1 = key_of(&keys, h.validators.proposer(Address::ZERO, 1).unwrap()).clone();
    let me = keys.iter().find(|k| k.address() != p1.address()).unwrap().clone();
    let mut core = Core::new(me, config(), h.clone(), NOW, None);
    let _ = core.ready();
    core.step(Input::Tick(NOW + 60_000));
    let _ = core.ready();
    let view = View { sequence: 1, round: 1 };
    let p0 = key_of(&keys, h.validators.proposer(Address::ZERO, 0).unwrap()).clone();
    let prepared_block = block_by(&h, &p0, 7);
    let digest = prepared_block.hash();
    let prepares: Vec<_> = keys
        .iter()
        .take(3)
        .map(|k| qrs_qbft::messages::Prepare::signed(k, View { sequence: 1, round: 0 }, digest))
        .collect();
    let mut rcs: Vec<_> =
        keys.iter().take(2).map(|k| SignedRoundChange::signed(k, view, None)).collect();
    rcs.push(SignedRoundChange::signed(
        &keys[2],
        view,
        Some(qrs_qbft::messages::Prepared { round: 0, digest }),
    ));
    let fresh = Preprepare::signed(&p1, view, block_by(&h, &p1, 8), rcs.clone(), vec![]);
    assert!(codes(&feed(&mut core, Message::Preprepare(fresh))).is_empty());
    let reproposed = Preprepare::signed(&p1, view, prepared_block, rcs, prepares);
    assert_eq!(codes(&feed(&mut core, Message::Preprepare(reproposed))), vec![PREPARE_CODE]);
}

// Memory bound: a validator that signs ROUND-CHANGEs for many rounds is remembered once.
#[test]
fn round_changes_for_many_rounds_count_once_per_sender() {
    let (keys, h) = setup(7); // F = 2
    let mut core = Core::new(keys[0].clone(), config(), h, NOW, None);
    let _ = core.ready();
    for round in 1..200 {
        let m = Message::RoundChange(RoundChange::<RawBlock> {
            payload: SignedRoundChange::signed(&keys[1], View { sequence: 1, round }, None),
            prepared_block: None,
            justification: vec![],
        });
        let _ = feed(&mut core, m);
    }
    assert_eq!(core.round(), 0, "one sender is not F+1 however many rounds it signs");
    let m = Message::RoundChange(RoundChange::<RawBlock> {
        payload: SignedRoundChange::signed(&keys[2], View { sequence: 1, round: 4 }, None),
        prepared_block: None,
        justification: vec![],
    });
    let _ = feed(&mut core, m);
    let m = Message::RoundChange(RoundChange::<RawBlock> {
        payload: SignedRoundChange::signed(&keys[3], View { sequence: 1, round: 6 }, None),
        prepared_block: None,
        justification: vec![],
    });
    let _ = feed(&mut core, m);
    assert_eq!(core.round(), 4, "F+1 = 3 senders ahead; the lowest of their rounds is 4");
}
