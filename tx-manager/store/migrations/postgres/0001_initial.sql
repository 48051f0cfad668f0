-- qtm payload store, PostgreSQL. Tables are prefixed qtm_ so they can live next to Tessera's own
-- encrypted_transaction etc. in a database that Tessera used before.
CREATE TABLE qtm_payload (
    hash            BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(hash) = 64),
    encoded_payload BYTEA  NOT NULL CHECK (octet_length(encoded_payload) > 0),
    payload_codec   TEXT   NOT NULL CHECK (payload_codec IN ('LEGACY', 'CBOR')),
    -- concatenated 32-byte recipient keys, in the caller's order (the index below is the
    -- searchable copy)
    recipients      BYTEA  NOT NULL CHECK (octet_length(recipients) % 32 = 0),
    sender          BYTEA  NOT NULL CHECK (octet_length(sender) = 32),
    timestamp       BIGINT NOT NULL
);

-- recipient key -> payload hash. The primary key is the recipient index: "payloads for key K
-- after hash H" is a range scan.
CREATE TABLE qtm_payload_recipient (
    recipient BYTEA NOT NULL CHECK (octet_length(recipient) = 32),
    hash      BYTEA NOT NULL REFERENCES qtm_payload (hash) ON DELETE CASCADE,
    PRIMARY KEY (recipient, hash)
);
CREATE INDEX qtm_payload_recipient_hash ON qtm_payload_recipient (hash);

CREATE TABLE qtm_raw_payload (
    hash              BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(hash) = 64),
    encrypted_payload BYTEA  NOT NULL,
    encrypted_key     BYTEA  NOT NULL,
    nonce             BYTEA  NOT NULL,
    sender            BYTEA  NOT NULL CHECK (octet_length(sender) = 32),
    timestamp         BIGINT NOT NULL
);

CREATE TABLE qtm_privacy_group (
    id        BYTEA  NOT NULL PRIMARY KEY,
    lookup_id BYTEA  NOT NULL,
    data      BYTEA  NOT NULL,
    timestamp BIGINT NOT NULL
);
CREATE INDEX qtm_privacy_group_lookup ON qtm_privacy_group (lookup_id);
