//! Experiment configurations as TOML: `--print-config` prints the one an experiment would run,
//! `--config FILE` runs from a file, and `--set key.path=value` overrides single keys.
//!
//! Every experiment's configuration is a serde type whose value for the command line's mode is
//! the papers' protocol. [`Overrides::apply`] turns that value into a TOML tree, merges the file
//! and the `--set` keys into it, and reads it back into the type. A key that the type does not
//! have is an error naming it (serde would ignore it silently), as is a value of the wrong type.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use toml::{Table, Value};

/// The configuration options of `reproduce`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Print the effective configuration and stop.
    pub print: bool,
    /// A TOML file whose keys replace the defaults.
    pub file: Option<PathBuf>,
    /// `key.path=value` overrides, applied after the file, in order.
    pub sets: Vec<String>,
}

/// Returned (as an error) by [`Overrides::apply`] under `--print-config`: the experiment stops
/// before running, and `reproduce` prints the text.
#[derive(Debug)]
pub struct PrintedConfig(pub(crate) String);

impl std::fmt::Display for PrintedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrintedConfig {}

impl Overrides {
    /// The configuration to run: `default` with the file's keys and the `--set` keys applied.
    /// Under `--print-config`, an error holding [`PrintedConfig`] with its TOML text.
    pub fn apply<C: Serialize + DeserializeOwned>(&self, default: C) -> anyhow::Result<C> {
        let mut tree = to_table(&default)?;
        if let Some(file) = &self.file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the configuration {}", file.display()))?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let given: Table = text
                .parse()
                .with_context(|| format!("{} is not a valid TOML configuration", file.display()))?;
            merge(&mut tree, given, "");
        }
        for set in &self.sets {
            let (path, value) = parse_set(set)?;
            set_path(&mut tree, &path, value)
                .with_context(|| format!("--set {}", truncate(set)))?;
        }
        let text = toml::to_string(&tree).context("writing the configuration as TOML")?;
        let config: C = toml::from_str(&text).map_err(|err| {
            anyhow::anyhow!("the configuration does not fit the experiment: {err}")
        })?;
        let read_back = to_table(&config)?;
        let mut unknown = Vec::new();
        unknown_keys(&tree, &read_back, "", &mut unknown);
        if !unknown.is_empty() {
            bail!(
                "unknown configuration key(s): {} (`--print-config` lists every key)",
                unknown.join(", ")
            );
        }
        if self.print {
            return Err(PrintedConfig(toml::to_string(&read_back)?).into());
        }
        Ok(config)
    }
}

/// `config` as a TOML table.
pub(crate) fn to_table<C: Serialize>(config: &C) -> anyhow::Result<Table> {
    let text = toml::to_string(config).context("writing the configuration as TOML")?;
    Ok(text.parse()?)
}

/// Writes `given` over `tree`, table by table.
/// A 12-hex-digit fingerprint of a configuration: the start of the sha256 of its TOML text.
pub(crate) fn fingerprint(table: &Table) -> anyhow::Result<String> {
    let text = toml::to_string(table).context("writing the configuration as TOML")?;
    let digest = Sha256::digest(text.as_bytes());
    Ok(digest[..6].iter().map(|b| format!("{b:02x}")).collect())
}

fn merge(tree: &mut Table, given: Table, _prefix: &str) {
    for (key, value) in given {
        match (tree.get_mut(&key), value) {
            (Some(Value::Table(existing)), Value::Table(new)) => merge(existing, new, ""),
            (_, value) => {
                tree.insert(key, value);
            }
        }
    }
}

/// Splits `key.path=value`; the value is read as a TOML value (`10`, `1e-3`, `true`, `"FA"`,
/// `[1, 2]`), or as a string when it is not one.
fn parse_set(set: &str) -> anyhow::Result<(Vec<String>, Value)> {
    let Some((path, raw)) = set.split_once('=') else {
        bail!("--set {}: expected key.path=value", truncate(set));
    };
    let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
    if path.iter().any(String::is_empty) {
        bail!("--set {}: empty key in the path", truncate(set));
    }
    let raw = raw.trim();
    let value = match format!("v = {raw}").parse::<Table>() {
        Ok(mut table) => table.remove("v").unwrap_or(Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    };
    Ok((path, value))
}

/// Sets `path` in `tree`: tables by key, arrays by index. A missing last key is inserted (an
/// optional field that is unset by default); whether the type has it is checked afterwards.
fn set_path(tree: &mut Table, path: &[String], value: Value) -> anyhow::Result<()> {
    let (last, parents) = path.split_last().expect("parse_set gives a non-empty path");
    let Some((first, rest)) = parents.split_first() else {
        if let Some(old) = tree.get(last) {
            check_type(old, &value, path)?;
        }
        tree.insert(last.clone(), value);
        return Ok(());
    };
    let keys: Vec<String> = tree.keys().cloned().collect();
    let mut node = tree.get_mut(first).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown configuration key `{first}`; keys at this level: {}",
            keys.join(", ")
        )
    })?;
    for (depth, key) in rest.iter().enumerate() {
        node = step(node, key, &path[..depth + 2])?;
    }
    match node {
        Value::Table(table) => {
            if let Some(old) = table.get(last) {
                check_type(old, &value, path)?;
            }
            table.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(array) => {
            let index = index_of(last, array.len(), path)?;
            check_type(&array[index], &value, path)?;
            array[index] = value;
            Ok(())
        }
        _ => bail!("`{}` is a value, not a table", parents.join(".")),
    }
}

fn step<'a>(node: &'a mut Value, key: &str, path: &[String]) -> anyhow::Result<&'a mut Value> {
    match node {
        Value::Table(table) => {
            let keys: Vec<String> = table.keys().cloned().collect();
            table.get_mut(key).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown configuration key `{}`; keys at this level: {}",
                    path.join("."),
                    keys.join(", ")
                )
            })
        }
        Value::Array(array) => {
            let index = index_of(key, array.len(), path)?;
            Ok(&mut array[index])
        }
        _ => bail!(
            "`{}` is a value, not a table",
            path[..path.len() - 1].join(".")
        ),
    }
}

fn index_of(key: &str, len: usize, path: &[String]) -> anyhow::Result<usize> {
    match key.parse::<usize>() {
        Ok(index) if index < len => Ok(index),
        _ => bail!(
            "`{}`: an array of {len} entries takes an index 0–{}",
            path.join("."),
            len.saturating_sub(1)
        ),
    }
}

/// A value replacing `old` must be of its kind (an integer may stand for a float).
fn check_type(old: &Value, new: &Value, path: &[String]) -> anyhow::Result<()> {
    let same = matches!(
        (old, new),
        (Value::String(_), Value::String(_))
            | (Value::Integer(_), Value::Integer(_))
            | (Value::Float(_), Value::Float(_) | Value::Integer(_))
            | (Value::Boolean(_), Value::Boolean(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::Table(_), Value::Table(_))
            | (Value::Datetime(_), Value::Datetime(_))
    );
    if !same {
        bail!(
            "`{}` takes {} (like {}), not {}",
            path.join("."),
            old.type_str(),
            truncate(&old.to_string()),
            truncate(&new.to_string())
        );
    }
    Ok(())
}

/// Keys of `given` that are not in `read_back` (the type dropped them).
fn unknown_keys(given: &Table, read_back: &Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in given {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (value, read_back.get(key)) {
            (_, None) => out.push(format!("`{path}`")),
            (Value::Table(a), Some(Value::Table(b))) => unknown_keys(a, b, &path, out),
            (Value::Array(a), Some(Value::Array(b))) => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    if let (Value::Table(x), Value::Table(y)) = (x, y) {
                        unknown_keys(x, y, &format!("{path}.{i}"), out);
                    }
                    if let (Value::Array(x), Value::Array(y)) = (x, y) {
                        for (j, (x, y)) in x.iter().zip(y).enumerate() {
                            if let (Value::Table(x), Value::Table(y)) = (x, y) {
                                unknown_keys(x, y, &format!("{path}.{i}.{j}"), out);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// At most 60 characters of `text`, with its length when cut.
fn truncate(text: &str) -> String {
    let count = text.chars().count();
    if count <= 60 {
        text.to_string()
    } else {
        let head: String = text.chars().take(60).collect();
        format!("{head}… ({count} characters)")
    }
}

/// Whether `path` names a file (for `--config`).
pub fn check_file(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!("--config {}: no such file", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Inner {
        lr: f64,
        clip: Option<f64>,
        name: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Config {
        n_seeds: usize,
        variants: Vec<(String, Inner)>,
        terms: [f64; 3],
    }

    fn default() -> Config {
        Config {
            n_seeds: 10,
            variants: vec![(
                "FA".into(),
                Inner {
                    lr: 1e-3,
                    clip: None,
                    name: "x".into(),
                },
            )],
            terms: [0.0, 1.0, 2.0],
        }
    }

    fn with_sets(sets: &[&str]) -> anyhow::Result<Config> {
        Overrides {
            sets: sets.iter().map(|s| s.to_string()).collect(),
            ..Overrides::default()
        }
        .apply(default())
    }

    #[test]
    fn the_default_round_trips_and_prints() {
        assert_eq!(with_sets(&[]).unwrap(), default());
        let printed = Overrides {
            print: true,
            ..Overrides::default()
        }
        .apply(default())
        .unwrap_err();
        let text = printed.downcast_ref::<PrintedConfig>().unwrap().0.clone();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), default());
    }

    #[test]
    fn keys_are_set_by_path() {
        let config = with_sets(&[
            "n_seeds=20",
            "variants.0.1.lr = 2e-3",
            "variants.0.1.clip=1000",
            "variants.0.0=\"BP\"",
            "terms.2=5",
        ])
        .unwrap();
        assert_eq!(config.n_seeds, 20);
        assert_eq!(config.variants[0].0, "BP");
        // Read back from exact TOML literals: the same bits.
        assert_eq!(config.variants[0].1.lr.to_bits(), 2e-3f64.to_bits());
        assert_eq!(
            config.variants[0].1.clip.map(f64::to_bits),
            Some(1000f64.to_bits())
        );
        assert_eq!(
            config.terms.map(f64::to_bits),
            [0.0f64, 1.0, 5.0].map(f64::to_bits)
        );
    }

    #[test]
    fn bad_keys_and_values_are_errors_naming_the_key() {
        let cases = [
            ("n_seed=20", "n_seed"),
            ("variants.0.1.learning_rate=1", "learning_rate"),
            ("n_seeds=\"many\"", "n_seeds"),
            ("n_seeds=-3", "n_seeds"),
            ("variants.3.1.lr=1", "variants.3"),
            ("terms.7=1", "terms.7"),
            ("n_seeds", "n_seeds"),
            ("variants.0.1.lr=true", "variants.0.1.lr"),
        ];
        for (set, key) in cases {
            let err = format!("{:#}", with_sets(&[set]).unwrap_err());
            assert!(err.contains(key), "--set {set}: {err}");
        }
    }

    #[test]
    fn a_file_with_an_unknown_key_is_refused() {
        let dir = std::env::temp_dir().join(format!("neuromol-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "n_seeds = 3\nextra = 1\n").unwrap();
        let overrides = Overrides {
            file: Some(file.clone()),
            ..Overrides::default()
        };
        let err = format!("{:#}", overrides.apply(default()).unwrap_err());
        assert!(err.contains("`extra`"), "{err}");
        std::fs::write(&file, "n_seeds = 3\n").unwrap();
        assert_eq!(overrides.apply(default()).unwrap().n_seeds, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
