//! The CLI against each backend's emulator, started in-process on a free loopback port: profiles
//! written with `keyward profiles add`, credentials from `KEYWARD_CREDENTIAL_<PROFILE>` (the
//! keychain path is in keychain.rs), every command, backend-specific flags, and the exit status of
//! each kind of failure, faults included.

mod support;

use keyward_emulators::{Faults, Flavor, RateLimit};
use serde_json::Value;
use std::time::Duration;
use support::{closed_port_url, Emu, Run, Sandbox};

/// A sandbox with one remote profile, made the default, and its credential for the environment.
struct Remote {
    sandbox: Sandbox,
    emu: Emu,
    env: Vec<(String, String)>,
}

impl Remote {
    /// `flags` and `credential` are read off the running emulator (its seeded accounts).
    fn new(
        flavor: Flavor,
        profile: &'static str,
        flags: impl FnOnce(&Emu) -> Vec<String>,
        credential: impl FnOnce(&Emu) -> String,
    ) -> Remote {
        let emu = Emu::start(flavor);
        let sandbox = Sandbox::new();
        let url = emu.url();
        let flags = flags(&emu);
        let mut args = vec![
            "profiles",
            "add",
            profile,
            "--backend",
            flavor.as_str(),
            "--url",
            &url,
        ];
        args.extend(flags.iter().map(String::as_str));
        let added = sandbox.run(&args);
        assert_eq!(added.code, 0, "{added:?}");
        assert_eq!(sandbox.run(&["profiles", "use", profile]).code, 0);
        let env_var = format!(
            "KEYWARD_CREDENTIAL_{}",
            profile.to_uppercase().replace('-', "_")
        );
        let credential = credential(&emu);
        Remote {
            sandbox,
            emu,
            env: vec![(env_var, credential)],
        }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn run(&self, args: &[&str]) -> Run {
        self.sandbox.run_env(args, &self.env())
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.sandbox.run_env_stdin(args, &self.env(), stdin)
    }

    fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut env = self.env();
        env.extend_from_slice(extra);
        self.sandbox.run_env(args, &env)
    }

    /// `keys create … --json`: the key and its secret.
    fn create(&self, name: &str, extra: &[&str]) -> (Value, String) {
        let mut args = vec!["keys", "create", "--name", name, "--json"];
        args.extend_from_slice(extra);
        let created = self.run(&args).json();
        let secret = created["secret"].as_str().expect("a secret").to_owned();
        (created["key"].clone(), secret)
    }

    fn ids(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["keys", "list", "--json"];
        args.extend_from_slice(extra);
        self.run(&args).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A Clerk profile with the seeded user as its subject.
fn clerk() -> Remote {
    Remote::new(
        Flavor::Clerk,
        "clerk",
        |emu| {
            let user = &emu.credentials().clerk().unwrap().user_id;
            vec!["--subject".into(), format!("user:{user}")]
        },
        |emu| emu.credentials().clerk().unwrap().secret_key.clone(),
    )
}

/// A failed run: its exit status, its `--json` error, and no credential in any output.
fn assert_fails(run: &Run, code: i32, error_code: &str, credential: &str) -> Value {
    assert_eq!(run.code, code, "{run:?}");
    let error = run.json_error();
    assert_eq!(error["code"], error_code, "{run:?}");
    assert!(
        !run.stderr.contains(credential) && !run.stdout.contains(credential),
        "the credential leaked: {run:?}"
    );
    error
}

/// Human create output: the summary line and the secret alone on the next one.
fn human_create(remote: &Remote, args: &[&str]) -> (String, String) {
    let run = remote.run(args);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run:?}");
    let id = lines[0]
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(id, _)| id.to_owned())
        .expect("the id");
    assert_eq!(run.stderr, "This secret is shown once. Store it now.\n");
    (id, lines[1].to_owned())
}

#[test]
fn clerk_keys_with_scopes_description_revoke_verify_and_errors() {
    let clerk = clerk();
    let creds = clerk.emu.credentials().clerk().unwrap().clone();

    // Created with Clerk's own fields; the secret is in the create response only.
    let (key, secret) = clerk.create(
        "deploy-bot",
        &[
            "--scope",
            "read",
            "--scope",
            "write",
            "--description",
            "CI deploys",
            "--expires",
            "90d",
        ],
    );
    let id = key["id"].as_str().unwrap();
    assert_eq!(key["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(key["description"], "CI deploys");
    assert_eq!(key["owner"]["id"], creds.user_id.as_str());
    let (human_id, human_secret) = human_create(&clerk, &["keys", "create", "--name", "laptop"]);
    assert_ne!(human_secret, secret);

    let listed = clerk.run(&["keys", "list", "--json"]).json();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|k| k["saved_in_keychain"] == false));
    let human = clerk.run(&["keys", "list"]);
    assert!(human.stdout.contains("deploy-bot") && human.stdout.contains(&human_id));
    for run in [&human, &clerk.run(&["keys", "get", id, "--json"])] {
        assert!(!run.stdout.contains(&secret), "{run:?}");
    }
    assert_eq!(clerk.run(&["keys", "list", "--search", "deploy"]).code, 0);
    assert_eq!(clerk.ids(&["--search", "deploy"]), [id]);

    // Verify reads the secret from stdin.
    let valid = clerk.run_stdin(&["keys", "verify", "--json"], &format!("{secret}\n"));
    assert_eq!(valid.json()["result"], "valid");
    assert!(!valid.stdout.contains(&secret));

    // Clerk revokes (the key stays listed as revoked), with a reason.
    let revoked = clerk.run(&["keys", "revoke", id, "--reason", "rotated"]);
    assert_eq!(revoked.code, 0, "{revoked:?}");
    assert_eq!(revoked.stdout, format!("revoked: {id} (deploy-bot)\n"));
    // Revoking again is no error (Clerk keeps no revocation time, so it cannot say "already").
    let again = clerk.run(&["keys", "revoke", id]);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, revoked.stdout.as_str())
    );
    let key = clerk.run(&["keys", "get", id, "--json"]).json();
    assert_eq!(key["status"], "revoked");
    assert_eq!(key["revocation_reason"], "rotated");
    assert_eq!(clerk.run_stdin(&["keys", "verify"], &secret).code, 10);

    // Flags Clerk has no use for are refused before any request, naming the backend.
    let before = clerk.emu.request_count();
    let level = clerk.run(&[
        "keys", "create", "--name", "x-level", "--level", "2", "--json",
    ]);
    let error = assert_fails(&level, 2, "invalid_input", &creds.secret_key);
    assert_eq!(error["field"], "level");
    assert_eq!(error["message"], "the clerk backend has no levels");
    assert_eq!(clerk.emu.request_count(), before);

    // 409: a valid key's name is taken.
    let duplicate = clerk.run(&["keys", "create", "--name", "laptop", "--json"]);
    assert_fails(&duplicate, 6, "conflict", &creds.secret_key);
    // 404
    let missing = clerk.run(&[
        "keys",
        "get",
        "ak_00000000000000000000000000000000",
        "--json",
    ]);
    assert_fails(&missing, 5, "not_found", &creds.secret_key);
    // 401: a wrong credential, which is never echoed.
    let wrong = "sk_test_wrongWrongWrong";
    let run = clerk.run_with(
        &["keys", "list", "--json"],
        &[("KEYWARD_CREDENTIAL_CLERK", wrong)],
    );
    assert_fails(&run, 3, "unauthorized", wrong);
}

#[test]
fn freesewing_levels_delete_verify_and_permission() {
    let sewing = Remote::new(
        Flavor::FreeSewing,
        "sewing",
        |_| vec!["--auth".into(), "key".into()],
        |emu| {
            let creds = emu.credentials().freesewing().unwrap();
            format!("{}:{}", creds.api_key, creds.api_secret)
        },
    );
    let creds = sewing.emu.credentials().freesewing().unwrap().clone();

    let (key, secret) = sewing.create("pattern-bot", &["--level", "2", "--expires", "90d"]);
    let id = key["id"].as_str().unwrap().to_owned();
    assert_eq!(key["level"], 2);
    assert!(sewing.ids(&[]).contains(&id));

    // Levels are checked against the backend's range (for this user-role account: 1 to 4, once
    // the CLI has asked the server), other backends' fields refused.
    for (flags, field, message) in [
        (
            &["--level", "10"][..],
            "level",
            "the freesewing backend takes levels 1 to 4",
        ),
        (
            &["--scope", "read"][..],
            "scope",
            "the freesewing backend has no scopes",
        ),
        (
            &["--description", "x"][..],
            "description",
            "the freesewing backend keeps no description with a key",
        ),
    ] {
        let mut args = vec!["keys", "create", "--name", "refused", "--json"];
        args.extend_from_slice(flags);
        let error = assert_fails(&sewing.run(&args), 2, "invalid_input", &creds.api_secret);
        assert_eq!(
            (error["field"].as_str(), error["message"].as_str()),
            (Some(field), Some(message))
        );
    }

    // FreeSewing verifies KEY_ID:SECRET.
    let pair = format!("{id}:{secret}");
    assert_eq!(sewing.run_stdin(&["keys", "verify"], &pair).code, 0);
    let bare = sewing.run_stdin(&["keys", "verify", "--json"], &secret);
    assert_eq!(bare.json_error()["field"], "secret");
    assert!(!bare.stderr.contains(&secret), "{bare:?}");

    // 403: a level-1 key may read but not delete.
    let (weak, weak_secret) = sewing.create("weak", &["--level", "1", "--expires", "30d"]);
    let weak_id = weak["id"].as_str().unwrap();
    let weak_credential = format!("{weak_id}:{weak_secret}");
    let denied = sewing.run_with(
        &["keys", "revoke", &id, "--json"],
        &[("KEYWARD_CREDENTIAL_SEWING", &weak_credential)],
    );
    assert_eq!(denied.code, 4, "{denied:?}");
    let body: Value = serde_json::from_str(&denied.stdout).unwrap();
    let result = &body["outcomes"][0];
    assert_eq!(result["error"]["code"], "permission_denied");
    assert!(!denied.stdout.contains(&weak_secret));

    // FreeSewing deletes for good, and says so.
    let deleted = sewing.run(&["keys", "revoke", &id]);
    assert_eq!(deleted.code, 0, "{deleted:?}");
    assert_eq!(deleted.stdout, format!("deleted: {id} (pattern-bot)\n"));
    assert!(!sewing.ids(&[]).contains(&id));
    assert_eq!(sewing.run_stdin(&["keys", "verify"], &pair).code, 10);
    let gone = sewing.run(&["keys", "get", &id, "--json"]);
    assert_fails(&gone, 5, "not_found", &creds.api_secret);
}

#[test]
fn propelauth_org_keys_archive_and_permission() {
    let propel = Remote::new(
        Flavor::PropelAuth,
        "propel",
        |_| vec!["--api".into(), "backend".into()],
        |emu| {
            emu.credentials()
                .propelauth()
                .unwrap()
                .integration_key
                .clone()
        },
    );
    let creds = propel.emu.credentials().propelauth().unwrap().clone();
    let org = format!("org:{}", creds.org_id);

    let (key, secret) = propel.create("org-owner", &["--owner", &org, "--description", "ops"]);
    let id = key["id"].as_str().unwrap().to_owned();
    assert_eq!(key["owner"]["kind"], "org");
    assert_eq!(key["owner"]["id"], creds.org_id.as_str());
    let user = format!("user:{}", creds.user_id);
    let (personal, _) = propel.create("personal", &["--owner", &user, "--expires", "never"]);
    assert_eq!(personal["expires_at"], Value::Null);
    assert_eq!(propel.ids(&["--owner", &org]), std::slice::from_ref(&id));

    assert_eq!(
        propel
            .run_stdin(&["keys", "verify", "--json"], &secret)
            .json()["result"],
        "valid"
    );
    let level = propel.run(&["keys", "create", "--name", "x", "--level", "1", "--json"]);
    assert_eq!(
        assert_fails(&level, 2, "invalid_input", &creds.integration_key)["message"],
        "the propelauth backend has no levels"
    );

    // PropelAuth archives.
    let archived = propel.run(&["keys", "revoke", &id]);
    assert_eq!(archived.code, 0, "{archived:?}");
    assert_eq!(archived.stdout, format!("archived: {id} (org-owner)\n"));
    assert_eq!(propel.run_stdin(&["keys", "verify"], &secret).code, 10);
    let missing = propel.run(&["keys", "get", "0123456789abcdef0123456789abcdef", "--json"]);
    assert_fails(&missing, 5, "not_found", &creds.integration_key);

    // 403 on the frontend API: an org the signed-in user is not a member of.
    let session = propel.emu.propelauth_session().unwrap();
    let url = propel.emu.url();
    let added = propel.sandbox.run(&[
        "profiles",
        "add",
        "propel-fe",
        "--backend",
        "propelauth",
        "--url",
        &url,
        "--api",
        "frontend",
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    let other = format!("org:{}", creds.other_org_id);
    let env = [("KEYWARD_CREDENTIAL_PROPEL_FE", session.as_str())];
    let denied = propel.sandbox.run_env(
        &[
            "--profile",
            "propel-fe",
            "keys",
            "create",
            "--name",
            "nope",
            "--owner",
            &other,
            "--json",
        ],
        &env,
    );
    assert_fails(&denied, 4, "permission_denied", &session);
    let mine = format!("org:{}", creds.org_id);
    let created = propel.sandbox.run_env(
        &[
            "--profile",
            "propel-fe",
            "keys",
            "create",
            "--name",
            "fe",
            "--owner",
            &mine,
            "--json",
        ],
        &env,
    );
    assert_eq!(created.json()["key"]["owner"]["id"], creds.org_id.as_str());
    assert!(!created.stdout.contains(&session) && !created.stderr.contains(&session));
}

#[test]
fn failures_exit_with_their_documented_status_and_clean_messages() {
    let clerk = clerk();
    let creds = clerk.emu.credentials().clerk().unwrap().clone();
    let search = ["keys", "list", "--search", "private-search-text", "--json"];

    // 429 with a Retry-After longer than the CLI waits out: rate_limited, with retry_after.
    clerk.emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 0,
            window: Duration::from_secs(600),
        }),
        ..Faults::default()
    });
    let error = assert_fails(&clerk.run(&search), 7, "rate_limited", &creds.secret_key);
    assert!(error["retry_after"].as_f64().unwrap() > 30.0, "{error}");

    // 500 on every attempt.
    clerk.emu.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    let run = clerk.run(&search);
    let error = assert_fails(&run, 8, "backend", &creds.secret_key);
    assert!(!run.stderr.contains("private-search-text"), "{error}");

    // Every connection dropped: a clean network error.
    clerk.emu.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let run = clerk.run(&search);
    let error = assert_fails(&run, 8, "network", &creds.secret_key);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("broke before the answer"), "{message}");
    assert!(!message.contains('?') && !message.contains("private-search-text"));

    // Some connections dropped and some 500s: retries hide them, or the error is clean. Every
    // outcome is one of the two, never a crash or a leak.
    clerk.emu.set_faults(Faults {
        drop_rate: 0.3,
        failure_rate: 0.3,
        ..Faults::default()
    });
    let mut succeeded = 0;
    for _ in 0..6 {
        let run = clerk.run(&search);
        match run.code {
            0 => succeeded += 1,
            8 => {
                assert_fails(
                    &run,
                    8,
                    run.json_error()["code"].as_str().unwrap(),
                    &creds.secret_key,
                );
            }
            _ => panic!("{run:?}"),
        }
    }
    assert!(succeeded > 0, "retries should get most lists through");

    // A backend slower than KEYWARD_HTTP_TIMEOUT_MS.
    clerk.emu.set_faults(Faults {
        latency: Duration::from_secs(2),
        ..Faults::default()
    });
    let run = clerk.run_with(&search, &[("KEYWARD_HTTP_TIMEOUT_MS", "200")]);
    let error = assert_fails(&run, 8, "network", &creds.secret_key);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("did not answer within 0.2 s"), "{message}");
    assert!(!message.contains('?'), "{message}");
    let bad = clerk.run_with(&search, &[("KEYWARD_HTTP_TIMEOUT_MS", "soon")]);
    assert_eq!(bad.json_error()["field"], "KEYWARD_HTTP_TIMEOUT_MS");
    clerk.emu.set_faults(Faults::default());
    assert_eq!(clerk.run(&search).code, 0);

    // The backend is down: nothing listens on the profile's port.
    let down = closed_port_url();
    let edited = clerk
        .sandbox
        .run(&["profiles", "edit", "clerk", "--url", &down]);
    assert_eq!(edited.code, 0, "{edited:?}");
    let run = clerk.run(&search);
    let error = assert_fails(&run, 8, "network", &creds.secret_key);
    assert_eq!(
        error["message"],
        format!("cannot reach {down}: connection refused")
    );
    let human = clerk.run(&["keys", "list", "--search", "private-search-text"]);
    assert_eq!(human.code, 8);
    assert_eq!(
        human.stderr,
        format!("error: cannot reach {down}: connection refused\n")
    );
    // ... and the CLI keeps working for everything else.
    assert_eq!(clerk.run(&["--profile", "local", "keys", "list"]).code, 0);
}
