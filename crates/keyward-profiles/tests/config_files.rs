//! The config file as Keyward edits it (issue 12, items 7 and 8): edits made at the same time by
//! many threads and several processes (the app, CLIs) are all kept, and the file Keyward writes is
//! owner-only, or as strict as the user made it.

use keyward_profiles::{add_profile, Config, Paths, ProfileSpec};
use std::path::Path;
use std::process::{Command, Stdio};

/// Set in a child process started by [`several_processes_lose_no_edit`]: `<temp dir>|<worker>`.
const CHILD_ENV: &str = "KEYWARD_TEST_CONFIG_CHILD";
const PROCESSES: usize = 3;
const THREADS: usize = 3;
const EDITS: usize = 4;

fn paths(root: &Path) -> Paths {
    Paths {
        config_file: root.join("conf/config.toml"),
        data_dir: root.join("data"),
    }
}

fn local(name: &str) -> ProfileSpec {
    ProfileSpec {
        name: name.into(),
        backend: "local".into(),
        ..ProfileSpec::default()
    }
}

/// `THREADS` threads each adding `EDITS` profiles named after `worker`.
fn add_concurrently(root: &Path, worker: &str) {
    let paths = paths(root);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let paths = &paths;
            scope.spawn(move || {
                for n in 0..EDITS {
                    add_profile(paths, &local(&format!("{worker}-{thread}-{n}")), false).unwrap();
                }
            });
        }
    });
}

fn profile_names(root: &Path) -> Vec<String> {
    let config = Config::load(&paths(root)).unwrap();
    config.profiles.keys().cloned().collect()
}

fn expected(workers: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = workers
        .iter()
        .flat_map(|worker| {
            (0..THREADS)
                .flat_map(move |thread| (0..EDITS).map(move |n| format!("{worker}-{thread}-{n}")))
        })
        .chain(["local".to_owned()])
        .collect();
    names.sort();
    names
}

#[test]
fn many_threads_lose_no_edit() {
    let dir = tempfile::tempdir().unwrap();
    add_concurrently(dir.path(), "t");
    assert_eq!(profile_names(dir.path()), expected(&["t"]));
}

#[test]
fn several_processes_lose_no_edit() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        // This is a child: do its share and leave.
        let (root, worker) = job.split_once('|').expect("root|worker");
        add_concurrently(Path::new(root), worker);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let workers: Vec<String> = (0..PROCESSES).map(|p| format!("p{p}")).collect();
    let me = std::env::current_exe().unwrap();
    let children: Vec<_> = workers
        .iter()
        .map(|worker| {
            Command::new(&me)
                .args(["--exact", "several_processes_lose_no_edit", "--nocapture"])
                .env(CHILD_ENV, format!("{}|{worker}", dir.path().display()))
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child process failed");
    }
    let workers: Vec<&str> = workers.iter().map(String::as_str).collect();
    let names = profile_names(dir.path());
    assert_eq!(names.len(), PROCESSES * THREADS * EDITS + 1);
    assert_eq!(names, expected(&workers));
}

#[cfg(unix)]
mod modes {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_new_config_is_owner_only_in_an_owner_only_folder() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        add_profile(&paths, &local("one"), false).unwrap();
        assert_eq!(mode(&paths.config_file), 0o600);
        assert_eq!(mode(paths.config_file.parent().unwrap()), 0o700);
        assert_eq!(mode(&dir.path().join("conf/config.toml.lock")), 0o600);
    }

    #[test]
    fn an_edited_config_becomes_owner_only_in_the_users_folder() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let folder = paths.config_file.parent().unwrap();
        fs::create_dir(folder).unwrap();
        set_mode(folder, 0o755);
        fs::write(
            &paths.config_file,
            "# mine\n[profiles.local]\nbackend = \"local\"\n",
        )
        .unwrap();
        set_mode(&paths.config_file, 0o644);

        add_profile(&paths, &local("two"), false).unwrap();
        assert_eq!(mode(&paths.config_file), 0o600);
        assert_eq!(mode(folder), 0o755, "the user's folder is left alone");
        let text = fs::read_to_string(&paths.config_file).unwrap();
        assert!(text.contains("# mine\n"), "comments kept: {text}");
    }

    #[test]
    fn a_stricter_mode_the_user_chose_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        add_profile(&paths, &local("one"), false).unwrap();
        set_mode(&paths.config_file, 0o400);
        add_profile(&paths, &local("two"), false).unwrap();
        assert_eq!(mode(&paths.config_file), 0o400);
        assert_eq!(profile_names(dir.path()), ["local", "one", "two"]);
    }
}
