//! The data dir's control socket (`<data>/control.sock`, mode 0600): how
//! `tend-collector backup` reaches the running collector, since only one process
//! may open a sled store. Whoever can open the socket can already read the data dir
//! (it is the collector's own user or root), so the socket asks for nothing more.
//!
//! Protocol: the client writes one line, `backup`; the collector answers `ok` and the
//! backup file's bytes (`store::backup`), or `error: <why>`, and closes.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use crate::store::Store;

/// The socket under `data`.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join("control.sock")
}

/// The control socket's thread; stopping (or dropping) it closes the socket.
pub struct Control {
    path: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Control {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // wake the accept loop so it sees the flag
        let _ = UnixStream::connect(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on the data dir's control socket while the collector serves (a thread of
/// its own: backups are blocking reads of the store). A socket that cannot be made
/// is logged, not fatal: online backups are then unavailable.
pub fn listen(data: &Path, store: Store) -> Option<Control> {
    let path = socket_path(data);
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "no control socket: online backups are unavailable");
            return None;
        }
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (data, flag) = (data.to_path_buf(), stop.clone());
    let spawned = std::thread::Builder::new()
        .name("tend-control".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                if let Err(e) = answer(conn, &data, &store) {
                    tracing::warn!(error = %e, "control socket request failed");
                }
            }
        });
    match spawned {
        Ok(t) => Some(Control {
            path,
            stop,
            thread: Some(t),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "no control socket thread: online backups are unavailable");
            None
        }
    }
}

fn answer(conn: UnixStream, data: &Path, store: &Store) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(conn.try_clone()?).read_line(&mut line)?;
    let mut out = std::io::BufWriter::new(conn);
    match line.trim() {
        "backup" => {
            let crate::store::kv::Kv::Sled(kv) = store.kv() else {
                return writeln!(
                    out,
                    "error: this collector's store is PostgreSQL: back it up with pg_dump"
                );
            };
            let files = match crate::store::backup::identity_files(data) {
                Ok(f) => f,
                Err(e) => return writeln!(out, "error: {e}"),
            };
            out.write_all(b"ok\n")?;
            let now = tend_shared::now_ms();
            match crate::store::backup::write(kv, &files, crate::store::LAYOUT, now, &mut out) {
                Ok(m) => {
                    tracing::info!(records = m.records, sha256 = %m.sha256, "online backup sent");
                    Ok(())
                }
                // the client sees a stream without its manifest and says so
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        }
        other => writeln!(out, "error: unknown request {other:?}"),
    }
}

/// Asks the collector serving `data` for a backup; the stream after `ok` goes to
/// `out`.
pub fn request_backup(data: &Path, out: &mut impl Write) -> Result<(), String> {
    let path = socket_path(data);
    let conn = UnixStream::connect(&path).map_err(|e| {
        format!(
            "the store is in use, but its collector does not answer on {}: {e}",
            path.display()
        )
    })?;
    (&conn).write_all(b"backup\n").map_err(|e| e.to_string())?;
    let mut r = BufReader::with_capacity(1 << 20, conn);
    let mut first = String::new();
    r.read_line(&mut first).map_err(|e| e.to_string())?;
    match first.trim_end() {
        "ok" => std::io::copy(&mut r, out)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        other => Err(other.strip_prefix("error: ").unwrap_or(other).to_string()),
    }
}
