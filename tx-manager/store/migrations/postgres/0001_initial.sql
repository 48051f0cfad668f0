-- qtm payload store, PostgreSQL. Tables are prefixed qtm_ so they can live next to Tessera's own
-- encrypted_transaction etc. in a database that Tessera used before.
-- `id` is the insertion order: the recipient index points at it, so index inserts are appends
-- rather than random 64-byte keys.
CREATE TABLE qtm_payload (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash            BYTEA  NOT NULL UNIQUE CHECK (octet_length(hash) = 64),
    encoded_payload BYTEA  NOT NULL CHECK (octet_length(encoded_payload) > 0),
    payload_codec   TEXT   NOT NULL CHECK (payload_codec IN ('LEGACY', 'CBOR')),
    -- concatenated 32-byte recipient keys, in the caller's order (the index below is the
    -- searchable copy)
    recipients      BYTEA  NOT NULL CHECK (octet_length(recipients) % 32 = 0),
    sender          BYTEA  NOT NULL CHECK (octet_length(sender) = 32),
    timestamp       BIGINT NOT NULL
);

-- recipient key -> payload id. The primary key is the recipient index: "payloads for key K
-- after payload P" is a range scan.
CREATE TABLE qtm_payload_recipient (
    recipient  BYTEA  NOT NULL CHECK (octet_length(recipient) = 32),
    payload_id BIGINT NOT NULL REFERENCES qtm_payload (id) ON DELETE CASCADE,
    PRIMARY KEY (recipient, payload_id)
);
CREATE INDEX qtm_payload_recipient_payload ON qtm_payload_recipient (payload_id);

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
