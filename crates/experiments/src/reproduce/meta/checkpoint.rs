//! Checkpoint files of meta-training runs: a trainer state plus the episode history, checked
//! before use and written atomically.
//!
//! Layout: the 8-byte magic (`NMMETA` and a two-digit format version, now `NMMETA03`), the
//! payload length (u64 little-endian), the sha256 of the payload (32 bytes), then the payload, bincode 2 (standard config) of [`Checkpoint`].
//! The length and the hash tell a truncated or corrupted file from a valid one before bincode
//! sees it; the config inside tells a file of another run. Files of older formats are refused
//! by their version: bincode is positional, so an older layout would otherwise fail to decode
//! with a message about bytes, not versions. Format 01 was written by revisions up to 8ec9dbd
//! (which added `MetaOptimizerConfig::lr_schedule` and `OnDivergence::Shrink`), format 02 by
//! revisions up to 1b78de4 (the next added `MetaOptimizerConfig::gradient`).

use std::{fs, io::ErrorKind, path::Path};

use anyhow::{Context as _, bail};
use meta_plasticity::{EpisodeStats, MetaConfig, MetaState, MetaTrainer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::write_file;

/// The magic's prefix; the last two bytes are the format version.
const MAGIC_PREFIX: &[u8; 6] = b"NMMETA";
/// The format this build writes and reads.
const FORMAT: &[u8; 2] = b"03";
const HEADER: usize = 8 + 8 + 32;

/// What a checkpoint file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    /// The run's config (its fingerprint must match the resuming run's).
    pub(crate) config: MetaConfig,
    /// Θ, Adam's moments and the next episode.
    pub(crate) state: MetaState,
    /// Statistics of episodes `0..state.next_episode`.
    pub(crate) history: Vec<EpisodeStats>,
}

/// Writes the checkpoint of `trainer` with `history` to `path` (temporary file + rename).
pub(crate) fn save(
    path: &Path,
    trainer: &MetaTrainer,
    history: &[EpisodeStats],
) -> anyhow::Result<()> {
    let checkpoint = Checkpoint {
        config: trainer.config().clone(),
        state: trainer.state(),
        history: history.to_vec(),
    };
    let payload = bincode::serde::encode_to_vec(&checkpoint, bincode::config::standard())
        .with_context(|| format!("encoding checkpoint {}", path.display()))?;
    let mut bytes = Vec::with_capacity(HEADER + payload.len());
    bytes.extend_from_slice(MAGIC_PREFIX);
    bytes.extend_from_slice(FORMAT);
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(&payload));
    bytes.extend_from_slice(&payload);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_file(path, &bytes)
}

/// Reads and checks the checkpoint at `path` against `config`: `Ok(None)` if there is no file,
/// `Ok(Some(..))` for a valid checkpoint of this config, and an error naming the file for
/// anything else (unreadable, truncated, corrupt, undecodable, another config, inconsistent).
pub(crate) fn inspect(path: &Path, config: &MetaConfig) -> anyhow::Result<Option<Checkpoint>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(err).with_context(|| format!("reading checkpoint {}", path.display()));
        }
    };
    let refuse = |reason: String| -> anyhow::Result<Option<Checkpoint>> {
        bail!(
            "refusing checkpoint {}: {reason}; it is left as it is (delete it to start over)",
            path.display()
        )
    };
    if bytes.len() < HEADER || &bytes[..6] != MAGIC_PREFIX {
        return refuse(format!(
            "not a meta-training checkpoint ({} bytes, no `NMMETA` header)",
            bytes.len()
        ));
    }
    if &bytes[6..8] != FORMAT {
        return refuse(format!(
            "checkpoint format {}, this build reads format {} (the config layout changed; \
             a file of another format cannot be resumed)",
            String::from_utf8_lossy(&bytes[6..8]),
            String::from_utf8_lossy(FORMAT)
        ));
    }
    let len_bytes: [u8; 8] = bytes[8..16].try_into().expect("8 bytes");
    let declared = u64::from_le_bytes(len_bytes);
    let actual = (bytes.len() - HEADER) as u64;
    if declared != actual {
        return refuse(format!(
            "truncated or padded: the header declares {declared} payload bytes, the file has {actual}"
        ));
    }
    let payload = &bytes[HEADER..];
    if Sha256::digest(payload).as_slice() != &bytes[16..HEADER] {
        return refuse("corrupt: the payload's sha256 does not match the header".to_string());
    }
    let (checkpoint, used): (Checkpoint, usize) =
        match bincode::serde::decode_from_slice(payload, bincode::config::standard()) {
            Ok(decoded) => decoded,
            Err(err) => return refuse(format!("undecodable payload ({err})")),
        };
    if used != payload.len() {
        return refuse(format!(
            "{} trailing bytes after the payload",
            payload.len() - used
        ));
    }
    if checkpoint.config.fingerprint() != config.fingerprint() {
        return refuse(format!(
            "written under another config (fingerprint {:016x}, this run {:016x}; rule {:?} vs {:?}, seed {} vs {})",
            checkpoint.config.fingerprint(),
            config.fingerprint(),
            checkpoint.config.rule,
            config.rule,
            checkpoint.config.seed,
            config.seed
        ));
    }
    if checkpoint.history.len() != checkpoint.state.next_episode {
        return refuse(format!(
            "holds {} episode records for {} completed episodes",
            checkpoint.history.len(),
            checkpoint.state.next_episode
        ));
    }
    if let Err(err) = MetaTrainer::from_state(config.clone(), checkpoint.state.clone()) {
        return refuse(format!("state does not fit this run ({err})"));
    }
    Ok(Some(checkpoint))
}
