//! Startup and memory of the desktop app on a store of 100,000 keys. Prints figures and writes
//! them to docs/PERFORMANCE.md ("Desktop app"); asserts nothing about time.
//!
//!     cargo build -p keyward-app --release
//!     APP_BINARY=target/release/keyward-app \
//!       xvfb-run -a cargo test -p keyward-tests --test e2e_bench -- --ignored --nocapture
//!
//! Startup is measured from the app process's start time (/proc/<pid>/stat) to the moment the
//! first page of keys is painted (`performance.mark('keys-table-painted')` in the webview).
//! Memory is RSS and PSS (/proc/<pid>/smaps_rollup) of the app and every process below it
//! (WebKitWebProcess, WebKitNetworkProcess), after the window has settled.

// Each test target uses its own part of the shared helpers.
#[allow(dead_code)]
mod e2e_support;

use e2e_support::{css, descendants, screenshot, stat_fields, wait_visible, AppSession, Outcome};
use fantoccini::Client;
use keyward_core::{Expiration, ExpiryPreset, NewKey, Subject};
use keyward_local::LocalStore;
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEYS: usize = 100_000;
const LAUNCHES: usize = 3;
const SETTLE: Duration = Duration::from_secs(3);
const PAGE_SIZE: usize = 50;

#[tokio::test]
#[ignore = "a benchmark: needs a display (xvfb-run), tauri-driver and WebKitWebDriver"]
async fn startup_and_memory_with_100k_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let seeding = Instant::now();
    seed(&data_dir, KEYS);
    println!(
        "seeded {KEYS} keys in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let config = dir.path().join("no-config.toml");

    let mut launches = Vec::new();
    for run in 1..=LAUNCHES {
        let app = AppSession::launch(&data_dir, &config).await;
        // The last launch also settles and is measured for memory and IPC.
        let result = measure(&app, run == LAUNCHES).await;
        app.close().await;
        let launch = result.unwrap_or_else(|e| panic!("benchmark run {run} failed: {e}"));
        println!(
            "launch {run}: start -> table painted {:.0} ms (start -> page {:.0} ms, page -> DOMContentLoaded {:.0} ms, DOMContentLoaded -> painted {:.0} ms)",
            launch.to_paint_ms, launch.to_page_ms, launch.page.dom_ready_ms, launch.page.painted_ms - launch.page.dom_ready_ms
        );
        launches.push(launch);
    }

    let last = launches.last().expect("at least one launch");
    assert_eq!(
        last.rows_in_dom, PAGE_SIZE,
        "the webview must hold one page of rows, not the whole store"
    );
    let report = report(&launches);
    println!("\n{report}");
    write_section(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/PERFORMANCE.md"),
        &report,
    )
    .expect("write docs/PERFORMANCE.md");
}

/// Realistic-looking keys: varied names, owners, expiries, a share revoked, a few recently used.
fn seed(data_dir: &Path, count: usize) {
    const SERVICES: [&str; 12] = [
        "ci-deploy",
        "billing-api",
        "stripe-webhook",
        "grafana",
        "nightly-backup",
        "terraform",
        "search-indexer",
        "mobile-build",
        "mailer",
        "metrics-exporter",
        "auth-proxy",
        "slack-bot",
    ];
    const PLACES: [&str; 6] = ["prod", "staging", "dev", "laptop", "runner", "eu-west"];
    const OWNERS: [&str; 5] = ["org:acme", "user:ada", "org:platform", "user:grace", ""];
    let store = LocalStore::open(data_dir).expect("open the store");
    let mut recent = Vec::new();
    for n in 0..count {
        let name = format!(
            "{}-{}-{n:05}",
            SERVICES[n % SERVICES.len()],
            PLACES[n / 7 % PLACES.len()]
        );
        let expiration = match n % 5 {
            4 => Expiration::parse("45d").expect("a duration"),
            i => Expiration::Preset(
                [
                    ExpiryPreset::OneMonth,
                    ExpiryPreset::ThreeMonths,
                    ExpiryPreset::OneYear,
                    ExpiryPreset::Never,
                ][i],
            ),
        };
        let owner = OWNERS[n / 3 % OWNERS.len()];
        let new = NewKey {
            owner: (!owner.is_empty()).then(|| Subject::parse(owner).expect("an owner")),
            ..NewKey::named(name, expiration)
        };
        let created = store.create_sync(new).expect("create a key");
        if n % 9 == 4 {
            store
                .revoke_sync(&created.key.id, Some("rotated"))
                .expect("revoke");
        } else if count - n <= PAGE_SIZE && n.is_multiple_of(3) {
            recent.push(created.secret);
        }
    }
    for secret in &recent {
        store.verify_sync(secret).expect("verify");
    }
}

struct Launch {
    to_paint_ms: f64,
    to_page_ms: f64,
    page: PageTimes,
    rows_in_dom: usize,
    pager: String,
    memory: Vec<ProcessMemory>,
    ipc: Vec<(&'static str, f64)>,
}

async fn measure(app: &AppSession, settle_and_measure: bool) -> Outcome<Launch> {
    let client = &app.client;
    let page = wait_for_paint(client).await?;
    let pid = descendants(app.driver_pid())
        .into_iter()
        .find(|pid| process_name(*pid).as_deref() == Some("keyward-app"))
        .ok_or("no keyward-app process below tauri-driver")?;
    let started = process_start_epoch_ms(pid)?;

    let rows_in_dom = client
        .execute(
            "return document.querySelectorAll('#keys-table tbody tr').length;",
            vec![],
        )
        .await?
        .as_u64()
        .unwrap_or(0) as usize;
    let pager = wait_visible(client, "#pager-range").await?;

    let (mut memory, mut ipc) = (Vec::new(), Vec::new());
    if settle_and_measure {
        tokio::time::sleep(SETTLE).await;
        memory = std::iter::once(pid)
            .chain(descendants(pid))
            .filter_map(ProcessMemory::read)
            .collect();
        ipc = list_keys_timings(client).await?;
        // The README's picture: a full page with one key's details open.
        client
            .find(css("#keys-table tbody tr:nth-child(2) .key-name"))
            .await?
            .click()
            .await?;
        wait_visible(client, "#details-list").await?;
        screenshot(client, "main-window-100k-keys").await?;
    }
    Ok(Launch {
        to_paint_ms: page.origin + page.painted_ms - started,
        to_page_ms: page.origin - started,
        page,
        rows_in_dom,
        pager,
        memory,
        ipc,
    })
}

/// The page's milestones as the webview saw them.
struct PageTimes {
    /// Epoch ms when the page started loading (`performance.timeOrigin`).
    origin: f64,
    /// From `origin`: DOMContentLoaded done, i.e. HTML, CSS and the ES modules loaded and run.
    dom_ready_ms: f64,
    /// From `origin`: the first page of keys on screen (`keys-table-painted`).
    painted_ms: f64,
}

async fn wait_for_paint(client: &Client) -> Outcome<PageTimes> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = client
            .execute(
                "const [mark] = performance.getEntriesByName('keys-table-painted');
                 const [nav] = performance.getEntriesByType('navigation');
                 return mark ? [performance.timeOrigin, nav.domContentLoadedEventEnd, mark.startTime] : null;",
                vec![],
            )
            .await?;
        if let Some([origin, dom_ready, painted]) = found.as_array().map(Vec::as_slice) {
            return Ok(PageTimes {
                origin: origin.as_f64().unwrap_or(0.0),
                dom_ready_ms: dom_ready.as_f64().unwrap_or(0.0),
                painted_ms: painted.as_f64().unwrap_or(0.0),
            });
        }
        if Instant::now() > deadline {
            return Err("the keys table was never painted".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Round trips of list_keys from the webview (IPC + store), median of 5 each.
async fn list_keys_timings(client: &Client) -> Outcome<Vec<(&'static str, f64)>> {
    let last_page = (KEYS / PAGE_SIZE - 1) as u32;
    let cases = [
        ("first page, newest first", json!({})),
        ("search \"billing\"", json!({ "search": "billing" })),
        (
            "sorted by name",
            json!({ "sort": "name", "descending": false }),
        ),
        ("status revoked", json!({ "status": "revoked" })),
        ("last page", json!({ "page": last_page })),
    ];
    let mut timings = Vec::new();
    for (label, query) in cases {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let ms = client
                .execute_async(
                    "const [query, done] = arguments;
                     const t0 = performance.now();
                     window.__TAURI_INTERNALS__.invoke('list_keys', { query })
                       .then(() => done(performance.now() - t0), (e) => done(-1));",
                    vec![query.clone()],
                )
                .await?
                .as_f64()
                .unwrap_or(-1.0);
            if ms < 0.0 {
                return Err(format!("list_keys failed for {label}").into());
            }
            samples.push(ms);
        }
        timings.push((label, median(&mut samples)));
    }
    Ok(timings)
}

struct ProcessMemory {
    name: String,
    rss_kib: u64,
    pss_kib: u64,
}

impl ProcessMemory {
    fn read(pid: u32) -> Option<ProcessMemory> {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        let field = |name: &str| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        };
        Some(ProcessMemory {
            name: process_name(pid)?,
            rss_kib: field("Rss:")?,
            pss_kib: field("Pss:")?,
        })
    }
}

fn process_name(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_owned())
}

/// When `pid` started, in epoch ms: boot time (/proc/stat btime) + start time in clock ticks
/// since boot (/proc/<pid>/stat field 22). Resolution is one tick (10 ms).
fn process_start_epoch_ms(pid: u32) -> Outcome<f64> {
    let ticks: f64 = stat_fields(pid)
        .and_then(|f| f.get(22 - 3)?.parse().ok())
        .ok_or("no start time in /proc/<pid>/stat")?;
    let boot_secs: f64 = std::fs::read_to_string("/proc/stat")?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or("no btime in /proc/stat")?;
    // SAFETY: sysconf only reads a system constant.
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(boot_secs * 1000.0 + ticks * 1000.0 / ticks_per_sec)
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn report(launches: &[Launch]) -> String {
    let last = launches.last().expect("a launch");
    let mut paints: Vec<f64> = launches.iter().map(|l| l.to_paint_ms).collect();
    let runs = paints
        .iter()
        .map(|ms| format!("{ms:.0}"))
        .collect::<Vec<_>>()
        .join(", ");
    let median_paint = median(&mut paints);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let binary = std::env::var("APP_BINARY").unwrap_or_else(|_| "target/debug/keyward-app".into());
    let build = if binary.contains("release") {
        "release"
    } else {
        "debug"
    };

    let mut out = String::new();
    let _ = writeln!(out, "Measured by `tests/e2e_bench.rs` on a store of {} keys: the real app binary ({build} build), launched through tauri-driver under Xvfb on {}.\n", group(KEYS), machine());
    let _ = writeln!(out, "```sh\ncargo build -p keyward-app --release\nAPP_BINARY=target/release/keyward-app \\\n  xvfb-run -a cargo test -p keyward-tests --test e2e_bench -- --ignored --nocapture\n```\n");
    let _ = writeln!(out, "| Figure | Value |\n| --- | --- |");
    let _ = writeln!(out, "| Process start → first page of keys painted (median of {} launches) | **{median_paint:.0} ms** (runs: {runs}; the breakdown below is of the last) |", launches.len());
    let _ = writeln!(
        out,
        "| … process start → page start (Rust setup, GTK, WebKit processes) | {:.0} ms |",
        last.to_page_ms
    );
    let _ = writeln!(
        out,
        "| … page start → DOMContentLoaded (HTML, CSS, ES modules loaded and run) | {:.0} ms |",
        last.page.dom_ready_ms
    );
    let _ = writeln!(
        out,
        "| … DOMContentLoaded → table painted (`app_info` + first `list_keys` + render + next frame) | {:.0} ms |",
        last.page.painted_ms - last.page.dom_ready_ms
    );
    let (rss, pss) = last
        .memory
        .iter()
        .fold((0, 0), |(r, p), m| (r + m.rss_kib, p + m.pss_kib));
    let _ = writeln!(
        out,
        "| Memory after {} s, app + WebKit processes | **PSS {:.0} MiB**, RSS {:.0} MiB |",
        SETTLE.as_secs(),
        mib(pss),
        mib(rss)
    );
    for m in &last.memory {
        let _ = writeln!(
            out,
            "| … `{}` | PSS {:.1} MiB, RSS {:.1} MiB |",
            m.name,
            mib(m.pss_kib),
            mib(m.rss_kib)
        );
    }
    let _ = writeln!(
        out,
        "| Rows in the webview's DOM | {} (pager: {}) |",
        last.rows_in_dom, last.pager
    );
    for (label, ms) in &last.ipc {
        let _ = writeln!(
            out,
            "| `list_keys` round trip from the webview, {label} (median of 5) | {ms:.1} ms |"
        );
    }
    let _ = writeln!(out, "\nStartup is measured from the process's start time in /proc/<pid>/stat (10 ms resolution) to `performance.timeOrigin + mark.startTime` of `keys-table-painted`, which the UI sets in the frame after the first page is in the DOM. PSS shares pages fairly between processes, so it is the figure to add up; RSS counts shared libraries once per process. The table only ever holds one page (50 rows): paging, search, filters and sorting run in the store. Single launches vary by a few hundred ms with the machine's load; compare medians.");
    out
}

fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores of {cpu}")
}

/// Replaces the "## Desktop app" section of `path` (or appends it), keeping every other section.
fn write_section(path: &Path, body: &str) -> std::io::Result<()> {
    const HEADING: &str = "## Desktop app";
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Performance\n".into());
    let section = format!("{HEADING}\n\n{}\n", body.trim_end());
    let updated = match text.find(&format!("{HEADING}\n")) {
        Some(start) => {
            let body_start = start + HEADING.len();
            match text[body_start..].find("\n## ") {
                Some(next) => format!(
                    "{}{section}\n{}",
                    &text[..start],
                    &text[body_start + next + 1..]
                ),
                None => format!("{}{section}", &text[..start]),
            }
        }
        None => format!("{}\n\n{section}", text.trim_end()),
    };
    std::fs::create_dir_all(path.parent().expect("docs dir"))?;
    std::fs::write(path, updated)
}
