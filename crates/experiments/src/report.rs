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

/// The acceptance band of one check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Band {
    /// `ours ≥ lower`.
    AtLeast(f64),
    /// `ours > lower` (a direction that must be shown, such as a CI's low end above 0).
    Above(f64),
    /// `ours ≤ upper`.
    AtMost(f64),
    /// `ours < upper`.
    Below(f64),
    /// `lower ≤ ours ≤ upper`.
    Between(f64, f64),
}

impl Band {
    /// Whether `value` lies in the band (NaN never does).
    pub(crate) fn contains(&self, value: f64) -> bool {
        match *self {
            Band::AtLeast(lower) => value >= lower,
            Band::Above(lower) => value > lower,
            Band::AtMost(upper) => value <= upper,
            Band::Below(upper) => value < upper,
            Band::Between(lower, upper) => (lower..=upper).contains(&value),
        }
    }

    /// Whether every value of `domain` lies in the band, so that the band cannot fail.
    pub(crate) fn covers(&self, domain: Domain) -> bool {
        let (low, high) = domain.range();
        match *self {
            Band::AtLeast(lower) => lower <= low,
            Band::Above(lower) => lower < low,
            Band::AtMost(upper) => upper >= high,
            Band::Below(upper) => upper > high,
            Band::Between(lower, upper) => lower <= low && upper >= high,
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bounds computed as `nominal ± width` print without their last-bit noise.
        let b = |x: f64| (x * 1e9).round() / 1e9;
        match *self {
            Band::AtLeast(lower) => write!(f, "≥ {}", b(lower)),
            Band::Above(lower) => write!(f, "> {}", b(lower)),
            Band::AtMost(upper) => write!(f, "≤ {}", b(upper)),
            Band::Below(upper) => write!(f, "< {}", b(upper)),
            Band::Between(lower, upper) => write!(f, "{} to {}", b(lower), b(upper)),
        }
    }
}

/// The values a checked metric can take at all. A check's band must leave part of its domain
/// out, or it could not fail; [`Report::check`] refuses such a band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Domain {
    /// A rate or probability, `[0, 1]`.
    Fraction,
    /// A count or a distance, `[0, ∞)`.
    NonNegative,
    /// Any real number (differences, log-ratios).
    Real,
    /// An angle between vectors in degrees, `[0, 180]`.
    Degrees,
}

impl Domain {
    fn range(self) -> (f64, f64) {
        match self {
            Domain::Fraction => (0.0, 1.0),
            Domain::NonNegative => (0.0, f64::INFINITY),
            Domain::Real => (f64::NEG_INFINITY, f64::INFINITY),
            Domain::Degrees => (0.0, 180.0),
        }
    }
}

/// One check: a metric, its reference value and source, our value and a band that a wrong
/// implementation would fail.
#[derive(Debug, Clone)]
struct Check {
    metric: String,
    reference: String,
    ours: f64,
    band: Band,
}

/// A number with no reference: shown, never judged.
#[derive(Debug, Clone)]
struct Measurement {
    metric: String,
    value: f64,
    what: String,
}

/// How a claim of a paper fared in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The measurement supports the claim.
    Supported,
    /// The measurement does not support the claim.
    NotSupported,
    /// This run cannot test the claim (for instance a quick run too short to show it).
    Untested,
}

impl From<bool> for Verdict {
    fn from(supported: bool) -> Verdict {
        if supported {
            Verdict::Supported
        } else {
            Verdict::NotSupported
        }
    }
}

/// A scientific claim tested by an experiment, with its verdict. Unlike a [`Check`], a claim
/// that is not supported does not fail the run: it is a finding.
#[derive(Debug, Clone)]
struct Claim {
    claim: String,
    measure: String,
    ours: String,
    verdict: Verdict,
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
pub struct Report {
    experiment: String,
    title: String,
    seed: u64,
    quick: bool,
    config_text: String,
    config_bin: Vec<u8>,
    data: Vec<DataProvenance>,
    checks: Vec<Check>,
    measurements: Vec<Measurement>,
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
    pub(crate) fn new<C: serde::Serialize>(
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
            config_text: toml::to_string(config).context("writing the configuration as TOML")?,
            config_bin,
            data: Vec::new(),
            checks: Vec::new(),
            measurements: Vec::new(),
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

    /// Adds a check `metric | reference | ours | band | verdict`. `reference` names the reference
    /// value and its source (a paper's section, the official code, or an independent baseline
    /// computed in the same run). A band that covers the whole `domain` of the metric could not
    /// fail and is refused with an error, as is an empty reference.
    pub(crate) fn check(
        &mut self,
        metric: &str,
        reference: &str,
        ours: f64,
        band: Band,
        domain: Domain,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            !band.covers(domain),
            "check '{metric}': the band {band} covers every value the metric can take ({domain:?}), so it cannot fail; report the number as a measurement instead"
        );
        anyhow::ensure!(
            !reference.trim().is_empty(),
            "check '{metric}': a check needs a reference; report the number as a measurement instead"
        );
        self.checks.push(Check {
            metric: metric.to_string(),
            reference: reference.to_string(),
            ours,
            band,
        });
        Ok(())
    }

    /// Records a number that has no reference to be judged against (shown in its own table,
    /// with no band and no verdict). `what` says what it is (unit, how it was measured).
    pub(crate) fn measurement(&mut self, metric: &str, value: f64, what: &str) {
        self.measurements.push(Measurement {
            metric: metric.to_string(),
            value,
            what: what.to_string(),
        });
    }

    /// Records a claim of a paper, how it was measured, our value (with its CI) and the verdict
    /// (`true`/`false` for supported or not, or a [`Verdict`]). Claims are reported, never
    /// enforced.
    pub(crate) fn claim(
        &mut self,
        claim: &str,
        measure: &str,
        ours: String,
        verdict: impl Into<Verdict>,
    ) {
        self.claims.push(Claim {
            claim: claim.to_string(),
            measure: measure.to_string(),
            ours,
            verdict: verdict.into(),
        });
    }

    /// Records a command-line option that shaped the run (shown in the provenance's command).
    pub fn option(&mut self, option: impl Into<String>) {
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
    pub fn timing(&mut self, what: &str, seconds: f64) {
        self.timings.push((what.to_string(), seconds));
    }

    /// The number of checks that failed (their value outside the band).
    pub fn failed_checks(&self) -> usize {
        self.checks
            .iter()
            .filter(|check| !check.band.contains(check.ours))
            .count()
    }

    /// `checks: P passed, F failed · claims: S supported, N not supported, U untested`.
    pub fn headline(&self) -> String {
        let failed = self.failed_checks();
        let count = |verdict| self.claims.iter().filter(|c| c.verdict == verdict).count();
        format!(
            "checks: {} passed, {} failed · claims: {} supported, {} not supported, {} untested",
            self.checks.len() - failed,
            failed,
            count(Verdict::Supported),
            count(Verdict::NotSupported),
            count(Verdict::Untested)
        )
    }

    /// Writes everything into `out_dir`, atomically: files go to a sibling temporary directory
    /// that replaces `out_dir` only once complete. Returns the path of `report.md`.
    pub fn write(&self, out_dir: &Path) -> anyhow::Result<PathBuf> {
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
        write_file(&dir.join("config.toml"), self.config_text.as_bytes())?;
        write_file(&dir.join("report.md"), self.markdown().as_bytes())?;
        Ok(())
    }

    /// The text of `report.md`.
    fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {} — `{}`\n", self.title, self.experiment);
        let _ = writeln!(md, "**{}**\n", self.headline());
        if self.quick {
            let _ = writeln!(
                md,
                "*A quick run: short budgets and wider bands that can still fail; the paper's protocol is the full run.*\n"
            );
        }
        if !self.claims.is_empty() {
            let _ = writeln!(md, "## Claims\n");
            let _ = writeln!(
                md,
                "| claim | measure | ours [95 % CI] | verdict |\n|---|---|---|---|"
            );
            for claim in &self.claims {
                let verdict = match claim.verdict {
                    Verdict::Supported => "supported",
                    Verdict::NotSupported => "**not supported**",
                    Verdict::Untested => "untested",
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {verdict} |",
                    claim.claim, claim.measure, claim.ours
                );
            }
            let _ = writeln!(md);
        }
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
        let _ = writeln!(md, "| CPU | {} |", cpu_description());
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
        let _ = writeln!(md, "\n## Checks\n");
        if self.checks.is_empty() {
            let _ = writeln!(md, "None.");
        } else {
            let _ = writeln!(
                md,
                "| metric | reference | ours | band | verdict |\n|---|---|---|---|---|"
            );
        }
        for check in &self.checks {
            let verdict = if check.band.contains(check.ours) {
                "passed"
            } else {
                "**FAILED**"
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {verdict} |",
                check.metric,
                check.reference,
                format_value(check.ours),
                check.band
            );
        }
        if !self.measurements.is_empty() {
            let _ = writeln!(
                md,
                "\n## Measurements\n\nNumbers with no reference to judge them against: shown, not checked.\n"
            );
            let _ = writeln!(md, "| metric | value | what |\n|---|---|---|");
            for m in &self.measurements {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    m.metric,
                    format_value(m.value),
                    m.what
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
        let _ = writeln!(
            md,
            "## Configuration\n\nThe effective configuration (also `config.toml` next to this report; `--config config.toml` runs it again).\n\n```toml\n{}```",
            self.config_text
        );
        md
    }
}

/// A value with four decimals, or as a whole number when it is one (counts, sizes).
fn format_value(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.is_finite() && value != 0.0 && value.abs() < 1e-3 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
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

/// The CPU's model name and the widest SIMD extension the kernels can use (the f32 bits of some
/// kernels depend on it), from `/proc/cpuinfo`; `unknown` where that file is absent.
pub(crate) fn cpu_description() -> String {
    let Ok(info) = fs::read_to_string("/proc/cpuinfo") else {
        return "unknown".to_string();
    };
    let field = |name: &str| {
        info.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_string())
    };
    let model = field("model name").unwrap_or_else(|| "unknown model".to_string());
    let flags = field("flags").unwrap_or_default();
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    let simd = if has("avx512f") {
        "AVX-512"
    } else if has("avx2") && has("fma") {
        "AVX2+FMA"
    } else if has("avx") {
        "AVX"
    } else if has("sse4_2") {
        "SSE4.2"
    } else {
        "no x86 SIMD flags found"
    };
    format!("{model} (SIMD: {simd})")
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

    #[derive(serde::Serialize)]
    struct TestConfig {
        n: u32,
    }

    #[test]
    fn bands_are_inclusive_and_reject_nan() {
        assert!(Band::AtLeast(0.88).contains(0.88));
        assert!(!Band::AtLeast(0.88).contains(f64::NAN));
        assert!(Band::Between(1.0, 2.0).contains(2.0));
        assert!(!Band::AtMost(1.0).contains(1.5));
        assert!(!Band::Above(0.0).contains(0.0));
        assert!(Band::Above(0.0).contains(1e-9));
    }

    #[test]
    fn a_band_that_covers_the_domain_is_refused() {
        let mut report = Report::new("test", "Test", 1, true, &TestConfig { n: 1 }).unwrap();
        let refused = [
            (Band::Between(0.0, 1.0), Domain::Fraction),
            (Band::AtMost(1.0), Domain::Fraction),
            (Band::AtLeast(0.0), Domain::Fraction),
            (Band::AtLeast(0.0), Domain::NonNegative),
            (Band::Between(-1.0, 200.0), Domain::Degrees),
            (Band::AtMost(180.0), Domain::Degrees),
        ];
        for (band, domain) in refused {
            let err = report
                .check("m", "paper", 0.5, band, domain)
                .expect_err("a domain-covering band must be refused");
            assert!(err.to_string().contains("cannot fail"), "{err}");
        }
        // Bands that leave part of the domain out are accepted.
        let accepted = [
            (Band::Between(0.2, 0.3), Domain::Fraction),
            (Band::AtLeast(0.0), Domain::Real),
            (Band::Above(0.0), Domain::NonNegative),
            (Band::AtMost(0.05), Domain::Fraction),
            (Band::AtLeast(80.0), Domain::Degrees),
        ];
        for (band, domain) in accepted {
            report.check("m", "paper", 0.5, band, domain).unwrap();
        }
        assert!(
            report
                .check("m", " ", 0.5, Band::AtLeast(0.2), Domain::Fraction)
                .is_err()
        );
        assert_eq!(report.checks.len(), 5);
    }

    #[test]
    fn the_headline_counts_checks_and_claims() {
        let mut report = Report::new("test", "Test", 1, false, &TestConfig { n: 1 }).unwrap();
        report
            .check("a", "paper", 0.9, Band::AtLeast(0.8), Domain::Fraction)
            .unwrap();
        report
            .check("b", "paper", 0.1, Band::AtLeast(0.8), Domain::Fraction)
            .unwrap();
        report.measurement("c", 3.0, "count");
        report.claim("x", "m", "1".into(), true);
        report.claim("y", "m", "2".into(), false);
        report.claim("z", "m", "3".into(), Verdict::Untested);
        assert_eq!(report.failed_checks(), 1);
        let md = report.markdown();
        let first = md.lines().nth(2).unwrap();
        assert_eq!(
            first,
            "**checks: 1 passed, 1 failed · claims: 1 supported, 1 not supported, 1 untested**"
        );
        assert!(!md.contains("all rows ok"));
        // The claims come right after the headline, before the provenance.
        assert!(md.find("## Claims").unwrap() < md.find("## Provenance").unwrap());
        assert!(md.contains("| c | 3 | count |"));
        assert!(md.contains("| b | paper | 0.1000 | ≥ 0.8 | **FAILED** |"));
        assert!(!md.contains("A quick run"));
    }

    #[test]
    fn options_appear_in_the_provenance_command() {
        let mut report = Report::new("meta-pool", "Test", 3, false, &TestConfig { n: 1 }).unwrap();
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
        let mut report = Report::new("test", "Test", 1, true, &TestConfig { n: 1 }).unwrap();
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

        let mut report = Report::new("test", "Test", 1, true, &TestConfig { n: 1 }).unwrap();
        report
            .check("m", "ref", 1.0, Band::AtLeast(0.5), Domain::NonNegative)
            .unwrap();
        let mut metrics = Metrics::new(&["step", "value"]);
        metrics.push(vec![0.0, 0.1]);
        report.metrics(metrics);
        let md = report.write(&out).unwrap();
        let text = fs::read_to_string(md).unwrap();
        assert!(text.contains("| m | ref | 1 | ≥ 0.5 | passed |"));
        assert!(text.contains("*A quick run"));
        assert_eq!(
            fs::read_to_string(out.join("metrics.csv")).unwrap(),
            "step,value\n0,0.1\n"
        );
        fs::remove_dir_all(&base).unwrap();
    }
}
