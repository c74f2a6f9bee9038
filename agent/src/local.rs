//! The agent's local socket for `tend`, the employee's command: a Unix socket any
//! local user may connect to. Who asks comes from the socket's peer credentials (the
//! kernel's word, never the request's), each user is rate-limited, a request is one
//! bounded JSON line read under a deadline, and the daemon answers it from its loop
//! (`daemon::local`), so a slow or hostile client never blocks the agent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tend_shared::local::{LocalRequest, LocalResponse, MAX_REQUEST_BYTES};
use tokio::io::{AsyncBufReadExt, AsyncReadExt as _, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

/// Where `tend` looks by default (the packaged agent's socket).
pub const DEFAULT_SOCKET: &str = "/run/tend/agent.sock";
/// Requests one local user may make per minute.
const PER_MINUTE: u32 = 30;
/// How long a client has to send its request line.
const READ_DEADLINE: Duration = Duration::from_secs(5);

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
    if state == Path::new("/var/lib/tend/agent") {
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
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if tx.is_closed() {
            return;
        }
        let Ok(cred) = stream.peer_cred() else {
            continue;
        };
        let uid = cred.uid();
        // a fixed window per user; the table forgets users idle for a minute
        let now = Instant::now();
        windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        let (_, count) = windows.entry(uid).or_insert((now, 0));
        *count += 1;
        let limited = *count > PER_MINUTE;
        tokio::spawn(handle(stream, uid, limited, tx.clone()));
    }
}

async fn answer(mut stream: UnixStream, r: &LocalResponse) {
    let mut line = serde_json::to_vec(r).unwrap_or_default();
    line.push(b'\n');
    let _ = tokio::time::timeout(READ_DEADLINE, stream.write_all(&line)).await;
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
    let r = rx
        .await
        .unwrap_or_else(|_| refused("the agent could not answer"));
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
