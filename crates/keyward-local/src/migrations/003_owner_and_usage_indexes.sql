-- The owner sort: owners as written (org before user, then by id), keys without an owner last.
-- The expression matches the ORDER BY of the listing exactly, so SQLite walks this index.
CREATE INDEX keys_by_owner_sort ON keys (owner_kind IS NULL, owner_kind, owner_id);
