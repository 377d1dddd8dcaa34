//! Generates the app's ACL: one `allow-<command>` permission per command below, which
//! capabilities/main.json grants to the main window. Keep this list in step with
//! `generate_handler!` in src/main.rs (a missing entry makes the command unreachable).
//!
//! Also bundles ui/'s ES modules into one (build/ui_bundle.rs) and points the embedded frontend
//! at the result, so the window loads one script instead of fetching ~20 in a chain.

#[path = "build/ui_bundle.rs"]
mod ui_bundle;

fn main() {
    bundle_ui();
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_info",
            "list_keys",
            "list_owners",
            "refresh_keys",
            "get_key",
            "create_key",
            "update_key",
            "rotate_key",
            "list_scheduled_revokes",
            "cancel_scheduled_revoke",
            "revoke_preview",
            "revoke_keys",
            "cancel_revoke",
            "verify_key",
            "copy_key_id",
            "expiring_soon",
            "audit_log",
            "export_audit",
            "list_profiles",
            "switch_profile",
            "profile_form",
            "save_profile",
            "forget_credential",
            "remove_profile",
            "set_default_profile",
            "sign_in",
            "copy_new_secret",
            "save_new_secret",
            "forget_new_secret",
            "copy_saved_secret",
            "clear_clipboard",
            "clipboard_state",
            "get_settings",
            "save_settings",
        ]),
    ))
    .expect("tauri-build failed");
}

/// Writes the bundled UI to OUT_DIR/ui and has `generate_context!` embed it instead of ../ui
/// (tauri.conf.json's `frontendDist`, overridden through the `TAURI_CONFIG` it merges).
fn bundle_ui() {
    let manifest_dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let ui = manifest_dir.join("../ui");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("ui");
    println!("cargo:rerun-if-changed={}", ui.display());
    ui_bundle::write(&ui, &out);
    // A TAURI_CONFIG given from outside (the Tauri CLI sets one) keeps its other settings.
    let mut config: serde_json::Value = std::env::var("TAURI_CONFIG")
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    config["build"]["frontendDist"] = serde_json::Value::from(out.to_string_lossy().into_owned());
    println!("cargo:rustc-env=TAURI_CONFIG={config}");
}
