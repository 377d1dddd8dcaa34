//! The keychain index shared by the app and CLI processes (issue 12, items 7 and 8): changes made
//! at the same time by many threads and several processes are all kept, and the index, its lock
//! file and the data folder are owner-only. No keychain needed: the index is plain metadata.

use keyward_vault::{SavedSecretIndex, INDEX_FILE_NAME, INDEX_LOCK_FILE_NAME};
use std::path::Path;
use std::process::{Command, Stdio};

/// Set in a child process started by [`several_processes_lose_no_entry`]: `<data dir>|<worker>`.
const CHILD_ENV: &str = "KEYWARD_TEST_INDEX_CHILD";
const PROCESSES: usize = 3;
const THREADS: usize = 4;
const ENTRIES: usize = 15;

/// One worker's share: in each of `THREADS` threads, its own index opened on `data_dir` (as a
/// separate process would), adding `ENTRIES` keys and forgetting the key seeded for it.
fn add_concurrently(data_dir: &Path, worker: &str) {
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            scope.spawn(move || {
                let index = SavedSecretIndex::open(data_dir).unwrap();
                let seed = format!("seed-{worker}-{thread}");
                for n in 0..ENTRIES {
                    index
                        .mark_saved("work", &format!("key-{worker}-{thread}-{n}"))
                        .unwrap();
                    if n == ENTRIES / 2 {
                        index.mark_forgotten("work", &seed).unwrap();
                    }
                }
            });
        }
    });
}

fn seed(index: &SavedSecretIndex, worker: &str) {
    for thread in 0..THREADS {
        index
            .mark_saved("work", &format!("seed-{worker}-{thread}"))
            .unwrap();
    }
}

fn expected(workers: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = workers
        .iter()
        .flat_map(|worker| {
            (0..THREADS).flat_map(move |thread| {
                (0..ENTRIES).map(move |n| format!("key-{worker}-{thread}-{n}"))
            })
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn many_threads_lose_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let index = SavedSecretIndex::open(dir.path()).unwrap();
    seed(&index, "solo");
    add_concurrently(dir.path(), "solo");
    index.reload().unwrap();
    assert_eq!(index.ids("work"), expected(&["solo".to_owned()]));
}

#[test]
fn several_processes_lose_no_entry() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        // This is a child: do its share and leave.
        let (dir, worker) = job.split_once('|').expect("dir|worker");
        add_concurrently(Path::new(dir), worker);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let workers: Vec<String> = (0..PROCESSES).map(|p| format!("p{p}")).collect();
    let index = SavedSecretIndex::open(dir.path()).unwrap();
    for worker in &workers {
        seed(&index, worker);
    }
    let me = std::env::current_exe().unwrap();
    let children: Vec<_> = workers
        .iter()
        .map(|worker| {
            Command::new(&me)
                .args(["--exact", "several_processes_lose_no_entry", "--nocapture"])
                .env(CHILD_ENV, format!("{}|{worker}", dir.path().display()))
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child process failed");
    }
    index.reload().unwrap();
    let ids = index.ids("work");
    assert_eq!(
        ids.len(),
        PROCESSES * THREADS * ENTRIES,
        "every key of every process kept, every seed forgotten"
    );
    assert_eq!(ids, expected(&workers));
}

#[cfg(unix)]
#[test]
fn the_index_its_lock_and_the_data_folder_are_owner_only() {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    let set_mode = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    };
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let index = SavedSecretIndex::open(&data).unwrap();
    index.mark_saved("work", "k1").unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(INDEX_FILE_NAME)), 0o600);
    assert_eq!(mode(&data.join(INDEX_LOCK_FILE_NAME)), 0o600);

    // As an earlier Keyward left them: narrowed on open, before anything is written.
    set_mode(&data, 0o755);
    set_mode(&data.join(INDEX_FILE_NAME), 0o644);
    set_mode(&data.join(INDEX_LOCK_FILE_NAME), 0o644);
    let reopened = SavedSecretIndex::open(&data).unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(INDEX_FILE_NAME)), 0o600);
    assert_eq!(mode(&data.join(INDEX_LOCK_FILE_NAME)), 0o600);
    assert!(reopened.has("work", "k1"));
}
