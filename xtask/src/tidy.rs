//! `cargo xtask tidy`: the repository's structural rules, also run as `#[test] fn tidy()`.
//!
//! The checks, each reading files as text (as rust-analyzer's `xtask/src/tidy.rs` does):
//!
//! - every dependency edge in `crates/*/Cargo.toml`, `xtask/Cargo.toml` and `benches/Cargo.toml`
//!   (normal, dev and build dependencies alike) is allowed by [`LAYERS`], the table of STYLE.md §1;
//! - every `.rs` file under `crates/`, `xtask/` and `benches/` starts with a `//!` line;
//! - no ambient randomness in `crates/` ([`BANNED_RANDOMNESS`], STYLE.md §5);
//! - crates have no `src/main.rs`, `src/bin/` or `examples/` (only xtask has a `main`);
//! - library sources (`crates/*/src`) do no I/O ([`BANNED_IO`]): no `std::fs`, `std::env`, printing;
//!   the crates of [`IO_CRATES`] (the experiments) are the exception.

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

/// The layer table of STYLE.md §1: for each package, the workspace crates and the external crates
/// it may depend on. Change it only together with STYLE.md and ARCHITECTURE.md.
pub(crate) const LAYERS: &[Layer] = &[
    Layer {
        package: "linalg",
        workspace: &[],
        // STYLE: "rand + its named ChaCha generator"; rand_distr is rand's distributions companion
        // (Xavier normal draws).
        external: &[
            "nalgebra",
            "faer",
            "rand",
            "rand_chacha",
            "rand_distr",
            "serde",
            "rayon",
        ],
    },
    Layer {
        package: "plasticity-core",
        workspace: &["linalg"],
        external: &["rand", "serde"],
    },
    Layer {
        package: "feedback-alignment",
        workspace: &["plasticity-core", "linalg"],
        external: &["rand", "serde", "rayon"],
    },
    Layer {
        package: "meta-plasticity",
        workspace: &["feedback-alignment", "plasticity-core", "linalg"],
        external: &["rand", "serde", "rayon"],
    },
    Layer {
        package: "graph-scattering",
        workspace: &["linalg"],
        external: &["serde", "rayon"],
    },
    Layer {
        package: "bayes-uq",
        workspace: &["linalg"],
        // STYLE §1 plus rayon: one thread-count-independent driver for the bootstrap replicas.
        external: &["rand", "serde", "rayon"],
    },
    Layer {
        package: "molgraph",
        workspace: &["linalg"],
        external: &["serde"],
    },
    Layer {
        package: "mol-vae",
        workspace: &["graph-scattering", "molgraph", "bayes-uq", "linalg"],
        external: &["rand", "serde", "rayon"],
    },
    Layer {
        package: "datasets",
        workspace: &["linalg"],
        external: &["flate2"],
    },
    Layer {
        package: "experiments",
        workspace: LIBRARY_CRATES,
        // The experiments still own their data location, downloads, reports, figures, checkpoints
        // and progress output (see ARCHITECTURE.md): the external crates xtask used for them,
        // anyhow for error chains, and rayon (independent seeds run in parallel; reports record
        // the thread count).
        external: &[
            "bincode",
            "serde",
            "clap",
            "indicatif",
            "plotters",
            "ureq",
            "sha2",
            "anyhow",
            "rayon",
            "toml",
        ],
    },
    Layer {
        package: "xtask",
        workspace: XTASK_DEPENDENCIES,
        // STYLE §1 plus anyhow (STYLE §4 allows it for xtask only) and rayon (the bench task
        // matches torch's thread count to rayon's pool). See ARCHITECTURE.md.
        external: &["clap", "anyhow", "rayon"],
    },
    Layer {
        package: "benches",
        workspace: LIBRARY_CRATES,
        external: &["criterion"],
    },
];

/// Test-only crates allowed in any package's `[dev-dependencies]`.
pub(crate) const DEV_ONLY: &[&str] = &["proptest", "criterion"];

/// Ambient randomness, banned in `crates/` (STYLE.md §5).
pub(crate) const BANNED_RANDOMNESS: &[&str] = &[
    "thread_rng",
    "rand::rng()",
    "from_entropy",
    "from_os_rng",
    "StdRng",
    "SmallRng",
];

/// Library crates whose sources may do I/O: the experiments read data, write reports and
/// checkpoints, and print progress.
pub(crate) const IO_CRATES: &[&str] = &["experiments"];

/// I/O, banned in library sources (STYLE.md §1).
pub(crate) const BANNED_IO: &[&str] = &[
    "std::fs",
    "std::env",
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "dbg!(",
    "File::open",
    "File::create",
];

/// What one package may depend on.
#[derive(Debug)]
pub(crate) struct Layer {
    /// The package name.
    pub(crate) package: &'static str,
    /// Allowed workspace crates.
    pub(crate) workspace: &'static [&'static str],
    /// Allowed external crates.
    pub(crate) external: &'static [&'static str],
}

/// Every library crate of the workspace.
const LIBRARY_CRATES: &[&str] = &[
    "linalg",
    "datasets",
    "plasticity-core",
    "feedback-alignment",
    "meta-plasticity",
    "graph-scattering",
    "molgraph",
    "mol-vae",
    "bayes-uq",
];

/// The workspace crates xtask may depend on: every library crate and the experiments.
const XTASK_DEPENDENCIES: &[&str] = &[
    "experiments",
    "linalg",
    "datasets",
    "plasticity-core",
    "feedback-alignment",
    "meta-plasticity",
    "graph-scattering",
    "molgraph",
    "mol-vae",
    "bayes-uq",
];

/// Runs every check under `root` and fails listing all violations.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let violations = check(root)?;
    if violations.is_empty() {
        println!("tidy: ok");
        Ok(())
    } else {
        bail!(
            "tidy found {} problem(s):\n  {}",
            violations.len(),
            violations.join("\n  ")
        )
    }
}

/// Every violation under `root`, one line each, naming the file.
fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut violations = Vec::new();
    let crates_dir = root.join("crates");
    let mut crate_dirs = subdirs(&crates_dir)?;
    crate_dirs.sort();
    let mut manifests: Vec<PathBuf> = crate_dirs
        .iter()
        .map(|dir| dir.join("Cargo.toml"))
        .collect();
    manifests.extend(
        ["xtask", "benches"]
            .iter()
            .map(|dir| root.join(dir).join("Cargo.toml")),
    );
    for manifest in manifests.iter().filter(|path| path.is_file()) {
        let text = read(manifest)?;
        violations.extend(check_manifest(&rel(root, manifest), &text));
    }
    for dir in &crate_dirs {
        for banned in ["src/main.rs", "src/bin", "examples"] {
            if dir.join(banned).exists() {
                violations.push(format!(
                    "{}: crates have no binaries or examples (only xtask has a main)",
                    rel(root, &dir.join(banned))
                ));
            }
        }
    }
    for top in ["crates", "xtask", "benches"] {
        for file in rust_files(&root.join(top))? {
            let text = read(&file)?;
            let name = rel(root, &file);
            if !text.starts_with("//!") {
                violations.push(format!(
                    "{name}: does not start with a `//!` line saying what the file is"
                ));
            }
            if top == "crates" {
                violations.extend(banned_uses(
                    &name,
                    &text,
                    BANNED_RANDOMNESS,
                    "ambient randomness",
                ));
                let in_library_src = file.strip_prefix(&crates_dir).is_ok_and(|inner| {
                    let mut components = inner.components();
                    let krate = components.next();
                    let in_src = components.next().is_some_and(|c| c.as_os_str() == "src");
                    in_src
                        && !krate.is_some_and(|c| IO_CRATES.iter().any(|io| c.as_os_str() == *io))
                });
                if in_library_src {
                    violations.extend(banned_uses(
                        &name,
                        &text,
                        BANNED_IO,
                        "I/O in a library crate",
                    ));
                }
            }
        }
    }
    Ok(violations)
}

/// Checks one manifest's dependency sections against [`LAYERS`].
fn check_manifest(name: &str, text: &str) -> Vec<String> {
    let Some(package) = package_name(text) else {
        return vec![format!("{name}: no `name = ...` in [package]")];
    };
    let Some(layer) = LAYERS.iter().find(|layer| layer.package == package) else {
        return vec![format!(
            "{name}: package `{package}` is not in the layer table (STYLE.md §1)"
        )];
    };
    let mut violations = Vec::new();
    for (section, dep) in dependencies(text) {
        let is_dev = section.contains("dev-dependencies");
        let allowed = dep == package
            || layer.workspace.contains(&dep.as_str())
            || layer.external.contains(&dep.as_str())
            || (is_dev && DEV_ONLY.contains(&dep.as_str()));
        if !allowed {
            let kind = if LIBRARY_CRATES.contains(&dep.as_str()) {
                "workspace edge"
            } else {
                "external crate"
            };
            violations.push(format!(
                "{name}: [{section}] {kind} `{package}` -> `{dep}` is not allowed by the layer table (STYLE.md §1)"
            ));
        }
    }
    violations
}

/// The `name` of the `[package]` section.
fn package_name(text: &str) -> Option<String> {
    let mut in_package = false;
    for line in text.lines().map(strip_toml_comment) {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

/// Every `(section, dependency name)` in the manifest's dependency tables, including
/// `[target.'cfg(..)'.dependencies]` and `[dependencies.foo]` tables.
fn dependencies(text: &str) -> Vec<(String, String)> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut deps = Vec::new();
    let mut section: Option<String> = None;
    for line in text.lines().map(strip_toml_comment) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(header) = line
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            let header = header.trim();
            section = None;
            // `[dependencies]`, `[target.X.dev-dependencies]`: a table of dependencies.
            if KINDS
                .iter()
                .any(|kind| header == *kind || header.ends_with(&format!(".{kind}")))
            {
                section = Some(header.to_owned());
            } else if let Some(kind) = KINDS
                .iter()
                .find(|kind| header.starts_with(&format!("{kind}.")))
            {
                // `[dependencies.foo]`: one dependency as a table.
                let dep = header[kind.len() + 1..].trim_matches('"').to_owned();
                deps.push(((*kind).to_owned(), dep));
            }
            continue;
        }
        if let Some(section) = &section
            && let Some((key, _)) = line.split_once('=')
        {
            let dep = key
                .split('.')
                .next()
                .unwrap_or(key)
                .trim()
                .trim_matches('"');
            deps.push((section.clone(), dep.to_owned()));
        }
    }
    deps
}

/// The line without a trailing `# comment` (good enough for Cargo manifests, which do not put `#`
/// inside the strings this parser looks at).
fn strip_toml_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(code, _)| code)
}

/// One violation per line of `text` that uses a `banned` pattern outside a `//` comment.
fn banned_uses(name: &str, text: &str, banned: &[&str], what: &str) -> Vec<String> {
    let mut violations = Vec::new();
    for (line_idx, line) in text.lines().enumerate() {
        let code = line.split_once("//").map_or(line, |(code, _)| code);
        for pattern in banned.iter().filter(|pattern| code.contains(**pattern)) {
            violations.push(format!("{name}:{}: {what}: `{pattern}`", line_idx + 1));
        }
    }
    violations
}

/// Every `.rs` file under `dir`, skipping `target/` and hidden directories.
fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() {
                if file_name != "target" && !file_name.starts_with('.') {
                    stack.push(path);
                }
            } else if file_name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The directories directly inside `dir` (none when it does not exist).
fn subdirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    Ok(dirs)
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `path` relative to `root`, for messages.
fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository itself passes every check.
    #[test]
    fn tidy() {
        let violations = check(&crate::project_root()).unwrap();
        assert!(violations.is_empty(), "tidy:\n{}", violations.join("\n"));
    }

    /// A scratch repository with one crate whose manifest and source are given.
    fn scratch(tag: &str, manifest: &str, lib_rs: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("neuromol-tidy-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let krate = root.join("crates/graph-scattering");
        fs::create_dir_all(krate.join("src")).unwrap();
        fs::write(krate.join("Cargo.toml"), manifest).unwrap();
        fs::write(krate.join("src/lib.rs"), lib_rs).unwrap();
        root
    }

    const GOOD_MANIFEST: &str = "[package]\nname = \"graph-scattering\"\n\n[dependencies]\nlinalg.workspace = true\nserde = { workspace = true } # comment\n\n[dev-dependencies]\nproptest.workspace = true\n\n[lints]\nworkspace = true\n";

    #[test]
    fn scratch_repository_that_follows_the_rules_passes() {
        let root = scratch(
            "good",
            GOOD_MANIFEST,
            "//! Scattering.\n// thread_rng in a comment is fine.\n",
        );
        assert_eq!(check(&root).unwrap(), Vec::<String>::new());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn forbidden_workspace_edge_fails() {
        let manifest = GOOD_MANIFEST.replace(
            "[dev-dependencies]",
            "[dev-dependencies]\nmolgraph.workspace = true",
        );
        let root = scratch("edge", &manifest, "//! Scattering.\n");
        let violations = check(&root).unwrap();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(
            violations[0].contains("`graph-scattering` -> `molgraph`"),
            "{violations:?}"
        );
        assert!(
            violations[0].contains("crates/graph-scattering/Cargo.toml"),
            "{violations:?}"
        );
        assert!(run(&root).is_err());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn forbidden_external_crate_in_a_dependency_table_fails() {
        let manifest = format!("{GOOD_MANIFEST}\n[dependencies.rand]\nworkspace = true\n");
        let root = scratch("external", &manifest, "//! Scattering.\n");
        let violations = check(&root).unwrap();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(
            violations[0].contains("external crate `graph-scattering` -> `rand`"),
            "{violations:?}"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn file_without_module_doc_fails() {
        let root = scratch("doc", GOOD_MANIFEST, "//! Scattering.\n");
        fs::write(
            root.join("crates/graph-scattering/src/wavelet.rs"),
            "/// Not a module doc.\npub fn f() {}\n",
        )
        .unwrap();
        let violations = check(&root).unwrap();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(
            violations[0].contains("wavelet.rs: does not start with a `//!`"),
            "{violations:?}"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ambient_randomness_io_and_binaries_fail() {
        let lib = "//! Scattering.\nfn a() { let r = rand::rng(); }\nfn b() { std::fs::read(\"x\"); println!(\"hi\"); }\n";
        let root = scratch("banned", GOOD_MANIFEST, lib);
        fs::write(
            root.join("crates/graph-scattering/src/main.rs"),
            "//! Main.\nfn main() {}\n",
        )
        .unwrap();
        let violations = check(&root).unwrap();
        let joined = violations.join("\n");
        assert!(
            joined.contains("lib.rs:2: ambient randomness: `rand::rng()`"),
            "{joined}"
        );
        assert!(
            joined.contains("lib.rs:3: I/O in a library crate: `std::fs`"),
            "{joined}"
        );
        assert!(
            joined.contains("lib.rs:3: I/O in a library crate: `println!`"),
            "{joined}"
        );
        assert!(
            joined.contains("src/main.rs: crates have no binaries"),
            "{joined}"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    /// The experiments crate may do I/O; ambient randomness stays banned there.
    #[test]
    fn the_experiments_crate_may_do_io() {
        let root = scratch("experiments", GOOD_MANIFEST, "//! Scattering.\n");
        let krate = root.join("crates/experiments");
        fs::create_dir_all(krate.join("src")).unwrap();
        fs::write(
            krate.join("Cargo.toml"),
            "[package]\nname = \"experiments\"\n\n[dependencies]\nlinalg.workspace = true\nureq.workspace = true\n",
        )
        .unwrap();
        fs::write(
            krate.join("src/lib.rs"),
            "//! Experiments.\nfn b() { std::fs::read(\"x\"); println!(\"hi\"); }\nfn a() { let r = rand::rng(); }\n",
        )
        .unwrap();
        let violations = check(&root).unwrap();
        assert_eq!(
            violations,
            vec!["crates/experiments/src/lib.rs:3: ambient randomness: `rand::rng()`".to_string()]
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
