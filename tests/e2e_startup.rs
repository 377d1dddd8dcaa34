//! Startup and memory of the desktop app against the floor: a bare Tauri 2 window with one static
//! page (bench/bare-window: same Tauri, same WebKitGTK), measured in the same run, launches
//! interleaved so the machine's load falls on both alike. Prints figures and ratios; asserts
//! nothing about time.
//!
//!     cargo build --release -p keyward-app -p bare-window
//!     xvfb-run -a -s "-screen 0 1280x900x24" \
//!       cargo test -p keyward-tests --test e2e_startup -- --ignored --nocapture
//!
//! `APP_BINARY` / `BARE_BINARY` pick other builds (default: target/release/…),
//! `STARTUP_LAUNCHES` the launches per case (default 5), `STARTUP_KEYS` the big store (100,000).
//!
//! First paint: from the process's start time (/proc/<pid>/stat, 10 ms ticks) to
//! `performance.timeOrigin + mark.startTime` of `keys-table-painted`, which both pages set in the
//! frame after their content is in the DOM (Keyward: the first page of keys, or the empty state).
//! Memory: PSS (/proc/<pid>/smaps_rollup) summed over the app and every process below it
//! (WebKitWebProcess, WebKitNetworkProcess) after the window has settled.

// Each test target uses its own part of the shared helpers.
#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    descendants, median, process_name, process_start_epoch_ms, target_dir, AppSession, Outcome,
};
use fantoccini::Client;
use keyward_core::{Expiration, ExpiryPreset, NewKey};
use keyward_local::LocalStore;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SETTLE: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Bare,
    KeywardEmpty,
    KeywardLarge,
}

impl Case {
    fn label(self, keys: usize) -> String {
        match self {
            Case::Bare => "bare Tauri window (static page)".into(),
            Case::KeywardEmpty => "Keyward, empty store".into(),
            Case::KeywardLarge => format!("Keyward, {keys} keys"),
        }
    }
}

/// One launch's figures.
struct Launch {
    to_paint_ms: f64,
    to_page_ms: f64,
    dom_ready_ms: f64,
    /// The page's navigation milestones (name, ms from the page start).
    page_steps: Vec<(String, f64)>,
    /// Keyward's UI modules by the time their top-level code ran (ms), longest first.
    module_runs: Vec<(String, f64)>,
    pss_kib: u64,
    /// (process name, PSS KiB) of each process in the tree.
    processes: Vec<(String, u64)>,
}

#[tokio::test]
#[ignore = "a benchmark: needs release builds, a display (xvfb-run), tauri-driver and WebKitWebDriver"]
async fn first_paint_and_memory_against_a_bare_window() {
    let launches: usize = env_number("STARTUP_LAUNCHES", 5);
    let keys: usize = env_number("STARTUP_KEYS", 100_000);
    let release = target_dir().join("release");
    let app = binary("APP_BINARY", release.join("keyward-app"));
    let bare = binary("BARE_BINARY", release.join("bare-window"));

    let dir = tempfile::tempdir().unwrap();
    let empty_dir = dir.path().join("empty");
    let large_dir = dir.path().join("large");
    let seeding = Instant::now();
    seed(&large_dir, keys);
    println!(
        "seeded {keys} keys in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let config = dir.path().join("no-config.toml");

    let cases = [Case::Bare, Case::KeywardEmpty, Case::KeywardLarge];
    let mut results: Vec<Vec<Launch>> = cases.iter().map(|_| Vec::new()).collect();
    for run in 1..=launches {
        for (i, &case) in cases.iter().enumerate() {
            let (binary, data_dir) = match case {
                Case::Bare => (&bare, &empty_dir),
                Case::KeywardEmpty => (&app, &empty_dir),
                Case::KeywardLarge => (&app, &large_dir),
            };
            // AppSession takes its binary from APP_BINARY; this test is the only one in its
            // binary, so switching it between launches races with nothing.
            std::env::set_var("APP_BINARY", binary);
            let session = AppSession::launch(data_dir, &config).await;
            let result = measure(&session, binary).await;
            session.close().await;
            let launch =
                result.unwrap_or_else(|e| panic!("run {run}, {} failed: {e}", case.label(keys)));
            println!(
                "run {run}, {}: start -> painted {:.0} ms (start -> page {:.0}, page -> DOMContentLoaded {:.0}), PSS {:.0} MiB",
                case.label(keys),
                launch.to_paint_ms,
                launch.to_page_ms,
                launch.dom_ready_ms,
                mib(launch.pss_kib)
            );
            results[i].push(launch);
        }
    }

    let medians: Vec<Medians> = results.iter().map(|l| Medians::of(l)).collect();
    let floor = &medians[0];
    println!(
        "\n{launches} launches per case, medians; ratios against the bare window (and, for {keys} keys, the empty store)\n"
    );
    println!("| case | start → page start | page → DOMContentLoaded | start → first paint | × bare | PSS | × bare |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (case, m) in cases.iter().zip(&medians) {
        println!(
            "| {} | {:.0} ms | {:.0} ms | **{:.0} ms** | {:.2}× | **{:.0} MiB** | {:.2}× |",
            case.label(keys),
            m.to_page_ms,
            m.dom_ready_ms,
            m.to_paint_ms,
            m.to_paint_ms / floor.to_paint_ms,
            mib(m.pss_kib),
            m.pss_kib as f64 / floor.pss_kib as f64,
        );
    }
    println!(
        "\n{} keys ÷ empty store, first paint: {:.2}×",
        keys,
        medians[2].to_paint_ms / medians[1].to_paint_ms
    );
    for (case, runs) in cases.iter().zip(&results) {
        let last = runs.last().expect("a launch");
        let parts: Vec<String> = last
            .processes
            .iter()
            .map(|(name, pss)| format!("{name} {:.1} MiB", mib(*pss)))
            .collect();
        println!("PSS by process, {}: {}", case.label(keys), parts.join(", "));
        let steps: Vec<String> = last
            .page_steps
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.0}"))
            .collect();
        println!(
            "Page milestones, {} (last run; ms from page start): {}, painted {:.0}",
            case.label(keys),
            steps.join(", "),
            last.to_paint_ms - last.to_page_ms
        );
        if !last.module_runs.is_empty() {
            let slowest: Vec<String> = last
                .module_runs
                .iter()
                .take(6)
                .map(|(name, ms)| format!("{name} {ms:.0}"))
                .collect();
            println!(
                "UI modules' top-level run, {} (last run; ms, slowest first): {}",
                case.label(keys),
                slowest.join(", ")
            );
        }
    }
}

struct Medians {
    to_paint_ms: f64,
    to_page_ms: f64,
    dom_ready_ms: f64,
    pss_kib: u64,
}

impl Medians {
    fn of(launches: &[Launch]) -> Medians {
        let pick = |f: &dyn Fn(&Launch) -> f64| median(launches.iter().map(f).collect());
        Medians {
            to_paint_ms: pick(&|l| l.to_paint_ms),
            to_page_ms: pick(&|l| l.to_page_ms),
            dom_ready_ms: pick(&|l| l.dom_ready_ms),
            pss_kib: pick(&|l| l.pss_kib as f64) as u64,
        }
    }
}

async fn measure(session: &AppSession, binary: &Path) -> Outcome<Launch> {
    let (origin, dom_ready_ms, painted_ms) = wait_for_paint(&session.client).await?;
    // The kernel keeps the first 15 bytes of the name.
    let name: String = binary
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .chars()
        .take(15)
        .collect();
    let pid = descendants(session.driver_pid())
        .into_iter()
        .find(|pid| process_name(*pid).as_deref() == Some(name.as_str()))
        .ok_or_else(|| format!("no {name} process below tauri-driver"))?;
    let started = process_start_epoch_ms(pid)?;
    // Where the page's time goes: the HTML in, parsed, the scripts run, DOMContentLoaded done.
    let page_steps = session
        .client
        .execute(
            "const [nav] = performance.getEntriesByType('navigation');
             const steps = ['responseEnd', 'domInteractive', 'domContentLoadedEventStart', 'domContentLoadedEventEnd']
               .map(name => [name, nav[name]]);
             // Keyward's marks: the UI bundle's run (src-tauri/build/ui_bundle.rs), each command's
             // first call sent and answered (ui/api.js), the painted table (ui/keys-table.js).
             for (const mark of performance.getEntriesByType('mark')) {
               if (!mark.name.startsWith('ui-module ')) steps.push([mark.name, mark.startTime]);
             }
             // Each file the page fetched: when its request started and its answer ended.
             for (const entry of performance.getEntriesByType('resource')) {
               const file = entry.name.split('/').pop();
               steps.push([`${file} requested`, entry.startTime], [`${file} in`, entry.responseEnd]);
             }
             for (const entry of performance.getEntriesByType('paint')) steps.push([entry.name, entry.startTime]);
             steps.sort((a, b) => a[1] - b[1]);
             // Each module's run, from its mark to the next module's (or the bundle's end).
             const modules = performance.getEntriesByType('mark')
               .filter(m => m.name.startsWith('ui-module ') || m.name === 'ui-bundle-done');
             const runs = modules.slice(0, -1)
               .map((m, i) => [m.name.slice('ui-module '.length), modules[i + 1].startTime - m.startTime])
               .sort((a, b) => b[1] - a[1]);
             return [steps, runs];",
            vec![],
        )
        .await?;
    let pairs = |value: Option<&serde_json::Value>| -> Vec<(String, f64)> {
        value
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|pair| {
                let pair = pair.as_array()?;
                Some((pair[0].as_str()?.to_owned(), pair[1].as_f64()?))
            })
            .collect()
    };
    let module_runs = pairs(page_steps.get(1));
    let page_steps = pairs(page_steps.get(0));
    tokio::time::sleep(SETTLE).await;
    let processes: Vec<(String, u64)> = std::iter::once(pid)
        .chain(descendants(pid))
        .filter_map(|pid| Some((process_name(pid)?, pss_kib(pid)?)))
        .collect();
    Ok(Launch {
        to_paint_ms: origin + painted_ms - started,
        to_page_ms: origin - started,
        dom_ready_ms,
        page_steps,
        module_runs,
        pss_kib: processes.iter().map(|(_, pss)| pss).sum(),
        processes,
    })
}

/// `performance.timeOrigin`, DOMContentLoaded and the `keys-table-painted` mark (both from the
/// origin), in ms.
async fn wait_for_paint(client: &Client) -> Outcome<(f64, f64, f64)> {
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
            let ms = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
            return Ok((ms(origin), ms(dom_ready), ms(painted)));
        }
        if Instant::now() > deadline {
            return Err("the page never set its paint mark".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn seed(data_dir: &Path, count: usize) {
    const SERVICES: [&str; 6] = [
        "ci-deploy",
        "billing-api",
        "grafana",
        "terraform",
        "mailer",
        "slack-bot",
    ];
    let store = LocalStore::open(data_dir).expect("open the store");
    for n in 0..count {
        let name = format!("{}-{n:05}", SERVICES[n % SERVICES.len()]);
        let expiration = Expiration::Preset(if n % 2 == 0 {
            ExpiryPreset::OneYear
        } else {
            ExpiryPreset::Never
        });
        store
            .create_sync(NewKey::named(name, expiration))
            .expect("create a key");
    }
}

fn binary(var: &str, default: PathBuf) -> PathBuf {
    let path = std::env::var_os(var).map_or(default, PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: cargo build --release -p keyward-app -p bare-window",
        path.display()
    );
    std::fs::canonicalize(&path).unwrap_or(path)
}

fn env_number(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
