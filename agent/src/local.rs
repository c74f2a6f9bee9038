//! The agent's local socket for `tend`, the employee's command: a Unix socket any
//! local user may connect to. Who asks comes from the socket's peer credentials (the
//! kernel's word, never the request's), each user is rate-limited, a request is one
//! bounded JSON line read under a deadline, and the daemon answers it from its loop
//! (`daemon::local`), so a slow or hostile client never blocks the agent. Connections
//! held open at once are capped per user ([`MAX_PER_USER`]) and in total
//! ([`MAX_OPEN`]); one past a cap is answered "busy" and closed at once, so no local
//! user can exhaust the root agent's file descriptors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tend_shared::local::{LocalRequest, LocalResponse, MAX_REQUEST_BYTES};
use tokio::io::{AsyncBufReadExt, AsyncReadExt as _, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

/// Where `tend` looks by default (the packaged agent's socket).
#[cfg(not(target_os = "macos"))]
pub const DEFAULT_SOCKET: &str = "/run/tend/agent.sock";
/// Where `tend` looks by default (the packaged agent's socket: macOS has no `/run`,
/// the .pkg puts the agent under Application Support).
#[cfg(target_os = "macos")]
pub const DEFAULT_SOCKET: &str = "/Library/Application Support/Tend/agent.sock";
/// The packaged agent's state dir, whose socket is [`DEFAULT_SOCKET`].
#[cfg(not(target_os = "macos"))]
const PACKAGED_STATE: &str = "/var/lib/tend/agent";
#[cfg(target_os = "macos")]
const PACKAGED_STATE: &str = "/Library/Application Support/Tend/agent";
/// Requests one local user may make per minute.
const PER_MINUTE: u32 = 30;
/// How long a client has to send its request line.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// How long the daemon has to answer (a `tend help` runs its category's diagnostics).
const ANSWER_DEADLINE: Duration = Duration::from_secs(120);
/// Connections one local user may hold open at once.
pub const MAX_PER_USER: usize = 8;
/// Connections all local users together may hold open at once.
pub const MAX_OPEN: usize = 64;

/// Open connections, per user and in total.
#[derive(Debug, Default)]
struct Open {
    per_user: HashMap<u32, usize>,
    total: usize,
}

/// One open connection's place under the caps, given back when it ends.
struct Slot {
    open: std::sync::Arc<std::sync::Mutex<Open>>,
    uid: u32,
}

impl Slot {
    fn take(open: &std::sync::Arc<std::sync::Mutex<Open>>, uid: u32) -> Option<Slot> {
        let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = o.per_user.get(&uid).copied().unwrap_or(0);
        if mine >= MAX_PER_USER || o.total >= MAX_OPEN {
            return None;
        }
        o.per_user.insert(uid, mine + 1);
        o.total += 1;
        Some(Slot {
            open: open.clone(),
            uid,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|p| p.into_inner());
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.per_user.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                o.per_user.remove(&self.uid);
            }
        }
    }
}

/// A request on its way to the daemon, with who asked.
#[derive(Debug)]
pub struct LocalCall {
    pub uid: u32,
    /// The user's login name (`uid:N` when the system has none).
    pub user: String,
    pub request: LocalRequest,
    pub reply: oneshot::Sender<LocalResponse>,
}

/// The socket for an agent whose state dir is `state`: the packaged path for the
/// default state dir, else a file beside the state dir (tests and demos run several).
pub fn socket_for(state: &Path) -> PathBuf {
    if state == Path::new(PACKAGED_STATE) {
        return PathBuf::from(DEFAULT_SOCKET);
    }
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".sock");
    state.with_file_name(name)
}

/// The login name of `uid`.
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid:{uid}"))
}

/// Binds `path` (replacing a stale socket), readable and writable by every local
/// user, and serves it until the receiver of the returned channel goes away.
pub fn serve(path: &Path) -> std::io::Result<mpsc::Receiver<LocalCall>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept(listener, tx));
    Ok(rx)
}

async fn accept(listener: UnixListener, tx: mpsc::Sender<LocalCall>) {
    let mut windows: HashMap<u32, (Instant, u32)> = HashMap::new();
    let open = std::sync::Arc::new(std::sync::Mutex::new(Open::default()));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // out of descriptors (EMFILE) or the like: back off rather than spin
                tracing::warn!(error = %e, "local socket accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if tx.is_closed() {
            return;
        }
        let Ok(cred) = stream.peer_cred() else {
            continue;
        };
        let uid = cred.uid();
        let Some(slot) = Slot::take(&open, uid) else {
            // answered without waiting (a full socket buffer just loses the line) and
            // closed: nothing of this connection outlives this line
            let _ = stream.try_write(&line(&refused(
                "busy: too many open connections to the agent; try again shortly",
            )));
            continue;
        };
        // a fixed window per user; the table forgets users idle for a minute
        let now = Instant::now();
        windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        let (_, count) = windows.entry(uid).or_insert((now, 0));
        *count += 1;
        let limited = *count > PER_MINUTE;
        let tx = tx.clone();
        tokio::spawn(async move {
            handle(stream, uid, limited, tx).await;
            drop(slot);
        });
    }
}

fn line(r: &LocalResponse) -> Vec<u8> {
    let mut line = serde_json::to_vec(r).unwrap_or_default();
    line.push(b'\n');
    line
}

async fn answer(mut stream: UnixStream, r: &LocalResponse) {
    let _ = tokio::time::timeout(READ_DEADLINE, stream.write_all(&line(r))).await;
}

fn refused(message: impl Into<String>) -> LocalResponse {
    LocalResponse::Error {
        message: message.into(),
    }
}

async fn handle(stream: UnixStream, uid: u32, limited: bool, tx: mpsc::Sender<LocalCall>) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let read = tokio::time::timeout(READ_DEADLINE, async {
        let mut limited = (&mut reader).take(MAX_REQUEST_BYTES as u64 + 1);
        limited.read_until(b'\n', &mut line).await
    })
    .await;
    let stream = reader.into_inner();
    match read {
        Ok(Ok(_)) if line.len() <= MAX_REQUEST_BYTES => {}
        Ok(Ok(_)) => return answer(stream, &refused("request too long")).await,
        _ => return answer(stream, &refused("no request within 5 s")).await,
    }
    // read first, so the client gets the answer rather than a reset connection
    if limited {
        return answer(stream, &refused("too many requests; try again in a minute")).await;
    }
    let request: LocalRequest = match serde_json::from_slice(&line) {
        Ok(r) => r,
        Err(e) => return answer(stream, &refused(format!("bad request: {e}"))).await,
    };
    let user = tokio::task::spawn_blocking(move || user_name(uid))
        .await
        .unwrap_or_else(|_| format!("uid:{uid}"));
    let (reply, rx) = oneshot::channel();
    let call = LocalCall {
        uid,
        user,
        request,
        reply,
    };
    if tx.send(call).await.is_err() {
        return answer(stream, &refused("the agent is stopping")).await;
    }
    let r = match tokio::time::timeout(ANSWER_DEADLINE, rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => refused("the agent could not answer"),
        Err(_) => refused("the agent did not answer in time"),
    };
    answer(stream, &r).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_reaches_the_daemon_with_the_kernel_s_uid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let mut rx = serve(&path).unwrap();
        // the daemon side stays up for the whole test (the server stops with it)
        let daemon = tokio::spawn(async move {
            while let Some(call) = rx.recv().await {
                assert_eq!(call.uid, nix::unistd::getuid().as_raw());
                assert_eq!(call.request, LocalRequest::Status);
                let _ = call.reply.send(LocalResponse::Rated {
                    ticket: "T-1".into(),
                });
            }
        });
        let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
        s.write_all(b"{\"op\":\"status\"}\n").await.unwrap();
        let mut answer = String::new();
        BufReader::new(s).read_line(&mut answer).await.unwrap();
        assert_eq!(answer.trim(), r#"{"result":"rated","ticket":"T-1"}"#);
        // garbage gets an error line, not a hang
        let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
        s.write_all(b"not json\n").await.unwrap();
        let mut answer = String::new();
        BufReader::new(s).read_line(&mut answer).await.unwrap();
        assert!(answer.contains("bad request"), "{answer}");
        daemon.abort();
    }

    #[tokio::test]
    async fn one_user_cannot_hold_more_than_its_share_of_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let mut rx = serve(&path).unwrap();
        let daemon = tokio::spawn(async move {
            while let Some(call) = rx.recv().await {
                let _ = call.reply.send(LocalResponse::Rated {
                    ticket: "T-1".into(),
                });
            }
        });
        // MAX_PER_USER connections that never send anything
        let mut held = Vec::new();
        for _ in 0..MAX_PER_USER {
            held.push(tokio::net::UnixStream::connect(&path).await.unwrap());
        }
        // the next one is told at once, without waiting for the idle ones to time out
        let s = tokio::net::UnixStream::connect(&path).await.unwrap();
        let mut answer = String::new();
        BufReader::new(s).read_line(&mut answer).await.unwrap();
        assert!(answer.contains("busy"), "{answer}");
        // a held one that speaks is served; once it is done there is room again
        let mut first = held.remove(0);
        first.write_all(b"{\"op\":\"status\"}\n").await.unwrap();
        let mut answer = String::new();
        BufReader::new(first).read_line(&mut answer).await.unwrap();
        assert!(answer.contains("rated"), "{answer}");
        // the first one's slot comes back when its task ends: wait for that, no sleep
        let deadline = Instant::now() + Duration::from_secs(30);
        let answer = loop {
            let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
            s.write_all(b"{\"op\":\"status\"}\n").await.unwrap();
            let mut answer = String::new();
            let _ = BufReader::new(s).read_line(&mut answer).await;
            if answer.contains("rated") || Instant::now() > deadline {
                break answer;
            }
            tokio::task::yield_now().await;
        };
        assert!(answer.contains("T-1"));
        daemon.abort();
    }

    #[test]
    fn sockets_sit_beside_the_state_dir_unless_packaged() {
        assert_eq!(
            socket_for(Path::new("/var/lib/tend/agent")),
            PathBuf::from(DEFAULT_SOCKET)
        );
        assert_eq!(
            socket_for(Path::new("/tmp/t/laptop")),
            PathBuf::from("/tmp/t/laptop.sock")
        );
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000), "uid:4000000");
    }
}
