//! Throwaway PostgreSQL clusters for Tend's tests.
//!
//! [`cluster`] starts one real cluster per test binary (initdb + pg_ctl in a temp dir,
//! on a free 127.0.0.1 port and a private unix socket) the first time a test asks, and
//! [`Cluster::database`] gives each test its own fresh database. Binaries come from
//! `TEND_PG_BIN`, the `PATH`, or Debian's `/usr/lib/postgresql/<version>/bin`. As
//! root the server runs as the `postgres` user (PostgreSQL refuses root).
//!
//! Nothing is skipped: without PostgreSQL the first test that needs it fails and says
//! how to install it (`.ci/run` does). The cluster stops and its directory goes when
//! the test process exits, however it exits: a guardian shell waits for the process's
//! end of a pipe to close.
//!
//! Test clusters run with `fsync=off` (the data is thrown away); benchmarks start
//! their own with the defaults.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    socket_dir: PathBuf,
    as_postgres: bool,
    next: AtomicU32,
    /// Holding this pipe open keeps the guardian waiting; it stops the cluster once
    /// the pipe closes.
    guardian: Mutex<Option<(Child, std::process::ChildStdin)>>,
}

/// How to start a cluster.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Durable settings (fsync on), for benchmarks.
    pub durable: bool,
    /// Extra `-c name=value` settings.
    pub settings: Vec<(String, String)>,
    /// Serve TLS with this certificate and key (PEM).
    pub tls: Option<(String, String)>,
    /// Pin the server to these CPUs (`taskset -c`), for benchmarks.
    pub cpus: Option<String>,
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

/// The cluster of this test binary (started on first use).
pub fn cluster() -> &'static Cluster {
    SHARED.get_or_init(|| Cluster::start(&Options::default()).unwrap_or_else(|e| panic!("{e}")))
}

/// A fresh database on this test binary's cluster: its connection URL.
pub fn database() -> String {
    cluster().database()
}

fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("TEND_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
                return Ok(dir);
            }
        }
    }
    Err(
        "PostgreSQL is not installed: the PostgreSQL tests need initdb and pg_ctl \
         (Debian: apt-get install postgresql; .ci/run installs it), or set TEND_PG_BIN"
            .into(),
    )
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

impl Cluster {
    /// Starts a new cluster (tests share [`cluster`]; benchmarks and TLS tests start
    /// their own).
    pub fn start(opts: &Options) -> Result<Cluster, String> {
        let bin = find_bin()?;
        let as_postgres = is_root();
        let tmp = tempfile::Builder::new()
            .prefix("tend-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?
            .keep();
        let data = tmp.join("data");
        let socket_dir = tmp.join("sock");
        std::fs::create_dir_all(&socket_dir).map_err(|e| e.to_string())?;
        if as_postgres {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&tmp);
                    c
                },
                "chown",
            )?;
        }
        let cmd = |name: &str| -> Command {
            let mut argv: Vec<std::ffi::OsString> = Vec::new();
            if as_postgres {
                argv.extend(["runuser", "-u", "postgres", "--"].map(Into::into));
            }
            if let (Some(cpus), "pg_ctl") = (&opts.cpus, name) {
                argv.extend(["taskset".into(), "-c".into(), cpus.into()]);
            }
            argv.push(bin.join(name).into());
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        };
        let mut init = cmd("initdb");
        init.arg("-D").arg(&data).args([
            "-U",
            "tend",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(init, "initdb")?;
        let mut conf = String::new();
        if !opts.durable {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        conf.push_str("max_connections = 300\nshared_buffers = 128MB\n");
        for (k, v) in &opts.settings {
            conf.push_str(&format!("{k} = '{v}'\n"));
        }
        if let Some((cert, key)) = &opts.tls {
            write_file(&data.join("server.crt"), cert.as_bytes(), as_postgres)?;
            write_file(&data.join("server.key"), key.as_bytes(), as_postgres)?;
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .map_err(|e| e.to_string())?;
        f.write_all(conf.as_bytes()).map_err(|e| e.to_string())?;
        // a port can be taken between picking and binding: try a few
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let mut start = cmd("pg_ctl");
            start
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(tmp.join("log"))
                .args(["-w", "-t", "60", "start", "-o"])
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1",
                    socket_dir.display()
                ));
            match run(start, "pg_ctl start") {
                Ok(()) => {
                    let guardian = guardian(&bin, &data, &tmp, as_postgres)?;
                    return Ok(Cluster {
                        bin,
                        data,
                        port,
                        socket_dir,
                        as_postgres,
                        next: AtomicU32::new(0),
                        guardian: Mutex::new(Some(guardian)),
                    });
                }
                Err(e) => {
                    let log = std::fs::read_to_string(tmp.join("log")).unwrap_or_default();
                    last = format!("{e}\n{log}");
                }
            }
        }
        Err(format!("PostgreSQL did not start: {last}"))
    }

    /// The postmaster's pid (benchmarks add up the server's CPU time).
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its unix socket directory.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The URL of database `db` over TCP.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://tend@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// Runs one SQL statement as the superuser on database `db`.
    pub fn sql(&self, db: &str, statement: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "tend",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-d")
            .arg(db)
            .arg("-c")
            .arg(statement)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Creates a fresh, empty database and returns its URL.
    pub fn database(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        self.sql("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        self.url(&name)
    }

    /// `pg_ctl`, as the `postgres` user when we are root.
    fn pg_ctl(&self) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        }
    }

    /// Restarts the server as an operator would (`pg_ctl restart -m fast`: sessions are
    /// cut, it is down for a moment, then starting up), on the same port and socket.
    pub fn restart(&self) -> Result<(), String> {
        let mut c = self.pg_ctl();
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.with_file_name("log"))
            .args(["-m", "fast", "-w", "-t", "60", "restart"]);
        run(c, "pg_ctl restart")
    }

    /// Stops the cluster now (it is stopped at exit anyway).
    pub fn stop(&self) {
        let mut c = self.pg_ctl();
        c.arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"]);
        let _ = run(c, "pg_ctl stop");
        if let Some((mut child, stdin)) = self.guardian.lock().expect("guardian lock").take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

fn write_file(path: &Path, bytes: &[u8], as_postgres: bool) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| e.to_string())?;
    if as_postgres {
        let mut c = Command::new("chown");
        c.arg("postgres:postgres").arg(path);
        run(c, "chown")?;
    }
    Ok(())
}

/// A shell that waits for its stdin to close (this process ending), then stops the
/// cluster and removes its directory.
fn guardian(
    bin: &Path,
    data: &Path,
    tmp: &Path,
    as_postgres: bool,
) -> Result<(Child, std::process::ChildStdin), String> {
    let stop = if as_postgres {
        "runuser -u postgres -- \"$PG_CTL\" -D \"$DATA\" -m immediate stop"
    } else {
        "\"$PG_CTL\" -D \"$DATA\" -m immediate stop"
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "read _ignored; {stop} >/dev/null 2>&1; rm -rf \"$TMP\""
        ))
        .env("PG_CTL", bin.join("pg_ctl"))
        .env("DATA", data)
        .env("TMP", tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("guardian: {e}"))?;
    let stdin = child.stdin.take().expect("piped stdin");
    Ok((child, stdin))
}

use std::os::unix::process::CommandExt;
