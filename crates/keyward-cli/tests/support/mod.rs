//! Runs the built `keyward` binary in a sandbox: its own data dir and config file, no inherited
//! profile, and a throwaway HOME so nothing touches the real user's files.

#![allow(dead_code)] // each test binary uses a different part of this module

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Sandbox {
    dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub config: PathBuf,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and parses stdout as one JSON document.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Parses stderr as the `--json` error object and returns its `error` member.
    pub fn json_error(&self) -> Value {
        assert!(
            self.stdout.is_empty(),
            "an error printed to stdout: {self:?}"
        );
        let value: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {self:?}"));
        value["error"].clone()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        Sandbox {
            data_dir: dir.path().join("data"),
            config: dir.path().join("config.toml"),
            dir,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
        command
            .args(args)
            .env("KEYWARD_DATA_DIR", &self.data_dir)
            .env("KEYWARD_CONFIG", &self.config)
            .env("HOME", self.dir.path())
            .env_remove("KEYWARD_PROFILE")
            .env_remove("KEYWARD_CLEAR_AFTER")
            .env_remove("KEYWARD_HTTP_TIMEOUT_MS")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KEYWARD_CREDENTIAL_") {
                command.env_remove(name);
            }
        }
        command
    }

    /// Runs with extra environment variables (credentials, timeouts).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        run(command, None)
    }

    pub fn run_env_stdin(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        run(command, Some(stdin))
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.command(args), None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run(self.command(args), Some(stdin))
    }

    /// Creates a key through `keys create --json` and returns its id and secret.
    pub fn create(&self, name: &str, extra: &[&str]) -> (String, String) {
        let mut args = vec!["keys", "create", "--name", name, "--json"];
        args.extend_from_slice(extra);
        let created = self.run(&args).json();
        (
            created["key"]["id"].as_str().unwrap().to_owned(),
            created["secret"].as_str().unwrap().to_owned(),
        )
    }

    pub fn total(&self) -> u64 {
        self.run(&["keys", "list", "--json"]).json()["total"]
            .as_u64()
            .expect("local store reports a total")
    }

    /// Every file under the data dir and the config file, with its bytes.
    pub fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect(&self.data_dir, &mut files);
        if let Ok(bytes) = std::fs::read(&self.config) {
            files.insert(self.config.clone(), bytes);
        }
        files
    }

    /// The names of the files that exist under the data dir (their content may change as SQLite
    /// checkpoints, so only existence is compared).
    pub fn file_names(&self) -> Vec<PathBuf> {
        self.files().into_keys().collect()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config, text).expect("write config");
    }
}

/// An emulator running on its own tokio runtime while the test thread runs the binary.
pub struct Emu {
    emulator: Option<keyward_emulators::Emulator>,
    runtime: tokio::runtime::Runtime,
}

impl Emu {
    pub fn start(flavor: keyward_emulators::Flavor) -> Emu {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let emulator = runtime
            .block_on(keyward_emulators::Emulator::start(flavor))
            .expect("the emulator starts");
        Emu {
            emulator: Some(emulator),
            runtime,
        }
    }

    pub fn url(&self) -> String {
        self.base_url()
    }
}

impl std::ops::Deref for Emu {
    type Target = keyward_emulators::Emulator;

    fn deref(&self) -> &keyward_emulators::Emulator {
        self.emulator.as_ref().expect("running")
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

/// A base URL on which nothing listens: a port the OS gave us, then closed.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The keychain tests use the real Secret Service that `scripts/with-secret-service` starts (a
/// private D-Bus session with an unlocked gnome-keyring); anywhere else they would touch the
/// user's own keyring, or fail for the wrong reason. So they refuse to run outside it, loudly.
pub fn require_secret_service() {
    assert!(
        std::env::var_os("KEYWARD_IN_SECRET_SESSION").is_some(),
        "this test needs the real Secret Service: run it via scripts/with-secret-service, e.g.\n  \
         scripts/with-secret-service cargo test -p keyward-cli"
    );
}

/// `secret-tool search --all service SERVICE username ACCOUNT`: what the keychain holds for one
/// entry, seen from outside Keyward (stdout and stderr together).
pub fn secret_tool_search(service: &str, account: &str) -> String {
    let output = Command::new("secret-tool")
        .args(["search", "--all", "service", service, "username", account])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool runs (apt package libsecret-tools)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn collect(path: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            collect(&entry.expect("dir entry").path(), files);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        files.insert(path.to_path_buf(), bytes);
    }
}

fn run(mut command: Command, stdin: Option<&str>) -> Run {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start keyward");
    if let Some(text) = stdin {
        let written = child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(text.as_bytes());
        match written {
            Ok(()) => {}
            // A command may refuse before it reads its input (e.g. a profile that takes no
            // credential); its exit status and output say so.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => panic!("write stdin: {e}"),
        }
    }
    let output = child.wait_with_output().expect("wait for keyward");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}
