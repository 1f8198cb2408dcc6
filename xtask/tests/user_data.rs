//! A user's own data: `data verify` reports a structurally bad file for what is wrong with it
//! whichever root it is under, and accepts files with no known checksum as user data only under
//! `--data DIR`; `reproduce smoke` on a user's copy of MNIST under `--data DIR`, when the shared
//! MNIST is present (`$NEUROMOL_DATA/mnist`): a re-compressed copy (different file sha256, same
//! content) is recognised by its content's sha256 as the shipped data, and a copy whose content
//! differs runs as user data, which the report says next to the files' sha256.

use std::path::{Path, PathBuf};

use crate::{temp_dir, write, xtask, xtask_with_data_env};

const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// A gzip file holding `bytes` in stored deflate blocks (a compression no MNIST file uses).
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
        *entry = c;
    }
    let crc = !bytes.iter().fold(!0u32, |crc, &byte| {
        table[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8)
    });
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let chunks: Vec<&[u8]> = bytes.chunks(0xffff).collect();
    for (chunk_idx, chunk) in chunks.iter().enumerate() {
        let len = u16::try_from(chunk.len()).unwrap();
        out.push(u8::from(chunk_idx + 1 == chunks.len()));
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(*chunk);
    }
    out.extend(crc.to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out
}

/// A data directory holding the shared MNIST from `shared`, re-compressed, with `edit` applied
/// to the decompressed content of each file (given its name).
fn user_copy(tag: &str, shared: &Path, edit: &dyn Fn(&str, &mut Vec<u8>)) -> PathBuf {
    let root = temp_dir(tag);
    for name in NAMES {
        let original = std::fs::read(shared.join(name)).unwrap();
        let mut content = datasets::idx::decompress(&original).unwrap().into_owned();
        edit(name, &mut content);
        let recompressed = gzip_stored(&content);
        assert_ne!(recompressed, original);
        write(&root.join("mnist"), name, &recompressed);
    }
    root
}

/// Runs `reproduce smoke --quick` on `root` and returns its report.
fn smoke_report(root: &Path) -> String {
    let out = root.join("report");
    let run = xtask::<&std::ffi::OsStr>(&[
        "reproduce".as_ref(),
        "smoke".as_ref(),
        "--quick".as_ref(),
        "--data".as_ref(),
        root.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    std::fs::read_to_string(out.join("report.md")).unwrap()
}

/// The report's sha256 rows (`| sha256 `NAME` | `HEX` |`).
fn sha_rows(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter(|line| line.starts_with("| sha256 "))
        .collect()
}

#[test]
fn smoke_runs_on_a_user_copy_of_mnist() {
    let Some(shared) = std::env::var_os("NEUROMOL_DATA")
        .map(|root| PathBuf::from(root).join("mnist"))
        .filter(|dir| NAMES.iter().all(|name| dir.join(name).is_file()))
    else {
        println!("skipped: needs the shared MNIST in $NEUROMOL_DATA/mnist");
        return;
    };
    // Re-compressed, same content: the shipped data by content, so not user data.
    let same = user_copy("smoke-recompressed", &shared, &|_, _| {});
    let report = smoke_report(&same);
    assert!(!report.contains("user data"), "{report}");
    let shipped_rows = sha_rows(&report).join("\n");
    assert_eq!(sha_rows(&report).len(), 4, "{report}");

    // One pixel of the first training image changed: a valid MNIST that is not the shipped one.
    let changed = user_copy("smoke-user", &shared, &|name, content| {
        if name == "train-images-idx3-ubyte.gz" {
            content[16] ^= 1;
        }
    });
    let report = smoke_report(&changed);
    assert!(
        report.contains("| data: mnist (user data: train-images-idx3-ubyte.gz) |"),
        "{report}"
    );
    assert!(report.contains("**User data**"), "{report}");
    let user_rows = sha_rows(&report);
    assert_eq!(user_rows.len(), 4, "{report}");
    let train_images = |rows: &str| {
        rows.lines()
            .find(|row| row.contains("`train-images-idx3-ubyte.gz`"))
            .unwrap()
            .to_owned()
    };
    // The user file's sha256 is recorded, and it is not the shipped content's.
    assert_ne!(
        train_images(&user_rows.join("\n")),
        train_images(&shipped_rows)
    );
    for row in &user_rows[1..] {
        assert!(shipped_rows.contains(row), "{row}");
    }
    std::fs::remove_dir_all(&same).unwrap();
    std::fs::remove_dir_all(&changed).unwrap();
}

/// The 10-image MNIST fixture under every MNIST name, with the label of training item 4 set to
/// `label`.
fn fixture_mnist(tag: &str, label: u8) -> PathBuf {
    let fixtures = crate::project_root().join("crates/datasets/tests/fixtures");
    let images = std::fs::read(fixtures.join("mnist-t10k-10-images-idx3-ubyte.gz")).unwrap();
    let labels_gz = std::fs::read(fixtures.join("mnist-t10k-10-labels-idx1-ubyte.gz")).unwrap();
    let mut labels = datasets::idx::decompress(&labels_gz).unwrap().into_owned();
    labels[8 + 4] = label;
    let root = temp_dir(tag);
    let dir = root.join("mnist");
    write(&dir, NAMES[0], &images);
    write(&dir, NAMES[1], &gzip_stored(&labels));
    write(&dir, NAMES[2], &images);
    write(&dir, NAMES[3], &labels_gz);
    root
}

#[test]
fn data_verify_checks_structure_whatever_the_root() {
    let verify = ["data", "verify", "--dataset", "mnist"];
    // A label past MNIST's 10 classes: the structural problem is named under either root, next
    // to the checksum mismatch.
    let bad = fixture_mnist("verify-bad", 200);
    let structural = "FAILED   train-labels-idx1-ubyte.gz: structure: label 200 of item 4 is out of \
                      range: the split has 10 classes";
    let from_env = xtask_with_data_env(Some(&bad), &verify);
    let from_arg = xtask(&[
        "data".as_ref(),
        "verify".as_ref(),
        "--dataset".as_ref(),
        "mnist".as_ref(),
        "--data".as_ref(),
        bad.as_os_str(),
    ]);
    for run in [&from_env, &from_arg] {
        assert_eq!(run.code, Some(2), "{}", run.output());
        assert!(run.stdout.contains(structural), "{}", run.output());
        let structural_failures = run
            .stdout
            .lines()
            .filter(|line| line.contains("FAILED") && !line.contains("checksum mismatch"))
            .count();
        assert_eq!(structural_failures, 1, "{}", run.output());
    }
    // Under `--data` the other files are user data; only the bad one fails.
    assert_eq!(
        from_arg.stdout.matches("FAILED").count(),
        2,
        "{}",
        from_arg.output()
    );
    assert!(
        from_env
            .stdout
            .contains("FAILED   train-labels-idx1-ubyte.gz: checksum mismatch"),
        "{}",
        from_env.output()
    );
    // A structurally valid copy that is not the shipped data: user data under `--data`, a
    // checksum mismatch under `NEUROMOL_DATA`.
    let good = fixture_mnist("verify-good", 3);
    let from_env = xtask_with_data_env(Some(&good), &verify);
    assert_eq!(from_env.code, Some(2), "{}", from_env.output());
    assert!(
        from_env.stdout.contains("checksum mismatch") && !from_env.stdout.contains("structure:"),
        "{}",
        from_env.output()
    );
    let from_arg = xtask(&[
        "data".as_ref(),
        "verify".as_ref(),
        "--dataset".as_ref(),
        "mnist".as_ref(),
        "--data".as_ref(),
        good.as_os_str(),
    ]);
    assert_eq!(from_arg.code, Some(0), "{}", from_arg.output());
    assert_eq!(
        from_arg
            .stdout
            .lines()
            .filter(|line| line.contains("user data (no known checksum), structure ok: 10 "))
            .count(),
        4,
        "{}",
        from_arg.output()
    );
    std::fs::remove_dir_all(&bad).unwrap();
    std::fs::remove_dir_all(&good).unwrap();
}
