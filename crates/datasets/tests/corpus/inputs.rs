//! The inputs of the malformed-input corpus and their expected verdicts, shared by the public-API
//! corpus test of `datasets` and the `xtask` corpus test (which includes this file by path and
//! writes each input into a user data directory).
//!
//! The corpus is made from the 10-image MNIST fixture and the 20-molecule QM9 fixture by seeded
//! edits: truncated, corrupted and mislabelled IDX and gzip files, and QM9 CSVs with bad
//! headers, encodings, quoting and values.

use datasets::{
    idx::{self, IdxSpec},
    qm9::HEADER,
};

const IMAGES_GZ: &[u8] = include_bytes!("../fixtures/mnist-t10k-10-images-idx3-ubyte.gz");
const LABELS_GZ: &[u8] = include_bytes!("../fixtures/mnist-t10k-10-labels-idx1-ubyte.gz");
const QM9_CSV: &str = include_str!("../fixtures/qm9-first-20.csv");
/// The corpus's seed.
pub(crate) const SEED: u64 = 20_261_205;

/// What a reader is expected to do with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Loads, with this many items.
    Accept(usize),
    /// Loads this many records and skips the rows on these lines (lenient CSV only).
    Skip {
        /// Records loaded.
        kept: usize,
        /// The skipped rows' 1-based file lines, ascending.
        lines: Vec<usize>,
    },
    /// Refuses, with this error variant and the record it names (item index, line or column).
    Error(&'static str, Option<usize>),
}

impl Verdict {
    /// "accept", "skip" or "error".
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Verdict::Accept(_) => "accept",
            Verdict::Skip { .. } => "skip",
            Verdict::Error(..) => "error",
        }
    }
}

/// One corpus input.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// An IDX images file and its labels file (raw or gzip), read as a dataset of `spec`.
    Pair {
        /// The images file.
        images: Vec<u8>,
        /// The labels file.
        labels: Vec<u8>,
        /// The dataset they are read as.
        spec: IdxSpec,
    },
    /// Bytes stored under a `.gz` name.
    GzName(Vec<u8>),
    /// A QM9-style CSV (uncompressed).
    Csv(Vec<u8>),
}

/// One corpus input and its expected verdicts.
pub(crate) struct CorpusCase {
    /// What the input is, for failure messages.
    pub(crate) name: String,
    /// The input.
    pub(crate) input: Input,
    /// The verdict of a lenient read (the only one for IDX inputs).
    pub(crate) expected: Verdict,
    /// The verdict of a strict CSV read; equal to `expected` for IDX inputs.
    pub(crate) strict: Verdict,
}

/// Every case of the corpus, IDX and gzip inputs first, then CSVs; the same on every run.
pub(crate) fn corpus() -> Vec<CorpusCase> {
    let mut rng = SplitMix(SEED);
    let mut cases = idx_cases(&mut rng);
    cases.extend(csv_cases(&mut rng));
    cases
}

/// A gzip file holding `bytes` in stored (uncompressed) deflate blocks: a valid compression that
/// differs byte for byte from the fixtures' `gzip -9`.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks: Vec<&[u8]> = bytes.chunks(0xffff).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let n_chunks = chunks.len();
    for (chunk_idx, chunk) in chunks.into_iter().enumerate() {
        let len = u16::try_from(chunk.len()).expect("chunks hold at most 65,535 bytes");
        out.push(u8::from(chunk_idx + 1 == n_chunks));
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(chunk);
    }
    out.extend((!crc).to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out
}

/// An IDX case: `images` and `labels` read as a dataset of `spec`.
fn idx_case(
    name: String,
    images: Vec<u8>,
    labels: Vec<u8>,
    spec: IdxSpec,
    expected: Verdict,
) -> CorpusCase {
    CorpusCase {
        name,
        input: Input::Pair {
            images,
            labels,
            spec,
        },
        strict: expected.clone(),
        expected,
    }
}

/// A CSV case read both ways: lenient gives `lenient`, strict gives `strict`.
fn csv_case(name: String, bytes: Vec<u8>, lenient: Verdict, strict: Verdict) -> CorpusCase {
    CorpusCase {
        name,
        input: Input::Csv(bytes),
        expected: lenient,
        strict,
    }
}

/// SplitMix64: a small seeded generator, so the corpus is the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..high`.
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low) as u64) as usize
    }
}

/// The decompressed content of a gzip fixture.
fn raw(gz: &[u8]) -> Vec<u8> {
    idx::decompress(gz).unwrap().into_owned()
}

/// An IDX images header with the given dimensions.
fn images_header(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    [0x0803u32, n, rows, cols]
        .iter()
        .flat_map(|word| word.to_be_bytes())
        .collect()
}

fn idx_cases(rng: &mut SplitMix) -> Vec<CorpusCase> {
    let images = raw(IMAGES_GZ);
    let labels = raw(LABELS_GZ);
    let mnist = IdxSpec::MNIST;
    let mut cases = Vec::new();
    let accept = Verdict::Accept(10);

    // Well-formed variants: raw, gzip, re-compressed, and as two concatenated gzip members.
    cases.push(idx_case(
        "raw".into(),
        images.clone(),
        labels.clone(),
        mnist,
        accept.clone(),
    ));
    cases.push(idx_case(
        "gzip".into(),
        IMAGES_GZ.to_vec(),
        LABELS_GZ.to_vec(),
        mnist,
        accept.clone(),
    ));
    cases.push(idx_case(
        "regzip (stored blocks)".into(),
        gzip(&images),
        gzip(&labels),
        mnist,
        accept.clone(),
    ));
    let mut two_members = gzip(&images[..100]);
    two_members.extend(gzip(&images[100..]));
    cases.push(idx_case(
        "two-members".into(),
        two_members,
        labels.clone(),
        mnist,
        accept.clone(),
    ));

    // Truncated raw files: the header or the data is short.
    for _ in 0..15 {
        let cut = rng.range(0, images.len());
        let verdict = Verdict::Error("Truncated", None);
        cases.push(idx_case(
            format!("images cut at {cut}"),
            images[..cut].to_vec(),
            labels.clone(),
            mnist,
            verdict,
        ));
    }
    for _ in 0..10 {
        let cut = rng.range(0, labels.len());
        let verdict = Verdict::Error("Truncated", None);
        cases.push(idx_case(
            format!("labels cut at {cut}"),
            images.clone(),
            labels[..cut].to_vec(),
            mnist,
            verdict,
        ));
    }
    // Truncated and corrupted gzip streams.
    for _ in 0..15 {
        let cut = rng.range(2, IMAGES_GZ.len());
        let verdict = Verdict::Error("Gzip", None);
        cases.push(idx_case(
            format!("gzip cut at {cut}"),
            IMAGES_GZ[..cut].to_vec(),
            labels.clone(),
            mnist,
            verdict,
        ));
    }
    for _ in 0..20 {
        let pos = rng.range(10, IMAGES_GZ.len());
        let mask = rng.range(1, 256) as u8;
        let mut corrupt = IMAGES_GZ.to_vec();
        corrupt[pos] ^= mask;
        let verdict = Verdict::Error("Gzip", None);
        cases.push(idx_case(
            format!("gzip byte {pos} ^ {mask:#04x}"),
            corrupt,
            labels.clone(),
            mnist,
            verdict,
        ));
    }
    // Pixel values carry no structure: any change loads.
    for _ in 0..10 {
        let pos = rng.range(16, images.len());
        let mut changed = images.clone();
        changed[pos] = rng.next() as u8;
        cases.push(idx_case(
            format!("pixel {pos} changed"),
            changed,
            labels.clone(),
            mnist,
            accept.clone(),
        ));
    }
    // Mislabelled items: a label at or past the class count is an error naming the item.
    for _ in 0..20 {
        let item = rng.range(0, 10);
        let label = rng.range(0, 256) as u8;
        let mut changed = labels.clone();
        changed[8 + item] = label;
        let verdict = if label < 10 {
            accept.clone()
        } else {
            Verdict::Error("LabelOutOfRange", Some(item))
        };
        cases.push(idx_case(
            format!("label {item} = {label}"),
            images.clone(),
            changed,
            mnist,
            verdict,
        ));
    }
    for _ in 0..10 {
        let item = rng.range(0, 10);
        let label = rng.range(10, 70) as u8;
        let mut changed = labels.clone();
        changed[8 + item] = label;
        for (spec, n_classes) in [
            (IdxSpec::EMNIST_BYCLASS, 62),
            (IdxSpec::EMNIST_BALANCED, 47),
        ] {
            let verdict = if usize::from(label) < n_classes {
                accept.clone()
            } else {
                Verdict::Error("LabelOutOfRange", Some(item))
            };
            cases.push(idx_case(
                format!("label {item} = {label} of {n_classes} classes"),
                images.clone(),
                changed.clone(),
                spec,
                verdict,
            ));
        }
    }
    // Headers that disagree with the dataset or with the data.
    let data = &images[16..];
    let mut header_cases: Vec<(&str, Vec<u8>, Vec<u8>, Verdict)> = vec![
        (
            "images as labels",
            labels.clone(),
            labels.clone(),
            Verdict::Error("BadMagic", None),
        ),
        (
            "labels as images",
            images.clone(),
            images.clone(),
            Verdict::Error("BadMagic", None),
        ),
        (
            "no items",
            images_header(0, 28, 28),
            vec![0, 0, 8, 1, 0, 0, 0, 0],
            Verdict::Error("Empty", None),
        ),
        (
            "28 x 29",
            [images_header(10, 28, 29), vec![0; 10 * 28 * 29]].concat(),
            labels.clone(),
            Verdict::Error("ShapeMismatch", None),
        ),
        (
            "14 x 56",
            [images_header(10, 14, 56), data.to_vec()].concat(),
            labels.clone(),
            Verdict::Error("ShapeMismatch", None),
        ),
        (
            "0 rows",
            [images_header(10, 0, 28), vec![]].concat(),
            labels.clone(),
            Verdict::Error("BadDims", None),
        ),
        (
            "9 labels",
            images.clone(),
            [vec![0, 0, 8, 1, 0, 0, 0, 9], labels[8..17].to_vec()].concat(),
            Verdict::Error("CountMismatch", None),
        ),
        (
            "header says 11",
            [images_header(11, 28, 28), data.to_vec()].concat(),
            labels.clone(),
            Verdict::Error("Truncated", None),
        ),
        (
            "header says u32::MAX",
            [images_header(u32::MAX, 28, 28), data.to_vec()].concat(),
            labels.clone(),
            Verdict::Error("Truncated", None),
        ),
        (
            "a trailing byte",
            [images.clone(), vec![0]].concat(),
            labels.clone(),
            Verdict::Error("TrailingBytes", None),
        ),
        (
            "empty files",
            Vec::new(),
            Vec::new(),
            Verdict::Error("Truncated", None),
        ),
        (
            "gzip of nothing",
            gzip(&[]),
            LABELS_GZ.to_vec(),
            Verdict::Error("Truncated", None),
        ),
    ];
    for (name, images, labels, verdict) in header_cases.drain(..) {
        cases.push(idx_case(name.into(), images, labels, mnist, verdict));
    }
    // Raw bytes under a `.gz` name.
    for (name, bytes) in [
        ("raw images", images.clone()),
        ("raw labels", labels.clone()),
    ] {
        cases.push(CorpusCase {
            name: format!("{name} named .gz"),
            input: Input::GzName(bytes),
            expected: Verdict::Error("NotGzip", None),
            strict: Verdict::Error("NotGzip", None),
        });
    }
    cases
}

/// Splits a CSV line into raw fields (quotes kept), for editing one field.
fn raw_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                fields.last_mut().unwrap().push(ch);
            }
            ',' if !quoted => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(ch),
        }
    }
    fields
}

/// The fixture with the rows at `lines` (1-based file lines) replaced by `edit(row)`.
fn edit_rows(lines: &[usize], edit: &dyn Fn(&str) -> String) -> Vec<u8> {
    let mut out = String::new();
    for (idx, line) in QM9_CSV.lines().enumerate() {
        if lines.contains(&(idx + 1)) {
            out.push_str(&edit(line));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// A skip of the rows on `lines` (strict: an error on the first).
fn skipped(name: String, bytes: Vec<u8>, lines: &[usize]) -> CorpusCase {
    let mut sorted = lines.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let strict = Verdict::Error("Csv", Some(sorted[0]));
    let lenient = Verdict::Skip {
        kept: 20 - sorted.len(),
        lines: sorted,
    };
    csv_case(name, bytes, lenient, strict)
}

fn csv_cases(rng: &mut SplitMix) -> Vec<CorpusCase> {
    let mut cases = Vec::new();
    let both = |v: Verdict| (v.clone(), v);
    let plain = QM9_CSV.as_bytes().to_vec();
    let mut accepted: Vec<(&str, Vec<u8>)> = vec![
        ("plain", plain.clone()),
        ("BOM", [b"\xef\xbb\xbf".to_vec(), plain.clone()].concat()),
        ("CRLF", QM9_CSV.replace('\n', "\r\n").into_bytes()),
        ("no final newline", QM9_CSV.trim_end().as_bytes().to_vec()),
        ("blank lines", QM9_CSV.replace('\n', "\n\n").into_bytes()),
        (
            "whitespace lines",
            format!("\n \t\n{QM9_CSV}  \n\n").into_bytes(),
        ),
    ];
    for (name, bytes) in accepted.drain(..) {
        let (lenient, strict) = both(Verdict::Accept(20));
        cases.push(csv_case(name.into(), bytes, lenient, strict));
    }
    // One bad value in a seeded row and column.
    for _ in 0..25 {
        let line = rng.range(2, 22);
        let column = rng.range(0, HEADER.len());
        let value = match column {
            1 | 2 => "",
            0 | 3 => ["abc", "-1", "1.5", "", "99999999999"][rng.range(0, 5)],
            _ => ["abc", "NaN", "inf", "", "1e999", "0x10", "--1"][rng.range(0, 7)],
        };
        let bytes = edit_rows(&[line], &|row| {
            let mut fields = raw_fields(row);
            fields[column] = value.to_owned();
            fields.join(",")
        });
        cases.push(skipped(
            format!("line {line} column {column} = {value:?}"),
            bytes,
            &[line],
        ));
    }
    // Several bad rows.
    for k in 2..7 {
        let lines: Vec<usize> = (0..k).map(|_| rng.range(2, 22)).collect();
        let bytes = edit_rows(&lines, &|row| format!("{row},extra"));
        cases.push(skipped(
            format!("{k} rows with an extra field"),
            bytes,
            &lines,
        ));
    }
    // Field counts, quoting and encodings, each on a seeded row.
    type Edit = fn(&str) -> String;
    let edits: [(&str, Edit); 9] = [
        ("a field short", |row| {
            row.rsplit_once(',').unwrap().0.to_owned()
        }),
        ("an extra field", |row| format!("{row},1.0")),
        ("only an id", |row| {
            row.split(',').next().unwrap().to_owned()
        }),
        ("unterminated quote", |row| {
            row.replacen("InChI", "\"InChI", 1)
        }),
        ("quote inside a field", |row| {
            row.replacen("InChI", "In\"ChI", 1)
        }),
        ("text after a closing quote", |row| {
            let mut fields = raw_fields(row);
            fields[2] = format!("\"{}\"x", fields[2].trim_matches('"'));
            fields.join(",")
        }),
        ("a tab instead of commas", |row| row.replace(',', "\t")),
        ("semicolons", |row| row.replace(',', ";")),
        ("a NUL in a number", |row| row.replacen('.', "\0", 1)),
    ];
    for (name, edit) in edits {
        for _ in 0..2 {
            let line = rng.range(2, 22);
            cases.push(skipped(
                format!("{name} on line {line}"),
                edit_rows(&[line], &edit),
                &[line],
            ));
        }
    }
    for _ in 0..4 {
        let line = rng.range(2, 22);
        let mut bytes = edit_rows(&[line], &|row| row.to_owned());
        // Latin-1 and stray bytes: invalid UTF-8 inside the row.
        let start: usize = QM9_CSV.lines().take(line - 1).map(|l| l.len() + 1).sum();
        let len = QM9_CSV.lines().nth(line - 1).unwrap().len();
        bytes[start + rng.range(0, len)] = [0xe9, 0xff, 0xc3, 0x80][rng.range(0, 4)];
        cases.push(skipped(
            format!("invalid UTF-8 on line {line}"),
            bytes,
            &[line],
        ));
    }
    let utf16: Vec<u8> = QM9_CSV.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let (lenient, strict) = both(Verdict::Error("BadHeader", Some(1)));
    cases.push(csv_case("UTF-16".into(), utf16, lenient, strict));
    let mut latin1_header = plain.clone();
    latin1_header[3] = 0xe9;
    let (lenient, strict) = both(Verdict::Error("Csv", Some(1)));
    cases.push(csv_case(
        "Latin-1 byte in the header".into(),
        latin1_header,
        lenient,
        strict,
    ));
    // Bad headers: each is an error naming the first differing column.
    for _ in 0..8 {
        let column = rng.range(0, HEADER.len());
        let mut names: Vec<String> = HEADER.iter().map(|s| (*s).to_owned()).collect();
        names[column] = format!("{}_renamed", names[column]);
        let text = QM9_CSV.replacen(&HEADER.join(","), &names.join(","), 1);
        let (lenient, strict) = both(Verdict::Error("BadHeader", Some(column + 1)));
        cases.push(csv_case(
            format!("column {} renamed", column + 1),
            text.into_bytes(),
            lenient,
            strict,
        ));
    }
    let header = HEADER.join(",");
    let body = QM9_CSV.split_once('\n').unwrap().1;
    let bad_headers: [(&str, String, usize); 5] = [
        ("a column missing", HEADER[..18].join(","), 19),
        ("an extra column", format!("{header},extra"), 20),
        ("upper case", header.to_uppercase(), 1),
        (
            "two columns swapped",
            header.replacen("A_GHz,B_GHz", "B_GHz,A_GHz", 1),
            5,
        ),
        ("no header", String::new(), 1),
    ];
    for (name, head, column) in bad_headers {
        let text = if head.is_empty() {
            body.to_owned()
        } else {
            format!("{head}\n{body}")
        };
        let (lenient, strict) = both(Verdict::Error("BadHeader", Some(column)));
        cases.push(csv_case(name.into(), text.into_bytes(), lenient, strict));
    }
    // Files without records.
    let no_records: [(&str, String, Verdict); 4] = [
        (
            "empty file",
            String::new(),
            Verdict::Error("BadHeader", Some(1)),
        ),
        (
            "header only",
            format!("{header}\n"),
            Verdict::Error("NoRecords", Some(0)),
        ),
        (
            "header and blank lines",
            format!("{header}\n\n\n"),
            Verdict::Error("NoRecords", Some(0)),
        ),
        (
            "BOM only",
            "\u{feff}".to_owned(),
            Verdict::Error("BadHeader", Some(1)),
        ),
    ];
    for (name, text, verdict) in no_records {
        let (lenient, strict) = both(verdict);
        cases.push(csv_case(name.into(), text.into_bytes(), lenient, strict));
    }
    let all_bad = format!("{header}\nx\ny\nz\n");
    cases.push(csv_case(
        "every row bad".into(),
        all_bad.into_bytes(),
        Verdict::Error("NoRecords", Some(3)),
        Verdict::Error("Csv", Some(2)),
    ));
    // Huge fields: skipped, and the message stays short (checked in `error_verdict`).
    for (name, value) in [
        ("huge number", "9".repeat(2_000_000)),
        ("huge text", "x".repeat(2_000_000)),
    ] {
        let line = rng.range(2, 22);
        let bytes = edit_rows(&[line], &|row| {
            let mut fields = raw_fields(row);
            fields[5] = value.clone();
            fields.join(",")
        });
        // Two million digits overflow to infinity, which is refused like any non-finite value.
        cases.push(skipped(format!("{name} on line {line}"), bytes, &[line]));
    }
    cases
}
