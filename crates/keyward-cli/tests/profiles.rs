//! `keyward profiles add|edit|remove|use|list`: the config file as the commands leave it, and bad
//! flags refused by name with the file untouched. No keychain here: these runs point D-Bus at
//! nothing, so they never touch a real keyring (keychain.rs has the real Secret Service).

mod support;

use serde_json::Value;
use support::{Run, Sandbox};

const NO_KEYCHAIN: (&str, &str) = ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");

fn run(sandbox: &Sandbox, args: &[&str]) -> Run {
    sandbox.run_env(args, &[NO_KEYCHAIN])
}

fn profiles(sandbox: &Sandbox, env: &[(&str, &str)]) -> Vec<Value> {
    let mut env = env.to_vec();
    env.push(NO_KEYCHAIN);
    sandbox
        .run_env(&["profiles", "list", "--json"], &env)
        .json()["profiles"]
        .as_array()
        .unwrap()
        .clone()
}

fn find<'a>(profiles: &'a [Value], name: &str) -> &'a Value {
    profiles
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no profile {name} in {profiles:?}"))
}

#[test]
fn a_profile_for_every_backend() {
    let sandbox = Sandbox::new();
    let adds: [&[&str]; 4] = [
        &[
            "acme-clerk",
            "--backend",
            "clerk",
            "--url",
            "https://api.clerk.com",
            "--subject",
            "user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
        ],
        &[
            "acme-propel",
            "--backend",
            "propelauth",
            "--url",
            "https://auth.acme.com",
            "--api",
            "frontend",
        ],
        &[
            "sewing",
            "--backend",
            "freesewing",
            "--url",
            "http://127.0.0.1:8787",
            "--auth",
            "jwt",
        ],
        &["work", "--backend", "local", "--data-dir", "/srv/keyward"],
    ];
    for flags in adds {
        let mut args = vec!["profiles", "add"];
        args.extend_from_slice(flags);
        let added = run(&sandbox, &args);
        assert_eq!(added.code, 0, "{added:?}");
        assert!(added.stdout.starts_with("Added profile "), "{added:?}");
    }
    let text = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(text.contains("[profiles.acme-clerk]\nbackend = \"clerk\"\nurl = \"https://api.clerk.com\"\nsubject = \"user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk\"\n"), "{text}");
    assert!(text.contains("default_profile = \"local\""), "{text}");

    let listed = profiles(&sandbox, &[("KEYWARD_CREDENTIAL_SEWING", "a.jwt.token")]);
    assert_eq!(listed.len(), 5);
    let clerk = find(&listed, "acme-clerk");
    assert_eq!(clerk["backend"], "clerk");
    assert_eq!(clerk["subject"], "user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk");
    assert_eq!(clerk["credential_env"], "KEYWARD_CREDENTIAL_ACME_CLERK");
    // One vocabulary with the app (keyward_profiles::CredentialSource); null: not known.
    assert_eq!(clerk["credential"], Value::Null, "no keychain to ask");
    assert_eq!(find(&listed, "acme-propel")["mode"], "frontend");
    let sewing = find(&listed, "sewing");
    assert_eq!(
        (&sewing["mode"], &sewing["credential"]),
        (
            &Value::from("jwt"),
            &serde_json::json!({"source": "environment", "variable": "KEYWARD_CREDENTIAL_SEWING", "stored": false})
        )
    );
    assert_eq!(
        find(&listed, "work")["credential"],
        serde_json::json!({"source": "not_needed"})
    );
    assert!(find(&listed, "work")["location"]
        .as_str()
        .unwrap()
        .starts_with("/srv/keyward"));

    let human = sandbox.run_env(&["profiles", "list"], &[NO_KEYCHAIN]);
    assert_eq!(human.code, 0, "{human:?}");
    let line = human
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("acme-clerk"))
        .unwrap();
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "acme-clerk",
            "clerk",
            "https://api.clerk.com",
            "user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
            "unknown"
        ]
    );
    assert!(
        human
            .stderr
            .starts_with("note: the keychain could not be asked"),
        "{human:?}"
    );

    // A second profile of the same name is a conflict.
    let again = run(
        &sandbox,
        &["profiles", "add", "sewing", "--backend", "local", "--json"],
    );
    assert_eq!(again.code, 6, "{again:?}");
}

#[test]
fn bad_flags_are_refused_by_name_and_write_nothing() {
    let sandbox = Sandbox::new();
    assert_eq!(
        run(&sandbox, &["profiles", "add", "keep", "--backend", "local"]).code,
        0
    );
    let before = std::fs::read(&sandbox.config).unwrap();
    let cases: [(&[&str], &str); 8] = [
        (
            &["x", "--backend", "clerk", "--url", "http://api.clerk.com"],
            "url",
        ),
        (&["x", "--backend", "clerk", "--url", "not a url"], "url"),
        (&["x", "--backend", "clerk"], "url"),
        (
            &["x", "--backend", "ftp", "--url", "https://a.b"],
            "backend",
        ),
        (&["bad name", "--backend", "local"], "name"),
        (
            &[
                "x",
                "--backend",
                "clerk",
                "--url",
                "https://a.b",
                "--subject",
                "bob",
            ],
            "subject",
        ),
        (
            &[
                "x",
                "--backend",
                "freesewing",
                "--url",
                "https://a.b",
                "--subject",
                "user:1",
            ],
            "subject",
        ),
        (
            &[
                "x",
                "--backend",
                "clerk",
                "--url",
                "https://a.b",
                "--api-path",
                "/v2",
            ],
            "api-path",
        ),
    ];
    for (flags, field) in cases {
        let mut args = vec!["profiles", "add", "--json"];
        args.extend_from_slice(flags);
        let refused = run(&sandbox, &args);
        assert_eq!(refused.code, 2, "{refused:?}");
        let error = refused.json_error();
        assert_eq!(error["field"], field, "{flags:?}: {error}");
        assert!(
            !error["message"].as_str().unwrap().contains("line "),
            "{error}"
        );
        assert_eq!(std::fs::read(&sandbox.config).unwrap(), before, "{flags:?}");
    }
    // A URL's credentials and query never reach the message.
    let leaky = run(
        &sandbox,
        &[
            "profiles",
            "add",
            "x",
            "--backend",
            "clerk",
            "--url",
            "http://user:hunter2@example.com/?token=abc",
        ],
    );
    assert_eq!(leaky.code, 2);
    assert!(leaky.stderr.starts_with("error: url: "), "{leaky:?}");
    assert!(
        !leaky.stderr.contains("hunter2") && !leaky.stderr.contains("token=abc"),
        "{leaky:?}"
    );
}

#[test]
fn edit_keeps_what_is_not_given_use_switches_and_remove_cleans_up() {
    let sandbox = Sandbox::new();
    let add = run(
        &sandbox,
        &[
            "profiles",
            "add",
            "acme",
            "--backend",
            "clerk",
            "--url",
            "https://api.clerk.com",
            "--subject",
            "org:org_1",
            "--api-path",
            "/v1/api_keys",
        ],
    );
    assert_eq!(add.code, 0, "{add:?}");

    let edited = run(
        &sandbox,
        &[
            "profiles",
            "edit",
            "acme",
            "--url",
            "https://clerk.acme.test",
            "--json",
        ],
    );
    let profile = &edited.json()["profile"];
    assert_eq!(profile["location"], "https://clerk.acme.test");
    assert_eq!(profile["subject"], "org:org_1", "kept");
    let text = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(text.contains("api_path = \"/v1/api_keys\""), "kept: {text}");

    // An empty value removes a setting.
    assert_eq!(
        run(&sandbox, &["profiles", "edit", "acme", "--subject", ""]).code,
        0
    );
    assert_eq!(
        find(&profiles(&sandbox, &[]), "acme")["subject"],
        Value::Null
    );
    // A new backend starts afresh: the Clerk settings do not carry over.
    let switched = run(
        &sandbox,
        &[
            "profiles",
            "edit",
            "acme",
            "--backend",
            "freesewing",
            "--url",
            "https://backend.freesewing.org",
        ],
    );
    assert_eq!(switched.code, 0, "{switched:?}");
    let text = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(!text.contains("api_path"), "{text}");
    let bad = run(
        &sandbox,
        &["profiles", "edit", "acme", "--subject", "user:1", "--json"],
    );
    assert_eq!(bad.json_error()["field"], "subject");
    let unknown = run(
        &sandbox,
        &["profiles", "edit", "nope", "--url", "https://a.b", "--json"],
    );
    assert_eq!(unknown.json_error()["field"], "profile");

    // use: the default profile.
    let used = run(&sandbox, &["profiles", "use", "acme"]);
    assert_eq!(used.stdout, "Default profile: acme\n");
    assert_eq!(find(&profiles(&sandbox, &[]), "acme")["default"], true);
    assert_eq!(run(&sandbox, &["profiles", "use", "nope"]).code, 2);

    // remove: not the default while others remain; the credential is forgotten best effort.
    let refused = run(&sandbox, &["profiles", "remove", "acme", "--json"]);
    assert_eq!(refused.json_error()["field"], "profile");
    assert_eq!(run(&sandbox, &["profiles", "use", "local"]).code, 0);
    let removed = run(&sandbox, &["profiles", "remove", "acme"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(
        removed.stdout.starts_with(
            "Removed profile acme\nIts credential could not be deleted from the keychain"
        ),
        "{removed:?}"
    );
    assert_eq!(profiles(&sandbox, &[]).len(), 1);

    // The local store has no credential to set.
    let local = sandbox.run_env_stdin(
        &["profiles", "set-credential", "local", "--json"],
        &[NO_KEYCHAIN],
        "x\n",
    );
    assert_eq!(local.json_error()["field"], "profile");
}

#[test]
fn set_credential_refuses_empty_and_malformed_input_before_saving() {
    let sandbox = Sandbox::new();
    let add = run(
        &sandbox,
        &[
            "profiles",
            "add",
            "sewing",
            "--backend",
            "freesewing",
            "--url",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(add.code, 0, "{add:?}");
    // No keychain is reachable here, so reaching the save step would exit 9: these stop before.
    let empty = sandbox.run_env_stdin(
        &["profiles", "set-credential", "sewing", "--json"],
        &[NO_KEYCHAIN],
        "\n",
    );
    assert_eq!(empty.json_error()["field"], "credential");
    let malformed = sandbox.run_env_stdin(
        &["profiles", "set-credential", "sewing", "--json"],
        &[NO_KEYCHAIN],
        "no-colon-secret\n",
    );
    let error = malformed.json_error();
    assert_eq!(error["field"], "credential");
    assert!(!malformed.stderr.contains("no-colon-secret"));
    let unreachable = sandbox.run_env_stdin(
        &["profiles", "set-credential", "sewing", "--json"],
        &[NO_KEYCHAIN],
        "key:secret\n",
    );
    assert_eq!(unreachable.code, 9, "{unreachable:?}");
    assert_eq!(unreachable.json_error()["code"], "keychain_unavailable");
}
