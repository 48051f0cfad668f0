//! A simulated in-memory network of QBFT cores with seeded random delays, drops, a partition, an
//! equivocating validator, and a validator restarted from its persisted safety record. Checks
//! agreement (no two honest nodes commit different blocks at a height) and that progress resumes
//! after the partition heals.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap},
};

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, keccak256};
use qrs_qbft::{
    Proposal, ProposerPolicy, RawBlock, ValidatorKey, ValidatorSet,
    core::{ChainHead, Config, Core, Input, Ready, SafetyState},
    header::{commit_qbft_header, prepare_qbft_header},
    messages::{Commit, Message, Prepare, Preprepare},
    seal::{qbft_committers, verify_committed_seals},
};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::common::test_key;

#[derive(Debug, Clone)]
enum Event {
    Wake,
    Msg(u64, Vec<u8>),
    Built(RawBlock),
    Block(usize),
}

struct Node {
    core: Core<RawBlock>,
    key: ValidatorKey,
    chain: Vec<RawBlock>,
    safety: Option<SafetyState>,
    next_wake: Option<u64>,
}

struct Sim {
    nodes: Vec<Node>,
    rng: StdRng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize, usize)>>,
    events: Vec<Option<Event>>,
    drop_rate: f64,
    /// While set, messages between the two groups are dropped.
    partition: Option<Vec<bool>>,
    equivocator: Option<usize>,
    twins_sent: usize,
    decided: BTreeMap<u64, B256>,
    config: Config,
    genesis: ChainHead,
}

fn genesis(keys: &[ValidatorKey]) -> ChainHead {
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

impl Sim {
    fn new(n: u8, seed: u64, drop_rate: f64, equivocator: Option<usize>) -> Self {
        let keys: Vec<ValidatorKey> = (0..n).map(test_key).collect();
        let config = Config {
            request_timeout_ms: 1_000,
            max_request_timeout_secs: 8,
            block_period_secs: 1,
            empty_block_period_secs: 0,
            ceil_2n_by_3_block: Some(0),
        };
        let g = genesis(&keys);
        let now = 1_000_000;
        let nodes = keys
            .into_iter()
            .map(|key| Node {
                core: Core::new(key.clone(), config.clone(), g.clone(), now, None),
                key,
                chain: Vec::new(),
                safety: None,
                next_wake: None,
            })
            .collect();
        let mut sim = Self {
            nodes,
            rng: StdRng::seed_from_u64(seed),
            now,
            seq: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            drop_rate,
            partition: None,
            equivocator,
            twins_sent: 0,
            decided: BTreeMap::new(),
            config,
            genesis: g,
        };
        for i in 0..sim.nodes.len() {
            sim.drain(i);
        }
        sim
    }

    fn schedule(&mut self, at: u64, to: usize, ev: Event) {
        self.seq += 1;
        self.events.push(Some(ev));
        self.queue.push(Reverse((at, self.seq, to, self.events.len() - 1)));
    }

    fn link_up(&mut self, from: usize, to: usize) -> bool {
        if let Some(p) = &self.partition
            && p[from] != p[to]
        {
            return false;
        }
        !self.rng.gen_bool(self.drop_rate)
    }

    fn send(&mut self, from: usize, to: usize, ev: Event) {
        if self.link_up(from, to) {
            let delay = self.rng.gen_range(5..150);
            self.schedule(self.now + delay, to, ev);
        }
    }

    fn head_of(&self, i: usize) -> ChainHead {
        let n = &self.nodes[i];
        match n.chain.last() {
            None => self.genesis.clone(),
            Some(b) => ChainHead {
                number: b.number(),
                hash: b.hash(),
                timestamp: b.header().timestamp,
                proposer: b.header().beneficiary,
                validators: self.genesis.validators.clone(),
            },
        }
    }

    fn build(&self, i: usize, height: u64, not_before: u64) -> RawBlock {
        let head = self.head_of(i);
        let mut header = Header {
            parent_hash: head.hash,
            number: height,
            gas_limit: 30_000_000,
            ..Default::default()
        };
        prepare_qbft_header(
            &mut header,
            self.nodes[i].key.address(),
            head.timestamp,
            not_before.saturating_sub(head.timestamp),
            self.now / 1000,
            head.validators.list(),
            None,
        )
        .unwrap();
        // One opaque "transaction" so the block is not empty; salted by builder so blocks differ.
        let tx: Bytes = alloy_rlp::encode(Bytes::from(vec![i as u8, height as u8])).into();
        let mut list = Vec::new();
        alloy_rlp::Header { list: true, payload_length: tx.len() }.encode(&mut list);
        list.extend_from_slice(&tx);
        RawBlock::with_transactions(header, list.into())
    }

    fn import(&mut self, i: usize, block: RawBlock) {
        let head = self.head_of(i);
        if block.number() != head.number + 1 || block.header().parent_hash != head.hash {
            return;
        }
        let committers = qbft_committers(block.header()).expect("seals recover");
        verify_committed_seals(&committers, &head.validators).expect("more than F validator seals");
        if Some(i) != self.equivocator {
            let prev = self.decided.insert(block.number(), block.hash());
            assert!(
                prev.is_none() || prev == Some(block.hash()),
                "disagreement at height {}: {:?} vs {}",
                block.number(),
                prev,
                block.hash()
            );
        }
        self.nodes[i].chain.push(block);
        let head = self.head_of(i);
        self.nodes[i].core.step(Input::BlockCommitted(head));
    }

    fn handle_ready(&mut self, i: usize, r: Ready<RawBlock>) {
        if let Some(s) = r.persist {
            self.nodes[i].safety = Some(s);
        }
        for (code, payload) in r.broadcast {
            self.fan_out(i, code, payload);
        }
        if let Some(b) = r.build {
            let at = self.now.max(b.not_before_secs * 1000) + 10;
            let block = self.build(i, b.height, b.not_before_secs);
            self.schedule(at, i, Event::Built(block));
        }
        if let Some(d) = r.commit {
            let mut header = d.block.header().clone();
            commit_qbft_header(&mut header, &d.seals, d.round).unwrap();
            let sealed = d.block.with_header(header);
            assert_eq!(sealed.hash(), d.block.hash(), "seals do not change the hash");
            self.import(i, sealed);
            for j in 0..self.nodes.len() {
                if j != i {
                    self.send(i, j, Event::Block(i));
                }
            }
        }
        if let Some(w) = r.wake_at
            && self.nodes[i].next_wake != Some(w)
        {
            self.nodes[i].next_wake = Some(w);
            self.schedule(w.max(self.now), i, Event::Wake);
        }
    }

    /// Sends a message to everyone; an equivocator also signs a conflicting twin for half of them.
    fn fan_out(&mut self, i: usize, code: u64, payload: Vec<u8>) {
        let twin = if Some(i) == self.equivocator { self.twin(i, code, &payload) } else { None };
        if twin.is_some() && code == qrs_qbft::messages::PREPREPARE_CODE {
            self.twins_sent += 1;
        }
        for j in 0..self.nodes.len() {
            if j == i {
                continue;
            }
            let (c, p) = match &twin {
                Some(t) if j % 2 == 1 => t.clone(),
                _ => (code, payload.clone()),
            };
            self.send(i, j, Event::Msg(c, p));
        }
    }

    fn twin(&mut self, i: usize, code: u64, payload: &[u8]) -> Option<(u64, Vec<u8>)> {
        let key = self.nodes[i].key.clone();
        let msg = Message::<RawBlock>::decode(code, payload).ok()?;
        let twin = match msg {
            Message::Preprepare(pp) => {
                let mut header = pp.block.header().clone();
                header.gas_limit += 1;
                let b = pp.block.with_header(header);
                Message::Preprepare(Preprepare::signed(
                    &key,
                    pp.view,
                    b,
                    pp.round_change_justification,
                    pp.prepare_justification,
                ))
            }
            Message::Prepare(p) => {
                Message::Prepare(Prepare::signed(&key, p.view, B256::repeat_byte(0xee)))
            }
            Message::Commit(c) => {
                Message::Commit(Commit::signed(&key, c.view, B256::repeat_byte(0xee), [0x11; 65]))
            }
            Message::RoundChange(_) => return None,
        };
        Some((twin.code(), twin.encode_payload()))
    }

    fn drain(&mut self, i: usize) {
        while let Some(r) = self.nodes[i].core.ready() {
            let only_wake = r.persist.is_none()
                && r.broadcast.is_empty()
                && r.build.is_none()
                && r.commit.is_none();
            self.handle_ready(i, r);
            if only_wake {
                break;
            }
        }
    }

    fn run_until(&mut self, until: u64) {
        while let Some(Reverse((at, _, to, idx))) = self.queue.peek().copied() {
            if at > until {
                break;
            }
            self.queue.pop();
            self.now = at;
            let ev = self.events[idx].take().unwrap();
            if matches!(ev, Event::Wake) && self.nodes[to].next_wake == Some(at) {
                self.nodes[to].next_wake = None;
            }
            self.nodes[to].core.step(Input::Tick(self.now));
            match ev {
                Event::Wake => {}
                Event::Msg(code, payload) => {
                    self.nodes[to].core.step(Input::Message { code, payload })
                }
                Event::Built(b) => self.nodes[to].core.step(Input::ProposalBuilt(b)),
                Event::Block(from) => {
                    // A simple sync: import the sender's blocks we are missing, in order.
                    let have = self.nodes[to].chain.len();
                    let missing: Vec<RawBlock> =
                        self.nodes[from].chain.iter().skip(have).cloned().collect();
                    for b in missing {
                        self.import(to, b);
                    }
                }
            }
            self.drain(to);
        }
        self.now = self.now.max(until);
    }

    fn honest_heights(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| Some(*i) != self.equivocator)
            .map(|i| self.nodes[i].chain.len())
            .collect()
    }
}

fn run_scenario(n: u8, seed: u64, drop_rate: f64, equivocator: Option<usize>) {
    let mut sim = Sim::new(n, seed, drop_rate, equivocator);
    let start = sim.now;
    sim.run_until(start + 30_000);
    let before = *sim.honest_heights().iter().min().unwrap();
    if before < 3 {
        for (i, nd) in sim.nodes.iter().enumerate() {
            eprintln!(
                "node {i} {} h={} r={} step={:?} proposer={:?}",
                nd.key.address(),
                nd.core.height(),
                nd.core.round(),
                nd.core.round_step(),
                nd.core.proposer()
            );
        }
    }
    assert!(
        before >= 3,
        "n={n} seed={seed}: too little progress before the partition: {:?}",
        sim.honest_heights()
    );

    // Partition: no side has a quorum, so nothing can be decided.
    let groups: Vec<bool> = (0..n as usize).map(|i| i % 2 == 0).collect();
    sim.partition = Some(groups);
    sim.run_until(start + 60_000);
    let decided_during = sim.decided.len();
    sim.run_until(start + 61_000);

    // Heal, and restart validator 0 from its persisted safety record (a crash while partitioned).
    sim.partition = None;
    let head = sim.head_of(0);
    let key = sim.nodes[0].key.clone();
    let safety = sim.nodes[0].safety.clone();
    sim.nodes[0].core = Core::new(key, sim.config.clone(), head, sim.now, safety);
    sim.nodes[0].next_wake = None;
    sim.drain(0);
    sim.run_until(start + 180_000);
    let after = *sim.honest_heights().iter().min().unwrap();
    assert!(
        after >= decided_during + 2,
        "n={n} seed={seed}: progress did not resume: decided {decided_during} during partition, heights {:?}",
        sim.honest_heights()
    );
    // Every honest node holds the same chain prefix.
    for i in 0..n as usize {
        if Some(i) == sim.equivocator {
            continue;
        }
        for b in &sim.nodes[i].chain {
            assert_eq!(sim.decided.get(&b.number()), Some(&b.hash()));
        }
        let _ = &sim.nodes[i].safety;
    }
    if equivocator.is_some() {
        assert!(sim.twins_sent > 0, "the equivocator never proposed two blocks");
    }
    let _ = sim.config.clone();
}

#[test]
fn four_validators_agree_with_delays_drops_and_a_partition() {
    for seed in 1..=3 {
        run_scenario(4, seed, 0.05, None);
    }
}

#[test]
fn seven_validators_agree_with_delays_drops_and_a_partition() {
    for seed in 10..=11 {
        run_scenario(7, seed, 0.05, None);
    }
}

#[test]
fn four_validators_agree_with_one_equivocating_validator() {
    for seed in 20..=22 {
        run_scenario(4, seed, 0.02, Some(1));
    }
}

#[test]
fn seven_validators_agree_with_one_equivocating_validator() {
    for seed in 30..=31 {
        run_scenario(7, seed, 0.02, Some(3));
    }
}
