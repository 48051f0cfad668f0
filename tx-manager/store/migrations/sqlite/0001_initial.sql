-- qtm payload store, SQLite. Tables are prefixed qtm_ so they can live next to Tessera's own
-- ENCRYPTED_TRANSACTION etc. in a database that Tessera used before.
CREATE TABLE qtm_payload (
    hash            BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 64),
    encoded_payload BLOB    NOT NULL CHECK (length(encoded_payload) > 0),
    payload_codec   TEXT    NOT NULL CHECK (payload_codec IN ('LEGACY', 'CBOR')),
    -- concatenated 32-byte recipient keys, in the caller's order (the index below is the
    -- searchable copy)
    recipients      BLOB    NOT NULL CHECK (length(recipients) % 32 = 0),
    sender          BLOB    NOT NULL CHECK (length(sender) = 32),
    timestamp       INTEGER NOT NULL
);

-- recipient key -> payload hash. The primary key is the recipient index: "payloads for key K
-- after hash H" is a range scan.
CREATE TABLE qtm_payload_recipient (
    recipient BLOB NOT NULL CHECK (length(recipient) = 32),
    hash      BLOB NOT NULL REFERENCES qtm_payload (hash) ON DELETE CASCADE,
    PRIMARY KEY (recipient, hash)
) WITHOUT ROWID;
CREATE INDEX qtm_payload_recipient_hash ON qtm_payload_recipient (hash);

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
