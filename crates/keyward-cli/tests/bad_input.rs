//! Bad input is refused with a message that names the field, the documented exit status, and
//! nothing written: the key count and the set of files on disk are the same afterwards.

mod support;

use support::{Run, Sandbox};

/// A sandbox holding one key, so that "nothing written" is checked against a real store.
fn with_one_key() -> (Sandbox, String, String) {
    let sandbox = Sandbox::new();
    let (id, secret) = sandbox.create("existing", &[]);
    (sandbox, id, secret)
}

/// Runs `args` (plus `--json` for the second run) and checks exit 2, the field in both forms, and
/// that the store is unchanged.
fn assert_refused(sandbox: &Sandbox, args: &[&str], stdin: Option<&str>, field: &str) -> Run {
    let files = sandbox.file_names();
    let total = sandbox.total();
    let run = |args: &[&str]| match stdin {
        Some(text) => sandbox.run_with_stdin(args, text),
        None => sandbox.run(args),
    };

    let human = run(args);
    assert_eq!(human.code, 2, "{args:?}: {human:?}");
    assert!(human.stdout.is_empty(), "{human:?}");
    assert!(
        human.stderr.starts_with(&format!("error: {field}: ")),
        "{args:?}: {human:?}"
    );
    assert_eq!(human.stderr.lines().count(), 1, "{human:?}");

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = run(&json_args);
    assert_eq!(json.code, 2, "{json:?}");
    let error = json.json_error();
    assert_eq!(error["code"], "invalid_input");
    assert_eq!(error["field"], field);
    assert!(!error["message"].as_str().unwrap().is_empty());

    assert_eq!(sandbox.total(), total, "{args:?} wrote a key");
    assert_eq!(sandbox.file_names(), files, "{args:?} changed the files");
    human
}

#[test]
fn bad_names_are_refused() {
    let (sandbox, _, _) = with_one_key();
    let long = "x".repeat(101);
    for (name, needle) in [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (long.as_str(), "limit is 100"),
        ("tab\there", "control characters"),
        ("esc\u{1b}[2J", "control characters"),
    ] {
        let run = assert_refused(&sandbox, &["keys", "create", "--name", name], None, "name");
        assert!(run.stderr.contains(needle), "{run:?}");
        assert!(!run.stderr.contains('\u{1b}'));
    }
}

#[test]
fn bad_expiries_are_refused() {
    let (sandbox, _, _) = with_one_key();
    let run = assert_refused(
        &sandbox,
        &["keys", "create", "--name", "k", "--expires", "fortnight"],
        None,
        "expires",
    );
    assert!(
        run.stderr.contains("'fortnight' is not an expiry"),
        "{run:?}"
    );
    let run = assert_refused(
        &sandbox,
        &["keys", "create", "--name", "k", "--expires", "2001-02-03"],
        None,
        "expires",
    );
    assert!(run.stderr.contains("in the past"), "{run:?}");
    assert_refused(
        &sandbox,
        &["keys", "create", "--name", "k", "--expires", "0d"],
        None,
        "expires",
    );
    assert_refused(
        &sandbox,
        &["keys", "create", "--name", "k", "--expires", "2200-01-01"],
        None,
        "expires",
    );
}

#[test]
fn malformed_owners_are_refused() {
    let (sandbox, _, _) = with_one_key();
    for owner in ["acme", "team:acme", "org:", "user:has space"] {
        let run = assert_refused(
            &sandbox,
            &["keys", "create", "--name", "k", "--owner", owner],
            None,
            "owner",
        );
        assert!(run.stderr.contains("user:ID or org:ID"), "{run:?}");
        assert_refused(&sandbox, &["keys", "list", "--owner", owner], None, "owner");
    }
}

#[test]
fn a_fresh_store_is_not_created_by_bad_input() {
    let sandbox = Sandbox::new();
    for args in [
        vec!["keys", "create", "--name", ""],
        vec!["keys", "create", "--name", "k", "--expires", "yesterday"],
        vec!["keys", "list", "--status", "gone"],
        vec!["keys", "list", "--sort", "size"],
        vec!["keys", "list", "--page", "0"],
        vec!["keys", "list", "--limit", "0"],
        vec!["keys", "get", " "],
    ] {
        let run = sandbox.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }
    assert!(
        !sandbox.data_dir.exists(),
        "bad input created {}",
        sandbox.data_dir.display()
    );
}

#[test]
fn bad_list_options_name_their_field() {
    let (sandbox, _, _) = with_one_key();
    assert_refused(
        &sandbox,
        &["keys", "list", "--status", "gone"],
        None,
        "status",
    );
    assert_refused(&sandbox, &["keys", "list", "--sort", "size"], None, "sort");
    assert_refused(&sandbox, &["keys", "list", "--page", "0"], None, "page");
    assert_refused(
        &sandbox,
        &["keys", "list", "--limit", "1001"],
        None,
        "limit",
    );
    let search = "s".repeat(201);
    assert_refused(
        &sandbox,
        &["keys", "list", "--search", &search],
        None,
        "search",
    );
}

#[test]
fn unknown_key_ids_are_not_found() {
    let (sandbox, id, _) = with_one_key();
    let files = sandbox.file_names();
    for args in [["keys", "get", "key_nope"], ["keys", "revoke", "key_nope"]] {
        let run = sandbox.run(&args);
        assert_eq!(run.code, 5, "{args:?}: {run:?}");
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let run = sandbox.run(&json_args);
        assert_eq!(run.code, 5, "{run:?}");
        if args[1] == "get" {
            assert_eq!(run.json_error()["code"], "not_found");
        }
    }
    assert_eq!(sandbox.total(), 1);
    assert_eq!(sandbox.file_names(), files);
    let key = sandbox.run(&["keys", "get", &id, "--json"]).json();
    assert_eq!(key["status"], "active", "the existing key was left alone");
}

#[test]
fn malformed_secrets_are_refused_without_echo() {
    let (sandbox, _, secret) = with_one_key();
    let wrong_prefix = format!("sk_{}", &secret[3..]);
    let mut typo = secret.clone().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    for (bad, needle) in [
        (wrong_prefix.as_str(), "start with kw_"),
        (typo.as_str(), "checksum"),
        ("kw_short", "characters long"),
    ] {
        let run = assert_refused(&sandbox, &["keys", "verify"], Some(bad), "secret");
        assert!(run.stderr.contains(needle), "{run:?}");
        assert!(
            !run.stderr.contains(&bad[3..]),
            "the secret was echoed: {run:?}"
        );
    }
}

#[test]
fn a_corrupt_config_names_file_line_and_field_and_is_left_alone() {
    let sandbox = Sandbox::new();
    let text = "default_profile = \"local\"\n[profiles.local]\nbackend = \"local\"\ntoken = \"sk_live_do_not_print\"\n";
    sandbox.write_config(text);
    for args in [
        vec!["keys", "list"],
        vec!["keys", "create", "--name", "k"],
        vec!["profiles", "list"],
    ] {
        let run = sandbox.run(&args);
        assert_eq!(run.code, 2, "{run:?}");
        let config = sandbox.config.display().to_string();
        assert!(
            run.stderr.starts_with("error: profiles.local.token: "),
            "{run:?}"
        );
        assert!(
            run.stderr.contains(&config) && run.stderr.contains("line 4"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("sk_live_do_not_print"), "{run:?}");
    }
    let run = sandbox.run(&["keys", "list", "--json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json_error()["field"], "profiles.local.token");
    assert_eq!(
        std::fs::read_to_string(&sandbox.config).unwrap(),
        text,
        "config was rewritten"
    );
    assert!(!sandbox.data_dir.exists());
}

#[test]
fn an_unknown_profile_is_refused() {
    let (sandbox, _, _) = with_one_key();
    let run = assert_refused(
        &sandbox,
        &["--profile", "nope", "keys", "list"],
        None,
        "profile",
    );
    assert!(
        run.stderr
            .contains("no profile named 'nope'; known profiles: local"),
        "{run:?}"
    );
    let run = sandbox
        .command(&["keys", "create", "--name", "k"])
        .env("KEYWARD_PROFILE", "nope")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(sandbox.total(), 1);
}

#[test]
fn store_errors_exit_eleven() {
    // The data dir is a file.
    let sandbox = Sandbox::new();
    std::fs::write(&sandbox.data_dir, b"not a directory").unwrap();
    let run = sandbox.run(&["keys", "list"]);
    assert_eq!(run.code, 11, "{run:?}");
    assert!(run.stderr.starts_with("error: "), "{run:?}");
    let run = sandbox.run(&["keys", "create", "--name", "k", "--json"]);
    assert_eq!(run.code, 11, "{run:?}");
    assert_eq!(run.json_error()["code"], "store");
    assert_eq!(
        std::fs::read(&sandbox.data_dir).unwrap(),
        b"not a directory"
    );

    // The database is garbage.
    let sandbox = Sandbox::new();
    sandbox.create("k", &[]);
    let db = sandbox
        .file_names()
        .into_iter()
        .find(|p| p.file_name().is_some_and(|name| name == "keyward.db"))
        .expect("the local store's file");
    for path in sandbox.file_names() {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::write(&db, vec![0x5a; 8192]).unwrap();
    let run = sandbox.run(&["keys", "list", "--json"]);
    assert_eq!(run.code, 11, "{run:?}");
    assert_eq!(run.json_error()["code"], "store");
}

#[test]
fn usage_errors_exit_two() {
    let sandbox = Sandbox::new();
    for args in [
        vec![],
        vec!["keys"],
        vec!["keys", "frobnicate"],
        vec!["keys", "create"],
        vec!["keys", "revoke"],
        vec!["keys", "list", "--limit", "many"],
        vec!["--bogus"],
    ] {
        let run = sandbox.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
}

/// An output that cannot be written is an unexpected error (exit 1), not a panic.
#[cfg(target_os = "linux")]
#[test]
fn unwritable_output_is_unexpected() {
    let sandbox = Sandbox::new();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let run = sandbox
        .command(&["keys", "list"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: cannot write output"), "{stderr}");
}
