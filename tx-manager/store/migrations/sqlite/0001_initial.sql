-- qtm payload store, SQLite. Tables are prefixed qtm_ so they can live next to Tessera's own
-- ENCRYPTED_TRANSACTION etc. in a database that Tessera used before.
-- `id` is the insertion order: the recipient index points at it, so index inserts are appends
-- (random 64-byte hashes as index keys would dirty a random B-tree page per recipient).
CREATE TABLE qtm_payload (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    hash            BLOB    NOT NULL UNIQUE CHECK (length(hash) = 64),
    encoded_payload BLOB    NOT NULL CHECK (length(encoded_payload) > 0),
    payload_codec   TEXT    NOT NULL CHECK (payload_codec IN ('LEGACY', 'CBOR')),
    -- concatenated 32-byte recipient keys, in the caller's order (the index below is the
    -- searchable copy)
    recipients      BLOB    NOT NULL CHECK (length(recipients) % 32 = 0),
    sender          BLOB    NOT NULL CHECK (length(sender) = 32),
    timestamp       INTEGER NOT NULL
);

-- recipient key -> payload id. The primary key is the recipient index: "payloads for key K
-- after payload P" is a range scan. Entries are removed by the store together with their
-- payload (keys from qtm_payload.recipients), so no foreign key / second index is needed.
CREATE TABLE qtm_payload_recipient (
    recipient  BLOB    NOT NULL CHECK (length(recipient) = 32),
    payload_id INTEGER NOT NULL,
    PRIMARY KEY (recipient, payload_id)
) WITHOUT ROWID;

CREATE TABLE qtm_raw_payload (
    hash              BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 64),
    encrypted_payload BLOB    NOT NULL,
    encrypted_key     BLOB    NOT NULL,
    nonce             BLOB    NOT NULL,
    sender            BLOB    NOT NULL CHECK (length(sender) = 32),
    timestamp         INTEGER NOT NULL
);

CREATE TABLE qtm_privacy_group (
    id        BLOB    NOT NULL PRIMARY KEY,
    lookup_id BLOB    NOT NULL,
    data      BLOB    NOT NULL,
    timestamp INTEGER NOT NULL
);
CREATE INDEX qtm_privacy_group_lookup ON qtm_privacy_group (lookup_id);
