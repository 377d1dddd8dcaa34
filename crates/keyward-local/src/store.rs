//! [`LocalStore`]: one SQLite connection behind a mutex, shared by every clone.

use crate::errors::InFile;
use crate::last_used::LastUsedBuffer;
use crate::row::{self, key_columns, KeyRow, KEY_COLUMN_COUNT};
use crate::trail::{self, TrailAction, TrailEntry};
use crate::{list, schema, sqlite, time};
use chrono::{DateTime, Utc};
use keyward_core::key_format::{self, SecretHash};
use keyward_core::{
    ApiKey, CreatedKey, Error, KeyStatus, KeyUpdate, ListQuery, NewExpiry, NewKey, Page, Result,
    Subject, TextLimits, UpdateFields, Verification,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

const KEY_ID_PREFIX: &str = "key_";
const KEY_ID_HEX_LEN: usize = 16;
const REASON_MAX_CHARS: usize = 500;

/// The local offline key store: a SQLite file holding SHA-256 hashes of secrets (never the
/// secrets), display stubs and a trail of every change (see [`LocalStore::trail_sync`]).
///
/// Cloning is cheap and every clone shares one connection. The `*_sync` methods block; the
/// [`KeyBackend`](keyward_core::KeyBackend) methods run them on Tokio's blocking pool.
///
/// Durability: the file is in WAL mode with `synchronous=NORMAL`, so a committed create or revoke
/// survives the app crashing or being killed; a power cut or OS crash can roll back the last
/// commits but never corrupts the file. "Last used" times are written behind (see
/// [`LocalStore::verify_sync`]) and a crash can lose the last second of them.
#[derive(Clone)]
pub struct LocalStore {
    shared: Arc<Shared>,
}

struct Shared {
    path: Arc<Path>,
    state: Mutex<State>,
}

struct State {
    path: Arc<Path>,
    conn: Connection,
    last_used: LastUsedBuffer,
}

impl LocalStore {
    /// The database's file name inside the data folder.
    pub const FILE_NAME: &'static str = "keyward.db";

    /// Opens (creating if needed) `<data_dir>/keyward.db`, creating `data_dir` if it is missing;
    /// the folder is made owner-only.
    pub fn open(data_dir: &Path) -> Result<LocalStore> {
        sqlite::private_data_dir(data_dir)?;
        Self::open_file(&data_dir.join(Self::FILE_NAME))
    }

    /// Opens (creating if needed) the database at `db_path` and brings its schema up to date.
    pub fn open_file(db_path: &Path) -> Result<LocalStore> {
        let path: Arc<Path> = db_path.into();
        let conn = open_connection(&path)?;
        Ok(LocalStore {
            shared: Arc::new(Shared {
                path: path.clone(),
                state: Mutex::new(State {
                    path,
                    conn,
                    last_used: LastUsedBuffer::new(),
                }),
            }),
        })
    }

    pub fn db_path(&self) -> &Path {
        &self.shared.path
    }

    /// Creates a key and returns its secret, the only time the secret exists outside the caller's
    /// input. The input is checked in full before anything is written.
    pub fn create_sync(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated()?;
        if new.level.is_some() {
            return Err(Error::invalid("level", "the local store has no levels"));
        }
        if !new.scopes.is_empty() {
            return Err(Error::invalid("scopes", "the local store has no scopes"));
        }
        refuse_secret_in("name", &new.name)?;
        if let Some(description) = &new.description {
            refuse_secret_in("description", description)?;
        }
        let created_at = time::now();
        let expires_at = new.expiration.resolve(created_at)?.map(time::truncate);
        let secret = key_format::generate()?;
        let key = ApiKey {
            id: new_key_id()?,
            name: new.name,
            owner: new.owner,
            created_at,
            expires_at,
            status: KeyStatus::Active,
            revoked_at: None,
            revocation_reason: None,
            last_used_at: None,
            level: None,
            scopes: Vec::new(),
            description: new.description,
            metadata: None,
            stub: Some(key_format::stub(&secret)),
        };
        self.lock().insert(&key, &key_format::hash(&secret))?;
        Ok(CreatedKey { key, secret })
    }

    pub fn list_sync(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone().validated()?;
        self.lock().list(&query)
    }

    /// The distinct owners of the store's keys (any status), sorted as written: `org:…` before
    /// `user:…`, then by id. One walk of the owner index.
    pub fn owners_sync(&self) -> Result<Vec<Subject>> {
        let state = self.lock();
        let read = |conn: &Connection| -> rusqlite::Result<Vec<Subject>> {
            conn.prepare_cached(
                "SELECT DISTINCT owner_kind, owner_id FROM keys
                 WHERE owner_kind IS NOT NULL ORDER BY owner_kind, owner_id",
            )?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .map(|row| {
                let (kind, id) = row?;
                Ok(match kind.as_str() {
                    "org" => Subject::Org(id),
                    _ => Subject::User(id),
                })
            })
            .collect()
        };
        read(&state.conn).in_file(&state.path)
    }

    pub fn get_sync(&self, id: &str) -> Result<ApiKey> {
        let id = checked_key_id(id)?;
        let mut state = self.lock();
        state.flush_last_used()?;
        let found = find_by_id(&state.conn, id).in_file(&state.path)?;
        found.map(|row| row.key).ok_or_else(|| unknown_id(id))
    }

    /// Revokes a key, keeping its row. Revoking a revoked key changes nothing (neither the first
    /// revocation's time and reason nor the trail) and returns it as it is.
    pub fn revoke_sync(&self, id: &str, reason: Option<&str>) -> Result<ApiKey> {
        let id = checked_key_id(id)?;
        let reason = checked_reason(reason)?;
        self.lock().revoke(id, reason)
    }

    /// What [`LocalStore::update_sync`] can change: everything the store keeps of a key that a
    /// user chose (the owner is fixed; the store has no levels or scopes).
    pub const UPDATABLE: UpdateFields = UpdateFields {
        name: true,
        description: true,
        expiry: true,
        scopes: false,
    };

    /// Changes a key's name, description or expiry, in one transaction with a trail entry saying
    /// what changed, and returns the key as it now is. A duration counts from now, so it can
    /// extend or shorten; `Never` removes the expiry; an expired key can be given a new expiry
    /// (it is active again). A revoked key is refused with `conflict`: revocation is final, and
    /// an edit must not look like it brought the key back.
    pub fn update_sync(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        change.check_against(&Self::UPDATABLE)?;
        let change = change.clone().validated_for(&TextLimits::GENERIC, &[])?;
        let id = checked_key_id(id)?;
        self.lock().update(id, &change)
    }

    /// Checks a secret. A valid use is recorded to the minute, buffered and written behind (at 512
    /// pending keys, after a second, before any read, on drop); every unknown, revoked or expired
    /// secret is recorded in the trail.
    pub fn verify_sync(&self, secret: &SecretString) -> Result<Verification> {
        key_format::check(secret.expose_secret())?;
        let hash = key_format::hash(secret);
        self.lock().verify(&hash, Recording::Use)
    }

    /// Checks a secret as [`LocalStore::verify_sync`] does, but a valid key's last use is left as
    /// it was: a person checking a key they hold has not used it. Failed checks are still in the
    /// trail (someone presented a secret that is not good).
    pub fn check_sync(&self, secret: &SecretString) -> Result<Verification> {
        key_format::check(secret.expose_secret())?;
        let hash = key_format::hash(secret);
        self.lock().verify(&hash, Recording::CheckOnly)
    }

    /// The newest `limit` entries of the store's own trail (creates, revokes, failed
    /// verifications), newest first. Not the [`ActivityLog`](crate::ActivityLog).
    pub fn trail_sync(&self, limit: u32) -> Result<Vec<TrailEntry>> {
        let state = self.lock();
        trail::latest(&state.conn, limit).in_file(&state.path)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under the lock cannot leave a transaction half done (rusqlite rolls back on
        // drop), so the state is still sound.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("db_path", &self.shared.path)
            .finish()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        // Nobody is left to report a failure to; the times stay unwritten, the keys are intact.
        let _ = state.flush_last_used();
    }
}

/// Whether a valid verification records the key's last use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recording {
    Use,
    CheckOnly,
}

impl State {
    fn insert(&mut self, key: &ApiKey, hash: &SecretHash) -> Result<()> {
        let created_ms = key.created_at.timestamp_millis();
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "INSERT INTO keys (id, secret_hash, stub, name, owner_kind, owner_id,
                                   description, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute((
                &key.id,
                hash,
                &key.stub,
                &key.name,
                key.owner.as_ref().map(|o| o.kind()),
                key.owner.as_ref().map(|o| o.id()),
                &key.description,
                created_ms,
                key.expires_at.map(|at| at.timestamp_millis()),
            ))?;
            trail::record(
                &tx,
                created_ms,
                TrailAction::Create,
                Some(&key.id),
                Some(&key.name),
            )?;
            tx.commit()
        };
        write(&mut self.conn).in_file(&self.path)
    }

    fn list(&mut self, query: &ListQuery) -> Result<Page<ApiKey>> {
        self.flush_last_used()?;
        let now = time::now();
        let offset = query.offset();
        let limit = u64::from(query.limit);
        let run = |conn: &Connection| -> rusqlite::Result<(Vec<ApiKey>, u64)> {
            let name_matches = match &query.search {
                Some(search) => Some(list::NameMatches::find(conn, search)?),
                None => None,
            };
            let expiring = match query.expires_within_days {
                Some(days) => Some(list::ExpiringCount::find(
                    conn,
                    now.timestamp_millis(),
                    days,
                )?),
                None => None,
            };
            let sql = list::build(query, now.timestamp_millis(), name_matches, expiring);
            let (limit_param, offset_param) = (limit as i64, offset as i64);
            let mut page_params = sql.params_for(&sql.page);
            page_params.push((":limit", &limit_param));
            page_params.push((":offset", &offset_param));
            let items = conn
                .prepare_cached(&sql.page)?
                .query_map(page_params.as_slice(), |r| row::from_row(r, now))?
                .map(|r| r.map(|row| row.key))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let shown = items.len() as u64;
            let total = match &sql.total {
                list::Total::Known(total) => *total,
                // A short page that is not past the end is the last one: its end is the total.
                list::Total::Count(_) if shown < limit && (shown > 0 || offset == 0) => {
                    offset + shown
                }
                list::Total::Count(count_sql) => {
                    let count: i64 = conn
                        .prepare_cached(count_sql)?
                        .query_row(sql.params_for(count_sql).as_slice(), |r| r.get(0))?;
                    count as u64
                }
            };
            Ok((items, total))
        };
        let (items, total) = run(&self.conn).in_file(&self.path)?;
        Ok(Page {
            has_more: offset + (items.len() as u64) < total,
            items,
            page: query.page,
            limit: query.limit,
            total: Some(total),
        })
    }

    fn revoke(&mut self, id: &str, reason: Option<String>) -> Result<ApiKey> {
        self.flush_last_used()?;
        let now = time::now();
        let (tx, KeyRow { seq, mut key }) = write_on_key(&mut self.conn, &self.path, id)?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let write = || -> rusqlite::Result<()> {
            let now_ms = now.timestamp_millis();
            tx.prepare_cached(
                "UPDATE keys SET revoked_at = ?2, revocation_reason = ?3 WHERE seq = ?1",
            )?
            .execute((seq, now_ms, &reason))?;
            trail::record(
                &tx,
                now_ms,
                TrailAction::Revoke,
                Some(id),
                reason.as_deref(),
            )?;
            tx.commit()
        };
        write().in_file(&self.path)?;
        key.revoked_at = Some(now);
        key.revocation_reason = reason;
        key.status = KeyStatus::Revoked;
        Ok(key)
    }

    fn update(&mut self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        self.flush_last_used()?;
        let now = time::now();
        let (tx, KeyRow { seq, mut key }) = write_on_key(&mut self.conn, &self.path, id)?;
        if key.revoked_at.is_some() {
            return Err(Error::Conflict(format!(
                "key {id} is revoked; a revoked key cannot be changed"
            )));
        }
        if let Some(name) = &change.name {
            key.name = name.clone();
        }
        if change.description.is_some() {
            key.description = change.description_text().map(str::to_owned);
        }
        match change.new_expiry(now)? {
            Some(NewExpiry::Never) => key.expires_at = None,
            Some(NewExpiry::At(at)) => key.expires_at = Some(time::truncate(at)),
            None => {}
        }
        let write = || -> rusqlite::Result<()> {
            let now_ms = now.timestamp_millis();
            tx.prepare_cached(
                "UPDATE keys SET name = ?2, description = ?3, expires_at = ?4 WHERE seq = ?1",
            )?
            .execute((
                seq,
                &key.name,
                &key.description,
                key.expires_at.map(|at| at.timestamp_millis()),
            ))?;
            trail::record(
                &tx,
                now_ms,
                TrailAction::Update,
                Some(id),
                Some(&change.summary()),
            )?;
            tx.commit()
        };
        write().in_file(&self.path)?;
        key.status = KeyStatus::derive(false, key.expires_at, now);
        Ok(key)
    }

    fn verify(&mut self, hash: &SecretHash, recording: Recording) -> Result<Verification> {
        let now = time::now();
        // The lookup by hash is not constant-time, but its timing depends only on a SHA-256
        // digest, which tells nothing about any secret; the final compare is constant-time.
        let found = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                key_columns!(),
                ", secret_hash FROM keys WHERE secret_hash = ?1"
            ))
            .and_then(|mut select| {
                select
                    .query_row([hash], |r| {
                        let stored: SecretHash = r.get(KEY_COLUMN_COUNT)?;
                        Ok((row::from_row(r, now)?, stored))
                    })
                    .optional()
            })
            .in_file(&self.path)?
            .filter(|(_, stored)| key_format::hashes_match(stored, hash))
            .map(|(row, _)| row);
        let Some(KeyRow { seq, mut key }) = found else {
            self.record_failed_verify(now, None, "unknown secret")?;
            return Ok(Verification::Unknown);
        };
        if let Some(pending) = self.last_used.pending_for(seq) {
            key.last_used_at = Some(time::from_own_millis(pending));
        }
        match key.status {
            KeyStatus::Active if recording == Recording::CheckOnly => Ok(Verification::Valid(key)),
            KeyStatus::Active => {
                let recorded = key.last_used_at.map(|at| at.timestamp_millis());
                let held = self.last_used.record(seq, recorded, now.timestamp_millis());
                key.last_used_at = Some(time::from_own_millis(held));
                if self.last_used.is_due() {
                    self.flush_last_used()?;
                }
                Ok(Verification::Valid(key))
            }
            KeyStatus::Revoked => {
                self.record_failed_verify(now, Some(&key.id), "revoked")?;
                Ok(Verification::Revoked(key))
            }
            KeyStatus::Expired => {
                self.record_failed_verify(now, Some(&key.id), "expired")?;
                Ok(Verification::Expired(key))
            }
        }
    }

    fn record_failed_verify(
        &self,
        now: DateTime<Utc>,
        key_id: Option<&str>,
        outcome: &str,
    ) -> Result<()> {
        trail::record(
            &self.conn,
            now.timestamp_millis(),
            TrailAction::VerifyFailed,
            key_id,
            Some(outcome),
        )
        .in_file(&self.path)
    }

    fn flush_last_used(&mut self) -> Result<()> {
        self.last_used.flush(&mut self.conn).in_file(&self.path)
    }
}

/// Starts a write on key `id`: an immediate transaction (so no other writer slips in between
/// the read and the write) and the key's row; an unknown id is `not_found`.
fn write_on_key<'c>(
    conn: &'c mut Connection,
    path: &Path,
    id: &str,
) -> Result<(rusqlite::Transaction<'c>, KeyRow)> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .in_file(path)?;
    match find_by_id(&tx, id).in_file(path)? {
        Some(row) => Ok((tx, row)),
        None => Err(unknown_id(id)),
    }
}

fn find_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<KeyRow>> {
    let now = time::now();
    conn.prepare_cached(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE id = ?1"
    ))?
    .query_row([id], |r| row::from_row(r, now))
    .optional()
}

fn open_connection(path: &Path) -> Result<Connection> {
    sqlite::open(path, &schema::STORE_FILE, |conn| {
        conn.pragma_update(None, "foreign_keys", true)?;
        // `rarray(?)` binds a list of row numbers: the matches of a search.
        rusqlite::vtab::array::load_module(conn)?;
        // Keep a 100k-key store's pages in memory: 32 MiB of page cache, and reads through mmap
        // rather than a system call per page.
        conn.pragma_update(None, "cache_size", -32_768)?;
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
        // Listings combine search, status, owner and sort into a few hundred statement shapes.
        conn.set_prepared_statement_cache_capacity(128);
        Ok(())
    })
}

/// Whether `text` is shaped like a local key id: `key_` + 16 lowercase hex digits.
pub(crate) fn is_key_id(text: &str) -> bool {
    text.strip_prefix(KEY_ID_PREFIX).is_some_and(|hex| {
        hex.len() == KEY_ID_HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn new_key_id() -> Result<String> {
    let mut bytes = [0u8; KEY_ID_HEX_LEN / 2];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Unexpected(format!("the OS random generator failed: {e}")))?;
    Ok(format!("{KEY_ID_PREFIX}{:016x}", u64::from_be_bytes(bytes)))
}

/// Checks an id given by a caller. Errors never echo an id that is not id-shaped: it could be a
/// secret pasted into the wrong place.
fn checked_key_id(id: &str) -> Result<&str> {
    let id = id.trim();
    if id.starts_with(key_format::PREFIX) {
        return Err(Error::invalid(
            "id",
            "that looks like a secret, not a key id",
        ));
    }
    if !is_key_id(id) {
        return Err(Error::NotFound(format!(
            "no key with that id in the local store (its ids are {KEY_ID_PREFIX} and 16 hex digits)"
        )));
    }
    Ok(id)
}

fn unknown_id(id: &str) -> Error {
    Error::NotFound(format!("no key with id {id} in the local store"))
}

fn checked_reason(reason: Option<&str>) -> Result<Option<String>> {
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let chars = reason.chars().count();
    if chars > REASON_MAX_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("is {chars} characters long; the limit is {REASON_MAX_CHARS}"),
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(Error::invalid(
            "reason",
            "contains control characters (tabs, newlines or escapes)",
        ));
    }
    refuse_secret_in("reason", reason)?;
    Ok(Some(reason.to_owned()))
}

/// Text we store in the clear must not carry a Keyward secret pasted by mistake.
fn refuse_secret_in(field: &str, text: &str) -> Result<()> {
    let holds_secret = text.match_indices(key_format::PREFIX).any(|(start, _)| {
        text.get(start..start + key_format::SECRET_LEN)
            .is_some_and(|candidate| key_format::check(candidate).is_ok())
    });
    if holds_secret {
        return Err(Error::invalid(
            field,
            "contains a Keyward secret; never paste a secret here",
        ));
    }
    Ok(())
}
