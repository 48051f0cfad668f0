//! `MdbxStorage`: restart keeps everything, compaction + snapshot, and a property test against
//! raft-rs's `MemStorage` as the model.

use proptest::prelude::*;
use qrs_raft::{
    MdbxStorage,
    raft::{
        GetEntriesContext, Storage, StorageError,
        prelude::{ConfState, Entry, HardState, Snapshot},
        storage::MemStorage,
    },
};

fn entry(index: u64, term: u64) -> Entry {
    Entry { index, term, data: vec![index as u8; 10].into(), ..Default::default() }
}

fn ctx() -> GetEntriesContext {
    GetEntriesContext::empty(false)
}

fn store_err(e: qrs_raft::raft::Error) -> StorageError {
    match e {
        qrs_raft::raft::Error::Store(s) => s,
        other => panic!("not a storage error: {other}"),
    }
}

#[test]
fn restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = MdbxStorage::open(dir.path()).unwrap();
        s.append(&(1..=10).map(|i| entry(i, 1 + i / 4)).collect::<Vec<_>>()).unwrap();
        s.set_hard_state(&HardState { term: 3, vote: 2, commit: 8, ..Default::default() }).unwrap();
        s.set_conf_state(&ConfState {
            voters: vec![1, 2, 3],
            learners: vec![4],
            ..Default::default()
        })
        .unwrap();
        s.create_snapshot(5, s.conf_state(), b"head".to_vec()).unwrap();
        s.set_applied_index(8).unwrap();
    }
    let s = MdbxStorage::open(dir.path()).unwrap();
    let st = s.initial_state().unwrap();
    assert_eq!((st.hard_state.term, st.hard_state.vote, st.hard_state.commit), (3, 2, 8));
    assert_eq!(st.conf_state.voters, vec![1, 2, 3]);
    assert_eq!(st.conf_state.learners, vec![4]);
    assert_eq!(s.first_index().unwrap(), 6);
    assert_eq!(s.last_index().unwrap(), 10);
    assert_eq!(s.term(5).unwrap(), 2, "term of the compaction point survives");
    assert_eq!(s.applied_index(), 8);
    let ents = s.entries(6, 11, None, ctx()).unwrap();
    assert_eq!(ents, (6..=10).map(|i| entry(i, 1 + i / 4)).collect::<Vec<_>>());
    let snap = s.snapshot(0, 2).unwrap();
    assert_eq!((snap.get_metadata().index, snap.get_metadata().term), (5, 2));
    assert_eq!(&snap.data[..], b"head");
}

#[test]
fn compaction_and_snapshot_error_contract() {
    let dir = tempfile::tempdir().unwrap();
    let s = MdbxStorage::open(dir.path()).unwrap();
    assert_eq!(
        store_err(s.snapshot(0, 1).unwrap_err()),
        StorageError::SnapshotTemporarilyUnavailable
    );
    s.append(&(1..=20).map(|i| entry(i, 1)).collect::<Vec<_>>()).unwrap();
    s.create_snapshot(12, ConfState { voters: vec![1], ..Default::default() }, vec![1]).unwrap();
    assert_eq!(s.first_index().unwrap(), 13);
    assert_eq!(store_err(s.entries(12, 14, None, ctx()).unwrap_err()), StorageError::Compacted);
    assert_eq!(store_err(s.entries(13, 22, None, ctx()).unwrap_err()), StorageError::Unavailable);
    assert_eq!(store_err(s.term(11).unwrap_err()), StorageError::Compacted);
    assert_eq!(store_err(s.term(21).unwrap_err()), StorageError::Unavailable);
    assert_eq!(s.term(12).unwrap(), 1);
    assert_eq!(
        store_err(s.snapshot(13, 1).unwrap_err()),
        StorageError::SnapshotTemporarilyUnavailable
    );
    // max_size: at least one entry.
    assert_eq!(s.entries(13, 21, Some(0), ctx()).unwrap().len(), 1);
    // Appending into the compacted prefix or past the end is an error, not a panic.
    assert!(s.append(&[entry(5, 2)]).is_err());
    assert!(s.append(&[entry(30, 2)]).is_err());
    // Truncating append.
    s.append(&[entry(15, 2), entry(16, 2)]).unwrap();
    assert_eq!(s.last_index().unwrap(), 16);
    assert_eq!(s.term(15).unwrap(), 2);

    // A follower applies a newer snapshot from the leader: the log is replaced.
    let mut snap = Snapshot::default();
    snap.mut_metadata().index = 40;
    snap.mut_metadata().term = 5;
    snap.mut_metadata().mut_conf_state().voters = vec![1, 2];
    s.apply_snapshot(&snap).unwrap();
    assert_eq!((s.first_index().unwrap(), s.last_index().unwrap()), (41, 40));
    assert_eq!(s.term(40).unwrap(), 5);
    assert_eq!(s.hard_state().commit, 40);
    assert_eq!(s.conf_state().voters, vec![1, 2]);
    // An older one is refused.
    snap.mut_metadata().index = 30;
    assert!(s.apply_snapshot(&snap).is_err());
}

#[derive(Debug, Clone)]
enum Op {
    /// Append entries starting at (last_index + 1 - back) with `n` entries of `term`.
    Append { back: u64, n: u64, term_bump: u64 },
    /// Compact at first_index + k (bounded by last + 1).
    Compact { k: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..6, 1u64..6, 0u64..2).prop_map(|(back, n, term_bump)| Op::Append { back, n, term_bump }),
        1 => (0u64..8).prop_map(|k| Op::Compact { k }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Appends (with truncation), compactions and lookups agree with raft-rs's `MemStorage`.
    /// The only documented difference: we also keep the term at `first_index() - 1`.
    #[test]
    fn agrees_with_memstorage(ops in proptest::collection::vec(op(), 1..25)) {
        let dir = tempfile::tempdir().unwrap();
        let ours = MdbxStorage::open(dir.path()).unwrap();
        let model = MemStorage::new();
        let mut term = 1u64;
        for op in ops {
            let first = model.first_index().unwrap();
            let last = model.last_index().unwrap();
            match op {
                Op::Append { back, n, term_bump } => {
                    term += term_bump;
                    let start = (last + 1).saturating_sub(back).max(first);
                    let ents: Vec<Entry> = (start..start + n).map(|i| entry(i, term)).collect();
                    model.wl().append(&ents).unwrap();
                    ours.append(&ents).unwrap();
                }
                Op::Compact { k } => {
                    // Keep at least one entry: compacting everything makes `MemStorage` fall
                    // back to its snapshot index (0 here), a quirk of the model.
                    let at = (first + k).min(last);
                    if at > first && last >= first {
                        model.wl().compact(at).unwrap();
                        ours.compact(at).unwrap();
                    }
                }
            }
            let first = model.first_index().unwrap();
            let last = model.last_index().unwrap();
            prop_assert_eq!(ours.first_index().unwrap(), first);
            prop_assert_eq!(ours.last_index().unwrap(), last);
            // (Index 0 is skipped: `MemStorage` keeps answering its snapshot index 0 after compaction.)
            for i in first.saturating_sub(2).max(1)..=last + 2 {
                let (m, o) = (model.term(i), ours.term(i));
                if i + 1 == first && i > 0 {
                    prop_assert!(o.is_ok(), "term at first-1 kept");
                    if let Ok(t) = m { prop_assert_eq!(o.unwrap(), t); }
                } else {
                    match (m, o) {
                        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                        (Err(a), Err(b)) => prop_assert_eq!(store_err(a), store_err(b)),
                        (a, b) => prop_assert!(false, "term({}) model {:?} ours {:?}", i, a, b),
                    }
                }
            }
            if last >= first {
                for lo in first..=last {
                    let m = model.entries(lo, last + 1, Some(25), ctx()).unwrap();
                    let o = ours.entries(lo, last + 1, Some(25), ctx()).unwrap();
                    prop_assert_eq!(m, o);
                }
            }
            if first > 1 {
                prop_assert_eq!(store_err(ours.entries(first - 1, last + 1, None, ctx()).unwrap_err()), StorageError::Compacted);
            }
        }
    }
}
