//! Secret hygiene through the `keyward` binary: after a scenario of creates (human and JSON),
//! verifies, revokes, lists and gets, no secret appears in any file under the data and config
//! dirs, nor in any output, except the stdout of the one `keys create` that made it.

use keyward_tests::{contains, snapshot, workspace_binary, Seen};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Some bytes the scenario produced, and where they came from.
struct Scenario {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    config_dir: PathBuf,
    binary: PathBuf,
    seen: Vec<Seen>,
    step: usize,
}

impl Scenario {
    fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let config_dir = dir.path().join("config");
        std::fs::create_dir(&config_dir).unwrap();
        std::fs::write(
            config_dir.join("config.toml"),
            "default_profile = \"local\"\n[profiles.local]\nbackend = \"local\"\n",
        )
        .unwrap();
        Scenario {
            data_dir: dir.path().join("data"),
            config_dir,
            binary: workspace_binary("keyward"),
            dir,
            seen: Vec::new(),
            step: 0,
        }
    }

    /// Runs the binary, records its stdout and stderr, and snapshots every file on disk after it
    /// (SQLite's -wal and -shm files come and go, so each step is captured).
    fn run(&mut self, args: &[&str], stdin: Option<&str>) -> Step {
        self.step += 1;
        let mut child = Command::new(&self.binary)
            .args(args)
            .env("KEYWARD_DATA_DIR", &self.data_dir)
            .env("KEYWARD_CONFIG", self.config_dir.join("config.toml"))
            .env("HOME", self.dir.path())
            .env_remove("KEYWARD_PROFILE")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start keyward");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        let label = format!("step {} `keyward {}`", self.step, args.join(" "));
        let stdout_index = self.seen.len();
        self.seen.push(Seen {
            source: format!("stdout of {label}"),
            bytes: output.stdout.clone(),
        });
        self.seen.push(Seen {
            source: format!("stderr of {label}"),
            bytes: output.stderr,
        });
        for dir in [self.data_dir.clone(), self.config_dir.clone()] {
            snapshot(&dir, &label, &mut self.seen);
        }
        Step {
            code: output.status.code().expect("exited"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stdout_index,
        }
    }
}

struct Step {
    code: i32,
    stdout: String,
    /// Where this step's stdout is in `Scenario::seen`.
    stdout_index: usize,
}

/// A secret made by the scenario, and the one place it may appear.
struct Made {
    secret: String,
    id: String,
    create_stdout: usize,
}

#[test]
fn secrets_appear_only_in_their_own_create_output() {
    let mut scenario = Scenario::new();
    let mut made = Vec::new();

    for name in ["human-one", "human-two"] {
        let step = scenario.run(&["keys", "create", "--name", name], None);
        assert_eq!(step.code, 0, "{}", step.stdout);
        let id = step
            .stdout
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(id, _)| id.to_owned())
            .expect("the id");
        made.push(Made {
            secret: step
                .stdout
                .lines()
                .nth(1)
                .expect("the secret line")
                .to_owned(),
            id,
            create_stdout: step.stdout_index,
        });
    }
    for name in ["json-one", "json-two", "json-three"] {
        let step = scenario.run(
            &[
                "keys",
                "create",
                "--name",
                name,
                "--owner",
                "org:acme",
                "--description",
                "ci",
                "--expires",
                "never",
                "--json",
            ],
            None,
        );
        assert_eq!(step.code, 0, "{}", step.stdout);
        let created: serde_json::Value = serde_json::from_str(&step.stdout).unwrap();
        made.push(Made {
            secret: created["secret"].as_str().unwrap().to_owned(),
            id: created["key"]["id"].as_str().unwrap().to_owned(),
            create_stdout: step.stdout_index,
        });
    }

    for key in &made {
        let secret = &key.secret;
        assert_eq!(
            scenario
                .run(&["keys", "verify"], Some(&format!("{secret}\n")))
                .code,
            0
        );
        assert_eq!(
            scenario
                .run(&["keys", "verify", "--json"], Some(secret))
                .code,
            0
        );
    }
    let mut revoke = vec!["keys", "revoke", "--reason", "rotated"];
    revoke.extend(made[..3].iter().map(|key| key.id.as_str()));
    assert_eq!(scenario.run(&revoke, None).code, 0);
    revoke.extend(["key_unknown", "--json"]);
    assert_eq!(scenario.run(&revoke, None).code, 5);
    for key in &made {
        let (secret, id) = (&key.secret, &key.id);
        scenario.run(&["keys", "verify"], Some(secret));
        scenario.run(&["keys", "verify", "--json"], Some(secret));
        assert_eq!(scenario.run(&["keys", "get", id], None).code, 0);
        assert_eq!(scenario.run(&["keys", "get", id, "--json"], None).code, 0);
        // A mistyped secret is refused, and not echoed either.
        // (Another last character than the real one: a secret ending in `x` would stay valid.)
        let other = if secret.ends_with('x') { 'y' } else { 'x' };
        let typo = format!("{}{other}", &secret[..secret.len() - 1]);
        assert_eq!(scenario.run(&["keys", "verify"], Some(&typo)).code, 2);
        assert_eq!(
            scenario
                .run(&["keys", "verify", "--json"], Some(&typo))
                .code,
            2
        );
    }
    for args in [
        ["keys", "list", "--status", "all"],
        ["keys", "list", "--search", "json"],
    ] {
        assert_eq!(scenario.run(&args, None).code, 0);
        let mut json = args.to_vec();
        json.push("--json");
        assert_eq!(scenario.run(&json, None).code, 0);
    }
    assert_eq!(scenario.run(&["profiles", "list"], None).code, 0);

    let db_snapshots = scenario
        .seen
        .iter()
        .filter(|seen| seen.source.starts_with(scenario.data_dir.to_str().unwrap()))
        .count();
    assert!(db_snapshots > 0, "the store's files were scanned");
    for (index, seen) in scenario.seen.iter().enumerate() {
        for key in &made {
            let body = &key.secret["kw_".len()..];
            let random = &body[..32];
            for needle in [key.secret.as_str(), body, random] {
                let found = contains(&seen.bytes, needle);
                if index == key.create_stdout {
                    assert!(found, "{} should show its secret", seen.source);
                } else {
                    assert!(!found, "a secret (or its body) leaked into {}", seen.source);
                }
            }
        }
    }
}
