//! Generates the app's ACL: one `allow-<command>` permission per command below, which
//! capabilities/main.json grants to the main window. Keep this list in step with
//! `generate_handler!` in src/main.rs (a missing entry makes the command unreachable).
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_info",
            "list_profiles",
            "list_keys",
            "get_key",
            "create_key",
            "revoke_keys",
            "verify_key",
        ]),
    ))
    .expect("tauri-build failed");
}
