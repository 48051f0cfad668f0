//! CPU per block spent in QBFT consensus messaging: N validator cores in one thread decide
//! heights with instant, lossless delivery, so the time measured is only the cores' own work:
//! signing, encoding, decoding and recovering PRE-PREPARE, PREPARE and COMMIT messages, checking
//! justifications and committed seals. Block building and execution are not included (an empty
//! header is proposed).
//!
//! `cargo bench -p qrs-qbft --bench consensus_cpu` prints the time per decided block for the
//! whole network (all N validators together) and per validator, for 4 and 7 validators.
#![allow(clippy::print_stdout)] // the summary lines are the bench's output

use std::{collections::VecDeque, time::Instant};

use alloy_consensus::Header;
use alloy_primitives::{Address, keccak256};
use criterion::{Criterion, criterion_group, criterion_main};
use qrs_qbft::{
    Proposal, ProposerPolicy, RawBlock, ValidatorKey, ValidatorSet,
    core::{ChainHead, Config, Core, Input},
    header::{commit_qbft_header, prepare_qbft_header},
};

fn key(i: u8) -> ValidatorKey {
    let mut b = [0x22u8; 32];
    b[0] = i.wrapping_add(1);
    b[31] = i.wrapping_add(7);
    ValidatorKey::from_bytes(&b).expect("valid key")
}

struct Net {
    keys: Vec<ValidatorKey>,
    cores: Vec<Core<RawBlock>>,
    head: ChainHead,
    now_ms: u64,
}

impl Net {
    fn new(n: u8) -> Self {
        let keys: Vec<ValidatorKey> = (0..n).map(key).collect();
        let head = ChainHead {
            number: 0,
            hash: keccak256(b"genesis"),
            timestamp: 1_000,
            proposer: Address::ZERO,
            validators: ValidatorSet::qbft(
                keys.iter().map(|k| k.address()),
                ProposerPolicy::RoundRobin,
            ),
        };
        let config = Config { block_period_secs: 1, ..Config::default() };
        let now_ms = 1_001_000;
        let cores = keys
            .iter()
            .map(|k| Core::new(k.clone(), config.clone(), head.clone(), now_ms, None))
            .collect();
        Self { keys, cores, head, now_ms }
    }

    /// Runs the cores until every validator has decided the next height; returns the block.
    fn decide_height(&mut self) -> RawBlock {
        let n = self.cores.len();
        let mut queue: VecDeque<(usize, Input<RawBlock>)> = VecDeque::new();
        let mut decided: Vec<Option<RawBlock>> = vec![None; n];
        for i in 0..n {
            queue.push_back((i, Input::Tick(self.now_ms)));
        }
        let mut wakes: Vec<Option<u64>> = vec![None; n];
        loop {
            let Some((i, input)) = queue.pop_front() else {
                // nothing in flight: time moves to the earliest timer
                let Some(at) = wakes.iter().flatten().min().copied() else { break };
                self.now_ms = self.now_ms.max(at);
                wakes = vec![None; n];
                for j in 0..n {
                    queue.push_back((j, Input::Tick(self.now_ms)));
                }
                continue;
            };
            self.cores[i].step(input);
            while let Some(ready) = self.cores[i].ready() {
                let idle =
                    ready.broadcast.is_empty() && ready.build.is_none() && ready.commit.is_none();
                for (code, payload) in ready.broadcast {
                    for j in (0..n).filter(|&j| j != i) {
                        queue.push_back((j, Input::Message { code, payload: payload.clone() }));
                    }
                }
                if let Some(req) = ready.build {
                    let mut header = Header {
                        parent_hash: self.head.hash,
                        number: req.height,
                        gas_limit: 30_000_000,
                        ..Default::default()
                    };
                    prepare_qbft_header(
                        &mut header,
                        self.keys[i].address(),
                        self.head.timestamp,
                        1,
                        req.not_before_secs,
                        self.head.validators.list(),
                        None,
                    )
                    .expect("header");
                    // one opaque transaction, as a loaded network proposes
                    let tx: alloy_primitives::Bytes =
                        alloy_rlp::encode(alloy_primitives::Bytes::from(vec![0xab; 120])).into();
                    let mut list = Vec::new();
                    alloy_rlp::Header { list: true, payload_length: tx.len() }.encode(&mut list);
                    list.extend_from_slice(&tx);
                    let block = RawBlock::with_transactions(header, list.into());
                    queue.push_back((i, Input::ProposalBuilt(block)));
                }
                if let Some(d) = ready.commit {
                    let mut header = d.block.header().clone();
                    commit_qbft_header(&mut header, &d.seals, d.round).expect("seals");
                    decided[i] = Some(d.block.with_header(header));
                }
                if idle {
                    break;
                }
            }
            if decided.iter().all(Option::is_some) {
                break;
            }
        }
        let block = decided[0].clone().expect("decided");
        self.head = ChainHead {
            number: block.number(),
            hash: block.hash(),
            timestamp: block.header().timestamp,
            proposer: block.header().beneficiary,
            validators: self.head.validators.clone(),
        };
        self.now_ms = self.head.timestamp.saturating_add(1).saturating_mul(1000).saturating_add(1);
        for core in &mut self.cores {
            core.step(Input::BlockCommitted(self.head.clone()));
        }
        block
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("qbft_messaging_cpu_per_block");
    for n in [4u8, 7] {
        group.bench_function(format!("{n}_validators"), |b| {
            let mut net = Net::new(n);
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    net.decide_height();
                }
                start.elapsed()
            });
        });
        // a plain summary line for the closing notes
        let mut net = Net::new(n);
        let heights = 200;
        let start = Instant::now();
        for _ in 0..heights {
            net.decide_height();
        }
        let per_block = start.elapsed() / heights;
        println!(
            "qbft messaging: {n} validators: {per_block:?} CPU per block for the whole network, {:?} per validator",
            per_block / u32::from(n)
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
