-- Provider keys set in the app, sealed with XChaCha20-Poly1305 under a data key that never
-- enters the database (a 0600 file beside it, or the OS keyring): a dump of this table alone
-- decrypts nothing. `hint` is the key's last four characters, for a person to recognise it.
CREATE TABLE provider_credentials (
    provider     TEXT PRIMARY KEY,
    nonce        BYTEA NOT NULL CHECK (length(nonce) = 24),
    ciphertext   BYTEA NOT NULL,
    hint         TEXT NOT NULL,
    set_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    verified_at  TIMESTAMPTZ
);
