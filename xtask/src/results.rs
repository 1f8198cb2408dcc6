//! `cargo xtask results verify`: whether the kept reports under `docs/results/` still describe
//! the code, and whether every number the README's status table quotes comes from one of them.
//!
//! A kept report is *stale* when a commit after the revision it was produced at changed any path
//! its experiment depends on (the experiment's crates and its module in `xtask`, as declared in
//! the experiment table). Reports of earlier code live under `docs/archive/results/`: they are
//! history, not verified, and the README may not quote them.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use clap::Subcommand;

/// What `cargo xtask results` does.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: ResultsCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum ResultsCommand {
    /// Checks every kept report under docs/results/ against the git history (stale or not) and
    /// every number in the README's status table against the report it links to; exits
    /// non-zero on a stale report or an unbacked number.
    Verify {
        /// Also require a kept report for every experiment.
        #[arg(long)]
        require_all: bool,
    },
}

/// Runs `cargo xtask results …`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match &args.command {
        ResultsCommand::Verify { require_all } => {
            let root = crate::project_root();
            let outcome = verify(&root, &experiments::reproduce::dependencies())?;
            print!("{}", outcome.summary());
            let mut problems = outcome.problems.clone();
            if *require_all {
                for (experiment, _) in experiments::reproduce::dependencies() {
                    if !outcome.reports.iter().any(|r| r.experiment == experiment) {
                        problems.push(format!("no kept report for '{experiment}'"));
                    }
                }
            }
            if !problems.is_empty() {
                bail!(
                    "{} problem(s) with the kept evidence:\n  {}",
                    problems.len(),
                    problems.join("\n  ")
                );
            }
            Ok(())
        }
    }
}

/// One kept report, as read from its file.
#[derive(Debug, Clone)]
pub(crate) struct KeptReport {
    /// Path relative to the repository root.
    pub(crate) path: PathBuf,
    /// The experiment named in the report's title.
    pub(crate) experiment: String,
    /// The git revision the run started at (without a `-dirty` mark).
    pub(crate) revision: String,
    /// The last commit that changed a path the experiment depends on, if the revision is older.
    pub(crate) stale_since: Option<String>,
    /// The report's text.
    text: String,
}

/// The outcome of [`verify`]: every kept report and every problem found.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) reports: Vec<KeptReport>,
    pub(crate) problems: Vec<String>,
}

impl Outcome {
    fn summary(&self) -> String {
        let mut out =
            String::from("| report | experiment | revision | state |\n|---|---|---|---|\n");
        for report in &self.reports {
            let state = match &report.stale_since {
                None => "current".to_string(),
                Some(commit) => format!("STALE (changed by {})", short(commit)),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {state} |\n",
                report.path.display(),
                report.experiment,
                short(&report.revision)
            ));
        }
        out
    }
}

fn short(revision: &str) -> &str {
    &revision[..revision.len().min(10)]
}

/// Verifies the kept reports under `root/docs/results/` and the README's status table.
/// `dependencies` maps each experiment to the repository paths its results depend on.
pub(crate) fn verify(root: &Path, dependencies: &[(&str, Vec<&str>)]) -> anyhow::Result<Outcome> {
    let deps: BTreeMap<&str, &Vec<&str>> = dependencies.iter().map(|(e, d)| (*e, d)).collect();
    let mut problems = Vec::new();
    let mut reports = Vec::new();
    for path in kept_report_paths(root)? {
        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let Some(experiment) = title_experiment(&text) else {
            problems.push(format!(
                "{}: no experiment name in the title line",
                relative.display()
            ));
            continue;
        };
        let Some(revision) = report_revision(&text) else {
            problems.push(format!(
                "{}: no git revision in the provenance",
                relative.display()
            ));
            continue;
        };
        let Some(paths) = deps.get(experiment.as_str()) else {
            problems.push(format!(
                "{}: unknown experiment '{experiment}'",
                relative.display()
            ));
            continue;
        };
        let stale_since = stale_since(root, &revision, paths)
            .with_context(|| format!("checking {} against git", relative.display()))?;
        if let Some(commit) = &stale_since {
            problems.push(format!(
                "{} is stale: produced at {}, but {} changed the code it depends on since \
                 (`git log {}..HEAD -- {}`)",
                relative.display(),
                short(&revision),
                short(commit),
                short(&revision),
                paths.join(" ")
            ));
        }
        reports.push(KeptReport {
            path: relative,
            experiment,
            revision,
            stale_since,
            text,
        });
    }
    let readme = root.join("README.md");
    let readme_text =
        fs::read_to_string(&readme).with_context(|| format!("reading {}", readme.display()))?;
    problems.extend(check_readme_numbers(&readme_text, &reports));
    Ok(Outcome { reports, problems })
}

/// `docs/results/*/report.md`, sorted.
fn kept_report_paths(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = root.join("docs/results");
    let mut paths = Vec::new();
    if !dir.exists() {
        return Ok(paths);
    }
    for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let report = entry.path().join("report.md");
        if report.exists() {
            paths.push(report);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The experiment in a report's title line `# … — \`name\``.
fn title_experiment(text: &str) -> Option<String> {
    let title = text.lines().next()?.strip_prefix("# ")?;
    let (_, tail) = title
        .rsplit_once('`')
        .and_then(|(head, _)| head.rsplit_once('`'))?;
    Some(tail.to_string())
}

/// The revision in the provenance row `| git revision (at the start) | … |`.
fn report_revision(text: &str) -> Option<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with("| git revision (at the start) |"))?;
    let value = line.split('|').nth(2)?.trim();
    let value = value.strip_suffix("-dirty").unwrap_or(value);
    (!value.is_empty() && value.chars().all(|c| c.is_ascii_hexdigit())).then(|| value.to_string())
}

/// The last commit that changed any of `paths`, when it is not an ancestor of (or equal to)
/// `revision`; `None` when the report is current.
fn stale_since(root: &Path, revision: &str, paths: &[&str]) -> anyhow::Result<Option<String>> {
    let git = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .context("running git")
    };
    let known = git(&["cat-file", "-e", &format!("{revision}^{{commit}}")])?;
    if !known.status.success() {
        let shallow = git(&["rev-parse", "--is-shallow-repository"])?;
        let hint = if String::from_utf8_lossy(&shallow.stdout).trim() == "true" {
            " (this is a shallow clone: fetch the full history with `git fetch --unshallow`)"
        } else {
            ""
        };
        bail!("revision {revision} is not in this repository's history{hint}");
    }
    let mut args = vec!["log", "-1", "--format=%H", "HEAD", "--"];
    args.extend(paths);
    let last = git(&args)?;
    if !last.status.success() {
        bail!("git log failed: {}", String::from_utf8_lossy(&last.stderr));
    }
    let last = String::from_utf8_lossy(&last.stdout).trim().to_string();
    if last.is_empty() {
        return Ok(None);
    }
    let ancestor = git(&["merge-base", "--is-ancestor", &last, revision])?;
    Ok((!ancestor.status.success()).then_some(last))
}

/// Every number in the status column of the README's status table must appear in a kept,
/// current report the same row links to. Returns the problems found.
fn check_readme_numbers(readme: &str, reports: &[KeptReport]) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(start) = readme.find("## Status of the paper experiments") else {
        return vec!["README.md has no section \"Status of the paper experiments\"".to_string()];
    };
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    for line in section[..end].lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').collect();
        if cells.len() < 3 || line.starts_with("|---") || line.starts_with("| experiment |") {
            continue;
        }
        let experiment = cells[1].trim();
        let status = cells[cells.len() - 2];
        let links = report_links(status);
        let linked: Vec<&KeptReport> = reports
            .iter()
            .filter(|r| links.iter().any(|l| Path::new(l) == r.path))
            .collect();
        for link in &links {
            if !reports.iter().any(|r| Path::new(link) == r.path) {
                problems.push(format!(
                    "README row '{experiment}' links to {link}, which is not a kept report"
                ));
            }
        }
        for number in quoted_numbers(status) {
            if linked.is_empty() {
                problems.push(format!(
                    "README row '{experiment}' quotes {number} but links to no kept report"
                ));
                continue;
            }
            let found = linked.iter().any(|r| contains_number(&r.text, &number));
            if !found {
                problems.push(format!(
                    "README row '{experiment}' quotes {number}, which none of its reports ({}) contains",
                    linked
                        .iter()
                        .map(|r| r.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    problems
}

/// Targets of Markdown links to `docs/results/<dir>/report.md` in `text`.
fn report_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(close) = rest.find(')') else { break };
        let target = &rest[..close];
        if target.starts_with("docs/results/") && target.ends_with("/report.md") {
            links.push(target.to_string());
        }
        rest = &rest[close..];
    }
    links
}

/// The numbers a status cell quotes: decimal numbers, or integers of two or more digits,
/// leaving out link targets, a claim's wording in double quotes, and labels (figure, equation
/// and section numbers, term indices, seeds).
fn quoted_numbers(text: &str) -> Vec<String> {
    // Drop link targets: `[label](target)` keeps `label`.
    let mut plain = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        plain.push_str(&rest[..i + 1]);
        rest = &rest[i + 2..];
        rest = rest.find(')').map_or("", |close| &rest[close + 1..]);
    }
    plain.push_str(rest);
    // A claim's wording in quotes ("approaches BP by ~300") quotes a paper, not a result.
    let mut unquoted = String::new();
    let mut in_quote = false;
    for c in plain.chars() {
        if c == '"' {
            in_quote = !in_quote;
        } else if !in_quote {
            unquoted.push(c);
        }
    }
    let chars: Vec<char> = unquoted.chars().collect();
    let mut numbers = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_digit()
                || (matches!(chars[i], '.' | ',')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit))
                || (chars[i] == 'e'
                    && chars
                        .get(i + 1)
                        .is_some_and(|c| *c == '-' || c.is_ascii_digit())))
        {
            if chars[i] == 'e' && chars[i + 1] == '-' {
                i += 1;
            }
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let before: String = chars[start.saturating_sub(6)..start].iter().collect();
        let prev = start.checked_sub(1).map(|k| chars[k]);
        let label = prev.is_some_and(|c| c.is_alphabetic() || "§θαsF⁰".contains(c))
            || ["Fig. ", "Eq. ", "Eqs. ", "seed ", "seeds "]
                .iter()
                .any(|p| before.ends_with(p));
        let significant = token.contains('.') || token.len() >= 2;
        if !label && significant {
            numbers.push(token);
        }
    }
    numbers
}

/// Whether `text` contains `number` as a whole number (thousands separators ignored on both
/// sides).
fn contains_number(text: &str, number: &str) -> bool {
    let want = number.replace(',', "");
    quoted_numbers_anywhere(text).any(|n| n.replace(',', "") == want)
}

/// Every numeric token of `text`, labels included.
fn quoted_numbers_anywhere(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | 'e' | '-')))
        .flat_map(|piece| {
            piece
                .split(['-', 'e'])
                .map(str::to_string)
                .chain(std::iter::once(piece.to_string()))
                .collect::<Vec<_>>()
        })
        .map(|t| t.trim_matches(|c: char| matches!(c, '.' | ',')).to_string())
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {status:?}");
    }

    fn head(dir: &Path) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn report_text(experiment: &str, revision: &str, body: &str) -> String {
        format!(
            "# Test — `{experiment}`\n\n| item | value |\n|---|---|\n| git revision (at the start) | {revision} |\n\n{body}\n"
        )
    }

    /// A repository with one crate, a kept report produced at its first commit, and a README
    /// row quoting `quoted` with a link to the report.
    fn repo(name: &str, quoted: &str, body: &str) -> (PathBuf, String) {
        let dir =
            std::env::temp_dir().join(format!("neuromol-results-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("crates/core/src")).unwrap();
        fs::write(dir.join("crates/core/src/lib.rs"), "pub fn f() {}\n").unwrap();
        git(&dir, &["init", "-q"]);
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "code"]);
        let produced_at = head(&dir);
        fs::create_dir_all(dir.join("docs/results/exp")).unwrap();
        fs::write(
            dir.join("docs/results/exp/report.md"),
            report_text("exp", &produced_at, body),
        )
        .unwrap();
        fs::write(
            dir.join("README.md"),
            format!(
                "# x\n\n## Status of the paper experiments\n\n| experiment | status |\n|---|---|\n| exp | {quoted} ([report](docs/results/exp/report.md)) |\n\n## Next\n"
            ),
        )
        .unwrap();
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "report"]);
        (dir, produced_at)
    }

    fn deps() -> Vec<(&'static str, Vec<&'static str>)> {
        vec![("exp", vec!["crates/core"])]
    }

    #[test]
    fn a_current_report_and_its_numbers_pass() {
        let (dir, _) = repo(
            "current",
            "accuracy 0.665, 9,425 features",
            "0.665 and 9425",
        );
        let outcome = verify(&dir, &deps()).unwrap();
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert_eq!(outcome.reports.len(), 1);
        assert!(outcome.reports[0].stale_since.is_none());
        // A change to a path the experiment does not depend on keeps it current.
        fs::write(dir.join("notes.txt"), "x").unwrap();
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "unrelated"]);
        assert!(verify(&dir, &deps()).unwrap().problems.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_report_older_than_its_code_is_stale() {
        let (dir, produced_at) = repo("stale", "accuracy 0.665", "0.665");
        fs::write(dir.join("crates/core/src/lib.rs"), "pub fn f() { }\n").unwrap();
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "change the code"]);
        let changed = head(&dir);
        let outcome = verify(&dir, &deps()).unwrap();
        assert_eq!(outcome.reports[0].revision, produced_at);
        assert_eq!(
            outcome.reports[0].stale_since.as_deref(),
            Some(changed.as_str())
        );
        assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
        assert!(outcome.problems[0].contains("is stale"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_readme_number_missing_from_its_report_fails() {
        let (dir, _) = repo("missing", "accuracy 0.665 at episode 300", "0.664");
        let outcome = verify(&dir, &deps()).unwrap();
        assert_eq!(outcome.problems.len(), 2, "{:?}", outcome.problems);
        assert!(outcome.problems.iter().any(|p| p.contains("quotes 0.665")));
        assert!(outcome.problems.iter().any(|p| p.contains("quotes 300")));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn numbers_are_read_as_a_reader_would() {
        assert_eq!(
            quoted_numbers(
                "0.665 at episode 300 (B Fig. 4a, §5.3, θ0, F⁵) 2.98e-3, 9,425 [r](docs/results/a-1/report.md)"
            ),
            vec!["0.665", "300", "2.98e-3", "9,425"]
        );
        assert!(contains_number("| x | 0.6650 |", "0.6650"));
        assert!(contains_number("largest other 2.98e-3)", "2.98e-3"));
        assert!(contains_number("9425 features", "9,425"));
        assert!(!contains_number("0.6651", "0.665"));
        assert_eq!(
            title_experiment("# Meta — `meta-pool`\n").as_deref(),
            Some("meta-pool")
        );
        assert_eq!(
            report_revision("| git revision (at the start) | abc123-dirty |").as_deref(),
            Some("abc123")
        );
    }
}
