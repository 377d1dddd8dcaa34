//! The activity log on real SQLite files: recording, search, paging, exports, expiry
//! notification claims, schema and hygiene.

use chrono::NaiveDate;
use keyward_core::{key_format, Error, ErrorCode};
use keyward_local::{ActivityAction, ActivityLog, ActivityQuery, ExportFormat, NewActivity};
use rusqlite::Connection;
use secrecy::ExposeSecret;
use std::path::Path;

fn entry(profile: &str, action: ActivityAction, key_id: &str) -> NewActivity {
    NewActivity {
        profile: profile.to_owned(),
        backend: "local".to_owned(),
        action,
        key_id: key_id.to_owned(),
        key_name: Some(format!("name of {key_id}")),
        reason: None,
        error: None,
    }
}

fn open(dir: &Path) -> ActivityLog {
    ActivityLog::open(&dir.join(ActivityLog::FILE_NAME)).expect("open the activity log")
}

fn query(search: Option<&str>, limit: u32, offset: u64) -> ActivityQuery {
    ActivityQuery {
        search: search.map(str::to_owned),
        limit,
        offset,
    }
}

fn ids(log: &ActivityLog, search: Option<&str>) -> Vec<String> {
    log.list(&query(search, 1000, 0))
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.key_id)
        .collect()
}

#[test]
fn entries_come_back_newest_first_with_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.record(&[entry("work", ActivityAction::Created, "key_1")])
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let failed = NewActivity {
        backend: "clerk".into(),
        reason: Some("laptop lost".into()),
        error: Some(Error::NotFound("no key key_2".into()).to_body()),
        ..entry("work", ActivityAction::RevokeFailed, "key_2")
    };
    log.record(&[
        NewActivity {
            reason: Some("laptop lost".into()),
            ..entry("work", ActivityAction::Revoked, "key_1")
        },
        failed,
    ])
    .unwrap();

    let page = log.list(&ActivityQuery::default()).unwrap();
    assert_eq!(page.total, 3);
    let got: Vec<_> = page
        .entries
        .iter()
        .map(|e| (e.action, e.key_id.as_str()))
        .collect();
    // Same batch, same time: the later insert first.
    assert_eq!(
        got,
        [
            (ActivityAction::RevokeFailed, "key_2"),
            (ActivityAction::Revoked, "key_1"),
            (ActivityAction::Created, "key_1"),
        ]
    );
    let failed = &page.entries[0];
    assert_eq!(failed.profile, "work");
    assert_eq!(failed.backend, "clerk");
    assert_eq!(failed.key_name.as_deref(), Some("name of key_2"));
    assert_eq!(failed.reason.as_deref(), Some("laptop lost"));
    assert_eq!(failed.error_code.as_deref(), Some("not_found"));
    assert_eq!(failed.error_message.as_deref(), Some("no key key_2"));
    assert!(page.entries[0].at >= page.entries[2].at);
    assert!(page.entries[0].id > page.entries[1].id);

    let json = serde_json::to_value(&page.entries[1]).unwrap();
    assert_eq!(json["action"], "revoked");
    assert_eq!(json["key_id"], "key_1");
    assert!(json["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json["error_code"], serde_json::Value::Null);

    // Reopened: still there.
    drop(log);
    let log = ActivityLog::open(dir.path()).expect("a folder opens its activity.db");
    assert_eq!(log.list(&ActivityQuery::default()).unwrap().total, 3);
    assert_eq!(log.path(), dir.path().join("activity.db"));
}

#[test]
fn search_covers_profile_key_id_name_reason_and_action_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.record(&[
        entry("Work", ActivityAction::Created, "key_a"),
        NewActivity {
            key_name: Some("Deploy Bot".into()),
            ..entry("home", ActivityAction::Created, "key_b")
        },
        NewActivity {
            reason: Some("Rotated after INCIDENT-42".into()),
            ..entry("home", ActivityAction::Revoked, "key_c")
        },
        NewActivity {
            error: Some(Error::Backend("server error".into()).to_body()),
            ..entry("home", ActivityAction::RevokeFailed, "key_d")
        },
        NewActivity {
            key_name: Some("100%_done".into()),
            ..entry("home", ActivityAction::Created, "key_e")
        },
    ])
    .unwrap();
    assert_eq!(ids(&log, Some("work")), ["key_a"]);
    assert_eq!(ids(&log, Some("KEY_B")), ["key_b"]);
    assert_eq!(ids(&log, Some("deploy bot")), ["key_b"]);
    assert_eq!(ids(&log, Some("incident-42")), ["key_c"]);
    assert_eq!(ids(&log, Some("revoke")), ["key_d", "key_c"]);
    assert_eq!(ids(&log, Some("revoke_failed")), ["key_d"]);
    // Wildcards are literal.
    assert_eq!(ids(&log, Some("%_")), ["key_e"]);
    assert_eq!(
        ids(&log, Some("  ")).len(),
        5,
        "a blank search is no search"
    );
    assert!(ids(&log, Some("nothing like it")).is_empty());
    let page = log.list(&query(Some("home"), 2, 0)).unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.entries.len(), 2);
}

#[test]
fn paging_and_bad_queries() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let batch: Vec<_> = (0..25)
        .map(|i| entry("p", ActivityAction::Created, &format!("key_{i:02}")))
        .collect();
    log.record(&batch).unwrap();
    let mut seen = Vec::new();
    for offset in [0, 10, 20] {
        let page = log.list(&query(None, 10, offset)).unwrap();
        assert_eq!(page.total, 25);
        seen.extend(page.entries.into_iter().map(|e| e.key_id));
    }
    let expected: Vec<_> = (0..25).rev().map(|i| format!("key_{i:02}")).collect();
    assert_eq!(seen, expected);
    assert!(log.list(&query(None, 10, 100)).unwrap().entries.is_empty());

    let error = log.list(&query(None, 0, 0)).unwrap_err();
    assert_eq!(error.field(), Some("limit"));
    let error = log.list(&query(None, 1001, 0)).unwrap_err();
    assert_eq!(error.field(), Some("limit"));
    let error = log.list(&query(Some("a\u{1b}b"), 10, 0)).unwrap_err();
    assert_eq!(error.field(), Some("search"));
    // The query type the app sends, with defaults.
    let q: ActivityQuery = serde_json::from_str(r#"{"search":"x"}"#).unwrap();
    assert_eq!((q.limit, q.offset), (100, 0));
    assert_eq!(ExportFormat::parse("CSV").unwrap(), ExportFormat::Csv);
    assert_eq!(
        ExportFormat::parse("xml").unwrap_err().field(),
        Some("format")
    );
}

/// A small RFC 4180 reader, to check what a spreadsheet would see.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "rows end with CRLF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        row.is_empty() && cell.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

#[test]
fn csv_export_has_a_header_quotes_properly_and_defuses_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.record(&[
        NewActivity {
            key_name: Some("=HYPERLINK(\"http://evil\",\"x\")".into()),
            reason: Some("line one\nline \"two\", with comma".into()),
            ..entry("work", ActivityAction::Revoked, "key_1")
        },
        NewActivity {
            key_name: Some("@SUM(1)".into()),
            reason: Some("-2+3".into()),
            ..entry("work", ActivityAction::Created, "key_2")
        },
        NewActivity {
            error: Some(Error::invalid("id", "bad, very bad").to_body()),
            ..entry("other", ActivityAction::RevokeFailed, "+key_3")
        },
    ])
    .unwrap();
    let mut out = Vec::new();
    let count = log.export(None, ExportFormat::Csv, &mut out).unwrap();
    assert_eq!(count, 3);
    let text = String::from_utf8(out).unwrap();
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        [
            "id",
            "at",
            "profile",
            "backend",
            "action",
            "key_id",
            "key_name",
            "reason",
            "error_code",
            "error_message"
        ]
    );
    assert_eq!(rows.len(), 4);
    // Newest first: key_3, key_2, key_1.
    assert_eq!(rows[1][5], "'+key_3");
    assert_eq!(rows[1][4], "revoke_failed");
    assert_eq!(rows[1][8], "invalid_input");
    assert_eq!(rows[1][9], "id: bad, very bad");
    assert_eq!(rows[2][6], "'@SUM(1)");
    assert_eq!(rows[2][7], "'-2+3");
    assert_eq!(rows[3][6], "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(rows[3][7], "line one\nline \"two\", with comma");
    assert_eq!(rows[3][8], "");
    assert!(rows[3][1].ends_with('Z'), "{}", rows[3][1]);
    for row in &rows[1..] {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a cell a spreadsheet would run: {cell}"
            );
        }
    }

    // With a search: only those.
    let mut out = Vec::new();
    let count = log
        .export(Some("OTHER"), ExportFormat::Csv, &mut out)
        .unwrap();
    assert_eq!(count, 1);
    assert_eq!(parse_csv(&String::from_utf8(out).unwrap()).len(), 2);

    // Empty log: the header alone.
    let empty = open(&dir.path().join("empty"));
    let mut out = Vec::new();
    assert_eq!(empty.export(None, ExportFormat::Csv, &mut out).unwrap(), 0);
    assert_eq!(parse_csv(&String::from_utf8(out).unwrap()).len(), 1);
}

#[test]
fn json_export_is_an_array_of_entries() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.record(&[
        entry("work", ActivityAction::Created, "key_1"),
        entry("work", ActivityAction::Revoked, "key_1"),
        entry("home", ActivityAction::Created, "key_2"),
    ])
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(
        log.export(Some("work"), ExportFormat::Json, &mut out)
            .unwrap(),
        2
    );
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let array = value.as_array().expect("an array");
    assert_eq!(array.len(), 2);
    assert_eq!(array[0]["action"], "revoked");
    assert_eq!(array[1]["action"], "created");
    assert_eq!(array[1]["profile"], "work");
    assert_eq!(array[1]["key_name"], "name of key_1");

    let mut out = Vec::new();
    log.export(Some("nobody"), ExportFormat::Json, &mut out)
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
        serde_json::json!([])
    );
}

#[test]
fn each_key_is_claimed_for_notification_once_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let next = day.succ_opt().unwrap();
    assert!(log.claim_expiry_notification("work", "key_1", day).unwrap());
    assert!(!log.claim_expiry_notification("work", "key_1", day).unwrap());
    assert!(log.claim_expiry_notification("work", "key_2", day).unwrap());
    assert!(log.claim_expiry_notification("home", "key_1", day).unwrap());
    assert!(log
        .claim_expiry_notification("work", "key_1", next)
        .unwrap());
    // Another process (another connection) sees the claims.
    let other = open(dir.path());
    assert!(!other
        .claim_expiry_notification("work", "key_1", day)
        .unwrap());
    assert!(!other
        .claim_expiry_notification("work", "key_1", next)
        .unwrap());
    // Claims are not activity.
    assert_eq!(log.list(&ActivityQuery::default()).unwrap().total, 0);
}

#[test]
fn the_file_is_versioned_wal_and_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ActivityLog::FILE_NAME);
    drop(ActivityLog::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'activity' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(indexes, ["activity_at", "activity_key_id"]);
    // Opening again does not migrate again.
    drop(conn);
    let log = ActivityLog::open(&path).unwrap();
    log.record(&[entry("p", ActivityAction::Created, "k")])
        .unwrap();
}

#[test]
fn a_newer_or_foreign_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    {
        let conn = Connection::open(&newer).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 7;")
            .unwrap();
    }
    let before = std::fs::read(&newer).unwrap();
    let error = ActivityLog::open(&newer).unwrap_err();
    assert_eq!(error.code(), ErrorCode::Store);
    assert!(error.to_string().contains("newer Keyward"), "{error}");
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    let foreign = dir.path().join("foreign.db");
    {
        let conn = Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE notes (x)").unwrap();
    }
    let error = ActivityLog::open(&foreign).unwrap_err();
    assert_eq!(error.code(), ErrorCode::Store);
    assert!(error.to_string().contains("another program"), "{error}");

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not sqlite at all, not even close....").unwrap();
    assert_eq!(
        ActivityLog::open(&garbage).unwrap_err().code(),
        ErrorCode::Store
    );
}

#[test]
fn a_secret_pasted_into_an_entry_never_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let secret = key_format::generate().unwrap();
    let secret = secret.expose_secret().to_owned();
    log.record(&[NewActivity {
        key_name: Some(format!("name {secret}")),
        reason: Some(format!("leaked {secret} oops")),
        error: Some(Error::Backend(format!("echoed {secret}")).to_body()),
        ..entry("work", ActivityAction::RevokeFailed, "key_1")
    }])
    .unwrap();
    let page = log.list(&ActivityQuery::default()).unwrap();
    assert_eq!(
        page.entries[0].reason.as_deref(),
        Some("leaked [secret removed] oops")
    );
    let mut exported = Vec::new();
    log.export(None, ExportFormat::Json, &mut exported).unwrap();
    log.export(None, ExportFormat::Csv, &mut exported).unwrap();
    drop(log);
    let mut files = vec![exported];
    for item in std::fs::read_dir(dir.path()).unwrap() {
        files.push(std::fs::read(item.unwrap().path()).unwrap());
    }
    for bytes in files {
        assert!(
            !bytes
                .windows(secret.len())
                .any(|window| window == secret.as_bytes()),
            "the secret was written"
        );
    }
}

#[test]
fn the_log_is_shared_between_threads() {
    fn require_send_sync<T: Send + Sync>() {}
    require_send_sync::<ActivityLog>();
    let dir = tempfile::tempdir().unwrap();
    let log = std::sync::Arc::new(open(dir.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    log.record(&[entry("p", ActivityAction::Created, &format!("k{t}_{i}"))])
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(log.list(&ActivityQuery::default()).unwrap().total, 40);
}
