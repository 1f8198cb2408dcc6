//! Independent units of an experiment, and running them as shards of a cluster job array.
//!
//! Each experiment declares its *units*: the parts of a run that depend on nothing but the
//! configuration and the seed (a meta-training run of one variant at one seed, one bootstrap
//! replica, one point of a sweep at one seed, one model). A run computes them all ([`Units::All`],
//! the default); a *shard* computes only its share of them and writes each result to a file
//! ([`Units::Shard`]); a *merge* reads every file back and builds the report from them
//! ([`Units::Merge`]), with the same arithmetic after the units as a single run, so its
//! `metrics.csv` is the single run's, bit for bit.
//!
//! Shard `k` of `n` takes the units whose position in the experiment's declared order is
//! `k` modulo `n` (balanced counts; an experiment declares its units so that neighbours have
//! similar costs).
//!
//! A unit file (`<dir>/units/<unit id>.unit`) is self-describing and checksummed: the magic
//! `NMUNIT01`, the sha256 of the body (32 bytes), then the body, bincode 2 (standard config) of
//! `UnitFile`: the experiment, the unit id, the seed, the mode, the git revision, a fingerprint
//! of the effective configuration and run options, and the result's own bincode bytes. It is
//! written to a temporary name and renamed, so a killed shard never leaves a file that looks
//! complete. A merge refuses, naming each file and its reason, units that are missing,
//! duplicated, corrupt, or from another experiment, configuration, seed, mode or revision; it
//! writes nothing under `units/`.

use std::{
    collections::BTreeMap,
    fmt, fs,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

/// Magic bytes and format version of a unit file.
const MAGIC: &[u8; 8] = b"NMUNIT01";

/// Which units a run computes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Units {
    /// Every unit, in this process (a normal run).
    #[default]
    All,
    /// Only shard `index` of `count` (0-based), each unit's result written under `dir/units/`;
    /// the run stops after its units with [`ShardDone`] instead of a report.
    Shard {
        /// This shard, `0 ≤ index < count`.
        index: usize,
        /// The number of shards.
        count: usize,
        /// The job directory; unit files go to `dir/units/`.
        dir: PathBuf,
    },
    /// No unit computed: every result read from `dir/units/`, then the report built as usual.
    Merge {
        /// The job directory the shards wrote to.
        dir: PathBuf,
    },
}

impl Units {
    /// Parses `K/N` (`--shard`) into a shard of `dir`.
    pub fn parse_shard(spec: &str, dir: PathBuf) -> anyhow::Result<Units> {
        let parsed = spec.split_once('/').and_then(|(k, n)| {
            Some((
                k.trim().parse::<usize>().ok()?,
                n.trim().parse::<usize>().ok()?,
            ))
        });
        match parsed {
            Some((index, count)) if count >= 1 && index < count => {
                Ok(Units::Shard { index, count, dir })
            }
            _ => bail!(
                "--shard {}: expected K/N with 0 ≤ K < N (for example 0/4)",
                datasets::qm9::quote(spec)
            ),
        }
    }

    /// Whether shard `index` of `count` takes the unit at `position` of the declared order.
    fn takes(index: usize, count: usize, position: usize) -> bool {
        position % count == index
    }
}

/// Returned (as the error of an experiment's run function) by a shard once its units are
/// written: there is no report to write. `cargo xtask` prints it and exits 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardDone {
    /// The experiment.
    pub experiment: String,
    /// This shard.
    pub index: usize,
    /// The number of shards.
    pub count: usize,
    /// Units computed and written by this invocation.
    pub written: usize,
    /// Units of this shard found complete under `--resume` and kept.
    pub reused: usize,
    /// The unit directory.
    pub dir: PathBuf,
}

impl fmt::Display for ShardDone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shard {}/{} of {}: wrote {} units, reused {} (in {})",
            self.index,
            self.count,
            self.experiment,
            self.written,
            self.reused,
            self.dir.display()
        )
    }
}

impl std::error::Error for ShardDone {}

/// What identifies the run a unit belongs to; a merge accepts only units whose key equals its
/// own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunKey {
    /// The experiment's name.
    pub(crate) experiment: String,
    /// The master seed.
    pub(crate) seed: u64,
    /// Quick mode.
    pub(crate) quick: bool,
    /// The git revision at the start of the run (`-dirty` when the tree had changes).
    pub(crate) revision: String,
    /// sha256 (hex) of the effective configuration's TOML and the run options outside it.
    pub(crate) fingerprint: String,
}

/// The body of a unit file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UnitFile {
    /// The run the unit belongs to.
    pub(crate) key: RunKey,
    /// The unit's id, unique within its run.
    pub(crate) unit: String,
    /// The result, bincode 2 (standard config).
    pub(crate) payload: Vec<u8>,
}

/// The file name of unit `id`: its characters outside `[A-Za-z0-9._-]` become `_`.
pub(crate) fn file_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.unit")
}

/// The unit directory of a job directory.
pub fn unit_dir(dir: &Path) -> PathBuf {
    dir.join("units")
}

/// Encodes a unit file.
fn encode(file: &UnitFile) -> anyhow::Result<Vec<u8>> {
    let body = bincode::serde::encode_to_vec(file, bincode::config::standard())
        .context("encoding a unit file")?;
    let mut bytes = Vec::with_capacity(MAGIC.len() + 32 + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&Sha256::digest(&body));
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Decodes a unit file's bytes, or says why it is not one (the reason, without the path).
fn decode(bytes: &[u8]) -> Result<UnitFile, String> {
    if bytes.len() < MAGIC.len() + 32 {
        return Err(format!(
            "corrupt: {} bytes, shorter than a header",
            bytes.len()
        ));
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(if bytes.starts_with(b"NMUNIT") {
            format!(
                "unit format {}, this build reads {}",
                String::from_utf8_lossy(&bytes[6..8]),
                String::from_utf8_lossy(&MAGIC[6..8])
            )
        } else {
            "corrupt: not a unit file (bad magic)".to_string()
        });
    }
    let (digest, body) = bytes[MAGIC.len()..].split_at(32);
    if Sha256::digest(body).as_slice() != digest {
        return Err("corrupt: the body's sha256 does not match the header".to_string());
    }
    match bincode::serde::decode_from_slice::<UnitFile, _>(body, bincode::config::standard()) {
        Ok((file, used)) if used == body.len() => Ok(file),
        Ok(_) => Err("corrupt: trailing bytes after the body".to_string()),
        Err(err) => Err(format!("corrupt: undecodable body ({err})")),
    }
}

/// Why a unit file does not belong to the run `key`, if it does not.
fn mismatch(found: &RunKey, key: &RunKey) -> Option<String> {
    if found.experiment != key.experiment {
        Some(format!(
            "from experiment '{}', not '{}'",
            found.experiment, key.experiment
        ))
    } else if found.fingerprint != key.fingerprint {
        Some(format!(
            "from another configuration (fingerprint {}, this run {})",
            &found.fingerprint[..found.fingerprint.len().min(12)],
            &key.fingerprint[..key.fingerprint.len().min(12)]
        ))
    } else if found.seed != key.seed {
        Some(format!(
            "from master seed {}, this run {}",
            found.seed, key.seed
        ))
    } else if found.quick != key.quick {
        Some(format!(
            "from a {} run, this run is {}",
            mode(found.quick),
            mode(key.quick)
        ))
    } else if found.revision != key.revision {
        Some(format!(
            "from revision {}, this run {}",
            found.revision, key.revision
        ))
    } else {
        None
    }
}

fn mode(quick: bool) -> &'static str {
    if quick { "quick" } else { "full" }
}

/// Reads the unit file at `path` for `key`: `Ok(None)` when it does not exist, the unit id and
/// payload when it is a complete unit of this run, else an error naming the file and the reason.
fn read_unit(path: &Path, key: &RunKey) -> anyhow::Result<Option<UnitFile>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let file = decode(&bytes).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    if let Some(why) = mismatch(&file.key, key) {
        bail!("{}: {why}", path.display());
    }
    Ok(Some(file))
}

/// Writes `file` to `path` through a temporary name in the same directory.
fn write_unit(path: &Path, file: &UnitFile) -> anyhow::Result<()> {
    let bytes = encode(file)?;
    let tmp = path.with_extension(format!("unit.tmp-{}", std::process::id()));
    fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("moving {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

fn encode_payload<T: Serialize>(value: &T, unit: &str) -> anyhow::Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .with_context(|| format!("encoding the result of unit {unit}"))
}

fn decode_payload<T: DeserializeOwned>(file: &UnitFile, path: &Path) -> anyhow::Result<T> {
    match bincode::serde::decode_from_slice::<T, _>(&file.payload, bincode::config::standard()) {
        Ok((value, used)) if used == file.payload.len() => Ok(value),
        Ok(_) => bail!(
            "{}: corrupt: trailing bytes after the result of unit {}",
            path.display(),
            file.unit
        ),
        Err(err) => bail!(
            "{}: the result of unit {} does not decode as this experiment's ({err})",
            path.display(),
            file.unit
        ),
    }
}

/// Runs the units `ids` of the run `key` as `mode` says. `compute` gets the positions (in
/// `ids`) to compute and returns their results in that order.
///
/// - [`Units::All`]: computes every unit and returns the results.
/// - [`Units::Shard`]: computes this shard's units (under `resume`, only those without a
///   complete file of this run), writes each, and returns a [`ShardDone`] error. A file of this
///   shard that is corrupt or belongs to another run is an error naming it, and is not
///   overwritten.
/// - [`Units::Merge`]: reads every unit from its file and returns the results; an error naming
///   every missing, duplicated, corrupt or foreign file.
pub(crate) fn run<T, F>(
    mode: &Units,
    key: &RunKey,
    ids: &[String],
    resume: bool,
    compute: F,
) -> anyhow::Result<Vec<T>>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&[usize]) -> anyhow::Result<Vec<T>>,
{
    let mut names = BTreeMap::new();
    for (position, id) in ids.iter().enumerate() {
        if let Some(previous) = names.insert(file_name(id), position) {
            bail!(
                "units {} and {id} of {} share a file name",
                ids[previous],
                key.experiment
            );
        }
    }
    match mode {
        Units::All => {
            let all: Vec<usize> = (0..ids.len()).collect();
            let results = compute(&all)?;
            ensure_len(&results, all.len(), &key.experiment)?;
            Ok(results)
        }
        Units::Shard { index, count, dir } => {
            let units = unit_dir(dir);
            fs::create_dir_all(&units).with_context(|| format!("creating {}", units.display()))?;
            let mut todo = Vec::new();
            let mut reused = 0;
            for position in (0..ids.len()).filter(|&p| Units::takes(*index, *count, p)) {
                let path = units.join(file_name(&ids[position]));
                match read_unit(&path, key)? {
                    Some(file) if file.unit != ids[position] => bail!(
                        "{}: holds unit {}, not {}",
                        path.display(),
                        file.unit,
                        ids[position]
                    ),
                    Some(_) if resume => reused += 1,
                    _ => todo.push(position),
                }
            }
            let results = compute(&todo)?;
            ensure_len(&results, todo.len(), &key.experiment)?;
            for (&position, result) in todo.iter().zip(&results) {
                let unit = ids[position].clone();
                let file = UnitFile {
                    key: key.clone(),
                    payload: encode_payload(result, &unit)?,
                    unit,
                };
                write_unit(&units.join(file_name(&ids[position])), &file)?;
            }
            Err(ShardDone {
                experiment: key.experiment.clone(),
                index: *index,
                count: *count,
                written: todo.len(),
                reused,
                dir: units,
            }
            .into())
        }
        Units::Merge { dir } => merge(&unit_dir(dir), key, ids),
    }
}

fn ensure_len<T>(results: &[T], expected: usize, experiment: &str) -> anyhow::Result<()> {
    if results.len() != expected {
        bail!(
            "{experiment}: {} unit results for {expected} units",
            results.len()
        );
    }
    Ok(())
}

/// Reads every unit of `ids` from `units`, or an error listing every problem found.
fn merge<T: DeserializeOwned>(
    units: &Path,
    key: &RunKey,
    ids: &[String],
) -> anyhow::Result<Vec<T>> {
    let listing = fs::read_dir(units).with_context(|| {
        format!(
            "reading the unit directory {} (run the shards first)",
            units.display()
        )
    })?;
    let mut problems = Vec::new();
    let mut found: BTreeMap<String, Vec<(PathBuf, UnitFile)>> = BTreeMap::new();
    let mut paths = Vec::new();
    for entry in listing {
        let entry = entry.with_context(|| format!("listing {}", units.display()))?;
        let path = entry.path();
        // Temporary files of a shard that was killed while writing are not units.
        if path.extension().is_some_and(|e| e == "unit") {
            paths.push(path);
        }
    }
    paths.sort();
    // Units whose own file is there but refused: reported as such, not as missing.
    let mut refused = std::collections::BTreeSet::new();
    for path in paths {
        match read_unit(&path, key) {
            Ok(Some(file)) => found
                .entry(file.unit.clone())
                .or_default()
                .push((path, file)),
            Ok(None) => {}
            Err(err) => {
                if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                    refused.insert(name.to_string());
                }
                problems.push(format!("{err:#}"));
            }
        }
    }
    let wanted: BTreeMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(position, id)| (id.as_str(), position))
        .collect();
    let mut slots: Vec<Option<(PathBuf, UnitFile)>> = (0..ids.len()).map(|_| None).collect();
    for (unit, mut files) in found {
        let Some(&position) = wanted.get(unit.as_str()) else {
            for (path, _) in &files {
                problems.push(format!(
                    "{}: unit {unit} is not a unit of this run of {}",
                    path.display(),
                    key.experiment
                ));
            }
            continue;
        };
        if files.len() > 1 {
            let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
            problems.push(format!("unit {unit} is duplicated: {}", names.join(", ")));
            continue;
        }
        let (path, file) = files.pop().expect("one file");
        let expected = units.join(file_name(&unit));
        if path != expected {
            problems.push(format!(
                "{}: holds unit {unit}, whose file is {}",
                path.display(),
                expected.display()
            ));
            continue;
        }
        slots[position] = Some((path, file));
    }
    let missing: Vec<String> = slots
        .iter()
        .zip(ids)
        .filter(|(slot, id)| slot.is_none() && !refused.contains(&file_name(id)))
        .map(|(_, id)| id.clone())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{} of {} units missing from {}: {}",
            missing.len(),
            ids.len(),
            units.display(),
            missing.join(", ")
        ));
    }
    if !problems.is_empty() {
        bail!(
            "cannot merge {} from {}:\n  {}",
            key.experiment,
            units.display(),
            problems.join("\n  ")
        );
    }
    slots
        .into_iter()
        .map(|slot| {
            let (path, file) = slot.expect("no unit missing");
            decode_payload(&file, &path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RunKey {
        RunKey {
            experiment: "toy".into(),
            seed: 0,
            quick: true,
            revision: "abc".into(),
            fingerprint: "f".repeat(64),
        }
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("run-{i}")).collect()
    }

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("neuromol-units-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// The result of unit `i`: something that depends on the position only.
    fn compute(positions: &[usize]) -> anyhow::Result<Vec<(usize, f64)>> {
        Ok(positions.iter().map(|&p| (p, (p as f64).sqrt())).collect())
    }

    fn shard(dir: &Path, index: usize, count: usize, resume: bool) -> ShardDone {
        let mode = Units::Shard {
            index,
            count,
            dir: dir.to_path_buf(),
        };
        let err = run(&mode, &key(), &ids(7), resume, compute).unwrap_err();
        err.downcast::<ShardDone>().unwrap()
    }

    fn merged(dir: &Path) -> anyhow::Result<Vec<(usize, f64)>> {
        let mode = Units::Merge {
            dir: dir.to_path_buf(),
        };
        run(
            &mode,
            &key(),
            &ids(7),
            false,
            |_| -> anyhow::Result<Vec<(usize, f64)>> { panic!("a merge computes nothing") },
        )
    }

    #[test]
    fn shards_then_merge_give_the_single_run() {
        let dir = temp("roundtrip");
        let single = run(&Units::All, &key(), &ids(7), false, compute).unwrap();
        let mut written = 0;
        for index in 0..3 {
            written += shard(&dir, index, 3, false).written;
        }
        assert_eq!(written, 7);
        assert_eq!(merged(&dir).unwrap(), single);
        // A resumed shard recomputes nothing of its own.
        let again = shard(&dir, 1, 3, true);
        assert_eq!((again.written, again.reused), (0, 2));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn merge_names_missing_corrupt_foreign_and_duplicated_units() {
        let dir = temp("refusals");
        for index in 0..3 {
            shard(&dir, index, 3, false);
        }
        let units = unit_dir(&dir);
        // Missing: shard 2's units (positions 2 and 5).
        fs::remove_file(units.join("run-2.unit")).unwrap();
        let text = format!("{:#}", merged(&dir).unwrap_err());
        assert!(
            text.contains("1 of 7 units missing") && text.contains("run-2"),
            "{text}"
        );
        // Resuming shard 2 redoes only that unit.
        let redo = shard(&dir, 2, 3, true);
        assert_eq!((redo.written, redo.reused), (1, 1));
        assert!(merged(&dir).is_ok());

        // Corrupt: one byte flipped; a merge names it and leaves it as it is.
        let path = units.join("run-4.unit");
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let text = format!("{:#}", merged(&dir).unwrap_err());
        assert!(
            text.contains("run-4.unit") && text.contains("sha256"),
            "{text}"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes);
        // A shard meeting it refuses too, without overwriting it.
        let mode = Units::Shard {
            index: 1,
            count: 3,
            dir: dir.clone(),
        };
        let err = run(&mode, &key(), &ids(7), true, compute).unwrap_err();
        assert!(err.downcast_ref::<ShardDone>().is_none());
        assert!(format!("{err:#}").contains("run-4.unit"));
        assert_eq!(fs::read(&path).unwrap(), bytes);
        fs::remove_file(&path).unwrap();
        shard(&dir, 1, 3, true);

        // Foreign: a unit of another configuration and one of another revision.
        let foreign = |name: &str, change: &dyn Fn(&mut RunKey)| {
            let mut other = key();
            change(&mut other);
            let file = UnitFile {
                key: other,
                unit: name.to_string(),
                payload: encode_payload(&(0usize, 0.0f64), name).unwrap(),
            };
            write_unit(&units.join(file_name(name)), &file).unwrap();
        };
        foreign("run-0", &|k| k.fingerprint = "0".repeat(64));
        let text = format!("{:#}", merged(&dir).unwrap_err());
        assert!(
            text.contains("run-0.unit") && text.contains("another configuration"),
            "{text}"
        );
        foreign("run-0", &|k| k.revision = "def".into());
        let text = format!("{:#}", merged(&dir).unwrap_err());
        assert!(
            text.contains("run-0.unit") && text.contains("revision def"),
            "{text}"
        );
        assert!(
            !text.contains("missing"),
            "a refused file is not also missing: {text}"
        );
        // A shard does not overwrite a unit of another run either.
        let mode = Units::Shard {
            index: 0,
            count: 3,
            dir: dir.clone(),
        };
        let err = run(&mode, &key(), &ids(7), false, compute).unwrap_err();
        assert!(format!("{err:#}").contains("revision def"), "{err:#}");
        fs::remove_file(units.join("run-0.unit")).unwrap();
        shard(&dir, 0, 3, false);
        assert!(merged(&dir).is_ok());

        // Duplicated: the same unit under a second name; a unit of no such id.
        fs::copy(units.join("run-3.unit"), units.join("copy.unit")).unwrap();
        let text = format!("{:#}", merged(&dir).unwrap_err());
        assert!(text.contains("run-3 is duplicated"), "{text}");
        fs::remove_file(units.join("copy.unit")).unwrap();
        let stray = UnitFile {
            key: key(),
            unit: "run-99".into(),
            payload: Vec::new(),
        };
        write_unit(&units.join("run-99.unit"), &stray).unwrap();
        let text = format!("{:#}", merged(&dir).unwrap_err());
        assert!(
            text.contains("run-99") && text.contains("not a unit"),
            "{text}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shard_specs_are_checked() {
        let dir = PathBuf::from("x");
        assert_eq!(
            Units::parse_shard("2/4", dir.clone()).unwrap(),
            Units::Shard {
                index: 2,
                count: 4,
                dir: dir.clone()
            }
        );
        for bad in ["4/4", "1/0", "-1/3", "a/b", "3", ""] {
            assert!(Units::parse_shard(bad, dir.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_shard_count_covers_each_unit_once() {
        for count in 1..9 {
            for n in 0..20 {
                let takers = (0..count).filter(|&k| Units::takes(k, count, n)).count();
                assert_eq!(takers, 1);
            }
        }
    }
}
