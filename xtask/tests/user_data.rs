//! `reproduce smoke` on a user's copy of MNIST under `--data DIR`, when the shared MNIST is
//! present (`$NEUROMOL_DATA/mnist`): a re-compressed copy (different file sha256, same content)
//! is recognised by its content's sha256 as the shipped data, and a copy whose content differs
//! runs as user data, which the report says next to the files' sha256.

use std::path::{Path, PathBuf};

use crate::{temp_dir, write, xtask};

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
