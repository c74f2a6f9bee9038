//! Issue 12 (item 10, 16) against the real `tend-collector serve` over real sockets:
//! with the open-file limit at 1,024, thousands of idle TCP connections and TLS
//! connections trickling a request head never keep a legitimate request out; and
//! hyper's own answers to unparseable requests (a NUL in the path, a negative
//! `Content-Length`, a thousand headers) carry the JSON error body, as does a GET
//! that carries a body.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    child: std::process::Child,
    addr: String,
    ca: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real collector, started under `ulimit -n 1024`.
fn start(data: &std::path::Path) -> Server {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 1024 && exec {} serve --data {} --listen 127.0.0.1:0",
            tend_e2e::bin("tend-collector").display(),
            data.display()
        ))
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("collector output").unwrap();
        if let Some(u) = line.strip_prefix("listening on https://") {
            break u.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        ca: std::fs::read_to_string(data.join("ca.pem")).unwrap(),
        addr: url,
    }
}

fn tls_connector(ca: &str) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

/// Sends raw HTTP/1.1 bytes over TLS and returns the whole answer.
async fn raw(server: &Server, request: &[u8]) -> String {
    let tcp = TcpStream::connect(&server.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tls_connector(&server.ca).connect(name, tcp).await.unwrap();
    tls.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn json_error(answer: &str, status: &str) {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status}")),
        "{answer}"
    );
    let body = answer.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("no JSON body ({e}) in {answer:?}"));
    assert!(
        v["error"]["code"].is_string() && v["error"]["message"].is_string(),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_level_errors_carry_the_json_body() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("c"));
    let nul = raw(&server, b"GET /he\0llo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    json_error(&nul, "400");
    let negative = raw(
        &server,
        b"POST /api/v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    )
    .await;
    json_error(&negative, "400");
    let mut many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..1000 {
        many.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let answer = raw(&server, &many).await;
    json_error(&answer, "431");
    // a GET with a body gets its whole answer
    let body = "x".repeat(200_000);
    let get = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = raw(&server, get.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with('}'), "cut short: {answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_never_keep_a_real_request_out() {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1024);
    assert!(
        limit >= 4_000,
        "this test opens thousands of sockets; raise `ulimit -n` (now {limit})"
    );
    let (idle_n, slow_n) = ((limit - 1_000).min(5_000), 2_000.min((limit - 1_000) / 3));
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("c"));
    let connector = tls_connector(&server.ca);

    // 2,000 TLS connections trickling a request head that never ends
    let mut slow = Vec::new();
    for _ in 0..slow_n {
        let (connector, addr) = (connector.clone(), server.addr.clone());
        slow.push(tokio::spawn(async move {
            let tcp = TcpStream::connect(&addr).await.ok()?;
            let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let mut tls =
                tokio::time::timeout(Duration::from_secs(20), connector.connect(name, tcp))
                    .await
                    .ok()?
                    .ok()?;
            tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .ok()?;
            Some(tls)
        }));
    }
    // and thousands of idle TCP connections that never even start TLS
    let mut idle = Vec::new();
    for _ in 0..idle_n {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&server.addr)).await
        {
            idle.push(s);
        }
    }
    let mut trickling = Vec::new();
    for t in slow {
        if let Some(s) = t.await.unwrap() {
            trickling.push(s);
        }
    }
    assert!(
        idle.len() > 1_000,
        "opened only {} idle connections",
        idle.len()
    );

    // a real client still gets in, again and again, while they are all open
    let mut took = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let client = tend_client::pinned_client(&server.ca, Duration::from_secs(30)).unwrap();
        let r = client
            .get(format!("https://{}/healthz", server.addr))
            .send()
            .await
            .expect("a legitimate request with thousands of idle connections open");
        assert!(r.status().is_success());
        took.push(start.elapsed());
    }
    eprintln!(
        "{} idle + {} trickling connections; real requests took {took:?}",
        idle.len(),
        trickling.len()
    );
    // the collector stays inside its file limit
    let fds = std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(fds < 1_024, "{fds} descriptors open");
    drop((idle, trickling));
}
