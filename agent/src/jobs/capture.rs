//! Capturing a script's output with deadlines: both pipes read in one loop with
//! `poll(2)`, each capped at 64 KiB (the rest drained and counted as truncated). The
//! loop ends when the process exits and its pipes close — or, when something it
//! started holds the pipes open (a `setsid` grandchild escapes the process-group
//! kill), a second after it exits: the pipes are closed then, and the result goes out.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Per-stream output cap.
pub const OUTPUT_CAP: usize = 64 * 1024;
/// How long pipes may stay open after the process exited.
const AFTER_EXIT: Duration = Duration::from_secs(1);

/// One captured stream.
#[derive(Debug, Default)]
pub struct Captured {
    pub text: String,
    pub truncated: bool,
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: Captured,
    pub stderr: Captured,
}

struct Stream<R> {
    pipe: Option<R>,
    buf: Vec<u8>,
    truncated: bool,
}

impl<R: Read + AsFd> Stream<R> {
    fn new(pipe: Option<R>) -> Stream<R> {
        if let Some(p) = &pipe {
            let fd = p.as_fd().as_raw_fd();
            if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
                let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
                let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
            }
        }
        Stream {
            pipe,
            buf: Vec::with_capacity(8192),
            truncated: false,
        }
    }

    /// Reads what is there; closes the pipe at end of file.
    fn pump(&mut self) {
        let Some(p) = self.pipe.as_mut() else { return };
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match p.read(&mut chunk) {
                Ok(0) => {
                    self.pipe = None;
                    return;
                }
                Ok(n) => {
                    let room = OUTPUT_CAP - self.buf.len().min(OUTPUT_CAP);
                    self.buf.extend_from_slice(&chunk[..n.min(room)]);
                    self.truncated |= n > room;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return, // WouldBlock: nothing more now
            }
        }
    }

    fn done(self) -> Captured {
        Captured {
            text: String::from_utf8_lossy(&self.buf).into_owned(),
            truncated: self.truncated,
        }
    }
}

/// Reads `child`'s output until it is done (see the module doc), killing its process
/// group `pgid` once `timeout` has passed.
pub fn run(child: &mut Child, pgid: u32, timeout: Duration) -> Outcome {
    let kill_group = || {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pgid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    };
    let deadline = Instant::now() + timeout;
    let mut out = Stream::new(child.stdout.take());
    let mut err = Stream::new(child.stderr.take());
    let mut status = None;
    let mut timed_out = false;
    let mut exited_at: Option<Instant> = None;
    loop {
        {
            let open: Vec<BorrowedFd> = out
                .pipe
                .as_ref()
                .map(|p| p.as_fd())
                .into_iter()
                .chain(err.pipe.as_ref().map(|p| p.as_fd()))
                .collect();
            let mut fds: Vec<PollFd> = open
                .into_iter()
                .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
                .collect();
            if fds.is_empty() {
                std::thread::sleep(Duration::from_millis(10));
            } else {
                let _ = poll(&mut fds, PollTimeout::from(50u16));
            }
        }
        out.pump();
        err.pump();
        if status.is_none() {
            status = child.try_wait().ok().flatten();
        }
        let now = Instant::now();
        if status.is_none() && now >= deadline && !timed_out {
            timed_out = true;
            kill_group();
        }
        if status.is_some() {
            let since = *exited_at.get_or_insert(now);
            if out.pipe.is_none() && err.pipe.is_none() {
                break;
            }
            if now.duration_since(since) >= AFTER_EXIT {
                // something outside the group holds the pipes: stop listening
                kill_group();
                break;
            }
        }
    }
    Outcome {
        status,
        timed_out,
        stdout: out.done(),
        stderr: err.done(),
    }
}
