-- The trail records key updates too (a changed name, description or expiry). SQLite cannot alter
-- a CHECK constraint, so the trail's table (`audit` on disk) is rebuilt with the longer list of
-- actions, keeping every row and its id. Builds before this migration refuse the file as newer.
CREATE TABLE audit_v4 (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'revoke', 'verify_failed', 'update')),
    key_id TEXT REFERENCES keys (id),
    detail TEXT
);
INSERT INTO audit_v4 (id, at, action, key_id, detail)
    SELECT id, at, action, key_id, detail FROM audit;
DROP TABLE audit;
ALTER TABLE audit_v4 RENAME TO audit;
