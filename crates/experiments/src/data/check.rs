//! Checksums and structural checks of the files of one dataset.
//!
//! A file is accepted when its sha256, or the sha256 of its decompressed content, equals the
//! registry's value. Independently of the checksum, every file is parsed the way the experiments
//! will read it (through the `datasets` crate where it has a parser), so a damaged file reports the
//! structural problem (bad gzip stream, wrong IDX magic, images/labels count mismatch) and not only
//! "checksum mismatch".

use std::{fmt::Write as _, io, path::Path};

use sha2::{Digest, Sha256};

use crate::data::registry::{DatasetSpec, FileSpec, Format};

/// The result of checking one file.
#[derive(Debug)]
pub(crate) struct FileCheck {
    /// File name inside the dataset directory.
    pub(crate) name: &'static str,
    /// Whether the file was found.
    pub(crate) present: bool,
    /// sha256 identifying the content (of the decompressed bytes for gzip files), once computed.
    pub(crate) sha256: Option<String>,
    /// Whether a registry checksum matched.
    pub(crate) checksum_ok: bool,
    /// Why the checksum did not match, when it did not (the content was still checked for
    /// structure, and its sha256 is in `sha256`).
    pub(crate) checksum_mismatch: Option<String>,
    /// A short description of what the structural check found, when it passed.
    pub(crate) summary: Option<String>,
    /// Every problem found; empty when the file is fine.
    pub(crate) problems: Vec<String>,
}

impl FileCheck {
    /// Whether the file is present, matches its checksum and parses.
    pub(crate) fn is_ok(&self) -> bool {
        self.present && self.checksum_ok && self.problems.is_empty()
    }

    /// Whether the file is present and parses but is not the shipped file (no known checksum):
    /// a user's own data, acceptable where the user named the data directory.
    pub(crate) fn is_user_data(&self) -> bool {
        self.present && !self.checksum_ok && self.problems.is_empty() && self.sha256.is_some()
    }
}

/// Checks every file of `spec` under `dir`: presence, checksum and structure.
///
/// Never panics on bad data; every problem is recorded in the returned checks, in registry order.
pub(crate) fn check_dataset(spec: &DatasetSpec, dir: &Path) -> Vec<FileCheck> {
    let mut checks: Vec<FileCheck> = spec
        .files
        .iter()
        .map(|file| FileCheck {
            name: file.name,
            present: false,
            sha256: None,
            checksum_ok: false,
            checksum_mismatch: None,
            summary: None,
            problems: Vec::new(),
        })
        .collect();
    let index = |name: &str| {
        spec.files
            .iter()
            .position(|file| file.name == name)
            .expect("registry pairs name registry files (test checksums_are_sha256_hex_and_pairs_name_files)")
    };
    for &(images_name, labels_name) in spec.pairs {
        let (images_idx, labels_idx) = (index(images_name), index(labels_name));
        let images = load(&spec.files[images_idx], dir, &mut checks[images_idx]);
        let labels = load(&spec.files[labels_idx], dir, &mut checks[labels_idx]);
        check_pair(
            images.as_deref(),
            labels.as_deref(),
            &mut checks,
            images_idx,
            labels_idx,
        );
    }
    for (file_idx, file) in spec.files.iter().enumerate() {
        let paired = spec
            .pairs
            .iter()
            .any(|&(images, labels)| file.name == images || file.name == labels);
        if paired {
            continue;
        }
        let check = &mut checks[file_idx];
        if let Some(content) = load(file, dir, check) {
            match check_structure(file.format, &content) {
                Ok(summary) => check.summary = Some(summary),
                Err(problem) => check.problems.push(problem),
            }
        }
    }
    checks
}

/// sha256 of `bytes` as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        write!(hex, "{byte:02x}").expect("writing to a String cannot fail");
    }
    hex
}

/// Checks `bytes` (a whole file) against `file`'s checksums.
///
/// Returns the content's identifying sha256 (decompressed for gzip files) and the decompressed
/// content, or a problem description. Used both by `verify` and by the downloader.
pub(crate) fn checksum(file: &FileSpec, bytes: &[u8]) -> Result<(String, Vec<u8>), String> {
    let file_sha = sha256_hex(bytes);
    let content = if file.sha256_decompressed.is_some() {
        match gunzip(bytes) {
            Ok(content) => content,
            Err(err) if file_sha == file.sha256 => {
                return Err(format!(
                    "checksum matches but the gzip stream does not decompress: {err}"
                ));
            }
            Err(err) => {
                return Err(format!(
                    "not a valid gzip file ({err}); sha256 {file_sha}, expected {}",
                    file.sha256
                ));
            }
        }
    } else {
        bytes.to_vec()
    };
    let content_sha = match file.sha256_decompressed {
        Some(_) => sha256_hex(&content),
        None => file_sha.clone(),
    };
    let matched = file_sha == file.sha256 || file.sha256_decompressed == Some(content_sha.as_str());
    if matched {
        Ok((content_sha, content))
    } else {
        let mut problem = format!(
            "checksum mismatch: sha256 {file_sha}, expected {}",
            file.sha256
        );
        if let Some(expected) = file.sha256_decompressed {
            write!(
                problem,
                " (decompressed {content_sha}, expected {expected})"
            )
            .expect("writing to a String cannot fail");
        }
        Err(problem)
    }
}

/// Decompresses a gzip file completely (all members), failing on a corrupt or truncated stream.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.len() < 2 || bytes[..2] != [0x1f, 0x8b] {
        return Err("no gzip header (magic 1f 8b)".to_owned());
    }
    match datasets::idx::decompress(bytes) {
        Ok(content) => Ok(content.into_owned()),
        Err(err) => Err(err.to_string()),
    }
}

/// Reads one file and checks its checksum; returns its (decompressed) content when it could be read.
///
/// A checksum mismatch is recorded but the content is still returned, so the structural check can
/// say what is wrong.
fn load(file: &FileSpec, dir: &Path, check: &mut FileCheck) -> Option<Vec<u8>> {
    let path = dir.join(file.name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return None,
        Err(err) => {
            check.present = true;
            check
                .problems
                .push(format!("cannot read {}: {err}", path.display()));
            return None;
        }
    };
    check.present = true;
    match checksum(file, &bytes) {
        Ok((sha, content)) => {
            check.checksum_ok = true;
            check.sha256 = Some(sha);
            Some(content)
        }
        Err(problem) => {
            check.checksum_mismatch = Some(problem);
            let content = match file.sha256_decompressed {
                Some(_) => match gunzip(&bytes) {
                    Ok(content) => content,
                    Err(err) => {
                        // A `.gz` name with content that is not gzip is a structural problem.
                        check.problems.push(format!("not a valid gzip file: {err}"));
                        return None;
                    }
                },
                None => bytes,
            };
            check.sha256 = Some(sha256_hex(&content));
            Some(content)
        }
    }
}

/// Parses an images file and its labels file and checks that their counts agree.
fn check_pair(
    images: Option<&[u8]>,
    labels: Option<&[u8]>,
    checks: &mut [FileCheck],
    images_idx: usize,
    labels_idx: usize,
) {
    let parsed_images = images.and_then(|bytes| match datasets::idx::parse_images(bytes) {
        Ok(parsed) => {
            checks[images_idx].summary = Some(images_summary(&parsed));
            Some(parsed)
        }
        Err(err) => {
            checks[images_idx]
                .problems
                .push(format!("not a valid IDX images file: {err}"));
            None
        }
    });
    let parsed_labels = labels.and_then(|bytes| match datasets::idx::parse_labels(bytes) {
        Ok(parsed) => {
            checks[labels_idx].summary = Some(format!("{} labels", parsed.len()));
            Some(parsed)
        }
        Err(err) => {
            checks[labels_idx]
                .problems
                .push(format!("not a valid IDX labels file: {err}"));
            None
        }
    });
    let (images_name, labels_name) = (checks[images_idx].name, checks[labels_idx].name);
    if let (Some(images), Some(labels)) = (parsed_images, parsed_labels) {
        match datasets::LabelledImages::new(images, labels) {
            Err(err) => {
                checks[labels_idx].problems.push(format!(
                    "does not match its images file {images_name}: {err}"
                ));
                checks[images_idx].problems.push(format!(
                    "does not match its labels file {labels_name}: {err}"
                ));
            }
            Ok(set) => {
                // The same checks the experiments make when they load the pair.
                if let Err(err) = set.validate(&idx_spec(images_name)) {
                    let target = match err {
                        datasets::Error::LabelOutOfRange { .. } => labels_idx,
                        _ => images_idx,
                    };
                    checks[target].problems.push(format!("structure: {err}"));
                }
            }
        }
    }
}

/// The shape and class count a registry images file must have.
fn idx_spec(images_name: &str) -> datasets::idx::IdxSpec {
    if images_name.starts_with("emnist-byclass") {
        datasets::idx::IdxSpec::EMNIST_BYCLASS
    } else {
        // MNIST, Fashion-MNIST and EMNIST's MNIST split: 28 × 28, 10 classes.
        datasets::idx::IdxSpec::MNIST
    }
}

/// "60000 images 28x28".
fn images_summary(images: &datasets::Images) -> String {
    format!(
        "{} images {}x{}",
        images.count(),
        images.rows(),
        images.cols()
    )
}

/// Structural check of a file that is not part of an images/labels pair.
fn check_structure(format: Format, content: &[u8]) -> Result<String, String> {
    match format {
        Format::IdxImages => datasets::idx::parse_images(content)
            .map(|images| images_summary(&images))
            .map_err(|err| format!("not a valid IDX images file: {err}")),
        Format::IdxLabels => datasets::idx::parse_labels(content)
            .map(|labels| format!("{} labels", labels.len()))
            .map_err(|err| format!("not a valid IDX labels file: {err}")),
        Format::Mapping { classes } => check_mapping(content, classes),
        Format::Qm9Csv => datasets::qm9::read_csv(content, datasets::qm9::Mode::Lenient)
            .map(|table| {
                let mut summary = format!("{} molecules", table.records.len());
                if let Some(first) = table.skipped.first() {
                    write!(
                        summary,
                        ", {} malformed rows skipped (first: line {}: {})",
                        table.skipped.len(),
                        first.line,
                        first.msg
                    )
                    .expect("writing to a String cannot fail");
                }
                summary
            })
            .map_err(|err| format!("not a valid QM9 CSV: {err}")),
        Format::Qm9Xyz => check_xyz(content),
        Format::Zip => check_zip(content),
    }
}

/// An EMNIST mapping file: `classes` lines `label ascii_code`, labels 0, 1, 2, ... in order.
fn check_mapping(content: &[u8], classes: usize) -> Result<String, String> {
    let text =
        std::str::from_utf8(content).map_err(|err| format!("mapping is not UTF-8: {err}"))?;
    let mut n_lines = 0;
    for (line_idx, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields.as_slice() {
            [label, code] => label.parse::<usize>().ok().zip(code.parse::<u32>().ok()),
            _ => None,
        };
        match parsed {
            Some((label, _)) if label == line_idx => n_lines += 1,
            _ => {
                return Err(format!(
                    "line {}: expected `{line_idx} <ascii code>`, found {}",
                    line_idx + 1,
                    datasets::qm9::quote(line)
                ));
            }
        }
    }
    if n_lines == classes {
        Ok(format!("{classes} classes"))
    } else {
        Err(format!("expected {classes} mapping lines, found {n_lines}"))
    }
}

/// A multi-frame XYZ file: per molecule an atom count, a comment line and one line per atom with
/// `element x y z charge`.
fn check_xyz(content: &[u8]) -> Result<String, String> {
    let text =
        std::str::from_utf8(content).map_err(|err| format!("XYZ file is not UTF-8: {err}"))?;
    let mut lines = text.lines().enumerate();
    let mut n_molecules = 0usize;
    while let Some((line_idx, header)) = lines.next() {
        let n_atoms: usize = header.trim().parse().map_err(|_| {
            format!(
                "line {}: expected an atom count, found {}",
                line_idx + 1,
                datasets::qm9::quote(header)
            )
        })?;
        if lines.next().is_none() {
            return Err(format!(
                "molecule {}: file ends before its comment line",
                n_molecules + 1
            ));
        }
        for _ in 0..n_atoms {
            match lines.next() {
                Some((_, atom)) if atom.split_whitespace().count() == 5 => {}
                Some((atom_idx, atom)) => {
                    return Err(format!(
                        "line {}: expected `element x y z charge`, found {}",
                        atom_idx + 1,
                        datasets::qm9::quote(atom)
                    ));
                }
                None => {
                    return Err(format!(
                        "molecule {}: file ends inside its {n_atoms} atom lines",
                        n_molecules + 1
                    ));
                }
            }
        }
        n_molecules += 1;
    }
    if n_molecules == 0 {
        return Err("XYZ file holds no molecule".to_owned());
    }
    Ok(format!("{n_molecules} molecules"))
}

/// A zip archive: its end-of-central-directory record is present and points inside the file.
fn check_zip(content: &[u8]) -> Result<String, String> {
    const EOCD_SIGNATURE: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const EOCD_LEN: usize = 22;
    if content.len() < EOCD_LEN {
        return Err(format!(
            "too short for a zip archive ({} bytes)",
            content.len()
        ));
    }
    // The record sits in the last 22 bytes plus at most a 65,535-byte comment.
    let search_from = content.len().saturating_sub(EOCD_LEN + 0xffff);
    let eocd = (search_from..=content.len() - EOCD_LEN)
        .rev()
        .find(|&pos| content[pos..pos + 4] == EOCD_SIGNATURE)
        .ok_or("no zip end-of-central-directory record (truncated archive?)")?;
    let u16_at = |pos: usize| u16::from_le_bytes([content[pos], content[pos + 1]]);
    let u32_at = |pos: usize| {
        u32::from_le_bytes([
            content[pos],
            content[pos + 1],
            content[pos + 2],
            content[pos + 3],
        ])
    };
    let n_entries = u16_at(eocd + 10);
    let cd_size = u32_at(eocd + 12) as usize;
    let cd_offset = u32_at(eocd + 16) as usize;
    if cd_offset + cd_size > eocd
        || content.get(cd_offset..cd_offset + 4) != Some(&[0x50, 0x4b, 0x01, 0x02][..])
    {
        return Err("zip central directory is missing or out of bounds".to_owned());
    }
    Ok(format!("zip with {n_entries} entries"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn mapping_checks_count_and_order() {
        assert_eq!(
            check_mapping(b"0 48\n1 49\n", 2),
            Ok("2 classes".to_owned())
        );
        assert!(
            check_mapping(b"0 48\n2 49\n", 2)
                .unwrap_err()
                .contains("line 2")
        );
        assert!(
            check_mapping(b"0 48\n", 2)
                .unwrap_err()
                .contains("expected 2")
        );
    }

    #[test]
    fn xyz_counts_molecules_and_spots_truncation() {
        let one = "1\ngdb_idx=1\nC 0 0 0 0.1\n";
        assert_eq!(
            check_xyz(format!("{one}{one}").as_bytes()),
            Ok("2 molecules".to_owned())
        );
        assert!(
            check_xyz(b"2\nc\nC 0 0 0 0\n")
                .unwrap_err()
                .contains("ends inside")
        );
        assert!(check_xyz(b"x\n").unwrap_err().contains("line 1"));
    }

    /// The structural problems `check_pair` finds for MNIST-named files holding `images` and
    /// `labels`.
    fn pair_problems(images: &datasets::Images, labels: &[u8]) -> (Vec<String>, Vec<String>) {
        let new = |name| FileCheck {
            name,
            present: true,
            sha256: None,
            checksum_ok: false,
            checksum_mismatch: None,
            summary: None,
            problems: Vec::new(),
        };
        let mut checks = vec![
            new("t10k-images-idx3-ubyte.gz"),
            new("t10k-labels-idx1-ubyte.gz"),
        ];
        let labels = datasets::Labels::new(labels.to_vec()).to_idx_bytes();
        check_pair(
            Some(&images.to_idx_bytes()),
            Some(&labels),
            &mut checks,
            0,
            1,
        );
        (checks[0].problems.clone(), checks[1].problems.clone())
    }

    #[test]
    fn pairs_are_checked_against_the_dataset_shape_and_classes() {
        let good = datasets::Images::new(28, 28, vec![0; 2 * 784]).unwrap();
        assert_eq!(pair_problems(&good, &[0, 9]), (vec![], vec![]));
        let (_, labels) = pair_problems(&good, &[0, 200]);
        assert!(labels[0].contains("label 200"), "{labels:?}");
        let wide = datasets::Images::new(28, 29, vec![0; 2 * 28 * 29]).unwrap();
        let (images, _) = pair_problems(&wide, &[0, 1]);
        assert!(images[0].contains("28x29"), "{images:?}");
        let none = datasets::Images::new(28, 28, Vec::new()).unwrap();
        let (images, _) = pair_problems(&none, &[]);
        assert!(images[0].contains("empty"), "{images:?}");
    }

    #[test]
    fn zip_needs_its_directory() {
        // An empty zip archive: just the end-of-central-directory record.
        let mut empty = vec![0x50, 0x4b, 0x05, 0x06];
        empty.extend([0u8; 18]);
        assert!(check_zip(&empty).unwrap_err().contains("central directory"));
        assert!(check_zip(&empty[..10]).unwrap_err().contains("too short"));
        assert!(
            check_zip(&[0u8; 100])
                .unwrap_err()
                .contains("end-of-central-directory")
        );
    }
}
