//! Tests of `datasets::qm9` on the first 20 rows of the real file and on hand-made lines.

use datasets::{
    Error,
    qm9::{self, HEADER, Mode, Property, Qm9Record},
};
use linalg::testing::{assert_close, tol};
use proptest::prelude::*;

const FIXTURE: &str = include_str!("fixtures/qm9-first-20.csv");

/// The fixture's header plus `rows`.
fn csv(rows: &[&str]) -> String {
    let mut text = HEADER.join(",");
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

const CH4: &str = "1,C,InChI=1S/CH4/h1H4,5,157.7118,157.70997,157.70699,0.,13.21,-0.3877,0.1171,0.5048,\
                   35.3641,0.044749,-40.47893,-40.476062,-40.475117,-40.498597,6.469";

#[track_caller]
fn check_line_err(row: &str, msg: &str) {
    let err = qm9::parse_csv(csv(&[CH4, row]).as_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::Csv {
            line: 3,
            msg: msg.to_owned()
        }
    );
}

#[test]
fn fixture_parses() {
    let records = qm9::parse_csv(FIXTURE.as_bytes()).unwrap();
    assert_eq!(records.len(), 20);
    let ids: Vec<u32> = records.iter().map(|r| r.gdb_idx).collect();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    let ch4 = &records[0];
    assert_eq!(
        (ch4.smiles.as_str(), ch4.inchi.as_str(), ch4.n_atoms),
        ("C", "InChI=1S/CH4/h1H4", 5)
    );
    let expected: [f64; 15] = [
        157.7118, 157.70997, 157.70699, 0.0, 13.21, -0.3877, 0.1171, 0.5048, 35.3641, 0.044749,
        -40.47893, -40.476062, -40.475117, -40.498597, 6.469,
    ];
    for (p, want) in Property::ALL.into_iter().zip(expected) {
        assert_eq!(ch4.get(p).to_bits(), want.to_bits(), "{p:?}");
    }
    // Row 8 (methanol) has a quoted InChI with a comma.
    assert_eq!(records[7].smiles, "CO");
    assert_eq!(records[7].inchi, "InChI=1S/CH4O/c1-2/h2H,1H3");
    assert_eq!(records[19].inchi, "InChI=1S/CH4N2O/c2-1(3)4/h(H4,2,3,4)");
    // The source README checks gap = lumo - homo within 1.5e-4 Ha for every row.
    for r in &records {
        let gap = r.get(Property::Lumo) - r.get(Property::Homo);
        assert_close(
            r.get(Property::Gap),
            gap,
            linalg::testing::Tol {
                rel: 0.0,
                abs: 1.5e-4,
            },
        );
    }
}

#[test]
fn crlf_line_endings_parse_the_same() {
    let crlf = FIXTURE.replace('\n', "\r\n");
    assert_eq!(
        qm9::parse_csv(crlf.as_bytes()).unwrap(),
        qm9::parse_csv(FIXTURE.as_bytes()).unwrap()
    );
    // No newline after the last line.
    assert_eq!(
        qm9::parse_csv(FIXTURE.trim_end().as_bytes()).unwrap().len(),
        20
    );
}

#[test]
fn properties_match_the_header() {
    let columns: Vec<&str> = Property::ALL.iter().map(Property::column).collect();
    assert_eq!(columns, HEADER[4..]);
    for (idx, p) in Property::ALL.iter().enumerate() {
        assert_eq!(p.index(), idx);
        assert!(!p.description().is_empty());
    }
    assert_eq!(Property::Homo.unit(), "Hartree");
    assert_eq!(Property::Alpha.unit(), "bohr^3");
    assert_eq!(Property::A.unit(), "GHz");
    assert_eq!(Property::Mu.column(), "mu_D");
}

#[test]
fn quoting_follows_csv_rules() {
    let row = CH4.replacen("InChI=1S/CH4/h1H4", "\"a \"\"quoted\"\", name\"", 1);
    let records = qm9::parse_csv(csv(&[&row]).as_bytes()).unwrap();
    assert_eq!(records[0].inchi, "a \"quoted\", name");
    let quoted_number = CH4.replacen("6.469", "\"6.5\"", 1);
    let records = qm9::parse_csv(csv(&[&quoted_number]).as_bytes()).unwrap();
    assert_close(records[0].get(Property::Cv), 6.5, tol::EXACT);
}

#[test]
fn bad_headers_are_errors() {
    #[track_caller]
    fn check(header: &str, column: usize, expected: &'static str, got: &str) {
        let text = format!("{header}\n{CH4}\n");
        assert_eq!(
            qm9::parse_csv(text.as_bytes()),
            Err(Error::BadHeader {
                column,
                expected,
                got: got.to_owned()
            })
        );
    }
    let header = HEADER.join(",");
    check(
        &header.replace("homo_Ha", "homo_eV"),
        10,
        "homo_Ha",
        "homo_eV",
    );
    check(
        &header.replace(",cv_calmolK", ""),
        19,
        "cv_calmolK",
        "(missing)",
    );
    check(&format!("{header},extra"), 20, "(end of header)", "extra");
    check(&header.to_uppercase(), 1, "gdb_idx", "GDB_IDX");
    assert_eq!(
        qm9::parse_csv(&b""[..]),
        Err(Error::BadHeader {
            column: 1,
            expected: "gdb_idx",
            got: "(missing)".to_owned()
        })
    );
    let err = qm9::parse_csv(header.replace("mu_D", "mu").as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad CSV header: column 8 is \"mu\", expected \"mu_D\""
    );
}

#[test]
fn bad_lines_are_errors_naming_line_and_column() {
    check_line_err("1,C,x,5", "expected 19 columns, got 4");
    check_line_err("x", "expected 19 columns, got 1");
    check_line_err(
        &CH4.replacen("0.044749", "abc", 1),
        "column 14 (zpve_Ha): \"abc\" is not a number",
    );
    check_line_err(
        &CH4.replacen("6.469", "NaN", 1),
        "column 19 (cv_calmolK): \"NaN\" is not finite",
    );
    check_line_err(
        &CH4.replacen("6.469", "inf", 1),
        "column 19 (cv_calmolK): \"inf\" is not finite",
    );
    check_line_err(
        &CH4.replacen(",5,", ",-5,", 1),
        "column 4 (n_atoms): \"-5\" is not a non-negative integer",
    );
    check_line_err(
        &CH4.replacen("1,C,", "1.5,C,", 1),
        "column 1 (gdb_idx): \"1.5\" is not a non-negative integer",
    );
    check_line_err(
        &CH4.replacen(",C,", ",,", 1),
        "column 2 (smiles): \"\" is empty",
    );
    check_line_err(
        &CH4.replacen("InChI", "\"InChI", 1),
        "column 3: unterminated quoted field",
    );
    check_line_err(
        &CH4.replacen("InChI", "In\"ChI", 1),
        "column 3: quote inside an unquoted field",
    );
    check_line_err(
        &CH4.replacen("InChI=1S/CH4/h1H4", "\"InChI\"x", 1),
        "column 3: unexpected 'x' after closing quote",
    );
    let mut bytes = csv(&[CH4]).into_bytes();
    bytes.extend(b"2,N,\xff,4\n");
    let err = qm9::parse_csv(bytes.as_slice()).unwrap_err();
    assert!(
        matches!(&err, Error::Csv { line: 3, msg } if msg.starts_with("invalid UTF-8")),
        "{err:?}"
    );
    let err = qm9::parse_csv(csv(&[CH4, "1,C"]).as_bytes()).unwrap_err();
    assert_eq!(err.to_string(), "CSV line 3: expected 19 columns, got 2");
}

#[test]
fn bom_and_blank_lines_are_accepted() {
    let plain = qm9::parse_csv(FIXTURE.as_bytes()).unwrap();
    let with_bom = format!("\u{feff}{FIXTURE}");
    assert_eq!(qm9::parse_csv(with_bom.as_bytes()).unwrap(), plain);
    let spaced = format!("\n  \n{}", FIXTURE.replace('\n', "\n\r\n"));
    let records = qm9::parse_csv(spaced.as_bytes()).unwrap();
    assert_eq!(records.len(), 20);
    // Lines are counted as in the file: the header is line 3, the first record line 5.
    assert_eq!((records[0].line, records[1].line), (5, 7));
    let values = |rs: &[Qm9Record]| rs.iter().map(|r| r.properties).collect::<Vec<_>>();
    assert_eq!(values(&records), values(&plain));
}

#[test]
fn a_header_without_records_is_an_error() {
    let header = format!("{}\n\n", HEADER.join(","));
    assert_eq!(
        qm9::parse_csv(header.as_bytes()),
        Err(Error::NoRecords { skipped: 0 })
    );
    let all_bad = format!("{}\nx\ny\n", HEADER.join(","));
    assert_eq!(
        qm9::read_csv(all_bad.as_bytes(), Mode::Lenient),
        Err(Error::NoRecords { skipped: 2 })
    );
}

#[test]
fn lenient_mode_skips_bad_rows_with_their_lines() {
    let text = csv(&[CH4, "x", &CH4.replacen("6.469", "NaN", 1), CH4]);
    let table = qm9::read_csv(text.as_bytes(), Mode::Lenient).unwrap();
    assert_eq!(table.records.len(), 2);
    assert_eq!(
        table.records.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![2, 5]
    );
    let skipped: Vec<usize> = table.skipped.iter().map(|row| row.line).collect();
    assert_eq!(skipped, vec![3, 4]);
    assert!(table.skipped[1].msg.contains("not finite"));
    assert_eq!(
        qm9::read_csv(text.as_bytes(), Mode::Strict),
        Err(Error::Csv {
            line: 3,
            msg: "expected 19 columns, got 1".to_owned()
        })
    );
}

#[test]
fn messages_quote_a_short_prefix_of_huge_fields() {
    let huge = "9".repeat(1_000) + &"x".repeat(10_000_000);
    let row = CH4.replacen("0.044749", &huge, 1);
    let err = qm9::parse_csv(csv(&[&row]).as_bytes()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.len() < 200, "{} bytes", msg.len());
    assert!(msg.contains("(10001000 bytes)"), "{msg}");
    let header = format!("{},{huge}\n{CH4}\n", HEADER.join(","));
    let msg = qm9::parse_csv(header.as_bytes()).unwrap_err().to_string();
    assert!(msg.len() < 200 && msg.contains("(10001000 bytes)"), "{msg}");
}

#[test]
fn reader_failure_is_an_error() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = qm9::parse_csv(std::io::BufReader::new(Failing)).unwrap_err();
    assert_eq!(
        err,
        Error::Io {
            line: 1,
            msg: "disk on fire".to_owned()
        }
    );
    assert_eq!(err.to_string(), "read error at line 1: disk on fire");
}

#[test]
fn record_get_indexes_properties() {
    let properties = std::array::from_fn(|i| i as f64);
    let record = Qm9Record {
        line: 2,
        gdb_idx: 1,
        smiles: "C".into(),
        inchi: "InChI=1S/CH4/h1H4".into(),
        n_atoms: 5,
        properties,
    };
    for p in Property::ALL {
        assert_close(record.get(p), p.index() as f64, tol::EXACT);
    }
}

#[test]
fn every_truncation_parses_or_errors_without_panic() {
    let bytes = FIXTURE.as_bytes();
    let header_len = FIXTURE.find('\n').unwrap();
    for len in 0..bytes.len() {
        let result = qm9::parse_csv(&bytes[..len]);
        if len < header_len {
            assert!(result.is_err(), "prefix {len} is inside the header");
        }
        if let Ok(records) = result {
            assert!(records.len() <= 20);
        }
    }
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = qm9::parse_csv(bytes.as_slice());
        let mut with_header = HEADER.join(",").into_bytes();
        with_header.push(b'\n');
        with_header.extend(&bytes);
        let _ = qm9::parse_csv(with_header.as_slice());
    }

    #[test]
    fn flipped_bytes_never_panic(pos in 0usize..3520, value in any::<u8>()) {
        let mut bytes = FIXTURE.as_bytes().to_vec();
        let pos = pos % bytes.len();
        bytes[pos] = value;
        let _ = qm9::parse_csv(bytes.as_slice());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// After a valid header, lenient reading accounts for every non-blank line: each is a record
    /// or a skipped row with its own line number, and only a file with no record is an error.
    #[test]
    fn lenient_reading_accounts_for_every_line(
        rows in proptest::collection::vec((0usize..20, any::<bool>(), "[ -~]{0,12}"), 0..12)
    ) {
        let fixture_rows: Vec<&str> = FIXTURE.lines().skip(1).collect();
        let mut text = HEADER.join(",");
        let mut n_lines = 0;
        for (idx, garble, junk) in &rows {
            let row = if *garble { format!("{}{junk}", fixture_rows[*idx]) } else { fixture_rows[*idx].to_owned() };
            text.push('\n');
            text.push_str(&row);
            if !row.trim().is_empty() {
                n_lines += 1;
            }
        }
        match qm9::read_csv(text.as_bytes(), Mode::Lenient) {
            Ok(table) => {
                prop_assert_eq!(table.records.len() + table.skipped.len(), n_lines);
                let mut lines: Vec<usize> = table.records.iter().map(|r| r.line)
                    .chain(table.skipped.iter().map(|s| s.line)).collect();
                lines.sort_unstable();
                lines.dedup();
                prop_assert_eq!(lines.len(), n_lines);
                prop_assert!(lines.iter().all(|&l| (2..=rows.len() + 1).contains(&l)));
            }
            Err(Error::NoRecords { skipped }) => prop_assert_eq!(skipped, n_lines),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}
