//! The CLI against a FreeSewing emulator that behaves like the real v3 server, warts included
//! (docs/backends/freesewing.md): Basic auth with an unknown key id "crashes" it (the connection
//! is dropped and a crash counted, as the real process dies there). Keyward must never cause one.

mod support;

use keyward_core::KeyBackend;
use keyward_emulators::{Flavor, FreeSewingSwitches};
use keyward_remote::{FreeSewingAuth, FreeSewingBackend, FreeSewingConfig, HttpOptions};
use secrecy::SecretString;
use serde_json::Value;
use std::time::Instant;
use support::{Emu, Run, Sandbox};

/// A sandbox with one FreeSewing profile (`--auth key|jwt`), its credential in the environment.
struct Sewing {
    sandbox: Sandbox,
    emu: Emu,
    env: (String, String),
}

impl Sewing {
    fn with_credential(auth: &str, credential: impl FnOnce(&Emu) -> String) -> Sewing {
        let emu = Emu::start(Flavor::FreeSewing);
        let sandbox = Sandbox::new();
        let url = emu.url();
        let added = sandbox.run(&[
            "profiles",
            "add",
            "sewing",
            "--backend",
            "freesewing",
            "--url",
            &url,
            "--auth",
            auth,
        ]);
        assert_eq!(added.code, 0, "{added:?}");
        assert_eq!(sandbox.run(&["profiles", "use", "sewing"]).code, 0);
        let credential = credential(&emu);
        Sewing {
            sandbox,
            emu,
            env: ("KEYWARD_CREDENTIAL_SEWING".into(), credential),
        }
    }

    /// The seeded user-role account (level 4), with its API key.
    fn user_key() -> Sewing {
        Self::with_credential("key", |emu| {
            let c = emu.credentials().freesewing().unwrap();
            format!("{}:{}", c.api_key, c.api_secret)
        })
    }

    fn run(&self, args: &[&str]) -> Run {
        self.sandbox
            .run_env(args, &[(self.env.0.as_str(), self.env.1.as_str())])
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.sandbox
            .run_env_stdin(args, &[(self.env.0.as_str(), self.env.1.as_str())], stdin)
    }

    fn create(&self, name: &str, level: &str) -> (String, String) {
        let created = self
            .run(&[
                "keys",
                "create",
                "--name",
                name,
                "--level",
                level,
                "--expires",
                "30d",
                "--json",
            ])
            .json();
        (
            created["key"]["id"].as_str().unwrap().to_owned(),
            created["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// `keys verify` of `KEY_ID:SECRET`, timed; the time is printed, not asserted tightly.
    fn verify(&self, what: &str, id: &str, secret: &str) -> Run {
        let started = Instant::now();
        let run = self.run_stdin(&["keys", "verify", "--json"], &format!("{id}:{secret}"));
        println!("keys verify ({what}) took {:?}", started.elapsed());
        run
    }
}

fn assert_no_crash(sewing: &Sewing) {
    assert_eq!(
        sewing.emu.crashes(),
        0,
        "Keyward crashed the FreeSewing server"
    );
}

#[test]
fn the_whole_cycle_with_the_crash_fault_on_crashes_nothing() {
    for auth in ["key", "jwt"] {
        let sewing = Sewing::with_credential(auth, |emu| {
            let c = emu.credentials().freesewing().unwrap();
            match auth {
                "key" => format!("{}:{}", c.api_key, c.api_secret),
                _ => c.jwt.clone(),
            }
        });
        assert!(
            sewing
                .emu
                .freesewing_switches()
                .unwrap()
                .crash_on_unknown_key
        );
        let (id, secret) = sewing.create("pattern-bot", "3");

        let listed = sewing.run(&["keys", "list", "--json"]).json();
        assert!(listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|key| key["id"] == id.as_str()));
        let got = sewing.run(&["keys", "get", &id, "--json"]).json();
        assert_eq!(
            (got["name"].as_str(), got["level"].as_u64()),
            (Some("pattern-bot"), Some(3))
        );

        let valid = sewing.verify("valid", &id, &secret);
        assert_eq!(valid.code, 0, "{auth}: {valid:?}");
        assert_eq!(valid.json()["result"], "valid");

        let deleted = sewing.run(&["keys", "revoke", &id]);
        assert_eq!(deleted.code, 0, "{deleted:?}");

        let after_delete = sewing.verify("after delete", &id, &secret);
        assert_eq!(after_delete.code, 10, "{auth}: {after_delete:?}");
        let body: Value = serde_json::from_str(&after_delete.stdout).unwrap();
        assert_eq!(body["result"], "unknown");

        // One character of a real id changed.
        let creds = sewing.emu.credentials().freesewing().unwrap().clone();
        let mistyped = format!("{}0", &creds.api_key[..35]);
        assert_ne!(mistyped, creds.api_key);
        let typo = sewing.verify("mistyped id", &mistyped, &creds.api_secret);
        assert_eq!(typo.code, 10, "{auth}: {typo:?}");
        for run in [&after_delete, &typo] {
            assert!(
                !run.stdout.contains(&secret) && !run.stderr.contains(&secret),
                "{run:?}"
            );
        }

        assert_no_crash(&sewing);
    }
}

#[test]
fn the_crash_fault_is_real() {
    // A profile whose key id does not exist: every command sends it in Basic auth, the old way
    // verify did. The server "crashes" (the connection is dropped) and the emulator counts it.
    let sewing = Sewing::with_credential("key", |_| {
        format!("00000000-0000-4000-8000-000000000000:{}", "f".repeat(64))
    });
    let run = sewing.run(&["keys", "list", "--json"]);
    assert_eq!(run.code, 8, "a network error: {run:?}");
    assert!(sewing.emu.crashes() >= 1, "the emulator counted no crash");

    // With the fault off, the same profile gets a clean 401.
    sewing.emu.set_freesewing_switches(FreeSewingSwitches {
        crash_on_unknown_key: false,
        ..FreeSewingSwitches::default()
    });
    sewing.emu.reset_stats();
    let run = sewing.run(&["keys", "list", "--json"]);
    assert_eq!(run.code, 3, "unauthorized: {run:?}");
    assert_no_crash(&sewing);
}

#[test]
fn level_nine_works_for_an_admin_account() {
    for auth in ["jwt", "key"] {
        let sewing = Sewing::with_credential(auth, |emu| {
            let c = emu.credentials().freesewing().unwrap();
            match auth {
                "key" => format!("{}:{}", c.admin_api_key, c.admin_api_secret),
                _ => c.admin_jwt.clone(),
            }
        });
        let created = sewing
            .run(&[
                "keys",
                "create",
                "--name",
                "all-powerful",
                "--level",
                "9",
                "--expires",
                "7d",
                "--json",
            ])
            .json();
        assert_eq!(created["key"]["level"], 9, "{auth}");
        assert_no_crash(&sewing);
    }
}

#[test]
fn a_user_role_account_is_refused_level_five_before_anything_is_sent() {
    let sewing = Sewing::user_key();
    sewing.emu.reset_stats();
    let run = sewing.run(&[
        "keys",
        "create",
        "--name",
        "too-high",
        "--level",
        "5",
        "--expires",
        "7d",
        "--json",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    let error = run.json_error();
    assert_eq!(error["field"], "level", "{run:?}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("4"),
        "the message names the cap: {message}"
    );
    let routes = sewing.emu.stats();
    assert!(
        !routes.keys().any(|route| route.starts_with("POST")),
        "a create was sent: {routes:?}"
    );
    let top = sewing.create("at-the-cap", "4");
    assert!(!top.0.is_empty());

    // What the front ends see after refresh_capabilities: levels 1 to 4.
    let c = sewing.emu.credentials().freesewing().unwrap().clone();
    let backend = FreeSewingBackend::new(FreeSewingConfig {
        base_url: sewing.emu.url(),
        auth: FreeSewingAuth::Key {
            key: c.api_key,
            secret: SecretString::from(c.api_secret),
        },
        http: HttpOptions::default(),
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(backend.capabilities().levels, Some((1, 9)));
    let refreshed = runtime.block_on(backend.refresh_capabilities()).unwrap();
    assert_eq!(refreshed.levels, Some((1, 4)));
    assert_eq!(backend.capabilities().levels, Some((1, 4)));
    assert_no_crash(&sewing);
}

#[test]
fn a_seed_shaped_create_answer_prints_the_secret() {
    let sewing = Sewing::user_key();
    sewing.emu.set_freesewing_switches(FreeSewingSwitches {
        seed_shaped_create: true,
        ..FreeSewingSwitches::default()
    });
    let run = sewing.run(&[
        "keys",
        "create",
        "--name",
        "seed-shaped",
        "--level",
        "2",
        "--expires",
        "30d",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let secret = run
        .stdout
        .split_whitespace()
        .find(|word| word.len() == 64 && word.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no secret printed: {run:?}"))
        .to_owned();

    let created = sewing
        .run(&[
            "keys",
            "create",
            "--name",
            "seed-shaped-json",
            "--level",
            "2",
            "--expires",
            "30d",
            "--json",
        ])
        .json();
    let id = created["key"]["id"].as_str().unwrap();
    let json_secret = created["secret"].as_str().unwrap();
    assert_eq!(json_secret.len(), 64);
    assert!(!created["key"]["created_at"].is_null(), "{created}");
    assert_eq!(sewing.verify("seed-shaped", id, json_secret).code, 0);
    assert_ne!(secret, json_secret);
    assert_no_crash(&sewing);
}
