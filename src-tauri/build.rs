//! Generates the app's ACL: one `allow-<command>` permission per command below, which
//! capabilities/main.json grants to the main window. Keep this list in step with
//! `generate_handler!` in src/main.rs (a missing entry makes the command unreachable).
fn main() {
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
