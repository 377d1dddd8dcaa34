//! `BARE_WINDOW_PAGE=<dir>` embeds another page instead of page/: the probes in
//! docs/PERFORMANCE.md ("Startup against a bare window") load parts of Keyward's UI in this bare
//! shell to tell the page's own cost from the app's.
fn main() {
    println!("cargo:rerun-if-env-changed=BARE_WINDOW_PAGE");
    if let Ok(page) = std::env::var("BARE_WINDOW_PAGE") {
        let page =
            std::fs::canonicalize(&page).unwrap_or_else(|e| panic!("BARE_WINDOW_PAGE={page}: {e}"));
        println!("cargo:rerun-if-changed={}", page.display());
        let dist = page.to_str().expect("a UTF-8 path");
        println!("cargo:rustc-env=TAURI_CONFIG={{\"build\":{{\"frontendDist\":{dist:?}}}}}");
    }
    tauri_build::build();
}
