//! Backups of a sled collector: one file holding every key and value of the store as
//! of one moment (a snapshot taken while the collector serves, see
//! `kv::sled_snapshot`), the data dir's identity files (CA, server and signing keys:
//! a store without them cannot talk to its enrolled agents), and a manifest.
//!
//! Format: `TENDBAK1\n`, then records `[kind u8][len u32][name][len u32][value]`
//! (kind 0 a store key, 1 a file), an end byte `0xff`, the manifest as JSON, and the
//! manifest's length (u64, big-endian). The manifest's `sha256` covers every byte
//! before the end byte, so a restore refuses a truncated or altered file before it
//! writes anything in place.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::kv::sled_kv::SledKv;
use super::kv::Kv;

const MAGIC: &[u8] = b"TENDBAK1\n";
const KV: u8 = 0;
const FILE: u8 = 1;
const END: u8 = 0xff;
/// Longest name or value a record may claim (a release artifact chunk is far less).
const MAX_RECORD: u32 = 256 << 20;

/// What a backup holds, written at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The store layout the records are in.
    pub layout: u64,
    pub made_at_ms: u64,
    pub collector_version: String,
    pub records: u64,
    pub files: Vec<String>,
    /// Records per kind: devices, tickets, events, audit entries, users.
    pub counts: BTreeMap<String, u64>,
    pub sha256: String,
}

impl Manifest {
    /// One line for the operator: records, counts, layout, checksum.
    pub fn summary(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        format!(
            "{} records ({}), {} files, layout {}, sha256 {}",
            self.records,
            counts.join(", "),
            self.files.len(),
            self.layout,
            self.sha256
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Snapshot(#[from] super::kv::sled_snapshot::SnapshotError),
    #[error("the store: {0}")]
    Store(#[from] super::StoreError),
    #[error("not a Tend backup: {0}")]
    Format(String),
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Refused(String),
}

/// What each counted prefix is called in the manifest.
const COUNTED: &[(&[u8], &str)] = &[
    (b"dev/", "devices"),
    (b"tk/", "tickets"),
    (b"ev/", "events"),
    (b"au/", "audit"),
    (b"usr/", "users"),
];

/// Counts store key `name` under its kind, if it is of a counted kind.
fn count(counts: &mut BTreeMap<String, u64>, name: &[u8]) {
    if let Some((_, n)) = COUNTED.iter().find(|(p, _)| name.starts_with(p)) {
        *counts.entry(n.to_string()).or_default() += 1;
    }
}

/// Counts and hashes what passes through.
struct Tally<W> {
    out: W,
    hash: Sha256,
    records: u64,
    counts: BTreeMap<String, u64>,
}

impl<W: Write> Tally<W> {
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hash.update(b);
        self.out.write_all(b)
    }

    fn record(&mut self, kind: u8, name: &[u8], value: &[u8]) -> std::io::Result<()> {
        self.bytes(&[kind])?;
        self.bytes(&(name.len() as u32).to_be_bytes())?;
        self.bytes(name)?;
        self.bytes(&(value.len() as u32).to_be_bytes())?;
        self.bytes(value)?;
        if kind == KV {
            self.records += 1;
            count(&mut self.counts, name);
        }
        Ok(())
    }
}

/// The identity files of a data dir a backup carries (top-level regular files).
pub fn identity_files(data: &Path) -> Result<Vec<(String, Vec<u8>)>, BackupError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(data)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type()?.is_file() && !name.starts_with('.') {
            out.push((name, std::fs::read(e.path())?));
        }
    }
    out.sort();
    Ok(out)
}

/// Writes a backup of `kv` (as of now, while it serves) and `files` to `out`.
pub fn write(
    kv: &SledKv,
    files: &[(String, Vec<u8>)],
    layout: u64,
    now_ms: u64,
    out: impl Write,
) -> Result<Manifest, BackupError> {
    let mut t = Tally {
        out: std::io::BufWriter::with_capacity(1 << 20, out),
        hash: Sha256::new(),
        records: 0,
        counts: BTreeMap::new(),
    };
    t.bytes(MAGIC)?;
    for (name, bytes) in files {
        t.record(FILE, name.as_bytes(), bytes)?;
    }
    kv.snapshot(|k, v| t.record(KV, k, v))?;
    let m = Manifest {
        format: "tend-backup".into(),
        version: 1,
        layout,
        made_at_ms: now_ms,
        collector_version: env!("CARGO_PKG_VERSION").into(),
        records: t.records,
        files: files.iter().map(|(n, _)| n.clone()).collect(),
        counts: t.counts.clone(),
        sha256: hex::encode(t.hash.clone().finalize()),
    };
    let json = serde_json::to_vec(&m).expect("manifest serializes");
    t.out.write_all(&[END])?;
    t.out.write_all(&json)?;
    t.out.write_all(&(json.len() as u64).to_be_bytes())?;
    t.out.flush()?;
    Ok(m)
}

/// A backup of the stopped store under `db` (its layout read from the store) to
/// `out`; `Ok(None)` when a running collector holds the store (ask it over its
/// control socket instead). Blocking.
pub fn from_stopped(
    db: &Path,
    files: &[(String, Vec<u8>)],
    now_ms: u64,
    out: impl Write,
) -> Result<Option<Manifest>, BackupError> {
    let kv = match SledKv::open(db) {
        Ok(kv) => kv,
        Err(super::StoreError::InUse(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let layout: Option<u64> = super::legacy::now(Kv::Sled(kv.clone()).read().meta_get("layout"))?;
    write(&kv, files, layout.unwrap_or(super::LAYOUT), now_ms, out).map(Some)
}

/// Reads `path`'s manifest from its end.
pub fn manifest(path: &Path) -> Result<Manifest, BackupError> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len < (MAGIC.len() + 9) as u64 {
        return Err(BackupError::Format("too short".into()));
    }
    f.seek(SeekFrom::End(-8))?;
    let mut n = [0u8; 8];
    f.read_exact(&mut n)?;
    let n = u64::from_be_bytes(n);
    if n == 0 || n > 1 << 20 || n + 8 > len {
        return Err(BackupError::Format("no manifest at the end".into()));
    }
    f.seek(SeekFrom::End(-8 - n as i64))?;
    let mut json = vec![0u8; n as usize];
    f.read_exact(&mut json)?;
    let m: Manifest =
        serde_json::from_slice(&json).map_err(|e| BackupError::Format(format!("manifest: {e}")))?;
    if m.format != "tend-backup" || m.version != 1 {
        return Err(BackupError::Format(format!(
            "{} version {} (this collector reads tend-backup version 1)",
            m.format, m.version
        )));
    }
    Ok(m)
}

fn take(r: &mut dyn Read, n: usize) -> Result<Vec<u8>, BackupError> {
    let mut b = vec![0u8; n];
    r.read_exact(&mut b)
        .map_err(|_| BackupError::Damaged("it ends in the middle of a record".into()))?;
    Ok(b)
}

/// Reads every record of `path`, checking the hash and counts against the manifest;
/// `f` sees each record (kind, name, value) before the check completes, so callers
/// write into a place they discard on error.
pub fn read(
    path: &Path,
    mut f: impl FnMut(u8, &[u8], &[u8]) -> Result<(), BackupError>,
) -> Result<Manifest, BackupError> {
    let m = manifest(path)?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut hash = Sha256::new();
    let magic = take(&mut r, MAGIC.len())?;
    if magic != MAGIC {
        return Err(BackupError::Format("wrong magic".into()));
    }
    hash.update(&magic);
    let (mut records, mut counts) = (0u64, BTreeMap::<String, u64>::new());
    loop {
        let kind = take(&mut r, 1)?[0];
        if kind == END {
            break;
        }
        if kind != KV && kind != FILE {
            return Err(BackupError::Damaged(format!("unknown record kind {kind}")));
        }
        hash.update([kind]);
        let mut field = |r: &mut dyn Read| -> Result<Vec<u8>, BackupError> {
            let n = take(r, 4)?;
            hash.update(&n);
            let n = u32::from_be_bytes(n.try_into().expect("4 bytes"));
            if n > MAX_RECORD {
                return Err(BackupError::Damaged(format!("a record claims {n} bytes")));
            }
            let b = take(r, n as usize)?;
            hash.update(&b);
            Ok(b)
        };
        let name = field(&mut r)?;
        let value = field(&mut r)?;
        if kind == KV {
            records += 1;
            count(&mut counts, &name);
        }
        f(kind, &name, &value)?;
    }
    let got = hex::encode(hash.finalize());
    if got != m.sha256 || records != m.records || counts != m.counts {
        return Err(BackupError::Damaged(format!(
            "checksum {got} / {records} records, the manifest says {} / {}",
            m.sha256, m.records
        )));
    }
    Ok(m)
}

/// Restores the backup `from` into the data dir `data`, which must not hold a store:
/// everything is written into `<data>.restoring` first and renamed into place only
/// once the checksum and the counts matched.
pub fn restore(from: &Path, data: &Path, layout: u64) -> Result<Manifest, BackupError> {
    let m = manifest(from)?;
    if m.layout > layout {
        return Err(BackupError::Refused(format!(
            "the backup is of store layout {}, made by a newer Tend ({}); this collector knows up to layout {layout}",
            m.layout, m.collector_version
        )));
    }
    if data.join("db").exists() {
        return Err(BackupError::Refused(format!(
            "{} already holds a store (db/): restore into a new directory, or move it aside first \
             (a running collector's store is never overwritten)",
            data.display()
        )));
    }
    if data.exists() && std::fs::read_dir(data)?.next().is_some() {
        return Err(BackupError::Refused(format!(
            "{} is not empty: restore into a new directory",
            data.display()
        )));
    }
    let staging = PathBuf::from(format!("{}.restoring", data.display()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let r = fill(from, &staging);
    if let Err(e) = &r {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(BackupError::Damaged(e.to_string()));
    }
    if data.exists() {
        std::fs::remove_dir(data)?;
    }
    std::fs::rename(&staging, data)?;
    Ok(m)
}

fn fill(from: &Path, staging: &Path) -> Result<Manifest, BackupError> {
    std::fs::create_dir_all(staging)?;
    set_private(staging, 0o700)?;
    // written through the store's own units of work (the writer thread), like any
    // other write to a sled tree
    let engine = Kv::Sled(SledKv::open(&staging.join("db"))?);
    let mut tx = engine.begin();
    let mut pending = 0usize;
    let m = read(from, |kind, name, value| {
        if kind == FILE {
            let name = String::from_utf8_lossy(name).into_owned();
            if name.contains('/') || name.starts_with('.') || name == "db" {
                return Err(BackupError::Damaged(format!("a file named {name:?}")));
            }
            tend_shared::files::write_private(&staging.join(&name), value)?;
            return Ok(());
        }
        tx.put(name.to_vec(), value.to_vec());
        pending += 1;
        if pending == 1000 {
            let full = std::mem::replace(&mut tx, engine.begin());
            super::legacy::now(full.commit())?;
            pending = 0;
        }
        Ok(())
    })?;
    super::legacy::now(tx.commit())?;
    if let Kv::Sled(kv) = &engine {
        kv.flush_blocking()?;
    }
    Ok(m)
}

fn set_private(p: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
}
