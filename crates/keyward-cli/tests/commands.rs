//! Every command in human and `--json` form, against the local store.

mod support;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use support::Sandbox;

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .expect("a timestamp")
        .parse()
        .expect("RFC 3339")
}

#[test]
fn create_prints_the_secret_once_in_a_short_block() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["keys", "create", "--name", "laptop", "--expires", "never"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run:?}");
    assert!(
        lines[0].starts_with("Created key laptop (") && lines[0].ends_with("), expires never"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with("kw_") && lines[1].len() == 41,
        "{run:?}"
    );
    assert_eq!(run.stderr, "This secret is shown once. Store it now.\n");
}

#[test]
fn create_json_is_one_object_with_key_and_secret() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&[
        "keys",
        "create",
        "--name",
        "  ci deploy ",
        "--owner",
        "org:acme",
        "--description",
        "nightly jobs",
        "--expires",
        "2w",
        "--json",
    ]);
    assert!(run.stderr.is_empty(), "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1);
    let created = run.json();
    let object = created.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["key", "secret"]);
    let key = &created["key"];
    assert_eq!(key["name"], "ci deploy");
    assert_eq!(
        key["owner"],
        serde_json::json!({"kind": "org", "id": "acme"})
    );
    assert_eq!(key["description"], "nightly jobs");
    assert_eq!(key["status"], "active");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("kw_"));
    assert_eq!(
        key["stub"].as_str().unwrap(),
        format!("kw_…{}", &secret[secret.len() - 4..])
    );
    let lifetime = time(&key["expires_at"]) - time(&key["created_at"]);
    assert!(
        (lifetime - Duration::days(14)).num_seconds().abs() <= 1,
        "{lifetime}"
    );
}

#[test]
fn create_defaults_to_one_month() {
    let sandbox = Sandbox::new();
    let created = sandbox
        .run(&["keys", "create", "--name", "default", "--json"])
        .json();
    let key = &created["key"];
    let lifetime = time(&key["expires_at"]) - time(&key["created_at"]);
    assert!((28..=31).contains(&lifetime.num_days()), "{lifetime}");
}

#[test]
fn list_shows_a_table_and_a_footer() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["keys", "list"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "No keys match.\npage 1 of 1 · 0 keys\n"),
        "{run:?}"
    );

    let (id, secret) = sandbox.create("laptop", &["--owner", "user:u_1"]);
    sandbox.create("ci", &["--expires", "never"]);
    let run = sandbox.run(&["keys", "list", "--sort", "name", "--asc"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{run:?}");
    let header = lines[0];
    for column in [
        "ID",
        "NAME",
        "OWNER",
        "STATUS",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "STUB",
    ] {
        assert!(header.contains(column), "{header}");
    }
    // Columns line up: every row's NAME starts where the header's does.
    let name_at = header.find("NAME").unwrap();
    assert!(lines[1][name_at..].starts_with("ci "), "{run:?}");
    assert!(lines[2][name_at..].starts_with("laptop "), "{run:?}");
    assert!(
        lines[1].contains("never") && lines[2].contains("user:u_1"),
        "{run:?}"
    );
    assert!(
        lines[2].starts_with(&id)
            && lines[2].contains(&format!("kw_…{}", &secret[secret.len() - 4..]))
    );
    assert_eq!(lines[3], "page 1 of 1 · 2 keys");
    assert!(!run.stdout.contains(&secret));
}

#[test]
fn list_json_pages_from_one() {
    let sandbox = Sandbox::new();
    for name in ["a", "b", "c"] {
        sandbox.create(name, &[]);
    }
    let page = sandbox
        .run(&[
            "keys", "list", "--sort", "name", "--asc", "--limit", "2", "--page", "2", "--json",
        ])
        .json();
    assert_eq!(page["page"], 2);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["total"], 3);
    assert_eq!(page["has_more"], false);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "c");
    assert!(items[0].get("secret").is_none());

    let first = sandbox
        .run(&["keys", "list", "--sort", "name", "--limit", "2", "--json"])
        .json();
    assert_eq!(first["page"], 1);
    assert_eq!(first["has_more"], true);
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "b"], "descending unless --asc");

    let human = sandbox.run(&["keys", "list", "--limit", "2", "--page", "2"]);
    assert!(
        human.stdout.ends_with("page 2 of 2 · 3 keys\n"),
        "{human:?}"
    );
}

#[test]
fn list_filters_by_search_status_and_owner() {
    let sandbox = Sandbox::new();
    let (revoked, _) = sandbox.create("deploy-old", &["--owner", "org:acme"]);
    sandbox.create("deploy-new", &["--owner", "org:acme"]);
    sandbox.create("laptop", &["--owner", "user:me"]);
    assert_eq!(sandbox.run(&["keys", "revoke", &revoked]).code, 0);

    let names = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["keys", "list", "--sort", "name", "--asc", "--json"];
        full.extend_from_slice(args);
        sandbox.run(&full).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&["--search", "deploy"]), ["deploy-new", "deploy-old"]);
    assert_eq!(names(&["--status", "revoked"]), ["deploy-old"]);
    assert_eq!(
        names(&["--status", "active", "--owner", "org:acme"]),
        ["deploy-new"]
    );
    assert_eq!(names(&["--owner", "user:me"]), ["laptop"]);
    assert_eq!(names(&["--status", "expired"]), Vec::<String>::new());
}

#[test]
fn get_shows_one_key() {
    let sandbox = Sandbox::new();
    let (id, secret) = sandbox.create(
        "laptop",
        &["--owner", "user:u_1", "--description", "my laptop"],
    );

    let run = sandbox.run(&["keys", "get", &id]);
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        format!("ID           {id}"),
        "Name         laptop".into(),
        "Status       active".into(),
        "Owner        user:u_1".into(),
        "Description  my laptop".into(),
        "Last used    never".into(),
    ] {
        assert!(
            run.stdout.lines().any(|l| l == expected),
            "missing {expected:?} in {run:?}"
        );
    }
    assert!(!run.stdout.contains(&secret));

    let key = sandbox.run(&["keys", "get", &id, "--json"]).json();
    assert_eq!(key["id"], id.as_str());
    assert_eq!(key["name"], "laptop");
    assert_eq!(key["status"], "active");
    assert!(key.get("secret").is_none());
}

#[test]
fn revoke_reports_each_key_and_is_idempotent() {
    let sandbox = Sandbox::new();
    let (first, _) = sandbox.create("first", &[]);
    let (second, _) = sandbox.create("second", &[]);

    let run = sandbox.run(&["keys", "revoke", &first, "--reason", "rotated"]);
    assert_eq!(
        (run.code, run.stdout.clone()),
        (0, format!("revoked: {first} (first)\n")),
        "{run:?}"
    );
    let key = sandbox.run(&["keys", "get", &first, "--json"]).json();
    assert_eq!(key["status"], "revoked");
    assert_eq!(key["revocation_reason"], "rotated");

    // A repeated id is revoked and reported once.
    let run = sandbox.run(&["keys", "revoke", &first, &second, &second]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!("already revoked: {first} (first)\nrevoked: {second} (second)\n")
    );
}

#[test]
fn revoke_json_has_one_result_per_key_and_exits_with_the_first_failure() {
    let sandbox = Sandbox::new();
    let (id, _) = sandbox.create("k", &[]);

    let run = sandbox.run(&["keys", "revoke", &id, "key_missing", "--json"]);
    assert_eq!(run.code, 5, "not found: {run:?}");
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = body["outcomes"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], id.as_str());
    assert_eq!(results[0]["key"]["status"], "revoked");
    assert!(results[0].get("error").is_none());
    assert_eq!(results[1]["id"], "key_missing");
    assert_eq!(results[1]["error"]["code"], "not_found");
    assert!(results[1].get("key").is_none());

    let human = sandbox.run(&["keys", "revoke", "key_missing", &id]);
    assert_eq!(human.code, 5, "{human:?}");
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert!(lines[0].starts_with("failed: key_missing: "), "{human:?}");
    assert_eq!(lines[1], format!("already revoked: {id} (k)"));
}

#[test]
fn profiles_list_shows_the_implicit_and_configured_profiles() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["profiles", "list"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let columns: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "DEFAULT",
            "NAME",
            "BACKEND",
            "LOCATION",
            "MODE/SUBJECT",
            "CREDENTIAL"
        ]
    );
    assert!(lines[1].starts_with("*        local  local    "), "{run:?}");
    assert!(lines[1].contains(sandbox.data_dir.to_str().unwrap()));
    assert_eq!(
        lines[1].split_whitespace().skip(4).collect::<Vec<_>>(),
        ["-", "-"],
        "a local profile has no mode and needs no credential: {run:?}"
    );

    let other = sandbox.root().join("work-data");
    sandbox.write_config(&format!(
        "default_profile = \"work\"\n[profiles.local]\nbackend = \"local\"\n[profiles.work]\nbackend = \"local\"\ndata_dir = \"{}\"\n",
        other.display()
    ));
    let body = sandbox.run(&["profiles", "list", "--json"]).json();
    let profiles = body["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2);
    assert_eq!(profiles[0]["name"], "local");
    assert_eq!(profiles[0]["default"], false);
    assert_eq!(profiles[1]["name"], "work");
    assert_eq!(profiles[1]["backend"], "local");
    assert_eq!(profiles[1]["default"], true);
    assert!(profiles[1]["location"]
        .as_str()
        .unwrap()
        .starts_with(other.to_str().unwrap()));
}

#[test]
fn profile_flag_and_environment_choose_the_store() {
    let sandbox = Sandbox::new();
    let other = sandbox.root().join("work-data");
    sandbox.write_config(&format!(
        "default_profile = \"local\"\n[profiles.local]\nbackend = \"local\"\n[profiles.work]\nbackend = \"local\"\ndata_dir = \"{}\"\n",
        other.display()
    ));
    sandbox.create("in-work", &["--profile", "work"]);
    assert_eq!(
        sandbox.total(),
        0,
        "the default profile's store is separate"
    );
    let by_flag = sandbox
        .run(&["--profile", "work", "keys", "list", "--json"])
        .json();
    assert_eq!(by_flag["total"], 1);
    let by_env = sandbox
        .command(&["keys", "list", "--json"])
        .env("KEYWARD_PROFILE", "work")
        .output()
        .unwrap();
    let by_env: Value = serde_json::from_slice(&by_env.stdout).unwrap();
    assert_eq!(by_env["total"], 1);
    assert!(other.is_dir());
    let empty_env = sandbox
        .command(&["keys", "list", "--json"])
        .env("KEYWARD_PROFILE", "")
        .output()
        .unwrap();
    let empty_env: Value = serde_json::from_slice(&empty_env.stdout).unwrap();
    assert_eq!(
        empty_env["total"], 0,
        "an empty KEYWARD_PROFILE means the default"
    );
}

#[test]
fn version_and_help() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--version"]);
    assert_eq!(run.code, 0);
    // The version, then the commit it was built from (tests/doctor.rs checks the commit part).
    assert!(
        run.stdout
            .starts_with(&format!("keyward {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{run:?}"
    );
    let help = sandbox.run(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("Examples:") && help.stdout.contains("10 the secret is not valid"),
        "{help:?}"
    );
    let verify_help = sandbox.run(&["keys", "verify", "--help"]);
    assert!(
        verify_help.stdout.contains("standard input"),
        "{verify_help:?}"
    );
}
