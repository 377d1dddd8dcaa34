//! Keyward's desktop shell. All logic lives in the keyward-* crates; this binary opens the
//! default profile and exposes one thin command per operation to the webview in ../ui.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod host;
mod instance;
mod jobs;
mod notifier;
mod scheduler;
mod signin;
mod state;

use state::AppState;
use tauri::{Emitter, Manager, RunEvent, WindowEvent};

/// The event that carries the clipboard countdown to the main window, about once a second.
const CLIPBOARD_EVENT: &str = "clipboard";

fn main() {
    let guard = one_app_per_data_dir();
    let mut builder = tauri::Builder::default();
    if let Some(guard) = guard {
        builder = builder.manage(guard);
    }
    let app = builder
        // Start opening the profile before the window exists: the UI's first call waits for it.
        .manage(AppState::start())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            if let Some(guard) = app.try_state::<instance::Guard>() {
                let handle = app.handle().clone();
                guard.on_second_launch(move || show_main_window(&handle));
            }
            tune_webview(app.handle());
            forward_clipboard_state(app.handle().clone());
            notifier::start(app.handle().clone());
            scheduler::start(app.handle().clone());
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
            commands::keys::update_key,
            commands::keys::rotate_key,
            commands::keys::list_scheduled_revokes,
            commands::keys::cancel_scheduled_revoke,
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

/// Claims the data dir for this process, or, when another Keyward app already runs on it, asks
/// that one to show its window and exits before opening anything (see `instance`). Without a
/// data dir to lock (no home, an unwritable folder) the app runs unguarded and shows the error
/// on opening its profile, as before.
fn one_app_per_data_dir() -> Option<instance::Guard> {
    let data_dir = keyward_profiles::Paths::from_env().ok()?.data_dir;
    match instance::claim(&data_dir) {
        Ok(instance::Claim::First(guard)) => Some(guard),
        Ok(instance::Claim::Second { shown }) => {
            eprintln!(
                "keyward: Keyward is already running on {}{}; this launch exits",
                data_dir.display(),
                if shown {
                    " (its window was brought forward)"
                } else {
                    ""
                }
            );
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!(
                "keyward: cannot take the app lock in {}: {e}; running without the single-instance guard",
                data_dir.display()
            );
            None
        }
    }
}

fn show_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// WebKitGTK's defaults suit a browser; Keyward is one small local page. Turned off here: what
/// wry turns on and the UI never uses (WebGL, Web Audio, the back/forward page cache) and media
/// playback; the cache model that keeps the least in memory; and accelerated compositing: a
/// table of text paints faster and in less memory on the CPU than through GL layers (on a
/// machine without a GPU, through Mesa's software GL), and it sidesteps GPU driver trouble.
/// `KEYWARD_ACCELERATED_COMPOSITING=1` keeps WebKit's own policy. docs/PERFORMANCE.md ("Startup
/// against a bare window") gives what each bought.
fn tune_webview(app: &tauri::AppHandle) {
    let keep_compositing =
        std::env::var_os("KEYWARD_ACCELERATED_COMPOSITING").is_some_and(|value| value == "1");
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let _ = window.with_webview(move |webview| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{
                CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
            };
            let view = webview.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                if !keep_compositing {
                    settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                }
                settings.set_enable_webgl(false);
                settings.set_enable_webaudio(false);
                settings.set_enable_media(false);
                settings.set_enable_page_cache(false);
            }
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (webview, keep_compositing);
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
