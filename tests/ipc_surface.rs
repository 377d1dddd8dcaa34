//! The app's IPC surface, checked in one place. A Tauri command is named by hand in five spots:
//! its `#[tauri::command]` fn (src-tauri/src/**), `generate_handler!` (src-tauri/src/main.rs), the
//! AppManifest list that generates its `allow-…` permission (src-tauri/build.rs), the capability
//! that grants that permission to the window (src-tauri/capabilities/main.json) and the UI's call
//! (ui/api.js). When they disagree, a command is unreachable (registered, never granted), exposed
//! by accident (granted or registered, never used), or called in vain (invoked, not registered).
//!
//! No list is written here: every name is read from those files, so adding or renaming a command
//! needs no edit of this test, only agreement between the files. Runs without a display.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const MAIN_RS: &str = "src-tauri/src/main.rs";
const BUILD_RS: &str = "src-tauri/build.rs";
const CAPABILITY: &str = "src-tauri/capabilities/main.json";
const API_JS: &str = "ui/api.js";
const COMMANDS_DIR: &str = "src-tauri/src";

/// Every place a command is named, as read from the files.
#[derive(Debug, Default, Clone)]
struct Surface {
    /// The last path segment of each entry of `generate_handler![…]` in main.rs.
    registered: Vec<String>,
    /// The strings of the AppManifest command list in build.rs.
    manifest: Vec<String>,
    /// The capability's permission identifiers, as written (`allow-list-keys`, `core:event:…`).
    permissions: Vec<String>,
    /// The command names ui/api.js invokes, plugin commands included (`plugin:event|listen`).
    invoked: Vec<String>,
    /// `(file, fn name)` of each `#[tauri::command]` fn.
    defined: Vec<(String, String)>,
}

/// The permission tauri-build generates for an app command: `allow-` and the name in kebab-case.
fn permission_for(command: &str) -> String {
    format!("allow-{}", command.replace('_', "-"))
}

/// The permissions that would let the window call plugin command `plugin:<plugin>|<command>`.
fn plugin_permissions(invoked: &str) -> Option<(String, Vec<String>)> {
    let (plugin, command) = invoked.strip_prefix("plugin:")?.split_once('|')?;
    let allow = permission_for(command);
    let granting = [
        format!("core:{plugin}:{allow}"),
        format!("{plugin}:{allow}"),
        format!("core:{plugin}:default"),
        format!("{plugin}:default"),
    ];
    Some((plugin.to_owned(), granting.to_vec()))
}

/// Every way the files disagree, one line each, naming the file and the command.
fn disagreements(surface: &Surface) -> Vec<String> {
    let mut found = Vec::new();
    // The UI may call one command from several helpers, so only the lists are checked for twins.
    for (file, names) in [
        (MAIN_RS, &surface.registered),
        (BUILD_RS, &surface.manifest),
        (CAPABILITY, &surface.permissions),
    ] {
        let mut seen = BTreeSet::new();
        for name in names {
            if !seen.insert(name) {
                found.push(format!("{file}: `{name}` is listed twice"));
            }
        }
    }

    let registered: BTreeSet<&str> = surface.registered.iter().map(String::as_str).collect();
    let manifest: BTreeSet<&str> = surface.manifest.iter().map(String::as_str).collect();
    let permissions: BTreeSet<&str> = surface.permissions.iter().map(String::as_str).collect();
    let app_invoked: BTreeSet<&str> = surface
        .invoked
        .iter()
        .map(String::as_str)
        .filter(|name| !name.starts_with("plugin:"))
        .collect();
    let defined: BTreeSet<&str> = surface.defined.iter().map(|(_, f)| f.as_str()).collect();

    for (file, function) in &surface.defined {
        if !registered.contains(function.as_str()) {
            found.push(format!(
                "{file}: #[tauri::command] fn `{function}` is not registered in {MAIN_RS}'s generate_handler! (dead code, or a command the UI cannot reach)"
            ));
        }
    }
    for command in &registered {
        if !defined.contains(command) {
            found.push(format!(
                "{MAIN_RS}: `{command}` is registered but no #[tauri::command] fn of that name is in {COMMANDS_DIR}/"
            ));
        }
        if !manifest.contains(command) {
            found.push(format!(
                "{BUILD_RS}: `{command}` is registered in {MAIN_RS} but missing from the AppManifest list, so no `{}` permission exists: unreachable",
                permission_for(command)
            ));
        }
        if !permissions.contains(permission_for(command).as_str()) {
            found.push(format!(
                "{CAPABILITY}: `{}` is missing, so `{command}` (registered in {MAIN_RS}) is unreachable from the window",
                permission_for(command)
            ));
        }
        if !app_invoked.contains(command) {
            found.push(format!(
                "{API_JS}: never invokes `{command}`, which {MAIN_RS} registers and exposes: remove it or call it"
            ));
        }
    }
    for command in &manifest {
        if !registered.contains(command) {
            found.push(format!(
                "{BUILD_RS}: `{command}` is in the AppManifest list but not registered in {MAIN_RS}"
            ));
        }
    }
    let expected_permissions: BTreeSet<String> =
        registered.iter().map(|c| permission_for(c)).collect();
    for permission in &permissions {
        // `core:…` and `<plugin>:…` belong to Tauri or a plugin; the rest are the app's own.
        if permission.contains(':') {
            continue;
        }
        if !expected_permissions.contains(*permission) {
            found.push(format!(
                "{CAPABILITY}: grants `{permission}`, which names no command registered in {MAIN_RS}: exposed by accident, or a stale name"
            ));
        }
    }
    for command in &app_invoked {
        if !registered.contains(command) {
            found.push(format!(
                "{API_JS}: invokes `{command}`, which {MAIN_RS} does not register"
            ));
        }
    }
    for invoked in surface.invoked.iter().filter(|i| i.starts_with("plugin:")) {
        match plugin_permissions(invoked) {
            Some((_, granting)) if granting.iter().any(|p| permissions.contains(p.as_str())) => {}
            Some((_, granting)) => found.push(format!(
                "{API_JS}: invokes `{invoked}`, but {CAPABILITY} grants none of {}",
                granting.join(", ")
            )),
            None => found.push(format!(
                "{API_JS}: invokes `{invoked}`, which is not of the form plugin:<plugin>|<command>"
            )),
        }
    }
    found
}

// ---- Reading the files -------------------------------------------------------------------------

/// Which quotes open a string literal (whose text may hold `//` that is no comment).
#[derive(Clone, Copy)]
enum Language {
    /// `"…"`; `'x'` is a char literal and `'a` a lifetime.
    Rust,
    /// `"…"`, `'…'` and `` `…` ``.
    JavaScript,
}

/// `source` with `//` and `/* */` comments blanked out (string literals are left alone), so a
/// commented-out command does not count.
fn without_comments(source: &str, language: Language) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    let mut in_string: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(quote) = in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == quote {
                in_string = None;
            }
            continue;
        }
        match (c, chars.peek(), language) {
            ('"', _, _) | ('\'' | '`', _, Language::JavaScript) => {
                in_string = Some(c);
                out.push(c);
            }
            ('\'', _, Language::Rust) => {
                // A char literal (`'"'`, `'\\''`) is copied whole; a lifetime is just a quote.
                out.push(c);
                let ahead: String = chars.clone().take(3).collect();
                let literal_len = if let Some(escaped) = ahead.strip_prefix('\\') {
                    escaped.find('\'').map(|i| i + 2)
                } else {
                    ahead.chars().nth(1).filter(|&q| q == '\'').map(|_| 2)
                };
                for _ in 0..literal_len.unwrap_or(0) {
                    out.extend(chars.next());
                }
            }
            ('/', Some('/'), _) => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*'), _) => {
                chars.next();
                let mut previous = ' ';
                for skipped in chars.by_ref() {
                    if previous == '*' && skipped == '/' {
                        break;
                    }
                    if skipped == '\n' {
                        out.push('\n');
                    }
                    previous = skipped;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The text between the bracket that opens at `open` (an index of `(`, `[` or `{` in `text`) and
/// the one that closes it.
fn bracketed(text: &str, open: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let (opening, closing) = match bytes.get(open)? {
        b'(' => (b'(', b')'),
        b'[' => (b'[', b']'),
        b'{' => (b'{', b'}'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (index, &byte) in bytes.iter().enumerate().skip(open) {
        if byte == opening {
            depth += 1;
        } else if byte == closing {
            depth -= 1;
            if depth == 0 {
                return Some(&text[open + 1..index]);
            }
        }
    }
    None
}

/// The contents of every `"…"` literal in `text` (no escapes expected in command names).
fn string_literals(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The commands of `generate_handler![…]`: the last segment of each path.
fn registered_commands(main_rs: &str) -> Result<Vec<String>, String> {
    let source = without_comments(main_rs, Language::Rust);
    let start = source
        .find("generate_handler!")
        .ok_or("no generate_handler! found")?;
    let open = start
        + source[start..]
            .find(['[', '(', '{'])
            .ok_or("generate_handler! has no list")?;
    let list = bracketed(&source, open).ok_or("generate_handler!'s list is not closed")?;
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let name = entry.rsplit("::").next().unwrap_or(entry).trim();
            if is_identifier(name) {
                Ok(name.to_owned())
            } else {
                Err(format!("generate_handler! entry `{entry}` is not a path"))
            }
        })
        .collect()
}

/// The strings passed to `AppManifest::commands`, written inline or as a `const`/`static` list.
fn manifest_commands(build_rs: &str) -> Result<Vec<String>, String> {
    let source = without_comments(build_rs, Language::Rust);
    let start = source
        .find(".commands(")
        .ok_or("no AppManifest `.commands(` call found")?;
    let argument = bracketed(&source, start + ".commands".len())
        .ok_or("the `.commands(` call is not closed")?;
    let literals = string_literals(argument);
    if !literals.is_empty() {
        return Ok(literals);
    }
    // `.commands(COMMANDS)` or `.commands(&COMMANDS)`: read the named list.
    let name = argument.trim().trim_start_matches('&').trim();
    if !is_identifier(name) {
        return Err(format!("cannot read the command list `{argument}`"));
    }
    for keyword in ["const", "static"] {
        let declaration = format!("{keyword} {name}");
        if let Some(at) = source.find(&declaration) {
            let rest = &source[at..];
            let equals = rest.find('=').ok_or("the list has no `=`")?;
            let open = at + equals + rest[equals..].find('[').ok_or("the list has no `[`")?;
            let list = bracketed(&source, open).ok_or("the list is not closed")?;
            return Ok(string_literals(list));
        }
    }
    Err(format!(
        "the command list `{name}` is not declared in this file"
    ))
}

/// The capability's permission identifiers (a permission may also be an object with an
/// `identifier`, when it carries a scope).
fn capability_permissions(json: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let permissions = value
        .get("permissions")
        .and_then(serde_json::Value::as_array)
        .ok_or("no `permissions` array")?;
    permissions
        .iter()
        .map(|entry| {
            entry
                .as_str()
                .or_else(|| entry.get("identifier").and_then(serde_json::Value::as_str))
                .map(str::to_owned)
                .ok_or_else(|| {
                    format!("permission {entry} is neither a string nor has an identifier")
                })
        })
        .collect()
}

/// The first argument of every `invoke('…'` in the UI's JavaScript (any quote), comments skipped.
/// Calls whose command is not a literal (the `invoke` wrapper's own body) are not commands.
fn invoked_commands(api_js: &str) -> Vec<String> {
    let source = without_comments(api_js, Language::JavaScript);
    let mut found = Vec::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find("invoke(") {
        // `invoke(` must be the whole name, not the end of another one (`reinvoke(`).
        let standalone = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'));
        let after = rest[at + "invoke(".len()..].trim_start();
        rest = &rest[at + "invoke(".len()..];
        let Some(quote) = after
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))
        else {
            continue;
        };
        if !standalone {
            continue;
        }
        if let Some(end) = after[1..].find(quote) {
            found.push(after[1..1 + end].to_owned());
        }
    }
    found
}

/// The name of each fn carrying `#[tauri::command]` (with or without arguments) in `source`.
fn command_fns(source: &str) -> Vec<String> {
    let source = without_comments(source, Language::Rust);
    let mut found = Vec::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find("#[tauri::command") {
        rest = &rest[at + 1..];
        let Some(attribute) = bracketed(rest, 0) else {
            break;
        };
        rest = &rest[attribute.len() + 2..];
        // The next `fn` after the attribute (past `pub`, `async`, other attributes).
        let Some(fn_at) = rest
            .match_indices("fn ")
            .map(|(i, _)| i)
            .find(|&i| i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric())
        else {
            break;
        };
        let name: String = rest[fn_at + 3..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        found.push(name);
    }
    found
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository root")
        .to_owned()
}

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

fn read_surface() -> Surface {
    let parsed = |file: &str, result: Result<Vec<String>, String>| {
        result.unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let mut sources = Vec::new();
    rust_files(&repo_root().join(COMMANDS_DIR), &mut sources);
    sources.sort();
    let mut defined = Vec::new();
    for path in sources {
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        let shown = path
            .strip_prefix(repo_root())
            .unwrap_or(&path)
            .display()
            .to_string();
        for function in command_fns(&text) {
            defined.push((shown.clone(), function));
        }
    }
    Surface {
        registered: parsed(MAIN_RS, registered_commands(&read(MAIN_RS))),
        manifest: parsed(BUILD_RS, manifest_commands(&read(BUILD_RS))),
        permissions: parsed(CAPABILITY, capability_permissions(&read(CAPABILITY))),
        invoked: invoked_commands(&read(API_JS)),
        defined,
    }
}

fn report(problems: &[String]) -> String {
    let mut text = String::from("the IPC surface disagrees between its files:\n");
    for problem in problems {
        let _ = writeln!(text, "  - {problem}");
    }
    text
}

// ---- The check ---------------------------------------------------------------------------------

#[test]
fn every_file_names_the_same_commands() {
    let surface = read_surface();
    // A parser that silently found nothing would make every comparison vacuous.
    assert!(
        !surface.registered.is_empty(),
        "{MAIN_RS}: no commands read"
    );
    assert!(
        !surface.defined.is_empty(),
        "{COMMANDS_DIR}: no #[tauri::command] fn read"
    );
    assert!(
        !surface.invoked.is_empty(),
        "{API_JS}: no invoke calls read"
    );
    let problems = disagreements(&surface);
    assert!(problems.is_empty(), "{}", report(&problems));
    println!(
        "IPC surface: {} commands, the same in {MAIN_RS}, {BUILD_RS}, {CAPABILITY}, {API_JS} and {COMMANDS_DIR}/",
        surface.registered.len()
    );
}

/// The real files with one command dropped from one of them: each drop is reported, naming the
/// file and the command (and nothing else is).
#[test]
fn dropping_a_command_from_any_real_file_is_reported() {
    let surface = read_surface();
    let command = surface.registered[0].clone();
    let permission = permission_for(&command);

    let mut no_registration = surface.clone();
    no_registration.registered.retain(|c| *c != command);
    let problems = disagreements(&no_registration);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("is not registered") && p.contains(&format!("`{command}`"))),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with(BUILD_RS)),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with(CAPABILITY)),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with(API_JS)),
        "{problems:?}"
    );

    let mut no_manifest = surface.clone();
    no_manifest.manifest.retain(|c| *c != command);
    assert_eq!(
        disagreements(&no_manifest),
        [format!(
            "{BUILD_RS}: `{command}` is registered in {MAIN_RS} but missing from the AppManifest list, so no `{permission}` permission exists: unreachable"
        )]
    );

    let mut no_permission = surface.clone();
    no_permission.permissions.retain(|p| *p != permission);
    assert_eq!(
        disagreements(&no_permission),
        [format!(
            "{CAPABILITY}: `{permission}` is missing, so `{command}` (registered in {MAIN_RS}) is unreachable from the window"
        )]
    );

    let mut no_call = surface.clone();
    no_call.invoked.retain(|c| *c != command);
    assert_eq!(
        disagreements(&no_call),
        [format!(
            "{API_JS}: never invokes `{command}`, which {MAIN_RS} registers and exposes: remove it or call it"
        )]
    );

    // And the same through the text: main.json with the permission's line removed.
    let json = read(CAPABILITY);
    let edited: String = json
        .lines()
        .filter(|line| !line.contains(&format!("\"{permission}\"")))
        .collect::<Vec<_>>()
        .join("\n")
        // The line removed may have been the last of the array: no trailing comma then.
        .replace(",\n  ]", "\n  ]");
    let mut from_text = surface.clone();
    from_text.permissions = capability_permissions(&edited).expect("still JSON");
    assert_eq!(disagreements(&from_text).len(), 1, "{edited}");
}

// ---- The readers and the comparison on small inputs --------------------------------------------

#[test]
fn comments_are_blanked_but_not_inside_strings_or_after_char_literals() {
    let rust = "let q = '\"'; let url = \"http://x\"; // gone\nfn f<'a>() {} /* gone */ '\\'' kept";
    assert_eq!(
        without_comments(rust, Language::Rust),
        "let q = '\"'; let url = \"http://x\"; \nfn f<'a>() {}   '\\'' kept"
    );
    let js = "const u = 'https://x'; // gone\nconst t = `a//b`; /* gone */ ok";
    assert_eq!(
        without_comments(js, Language::JavaScript),
        "const u = 'https://x'; \nconst t = `a//b`;   ok"
    );
}

#[test]
fn main_rs_entries_are_read_as_their_last_segment_without_comments() {
    let main_rs = r#"
        fn main() {
            tauri::Builder::default()
                .invoke_handler(tauri::generate_handler![
                    commands::keys::list_keys, // the table
                    // commands::keys::old_one,
                    /* commands::gone, */ get_settings,
                ])
                .run(ctx);
        }
    "#;
    assert_eq!(
        registered_commands(main_rs).unwrap(),
        ["list_keys", "get_settings"]
    );
    assert!(registered_commands("fn main() {}").is_err());
}

#[test]
fn build_rs_is_read_inline_or_from_a_named_list() {
    let inline = r#"
        tauri_build::AppManifest::new().commands(&[
            "app_info", // first
            // "old",
            "list_keys",
        ])
    "#;
    assert_eq!(
        manifest_commands(inline).unwrap(),
        ["app_info", "list_keys"]
    );
    let named = r#"
        const COMMANDS: &[&str] = &["app_info", "list_keys"];
        fn main() { AppManifest::new().commands(COMMANDS); }
    "#;
    assert_eq!(manifest_commands(named).unwrap(), ["app_info", "list_keys"]);
    assert!(manifest_commands("fn main() { x.commands(MISSING); }").is_err());
}

#[test]
fn capability_permissions_are_strings_or_identified_objects() {
    let json =
        r#"{ "permissions": ["allow-list-keys", {"identifier": "fs:allow-read", "allow": []}] }"#;
    assert_eq!(
        capability_permissions(json).unwrap(),
        ["allow-list-keys", "fs:allow-read"]
    );
    assert!(capability_permissions("{}").is_err());
    assert!(capability_permissions("[not json").is_err());
}

#[test]
fn api_js_invokes_are_read_with_any_quote_and_without_the_wrapper() {
    let js = r#"
        function invoke(command, args) { return internals().invoke(command, args); }
        export const listKeys = (query) => invoke('list_keys', { query });
        export const getKey = (id) => invoke("get_key", { id });
        export const x = () => invoke(`app_info`);
        // export const old = () => invoke('old_one', {});
        const y = () => reinvoke('not_ours');
        const e = () => invoke('plugin:event|listen', {});
    "#;
    assert_eq!(
        invoked_commands(js),
        ["list_keys", "get_key", "app_info", "plugin:event|listen"]
    );
}

#[test]
fn command_fns_are_found_with_any_signature() {
    let source = r#"
        /// Docs.
        #[tauri::command]
        pub async fn list_keys(state: State<'_, AppState>) -> Result<()> { Ok(()) }

        #[tauri::command(rename_all = "snake_case")]
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn save_settings() {}

        // #[tauri::command]
        fn helper() {}
    "#;
    assert_eq!(command_fns(source), ["list_keys", "save_settings"]);
}

fn agreeing(commands: &[&str]) -> Surface {
    let names = || commands.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    Surface {
        registered: names(),
        manifest: names(),
        permissions: commands
            .iter()
            .map(|c| permission_for(c))
            .chain(["core:event:allow-listen".to_owned()])
            .collect(),
        invoked: names()
            .into_iter()
            .chain(["plugin:event|listen".to_owned()])
            .collect(),
        defined: commands
            .iter()
            .map(|c| ("src-tauri/src/commands/keys.rs".to_owned(), (*c).to_owned()))
            .collect(),
    }
}

#[test]
fn agreeing_files_have_no_disagreement() {
    assert_eq!(
        disagreements(&agreeing(&["list_keys", "get_key"])),
        Vec::<String>::new()
    );
}

#[test]
fn each_kind_of_disagreement_names_its_file_and_command() {
    let mut surface = agreeing(&["list_keys", "get_key"]);
    surface.permissions.push("allow-drop-everything".to_owned());
    surface.invoked.push("not_registered".to_owned());
    surface.invoked.push("plugin:shell|open".to_owned());
    surface.defined.push((
        "src-tauri/src/commands/extra.rs".to_owned(),
        "forgotten".to_owned(),
    ));
    surface.manifest.push("only_in_manifest".to_owned());
    surface.manifest.push("get_key".to_owned());
    assert_eq!(
        disagreements(&surface),
        [
            format!("{BUILD_RS}: `get_key` is listed twice"),
            format!("src-tauri/src/commands/extra.rs: #[tauri::command] fn `forgotten` is not registered in {MAIN_RS}'s generate_handler! (dead code, or a command the UI cannot reach)"),
            format!("{BUILD_RS}: `only_in_manifest` is in the AppManifest list but not registered in {MAIN_RS}"),
            format!("{CAPABILITY}: grants `allow-drop-everything`, which names no command registered in {MAIN_RS}: exposed by accident, or a stale name"),
            format!("{API_JS}: invokes `not_registered`, which {MAIN_RS} does not register"),
            format!("{API_JS}: invokes `plugin:shell|open`, but {CAPABILITY} grants none of core:shell:allow-open, shell:allow-open, core:shell:default, shell:default"),
        ]
    );

    let mut unregistered_fn_missing = agreeing(&["list_keys"]);
    unregistered_fn_missing.defined.clear();
    assert_eq!(
        disagreements(&unregistered_fn_missing),
        [format!("{MAIN_RS}: `list_keys` is registered but no #[tauri::command] fn of that name is in {COMMANDS_DIR}/")]
    );
}
