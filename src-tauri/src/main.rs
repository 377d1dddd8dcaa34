//! Keyward's desktop shell. All logic lives in the keyward-* crates; this binary opens the
//! default profile and exposes one thin command per operation to the webview in ../ui.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod state;

fn main() {
    tauri::Builder::default()
        // Start opening the profile before the window exists: the UI's first call waits for it.
        .manage(state::AppState::start())
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_profiles,
            commands::list_keys,
            commands::get_key,
            commands::create_key,
            commands::revoke_keys,
            commands::verify_key,
        ])
        .run(tauri::generate_context!())
        .expect("Keyward could not start its window");
}
