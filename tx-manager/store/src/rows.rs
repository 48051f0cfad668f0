//! Conversions between database columns and the store's row types, shared by both backends.
//! Every length the schema promises is re-checked on the way out: a bad row is reported as
//! [`StoreError::Corrupt`], never returned half-valid.

use crate::{
    error::{Backend, CorruptDetail, StoreError},
    model::{PayloadCodec, PublicKey, StoredPayload, StoredPrivacyGroup, StoredRawPayload},
};

pub(crate) const PAYLOAD_TABLE: &str = "qtm_payload";
pub(crate) const RAW_TABLE: &str = "qtm_raw_payload";
pub(crate) const GROUP_TABLE: &str = "qtm_privacy_group";
pub(crate) const RECIPIENT_TABLE: &str = "qtm_payload_recipient";

/// `hash, encoded_payload, payload_codec, recipients, sender, timestamp`.
pub(crate) type PayloadRow = (Vec<u8>, Vec<u8>, String, Vec<u8>, Vec<u8>, i64);
/// `hash, encrypted_payload, encrypted_key, nonce, sender, timestamp`.
pub(crate) type RawRow = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, i64);
/// `id, lookup_id, data, timestamp`.
pub(crate) type GroupRow = (Vec<u8>, Vec<u8>, Vec<u8>, i64);

pub(crate) fn fixed<const N: usize>(
    backend: Backend,
    table: &'static str,
    column: &'static str,
    bytes: Vec<u8>,
) -> Result<[u8; N], StoreError> {
    let len = bytes.len();
    <[u8; N]>::try_from(bytes).map_err(|_| StoreError::Corrupt {
        backend,
        table,
        detail: CorruptDetail::BadLength { column, len },
    })
}

/// The recipient list as stored: concatenated keys, first occurrence of each key kept.
pub(crate) fn unique_recipients(recipients: &[PublicKey]) -> Vec<PublicKey> {
    let mut unique: Vec<PublicKey> = Vec::with_capacity(recipients.len());
    for key in recipients {
        if !unique.contains(key) {
            unique.push(*key);
        }
    }
    unique
}

pub(crate) fn concat_keys(keys: &[PublicKey]) -> Vec<u8> {
    keys.iter().flatten().copied().collect()
}

/// Rows found for `asked` (any order, each hash at most once), decoded and put in the order
/// asked, with `None` for the hashes not found.
pub(crate) fn in_requested_order(
    backend: Backend,
    asked: &[[u8; 64]],
    found: Vec<PayloadRow>,
) -> Result<Vec<Option<StoredPayload>>, StoreError> {
    let by_hash: std::collections::HashMap<Vec<u8>, PayloadRow> =
        found.into_iter().map(|row| (row.0.clone(), row)).collect();
    // a hash asked twice gets the row twice
    asked
        .iter()
        .map(|hash| by_hash.get(&hash[..]).cloned().map(|row| payload_from_row(backend, row)))
        .map(Option::transpose)
        .collect()
}

pub(crate) fn payload_from_row(
    backend: Backend,
    row: PayloadRow,
) -> Result<StoredPayload, StoreError> {
    let (hash, encoded_payload, codec, recipients, sender, timestamp) = row;
    let codec = PayloadCodec::from_db(&codec).ok_or_else(|| StoreError::Corrupt {
        backend,
        table: PAYLOAD_TABLE,
        detail: CorruptDetail::UnknownCodec { tag: codec.clone() },
    })?;
    if recipients.len() % 32 != 0 {
        return Err(StoreError::Corrupt {
            backend,
            table: PAYLOAD_TABLE,
            detail: CorruptDetail::BadLength { column: "recipients", len: recipients.len() },
        });
    }
    let recipients = recipients
        .chunks_exact(32)
        .map(|chunk| fixed::<32>(backend, PAYLOAD_TABLE, "recipients", chunk.to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    if encoded_payload.is_empty() {
        return Err(StoreError::Corrupt {
            backend,
            table: PAYLOAD_TABLE,
            detail: CorruptDetail::BadLength { column: "encoded_payload", len: 0 },
        });
    }
    Ok(StoredPayload {
        hash: fixed(backend, PAYLOAD_TABLE, "hash", hash)?,
        encoded_payload,
        codec,
        recipients,
        sender: fixed(backend, PAYLOAD_TABLE, "sender", sender)?,
        timestamp,
    })
}

pub(crate) fn raw_from_row(backend: Backend, row: RawRow) -> Result<StoredRawPayload, StoreError> {
    let (hash, encrypted_payload, encrypted_key, nonce, sender, timestamp) = row;
    Ok(StoredRawPayload {
        hash: fixed(backend, RAW_TABLE, "hash", hash)?,
        encrypted_payload,
        encrypted_key,
        nonce,
        sender: fixed(backend, RAW_TABLE, "sender", sender)?,
        timestamp,
    })
}

pub(crate) fn group_from_row(row: GroupRow) -> StoredPrivacyGroup {
    let (id, lookup_id, data, timestamp) = row;
    StoredPrivacyGroup { id, lookup_id, data, timestamp }
}

pub(crate) fn count_from_db(backend: Backend, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt {
        backend,
        table: PAYLOAD_TABLE,
        detail: CorruptDetail::NegativeCount(n),
    })
}

/// The cursor hash for keyset pagination; the empty blob matches no payload (start at the top).
pub(crate) fn after_bound(after: Option<[u8; 64]>) -> Vec<u8> {
    after.map(|h| h.to_vec()).unwrap_or_default()
}
