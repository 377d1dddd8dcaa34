-- Case-insensitive substring search on names: an FTS5 trigram index over keys.name.
-- External content: the index holds trigrams only, the names stay in keys.
CREATE VIRTUAL TABLE keys_fts USING fts5 (
    name,
    content = 'keys',
    content_rowid = 'seq',
    tokenize = 'trigram',
    columnsize = 0 -- no bm25 ranking here, so skip the per-row size record
);

CREATE TRIGGER keys_fts_after_insert AFTER INSERT ON keys BEGIN
    INSERT INTO keys_fts (rowid, name) VALUES (new.seq, new.name);
END;

CREATE TRIGGER keys_fts_after_delete AFTER DELETE ON keys BEGIN
    INSERT INTO keys_fts (keys_fts, rowid, name) VALUES ('delete', old.seq, old.name);
END;

CREATE TRIGGER keys_fts_after_rename AFTER UPDATE OF name ON keys BEGIN
    INSERT INTO keys_fts (keys_fts, rowid, name) VALUES ('delete', old.seq, old.name);
    INSERT INTO keys_fts (rowid, name) VALUES (new.seq, new.name);
END;

-- Index the keys written before this migration.
INSERT INTO keys_fts (keys_fts) VALUES ('rebuild');
