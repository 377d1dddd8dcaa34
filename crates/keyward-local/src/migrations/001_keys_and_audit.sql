-- Keys. The secret itself is never stored: only its SHA-256 and a display stub.
-- Every timestamp is unix milliseconds.
CREATE TABLE keys (
    -- An explicit INTEGER PRIMARY KEY keeps rowids stable across VACUUM: the name index
    -- (migration 2) points at them and paging uses them to break ties.
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    stub TEXT NOT NULL,
    name TEXT NOT NULL,
    owner_kind TEXT CHECK (owner_kind IN ('user', 'org')),
    owner_id TEXT,
    description TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER, -- NULL = never
    revoked_at INTEGER,
    revocation_reason TEXT,
    last_used_at INTEGER, -- NULL = never used
    CHECK ((owner_kind IS NULL) = (owner_id IS NULL))
);

-- One index per sort order, so a first page never sorts the whole table.
CREATE INDEX keys_by_created ON keys (created_at);
-- "Never" sorts as the latest expiry.
CREATE INDEX keys_by_expiry ON keys (ifnull(expires_at, 9223372036854775807));
CREATE INDEX keys_by_name ON keys (name COLLATE NOCASE);
CREATE INDEX keys_by_last_used ON keys (last_used_at);
-- "Keys of this owner, newest first" without a sort.
CREATE INDEX keys_by_owner ON keys (owner_kind, owner_id, created_at);
-- Status filters and their counts: revoked, or not revoked and expiring before/after a time.
CREATE INDEX keys_by_status ON keys (revoked_at, ifnull(expires_at, 9223372036854775807));

-- What happened, when: creates, revokes and failed verifications. Never a secret or its hash.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'revoke', 'verify_failed')),
    key_id TEXT REFERENCES keys (id),
    detail TEXT
);
