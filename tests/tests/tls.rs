//! The company's own certificate (issue 26 §1): `serve --tls-cert/--tls-key` serves a
//! chain made by a private root and an intermediate, reloads it when the files change
//! (a broken replacement is refused and the old chain stays), keeps open connections
//! through a reload, survives SIGHUP; `tendctl` without `--ca` trusts the system's
//! roots (`SSL_CERT_FILE`) and refuses a certificate they do not sign; the enrollment
//! bundle pins the chain that issued the certificate.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tend_e2e::{bin, signal, wait_for, CollectorProc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Pki {
    root_pem: String,
    intermediate_pem: String,
    intermediate: Issuer<'static, KeyPair>,
}

fn pki() -> Pki {
    let root_key = KeyPair::generate().unwrap();
    let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_cert = root.self_signed(&root_key).unwrap();
    let root = Issuer::new(root, root_key);
    let int_key = KeyPair::generate().unwrap();
    let mut int = CertificateParams::new(Vec::<String>::new()).unwrap();
    int.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let int_cert = int.signed_by(&int_key, &root).unwrap();
    Pki {
        root_pem: root_cert.pem(),
        intermediate_pem: int_cert.pem(),
        intermediate: Issuer::new(int, int_key),
    }
}

/// A leaf for 127.0.0.1 signed by the intermediate: (chain PEM, key PEM, leaf DER).
fn leaf(p: &Pki) -> (String, String, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &p.intermediate)
        .unwrap();
    let chain = format!("{}{}{}", cert.pem(), p.intermediate_pem, p.root_pem);
    (chain, key.serialize_pem(), cert.der().to_vec())
}

/// Replaces `path` whole (a renewal tool writes a temp file and renames it).
fn put(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn connector(root_pem: &str) -> tokio_rustls::TlsConnector {
    tend_client::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

/// A TLS connection to the collector, trusting only `root_pem`.
async fn connect(
    port: u16,
    root_pem: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    connector(root_pem).connect(name, tcp).await.unwrap()
}

/// The leaf certificate a new handshake gets.
async fn served_leaf(port: u16, root_pem: &str) -> Vec<u8> {
    let tls = connect(port, root_pem).await;
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

async fn get_healthz(tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> String {
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tls.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn tendctl(url: &str, token: &str, cert_file: Option<&Path>) -> std::process::Output {
    let mut c = Command::new(bin("tendctl"));
    c.args(["--server", url, "--token", token, "devices"])
        .env_remove("TEND_CA")
        .env_remove("SSL_CERT_DIR");
    match cert_file {
        Some(f) => c.env("SSL_CERT_FILE", f),
        // a roots file without our root: what a laptop's system store is to this CA
        None => c.env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
    };
    c.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_company_certificate_is_served_reloaded_and_trusted_through_system_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let p = pki();
    let (chain1, key1, der1) = leaf(&p);
    let (cert_path, key_path) = (
        tmp.path().join("tls/chain.pem"),
        tmp.path().join("tls/key.pem"),
    );
    std::fs::create_dir_all(cert_path.parent().unwrap()).unwrap();
    put(&cert_path, &chain1);
    put(&key_path, &key1);
    let collector = CollectorProc::start_args(
        &tmp.path().join("collector"),
        0,
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    );
    let port = collector.port;
    assert_eq!(
        served_leaf(port, &p.root_pem).await,
        der1,
        "the company's leaf is served"
    );

    // tendctl without --ca: the system's roots, here a file holding only our root
    let root_file = tmp.path().join("root.pem");
    std::fs::write(&root_file, &p.root_pem).unwrap();
    let admin = collector.admin_token.clone().unwrap();
    let ok = tendctl(&collector.url, &admin, Some(&root_file));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let refused = tendctl(&collector.url, &admin, None);
    assert!(
        !refused.status.success(),
        "a root the system does not hold is refused"
    );

    // the enrollment bundle pins the chain that issued the certificate
    let out = Command::new(bin("tend-collector"))
        .args(["bundle", "--data"])
        .arg(&collector.data)
        .args(["--server", &collector.url, "--tls-cert"])
        .arg(&cert_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle: tend_shared::bundle::EnrollmentBundle =
        serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        bundle.ca_pem.contains(p.intermediate_pem.trim())
            && bundle.ca_pem.contains(p.root_pem.trim())
    );
    let pinned = tend_client::Client::new(&collector.url, &bundle.ca_pem, None).unwrap();
    let h: tend_shared::api::Health = pinned.get("/healthz").await.unwrap();
    assert_eq!(h.status, "ok");

    // a connection opened before the renewal keeps working after it
    let mut open = connect(port, &p.root_pem).await;
    assert!(get_healthz(&mut open).await.starts_with("HTTP/1.1 200"));
    let (chain2, key2, der2) = leaf(&p);
    put(&key_path, &key2);
    put(&cert_path, &chain2);
    wait_for(
        "the renewed certificate served",
        Duration::from_secs(20),
        || async { (served_leaf(port, &p.root_pem).await == der2).then_some(()) },
    )
    .await;
    assert!(
        get_healthz(&mut open).await.starts_with("HTTP/1.1 200"),
        "the open connection survived"
    );

    // a half-written replacement is refused; the renewed chain stays in service
    put(&cert_path, "-----BEGIN CERTIFICATE-----\nnot base64\n");
    signal(&collector.child, "HUP");
    // SIGHUP reloads (it does not end the process); the broken file is refused
    let (chain3, _, _) = leaf(&p);
    put(&cert_path, &chain3); // chain3 with key2: a key that is not the leaf's
    signal(&collector.child, "HUP");
    wait_for(
        "the collector still serving",
        Duration::from_secs(10),
        || async {
            let fresh = pinned
                .get::<tend_shared::api::Health>("/healthz")
                .await
                .ok()?;
            (fresh.status == "ok").then_some(())
        },
    )
    .await;
    assert_eq!(
        served_leaf(port, &p.root_pem).await,
        der2,
        "refused replacements leave the renewed chain"
    );
    put(&cert_path, &chain2);
    collector.stop();
}

#[test]
fn a_certificate_file_without_its_chain_or_with_the_wrong_key_is_refused_at_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let p = pki();
    let (chain, key, _) = leaf(&p);
    let (_, other_key, _) = leaf(&p);
    let leaf_only: String = chain
        .split_inclusive("-----END CERTIFICATE-----")
        .next()
        .unwrap()
        .to_string();
    let check = |cert: &str, key: &str| {
        let dir = tmp.path().join(format!("c{}", cert.len() + key.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("chain.pem"), cert).unwrap();
        std::fs::write(dir.join("key.pem"), key).unwrap();
        let cfg = dir.join("collector.toml");
        std::fs::write(
            &cfg,
            format!(
                "data = {:?}\ntls_cert = {:?}\ntls_key = {:?}\n",
                dir.join("data"),
                dir.join("chain.pem"),
                dir.join("key.pem")
            ),
        )
        .unwrap();
        let out = Command::new(bin("tend-collector"))
            .args(["validate", "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(check(&chain, &key).0, "{}", check(&chain, &key).1);
    let (ok, err) = check(&leaf_only, &key);
    assert!(!ok && err.contains("append the chain"), "{err}");
    let (ok, err) = check(&chain, &other_key);
    assert!(!ok && err.contains("does not go with"), "{err}");
}
