//! Secret hygiene across every backend, through the `keyward` binary: on the local store and on
//! the PropelAuth, Clerk and FreeSewing emulators, keys are created, saved to the keychain, copied
//! (when there is a display), listed, read, verified and revoked with `--forget`. Afterwards no
//! secret is in any file under the data and config dirs, nor in any output but the stdout of the
//! create that made it; no backend credential is in any file or output at all; and the keychain
//! holds none of the revoked keys' secrets.
//!
//! Needs the real Secret Service: run through scripts/with-secret-service (scripts/test does).

use keyward_emulators::{Emulator, Flavor};
use keyward_tests::{contains, snapshot, workspace_binary, Seen};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

struct Scenario {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    config_dir: PathBuf,
    binary: PathBuf,
    env: Vec<(String, String)>,
    seen: Vec<Seen>,
}

struct Step {
    code: i32,
    stdout: String,
    stderr: String,
    stdout_index: usize,
}

impl Scenario {
    fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let config_dir = dir.path().join("config");
        std::fs::create_dir(&config_dir).unwrap();
        Scenario {
            data_dir: dir.path().join("data"),
            config_dir,
            binary: workspace_binary("keyward"),
            dir,
            env: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Runs the binary, keeps its stdout and stderr, and snapshots every file after it.
    fn run(&mut self, args: &[&str], stdin: Option<&str>) -> Step {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("KEYWARD_DATA_DIR", &self.data_dir)
            .env("KEYWARD_CONFIG", self.config_dir.join("config.toml"))
            .env("HOME", self.dir.path())
            .env_remove("KEYWARD_PROFILE")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start keyward");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        let label = format!("step {} `keyward {}`", self.seen.len(), args.join(" "));
        let stdout_index = self.seen.len();
        self.seen.push(Seen {
            source: format!("stdout of {label}"),
            bytes: output.stdout.clone(),
        });
        self.seen.push(Seen {
            source: format!("stderr of {label}"),
            bytes: output.stderr.clone(),
        });
        for dir in [self.data_dir.clone(), self.config_dir.clone()] {
            snapshot(&dir, &label, &mut self.seen);
        }
        Step {
            code: output.status.code().expect("exited"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
            stdout_index,
        }
    }

    fn ok(&mut self, args: &[&str], stdin: Option<&str>) -> Step {
        let step = self.run(args, stdin);
        assert_eq!(
            step.code, 0,
            "keyward {args:?}: {} {}",
            step.stdout, step.stderr
        );
        step
    }
}

/// One key made by the scenario: its secret may appear in `create_stdout` only.
struct Made {
    profile: &'static str,
    id: String,
    secret: String,
    create_stdout: usize,
}

#[test]
fn no_secret_or_credential_leaks_on_any_backend() {
    assert!(
        std::env::var_os("KEYWARD_IN_SECRET_SESSION").is_some(),
        "this test needs the real Secret Service: run it via scripts/with-secret-service, e.g.\n  \
         scripts/with-secret-service cargo test -p keyward-tests --test hygiene_remote"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let [propel, clerk, sewing] = Flavor::ALL.map(|flavor| {
        runtime
            .block_on(Emulator::start(flavor))
            .expect("the emulator starts")
    });
    let propel_creds = propel.credentials().propelauth().unwrap().clone();
    let clerk_creds = clerk.credentials().clerk().unwrap().clone();
    let sewing_creds = sewing.credentials().freesewing().unwrap().clone();
    let sewing_credential = format!("{}:{}", sewing_creds.api_key, sewing_creds.api_secret);
    let credentials = [
        propel_creds.integration_key.clone(),
        clerk_creds.secret_key.clone(),
        sewing_creds.api_secret.clone(),
    ];

    let mut s = Scenario::new();
    let (propel_url, clerk_url, sewing_url) =
        (propel.base_url(), clerk.base_url(), sewing.base_url());
    let clerk_subject = format!("user:{}", clerk_creds.user_id);
    for add in [
        vec!["hy-local", "--backend", "local"],
        vec!["hy-propel", "--backend", "propelauth", "--url", &propel_url],
        vec![
            "hy-clerk",
            "--backend",
            "clerk",
            "--url",
            &clerk_url,
            "--subject",
            &clerk_subject,
        ],
        vec!["hy-sewing", "--backend", "freesewing", "--url", &sewing_url],
    ] {
        let mut args = vec!["profiles", "add"];
        args.extend(add);
        s.ok(&args, None);
    }
    // One credential through the keychain, the others through the environment.
    let saved = s.ok(
        &["profiles", "set-credential", "hy-clerk"],
        Some(&format!("{}\n", clerk_creds.secret_key)),
    );
    assert!(saved.stdout.starts_with("credential saved and accepted"));
    s.env = vec![
        (
            "KEYWARD_CREDENTIAL_HY_PROPEL".into(),
            propel_creds.integration_key.clone(),
        ),
        ("KEYWARD_CREDENTIAL_HY_SEWING".into(), sewing_credential),
    ];

    let display = std::env::var_os("DISPLAY").is_some();
    let mut made: Vec<Made> = Vec::new();
    for profile in ["hy-local", "hy-propel", "hy-clerk", "hy-sewing"] {
        let extra: &[&str] = match profile {
            "hy-sewing" => &["--level", "2", "--expires", "30d"],
            "hy-clerk" => &["--scope", "read", "--description", "hygiene"],
            _ => &[],
        };
        // JSON, saved to the keychain.
        let mut args = vec![
            "--profile",
            profile,
            "keys",
            "create",
            "--name",
            "hygiene-json",
            "--save-to-keychain",
            "--json",
        ];
        args.extend_from_slice(extra);
        let step = s.ok(&args, None);
        let created: serde_json::Value = serde_json::from_str(&step.stdout).unwrap();
        assert_eq!(created["saved_in_keychain"], true);
        made.push(Made {
            profile,
            id: created["key"]["id"].as_str().unwrap().to_owned(),
            secret: created["secret"].as_str().unwrap().to_owned(),
            create_stdout: step.stdout_index,
        });
        // Human, printed once.
        let mut args = vec![
            "--profile",
            profile,
            "keys",
            "create",
            "--name",
            "hygiene-human",
        ];
        args.extend_from_slice(extra);
        let step = s.ok(&args, None);
        let id = step
            .stdout
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(id, _)| id.to_owned())
            .unwrap();
        made.push(Made {
            profile,
            id,
            secret: step.stdout.lines().nth(1).unwrap().to_owned(),
            create_stdout: step.stdout_index,
        });
    }

    for key in made.iter() {
        let p = key.profile;
        let verify_input = match p {
            "hy-sewing" => format!("{}:{}\n", key.id, key.secret),
            _ => format!("{}\n", key.secret),
        };
        s.ok(&["--profile", p, "keys", "verify"], Some(&verify_input));
        s.ok(
            &["--profile", p, "keys", "verify", "--json"],
            Some(&verify_input),
        );
        s.ok(&["--profile", p, "keys", "get", &key.id], None);
        s.ok(&["--profile", p, "keys", "get", &key.id, "--json"], None);
    }
    for p in ["hy-local", "hy-propel", "hy-clerk", "hy-sewing"] {
        s.ok(&["--profile", p, "keys", "list"], None);
        let listed = s.ok(&["--profile", p, "keys", "list", "--json"], None);
        let body: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
        let saved = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["saved_in_keychain"] == true)
            .count();
        assert_eq!(saved, 1, "{p}: one key of each profile was saved");
        if display {
            let json_key = made
                .iter()
                .find(|m| m.profile == p)
                .map(|m| m.id.clone())
                .unwrap();
            s.ok(
                &[
                    "--profile",
                    p,
                    "keys",
                    "copy",
                    &json_key,
                    "--clear-after",
                    "1",
                ],
                None,
            );
        }
    }
    s.ok(&["profiles", "list"], None);
    s.ok(&["profiles", "list", "--json"], None);

    for (i, key) in made.iter().enumerate() {
        let mut args = vec![
            "--profile",
            key.profile,
            "keys",
            "revoke",
            &key.id,
            "--forget",
        ];
        if i % 2 == 1 {
            args.push("--json");
        }
        let step = s.ok(&args, None);
        assert!(step.stderr.is_empty(), "{}", step.stderr);
    }
    for key in made.iter().filter(|key| key.profile != "hy-sewing") {
        // Revoked (or archived) keys no longer verify; the answer still shows no secret.
        let step = s.run(
            &["--profile", key.profile, "keys", "verify"],
            Some(&key.secret),
        );
        assert_eq!(step.code, 10, "{} {}", step.stdout, step.stderr);
    }
    s.ok(&["profiles", "forget-credential", "hy-clerk"], None);

    let files = s
        .seen
        .iter()
        .filter(|seen| seen.source.starts_with(s.data_dir.to_str().unwrap()))
        .count();
    assert!(files > 0, "the data dir was scanned");
    for (index, seen) in s.seen.iter().enumerate() {
        for key in &made {
            let chunk = &key.secret[4..20];
            for needle in [key.secret.as_str(), chunk] {
                let found = contains(&seen.bytes, needle);
                if index == key.create_stdout && needle == key.secret {
                    assert!(found, "{} should show its secret", seen.source);
                } else if index != key.create_stdout {
                    assert!(
                        !found,
                        "a secret of {} leaked into {}",
                        key.profile, seen.source
                    );
                }
            }
        }
        for credential in &credentials {
            assert!(
                !contains(&seen.bytes, credential),
                "a backend credential leaked into {}",
                seen.source
            );
        }
    }
    // Nothing is left in the keychain for the revoked keys, nor the credential.
    for key in &made {
        let account = format!("{}/{}", key.profile, key.id);
        let output = Command::new("secret-tool")
            .args([
                "search", "--all", "service", "keyward", "username", &account,
            ])
            .output()
            .unwrap();
        let found = String::from_utf8_lossy(&output.stdout);
        assert!(!found.contains(&key.secret), "{account} is still saved");
    }
    let output = Command::new("secret-tool")
        .args([
            "search",
            "--all",
            "service",
            "keyward-credential",
            "username",
            "hy-clerk",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&clerk_creds.secret_key));

    for emulator in [propel, clerk, sewing] {
        runtime.block_on(emulator.shutdown());
    }
}
