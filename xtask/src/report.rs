//! Experiment reports: `report.md` (provenance header, `metric | reference | ours | band | ok`
//! table, notes, figures), `metrics.csv`, `config.bin` (bincode 2) and PNG figures.
//!
//! A report is assembled in memory and written by [`Report::write`] into a sibling temporary
//! directory that is renamed into place only when every file is complete, so an interrupted run
//! never leaves an output directory that looks finished.

mod figure;

use std::{
    fmt::{self, Write as _},
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;

pub(crate) use self::figure::{LineChart, Series};

/// The acceptance band of one reported metric.
// The paper experiments of issues 3, 4 and 6 use the two-sided and upper bands.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Band {
    /// `ours ≥ lower`.
    AtLeast(f64),
    /// `ours ≤ upper`.
    AtMost(f64),
    /// `lower ≤ ours ≤ upper`.
    Between(f64, f64),
}

impl Band {
    /// Whether `value` lies in the band (NaN never does).
    pub(crate) fn contains(&self, value: f64) -> bool {
        match *self {
            Band::AtLeast(lower) => value >= lower,
            Band::AtMost(upper) => value <= upper,
            Band::Between(lower, upper) => (lower..=upper).contains(&value),
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Band::AtLeast(lower) => write!(f, "≥ {lower}"),
            Band::AtMost(upper) => write!(f, "≤ {upper}"),
            Band::Between(lower, upper) => write!(f, "[{lower}, {upper}]"),
        }
    }
}

/// One row of the results table.
#[derive(Debug, Clone)]
struct Row {
    metric: String,
    reference: String,
    ours: f64,
    band: Band,
}

/// A scientific claim tested by an experiment, with its verdict. Unlike a [`Row`], a claim
/// that is not supported does not fail the run: it is a finding.
#[derive(Debug, Clone)]
struct Claim {
    claim: String,
    measure: String,
    ours: String,
    supported: bool,
}

/// Where the data of a run came from, for the provenance header.
#[derive(Debug, Clone)]
pub(crate) struct DataProvenance {
    /// Dataset name.
    pub(crate) dataset: String,
    /// Directory the files were read from.
    pub(crate) dir: PathBuf,
    /// `(file name, sha256 hex)` of every file read.
    pub(crate) files: Vec<(String, String)>,
}

/// A table of per-step (or per-episode) metrics, written as `metrics.csv`.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    columns: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl Metrics {
    /// An empty table with the given column names.
    pub(crate) fn new(columns: &[&str]) -> Metrics {
        Metrics {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If the row's length differs from the number of columns (a programming error).
    pub(crate) fn push(&mut self, row: Vec<f64>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "metrics row length differs from the header"
        );
        self.rows.push(row);
    }

    /// The CSV text. Floats use Rust's shortest round-trip form, so equal bits give equal text.
    fn to_csv(&self) -> String {
        let mut out = self.columns.join(",");
        out.push('\n');
        for row in &self.rows {
            // NaN (a value that does not exist at that step) is an empty cell, as pandas reads it.
            let cells: Vec<String> = row
                .iter()
                .map(|v| {
                    if v.is_nan() {
                        String::new()
                    } else {
                        format!("{v}")
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// An experiment report under construction.
#[derive(Debug)]
pub(crate) struct Report {
    experiment: String,
    title: String,
    seed: u64,
    quick: bool,
    config_text: String,
    config_bin: Vec<u8>,
    data: Vec<DataProvenance>,
    rows: Vec<Row>,
    notes: Vec<String>,
    claims: Vec<Claim>,
    figures: Vec<(String, String, LineChart)>,
    metrics: Option<Metrics>,
    timings: Vec<(String, f64)>,
    /// The git revision when the run started (a checkout during a long run must not relabel it).
    revision: String,
    /// Options of the command beyond the experiment, `--quick` and `--seed` (such as
    /// `--gradient reverse`), in the order given.
    options: Vec<String>,
}

impl Report {
    /// Starts the report of `experiment` run with `seed` and `config` (recorded as text in the
    /// header and as bincode 2 in `config.bin`).
    pub(crate) fn new<C: serde::Serialize + fmt::Debug>(
        experiment: &str,
        title: &str,
        seed: u64,
        quick: bool,
        config: &C,
    ) -> anyhow::Result<Report> {
        let config_bin = bincode::serde::encode_to_vec(config, bincode::config::standard())
            .context("encoding the configuration with bincode")?;
        Ok(Report {
            experiment: experiment.to_string(),
            title: title.to_string(),
            seed,
            quick,
            config_text: format!("{config:#?}"),
            config_bin,
            data: Vec::new(),
            rows: Vec::new(),
            notes: Vec::new(),
            claims: Vec::new(),
            figures: Vec::new(),
            metrics: None,
            timings: Vec::new(),
            revision: git_revision(),
            options: Vec::new(),
        })
    }

    /// Records the provenance of a dataset the run read.
    pub(crate) fn data(&mut self, data: DataProvenance) {
        self.data.push(data);
    }

    /// The sha256 recorded for a data file read by this run, if any.
    pub(crate) fn data_sha256(&self, file: &str) -> Option<String> {
        self.data
            .iter()
            .flat_map(|d| &d.files)
            .find(|(name, _)| name == file)
            .map(|(_, sha)| sha.clone())
    }

    /// Adds a row `metric | reference | ours | band | ok`; `ok` is whether `ours` lies in `band`.
    pub(crate) fn row(&mut self, metric: &str, reference: &str, ours: f64, band: Band) {
        self.rows.push(Row {
            metric: metric.to_string(),
            reference: reference.to_string(),
            ours,
            band,
        });
    }

    /// Records a claim of a paper, how it was measured, our value (with its CI) and whether the
    /// measurement supports it. Claims are reported, never enforced.
    pub(crate) fn claim(&mut self, claim: &str, measure: &str, ours: String, supported: bool) {
        self.claims.push(Claim {
            claim: claim.to_string(),
            measure: measure.to_string(),
            ours,
            supported,
        });
    }

    /// Records a command-line option that shaped the run (shown in the provenance's command).
    pub(crate) fn option(&mut self, option: impl Into<String>) {
        self.options.push(option.into());
    }

    /// Adds a paragraph of Markdown after the table (claims, verdicts, caveats).
    pub(crate) fn note(&mut self, markdown: impl Into<String>) {
        self.notes.push(markdown.into());
    }

    /// Adds a figure, written as `<file_stem>.png` and linked with `caption`.
    pub(crate) fn figure(&mut self, file_stem: &str, caption: &str, chart: LineChart) {
        self.figures
            .push((file_stem.to_string(), caption.to_string(), chart));
    }

    /// Sets the table written as `metrics.csv`.
    pub(crate) fn metrics(&mut self, metrics: Metrics) {
        self.metrics = Some(metrics);
    }

    /// Records a wall-clock timing (seconds) for the header. Timings are not part of
    /// `metrics.csv`, which stays bit-identical across runs.
    pub(crate) fn timing(&mut self, what: &str, seconds: f64) {
        self.timings.push((what.to_string(), seconds));
    }

    /// Whether every row is inside its band.
    pub(crate) fn all_ok(&self) -> bool {
        self.rows.iter().all(|row| row.band.contains(row.ours))
    }

    /// Writes everything into `out_dir`, atomically: files go to a sibling temporary directory
    /// that replaces `out_dir` only once complete. Returns the path of `report.md`.
    pub(crate) fn write(&self, out_dir: &Path) -> anyhow::Result<PathBuf> {
        let parent = out_dir.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        let name = out_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let partial = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if partial.exists() {
            fs::remove_dir_all(&partial)
                .with_context(|| format!("removing {}", partial.display()))?;
        }
        fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let result = self.write_files(&partial);
        if let Err(err) = result {
            let _ = fs::remove_dir_all(&partial);
            return Err(err);
        }
        if out_dir.exists() {
            fs::remove_dir_all(out_dir)
                .with_context(|| format!("replacing {}", out_dir.display()))?;
        }
        fs::rename(&partial, out_dir)
            .with_context(|| format!("moving {} to {}", partial.display(), out_dir.display()))?;
        Ok(out_dir.join("report.md"))
    }

    fn write_files(&self, dir: &Path) -> anyhow::Result<()> {
        for (stem, _, chart) in &self.figures {
            let path = dir.join(format!("{stem}.png"));
            chart
                .render_png(&path)
                .with_context(|| format!("drawing {}", path.display()))?;
        }
        if let Some(metrics) = &self.metrics {
            write_file(&dir.join("metrics.csv"), metrics.to_csv().as_bytes())?;
        }
        write_file(&dir.join("config.bin"), &self.config_bin)?;
        write_file(&dir.join("report.md"), self.markdown().as_bytes())?;
        Ok(())
    }

    /// The text of `report.md`.
    fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {} — `{}`\n", self.title, self.experiment);
        let verdict = if self.all_ok() {
            "all rows ok"
        } else {
            "SOME ROWS OUTSIDE THEIR BAND"
        };
        let _ = writeln!(md, "**Verdict: {verdict}.**\n");
        let _ = writeln!(md, "## Provenance\n");
        let _ = writeln!(md, "| item | value |\n|---|---|");
        let _ = writeln!(
            md,
            "| command | `cargo xtask reproduce {}{} --seed {}{}` |",
            self.experiment,
            if self.quick { " --quick" } else { "" },
            self.seed,
            self.options
                .iter()
                .map(|option| format!(" {option}"))
                .collect::<String>()
        );
        let _ = writeln!(md, "| seed | {} |", self.seed);
        let _ = writeln!(
            md,
            "| mode | {} |",
            if self.quick { "quick" } else { "full" }
        );
        let _ = writeln!(md, "| git revision (at the start) | {} |", self.revision);
        let _ = writeln!(md, "| rustc | {} |", rustc_version());
        let _ = writeln!(md, "| threads (rayon) | {} |", rayon::current_num_threads());
        for (what, seconds) in &self.timings {
            let _ = writeln!(md, "| time: {what} | {seconds:.2} s |");
        }
        if self.data.is_empty() {
            let _ = writeln!(md, "| data | synthetic data (no dataset read) |");
        }
        for data in &self.data {
            let _ = writeln!(md, "| data: {} | `{}` |", data.dataset, data.dir.display());
            for (file, sha) in &data.files {
                let _ = writeln!(md, "| sha256 `{file}` | `{sha}` |");
            }
        }
        let _ = writeln!(md, "\n## Results\n");
        let _ = writeln!(
            md,
            "| metric | reference | ours | band | ok |\n|---|---|---|---|---|"
        );
        for row in &self.rows {
            let ok = if row.band.contains(row.ours) {
                "ok"
            } else {
                "**NO**"
            };
            let _ = writeln!(
                md,
                "| {} | {} | {:.4} | {} | {ok} |",
                row.metric, row.reference, row.ours, row.band
            );
        }
        if !self.claims.is_empty() {
            let _ = writeln!(md, "\n## Claims\n");
            let _ = writeln!(
                md,
                "| claim | measure | ours [95 % CI] | verdict |\n|---|---|---|---|"
            );
            for claim in &self.claims {
                let verdict = if claim.supported {
                    "supported"
                } else {
                    "**not supported**"
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {verdict} |",
                    claim.claim, claim.measure, claim.ours
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(md, "\n{note}");
        }
        if !self.figures.is_empty() {
            let _ = writeln!(md, "\n## Figures\n");
            for (stem, caption, _) in &self.figures {
                let _ = writeln!(md, "![{caption}]({stem}.png)\n\n*{caption}*\n");
            }
        }
        let _ = writeln!(md, "## Configuration\n\n```text\n{}\n```", self.config_text);
        md
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// `git rev-parse HEAD`, marked `-dirty` when the work tree has changes; `unknown` outside git.
pub(crate) fn git_revision() -> String {
    let root = crate::project_root();
    let head = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "HEAD"])
        .output();
    let Ok(head) = head else {
        return "unknown (git not found)".to_string();
    };
    if !head.status.success() {
        return "unknown (not a git checkout)".to_string();
    }
    let mut rev = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let dirty = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|out| !out.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        rev.push_str("-dirty");
    }
    rev
}

/// `rustc --version` of the toolchain on PATH.
fn rustc_version() -> String {
    Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_inclusive_and_reject_nan() {
        assert!(Band::AtLeast(0.88).contains(0.88));
        assert!(!Band::AtLeast(0.88).contains(f64::NAN));
        assert!(Band::Between(1.0, 2.0).contains(2.0));
        assert!(!Band::AtMost(1.0).contains(1.5));
    }

    #[test]
    fn options_appear_in_the_provenance_command() {
        let mut report = Report::new("meta-pool", "Test", 3, false, &vec![1u32]).unwrap();
        assert!(
            report
                .markdown()
                .contains("| command | `cargo xtask reproduce meta-pool --seed 3` |")
        );
        report.option("--gradient reverse");
        assert!(report.markdown().contains(
            "| command | `cargo xtask reproduce meta-pool --seed 3 --gradient reverse` |"
        ));
    }

    #[test]
    fn a_failed_write_leaves_no_output_directory() {
        let base =
            std::env::temp_dir().join(format!("neuromol-report-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let out = base.join("run");
        let mut report = Report::new("test", "Test", 1, true, &vec![1u32]).unwrap();
        // A chart with NaN points cannot be drawn: writing must fail and leave nothing behind.
        report.figure(
            "bad",
            "bad",
            LineChart::new("t", "x", "y")
                .series(Series::line("s", vec![(0.0, f64::NAN), (1.0, 1.0)])),
        );
        assert!(report.write(&out).is_err());
        assert!(!out.exists());
        let leftovers: Vec<_> = fs::read_dir(&base).unwrap().collect();
        assert!(leftovers.is_empty(), "partial output left behind");

        let mut report = Report::new("test", "Test", 1, true, &vec![1u32]).unwrap();
        report.row("m", "ref", 1.0, Band::AtLeast(0.5));
        let mut metrics = Metrics::new(&["step", "value"]);
        metrics.push(vec![0.0, 0.1]);
        report.metrics(metrics);
        let md = report.write(&out).unwrap();
        let text = fs::read_to_string(md).unwrap();
        assert!(text.contains("| m | ref | 1.0000 | ≥ 0.5 | ok |"));
        assert_eq!(
            fs::read_to_string(out.join("metrics.csv")).unwrap(),
            "step,value\n0,0.1\n"
        );
        fs::remove_dir_all(&base).unwrap();
    }
}
