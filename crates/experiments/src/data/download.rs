//! Downloading one file: to `<name>.part`, checksum-verified, then renamed into place.
//!
//! The final name only ever appears through an atomic rename of a fully downloaded and verified
//! `.part` file, so an interrupted download never looks complete. A `.part` left over from an
//! interrupted run is overwritten by the next one.

use std::{
    fs,
    io::{self, Read, Write},
    path::Path,
    time::Duration,
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{check, registry::FileSpec};

/// Downloads `file` into `dir`, trying its URLs in order; returns its identifying sha256.
///
/// A URL whose download fails or whose content does not match the registry checksum is skipped
/// (its `.part` deleted); the error lists what went wrong with every URL.
pub(crate) fn fetch_file(file: &FileSpec, dir: &Path) -> anyhow::Result<String> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let final_path = dir.join(file.name);
    let part_path = dir.join(format!("{}.part", file.name));
    let agent = agent();
    let mut failures = Vec::new();
    for url in file.urls {
        match download(&agent, url, &part_path, file.name) {
            Ok(()) => {}
            Err(err) => {
                remove_part(&part_path);
                failures.push(format!("{url}: {err:#}"));
                continue;
            }
        }
        let verified = fs::read(&part_path)
            .map_err(|err| format!("cannot read back {}: {err}", part_path.display()))
            .and_then(|bytes| check::checksum(file, &bytes).map(|(sha, _)| sha));
        match verified {
            Ok(sha) => {
                fs::rename(&part_path, &final_path).with_context(|| {
                    format!(
                        "cannot rename {} to {}",
                        part_path.display(),
                        final_path.display()
                    )
                })?;
                return Ok(sha);
            }
            Err(problem) => {
                remove_part(&part_path);
                failures.push(format!("{url}: downloaded, but {problem}"));
            }
        }
    }
    bail!(
        "could not download {} into {}:\n  {}",
        file.name,
        dir.display(),
        failures.join("\n  ")
    )
}

/// An HTTP agent with connect and read timeouts, so a dead server cannot hang the download.
fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build();
    ureq::Agent::new_with_config(config)
}

/// Streams `url` into `part_path` with a progress bar on stderr.
///
/// Fails on an HTTP error status, a connection lost mid-body (ureq checks `Content-Length`), or a
/// body shorter than announced.
fn download(agent: &ureq::Agent, url: &str, part_path: &Path, name: &str) -> anyhow::Result<()> {
    let response = agent.get(url).call().context("request failed")?;
    let body = response.into_body();
    let expected_len = body.content_length();
    let progress = match expected_len {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                .expect("the template is valid"),
        ),
    };
    progress.set_message(name.to_owned());
    let mut reader = progress.wrap_read(body.into_reader());
    let mut out = io::BufWriter::new(
        fs::File::create(part_path)
            .with_context(|| format!("cannot create {}", part_path.display()))?,
    );
    let written = copy(&mut reader, &mut out)?;
    let file = out.into_inner().map_err(|err| err.into_error())?;
    file.sync_all()
        .context("cannot flush the download to disk")?;
    progress.finish_and_clear();
    if let Some(len) = expected_len
        && written != len
    {
        bail!("connection closed after {written} of {len} bytes");
    }
    Ok(())
}

/// `io::copy`, with the error naming which side failed.
fn copy(reader: &mut impl Read, writer: &mut impl Write) -> anyhow::Result<u64> {
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                return Err(err).context(format!("download interrupted after {total} bytes"));
            }
        };
        writer
            .write_all(&buffer[..n])
            .context("cannot write the download")?;
        total += n as u64;
    }
}

/// Deletes a `.part` file, ignoring "not found".
fn remove_part(part_path: &Path) {
    // Best effort: the next download overwrites a leftover `.part` anyway.
    let _ = fs::remove_file(part_path);
}

#[cfg(test)]
mod tests {
    use std::{
        io::{BufRead, BufReader},
        net::TcpListener,
        path::PathBuf,
        thread,
        time::Instant,
    };

    use super::*;
    use crate::data::registry::Format;

    /// How the test server answers its one request.
    #[derive(Clone, Copy)]
    enum Serve {
        /// The whole body with a correct `Content-Length`.
        Whole,
        /// Announces the whole length, sends half the body, then closes the connection.
        DieMidBody,
    }

    /// Serves `body` once on 127.0.0.1 and returns the URL; the thread stops by itself after one
    /// connection or 20 seconds.
    fn serve_once(body: Vec<u8>, mode: Serve) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                let Ok((stream, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let mut stream = reader.into_inner();
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let sent = match mode {
                    Serve::Whole => &body[..],
                    Serve::DieMidBody => &body[..body.len() / 2],
                };
                let _ = stream.write_all(header.as_bytes());
                let _ = stream.write_all(sent);
                let _ = stream.flush();
                return;
            }
        });
        format!("http://127.0.0.1:{port}/file.bin")
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("neuromol-download-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A registry entry for a served file; leaked so it has the registry's `'static` lifetime.
    fn spec(url: String, sha256: String) -> FileSpec {
        FileSpec {
            name: "file.bin",
            urls: Box::leak(vec![&*Box::leak(url.into_boxed_str())].into_boxed_slice()),
            sha256: Box::leak(sha256.into_boxed_str()),
            sha256_decompressed: None,
            format: Format::Zip,
        }
    }

    fn body() -> Vec<u8> {
        (0..200_000u32).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn good_checksum_renames_into_place() {
        let dir = temp_dir("ok");
        let body = body();
        let file = spec(
            serve_once(body.clone(), Serve::Whole),
            check::sha256_hex(&body),
        );
        let sha = fetch_file(&file, &dir).unwrap();
        assert_eq!(sha, file.sha256);
        assert_eq!(fs::read(dir.join("file.bin")).unwrap(), body);
        assert!(!dir.join("file.bin.part").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_checksum_leaves_nothing_behind() {
        let dir = temp_dir("bad-sha");
        let file = spec(serve_once(body(), Serve::Whole), "0".repeat(64));
        let err = format!("{:#}", fetch_file(&file, &dir).unwrap_err());
        assert!(err.contains("checksum mismatch"), "{err}");
        assert!(!dir.join("file.bin").exists());
        assert!(!dir.join("file.bin.part").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn server_dying_mid_body_leaves_nothing_behind() {
        let dir = temp_dir("die");
        let body = body();
        let file = spec(
            serve_once(body.clone(), Serve::DieMidBody),
            check::sha256_hex(&body),
        );
        let err = format!("{:#}", fetch_file(&file, &dir).unwrap_err());
        assert!(err.contains("file.bin"), "{err}");
        assert!(!dir.join("file.bin").exists());
        assert!(!dir.join("file.bin.part").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreachable_server_is_an_error() {
        let dir = temp_dir("refused");
        // Bind and drop a listener so the port is (almost certainly) closed.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let file = spec(format!("http://127.0.0.1:{port}/x"), "0".repeat(64));
        assert!(fetch_file(&file, &dir).is_err());
        assert!(!dir.join("file.bin").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
