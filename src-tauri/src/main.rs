//! Keyward's desktop shell. All logic lives in the keyward-* crates; this binary opens the
//! default profile and exposes one thin command per operation to the webview in ../ui.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod host;
mod jobs;
mod notifier;
mod signin;
mod state;

use state::AppState;
use tauri::{Emitter, Manager, RunEvent, WindowEvent};

/// The event that carries the clipboard countdown to the main window, about once a second.
const CLIPBOARD_EVENT: &str = "clipboard";

fn main() {
    let app = tauri::Builder::default()
        // Start opening the profile before the window exists: the UI's first call waits for it.
        .manage(AppState::start())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            forward_clipboard_state(app.handle().clone());
            notifier::start(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| {
            // The sign-in window belongs to the main one: it goes when the main window goes.
            if window.label() == "main" && matches!(event, WindowEvent::Destroyed) {
                if let Some(sign_in) = window
                    .app_handle()
                    .get_webview_window(signin::SIGN_IN_WINDOW)
                {
                    let _ = sign_in.destroy();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::keys::app_info,
            commands::keys::list_keys,
            commands::keys::list_owners,
            commands::keys::refresh_keys,
            commands::keys::get_key,
            commands::keys::create_key,
            commands::keys::revoke_preview,
            commands::keys::revoke_keys,
            commands::keys::cancel_revoke,
            commands::keys::verify_key,
            commands::keys::copy_key_id,
            commands::expiring::expiring_soon,
            commands::audit::audit_log,
            commands::audit::export_audit,
            commands::profiles::list_profiles,
            commands::profiles::switch_profile,
            commands::profiles::profile_form,
            commands::profiles::save_profile,
            commands::profiles::forget_credential,
            commands::profiles::remove_profile,
            commands::profiles::set_default_profile,
            commands::profiles::sign_in,
            commands::secrets::copy_new_secret,
            commands::secrets::save_new_secret,
            commands::secrets::forget_new_secret,
            commands::secrets::copy_saved_secret,
            commands::secrets::clear_clipboard,
            commands::secrets::clipboard_state,
            commands::settings::get_settings,
            commands::settings::save_settings,
        ])
        .build(tauri::generate_context!())
        .expect("Keyward could not start its window");
    app.run(|app, event| {
        // Tauri's exit skips destructors, so the clipboard is cleared here (if it still holds
        // our secret).
        if let RunEvent::Exit = event {
            let _ = app.state::<AppState>().clipboard.on_quit();
        }
    });
}

/// Pushes every change of the clipboard countdown to the main window as a `clipboard` event.
fn forward_clipboard_state(app: tauri::AppHandle) {
    let mut changes = app.state::<AppState>().clipboard.subscribe();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            let state = changes.borrow_and_update().clone();
            let _ = app.emit_to("main", CLIPBOARD_EVENT, state);
        }
    });
}
