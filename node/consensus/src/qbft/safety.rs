//! The durable safety record: what this validator signed at the current height
//! ([`SafetyState`]), written before any message leaves the node so that a restart never signs
//! two different blocks at the same height and round.
//!
//! The file `<datadir>/qbft/safety` is replaced atomically: write `safety.tmp`, fsync, rename
//! over `safety`, fsync the directory. Layout (big-endian): `"QBS1" ‖ height u64 ‖ count u32 ‖
//! count × (round u64 ‖ kind u8 ‖ digest 32) ‖ prepared flag u8 [‖ round u64 ‖ digest 32] ‖
//! keccak256 of everything before`.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use alloy_primitives::{B256, keccak256};
use qrs_qbft::core::SafetyState;

use super::error::QbftError;

const MAGIC: &[u8; 4] = b"QBS1";
/// Most signed records kept per height (rounds × 3 kinds); a longer file is corrupt.
const MAX_RECORDS: u32 = 1 << 16;

/// The safety record file of one validator.
#[derive(Debug, Clone)]
pub struct SafetyStore {
    dir: PathBuf,
}

impl SafetyStore {
    /// The store under `<datadir>/qbft/` (created on first save).
    pub fn new(datadir: &Path) -> Self {
        Self { dir: datadir.join("qbft") }
    }

    /// The record's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join("safety")
    }

    /// The last saved record, if any.
    pub fn load(&self) -> Result<Option<SafetyState>, QbftError> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(QbftError::Io { path, source }),
        };
        decode(&bytes).map(Some).ok_or(QbftError::CorruptSafety(path))
    }

    /// Writes `state` durably (fsync + rename + directory fsync).
    pub fn save(&self, state: &SafetyState) -> Result<(), QbftError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| QbftError::Io { path, source }
        };
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let tmp = self.dir.join("safety.tmp");
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&encode(state)).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        let path = self.path();
        fs::rename(&tmp, &path).map_err(io(&path))?;
        fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))?;
        Ok(())
    }
}

fn encode(state: &SafetyState) -> Vec<u8> {
    let mut out = Vec::with_capacity(64usize.saturating_add(state.signed.len().saturating_mul(41)));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&state.height.to_be_bytes());
    let count = u32::try_from(state.signed.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for (round, kind, digest) in &state.signed {
        out.extend_from_slice(&round.to_be_bytes());
        out.push(*kind);
        out.extend_from_slice(digest.as_slice());
    }
    match &state.prepared {
        Some((round, digest)) => {
            out.push(1);
            out.extend_from_slice(&round.to_be_bytes());
            out.extend_from_slice(digest.as_slice());
        }
        None => out.push(0),
    }
    let sum = keccak256(&out);
    out.extend_from_slice(sum.as_slice());
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn b256(&mut self) -> Option<B256> {
        Some(B256::from_slice(self.take(32)?))
    }
}

fn decode(bytes: &[u8]) -> Option<SafetyState> {
    let body_len = bytes.len().checked_sub(32)?;
    let (body, sum) = bytes.split_at(body_len);
    if keccak256(body).as_slice() != sum {
        return None;
    }
    let mut r = Reader(body);
    if r.take(4)? != MAGIC {
        return None;
    }
    let height = r.u64()?;
    let count = u32::from_be_bytes(r.take(4)?.try_into().ok()?);
    if count > MAX_RECORDS {
        return None;
    }
    let mut signed = Vec::new();
    for _ in 0..count {
        signed.push((r.u64()?, r.u8()?, r.b256()?));
    }
    let prepared = match r.u8()? {
        0 => None,
        1 => Some((r.u64()?, r.b256()?)),
        _ => return None,
    };
    r.0.is_empty().then_some(SafetyState { height, signed, prepared })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let store = SafetyStore::new(dir.path());
        assert_eq!(store.load().unwrap(), None, "no record yet");
        let state = SafetyState {
            height: 7,
            signed: vec![(0, 0, B256::repeat_byte(1)), (1, 2, B256::repeat_byte(2))],
            prepared: Some((1, B256::repeat_byte(2))),
        };
        store.save(&state).unwrap();
        assert_eq!(store.load().unwrap(), Some(state.clone()));
        let next = SafetyState { height: 8, ..Default::default() };
        store.save(&next).unwrap();
        assert_eq!(store.load().unwrap(), Some(next), "a save replaces the record");
        assert!(!store.dir.join("safety.tmp").exists(), "temporary file renamed away");

        let mut bytes = encode(&state);
        let last = bytes.len() - 40;
        bytes[last] ^= 1;
        fs::write(store.path(), &bytes).unwrap();
        assert!(matches!(store.load(), Err(QbftError::CorruptSafety(_))), "bit flip detected");
        fs::write(store.path(), &encode(&state)[..20]).unwrap();
        assert!(matches!(store.load(), Err(QbftError::CorruptSafety(_))), "truncation detected");
    }
}
