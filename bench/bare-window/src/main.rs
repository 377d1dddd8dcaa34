//! A bare Tauri 2 window showing one static page: the floor Keyward's startup and memory are
//! measured against (tests/e2e_startup.rs). Same Tauri, same WebKitGTK, no state, no commands.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the bare window could not start");
}
