//! The certificate the collector serves: by default the one its own CA issued (in the
//! data dir); with `tls_cert`/`tls_key` the company's chain (PEM, leaf first, then its
//! intermediates). The company's files are read again on SIGHUP and when they change
//! on disk, without dropping a connection: the resolver hands each new handshake the
//! chain loaded last, and open connections keep theirs. A replacement that does not
//! load (half written, wrong key, expired, no chain) is refused and logged,
//! and the previous chain stays in service.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::ServeError;

/// The company's certificate chain and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Parses a chain (leaf first) and its private key, checking that the key is the
/// leaf's and that the leaf is valid now.
pub fn load_pair(cert_pem: &[u8], key_pem: &[u8], now_s: i64) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate file: {e}"))?;
    if chain.is_empty() {
        return Err("the certificate file holds no CERTIFICATE block".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("the key file: {e}"))?;
    let provider = rustls::crypto::ring::default_provider();
    let ck = CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("the key does not go with the certificate: {e}"))?;
    let (not_before, not_after) =
        validity(&ck.cert[0]).ok_or("the certificate's validity is unreadable")?;
    if now_s < not_before || now_s > not_after {
        return Err(format!(
            "the certificate is not valid now (valid from {not_before} to {not_after}, seconds since the epoch)"
        ));
    }
    Ok(ck)
}

/// The certificates after the leaf (intermediates, and the root if the file has it):
/// what an enrollment bundle pins when the collector serves the company's chain.
pub fn issuing_chain(cert_pem: &str) -> Result<String, String> {
    let blocks: Vec<&str> = cert_pem
        .split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .collect();
    if blocks.len() < 2 {
        return Err(
            "the certificate file holds only the server's certificate: append the chain that issued it (intermediates, then the root) so enrolled agents can pin it"
                .into(),
        );
    }
    Ok(blocks[1..]
        .iter()
        .map(|b| format!("{}\n", b.trim()))
        .collect())
}

/// notBefore and notAfter of a DER certificate, as Unix seconds.
fn validity(der: &CertificateDer<'_>) -> Option<(i64, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let v = cert.validity();
    Some((v.not_before.timestamp(), v.not_after.timestamp()))
}

/// What the TLS acceptor asks for a certificate: always the chain loaded last.
#[derive(Debug)]
pub struct ServedCert {
    current: RwLock<Arc<CertifiedKey>>,
    files: Option<OwnCert>,
}

impl ResolvesServerCert for ServedCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .expect("certificate lock poisoned")
                .clone(),
        )
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The company's chain and key read from their files: a pair that loads
/// ([`load_pair`]) and a chain that names its issuers ([`issuing_chain`], what agents
/// pin). `validate`, start-up and every reload go through it.
pub fn read_pair(files: &OwnCert) -> Result<CertifiedKey, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let cert = read(&files.cert)?;
    issuing_chain(&String::from_utf8_lossy(&cert))?;
    load_pair(&cert, &read(&files.key)?, now_s())
}

impl ServedCert {
    /// The data dir's own certificate (never reloaded: it changes with the data dir).
    pub fn fixed(cert_pem: &str, key_pem: &str) -> Result<ServedCert, ServeError> {
        let ck =
            load_pair(cert_pem.as_bytes(), key_pem.as_bytes(), now_s()).map_err(ServeError::Tls)?;
        Ok(ServedCert::with(ck, None))
    }

    /// The company's chain from its files (reloadable).
    pub fn from_files(files: &OwnCert) -> Result<ServedCert, ServeError> {
        let ck = read_pair(files)
            .map_err(|e| ServeError::Tls(format!("{e} ({})", files.cert.display())))?;
        Ok(ServedCert::with(ck, Some(files.clone())))
    }

    fn with(ck: CertifiedKey, files: Option<OwnCert>) -> ServedCert {
        ServedCert {
            current: RwLock::new(Arc::new(ck)),
            files,
        }
    }

    /// Reads the files again; on failure the chain in service stays.
    pub fn reload(&self) -> Result<(), String> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        match read_pair(files) {
            Ok(ck) => {
                *self.current.write().expect("certificate lock poisoned") = Arc::new(ck);
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!(cert = %files.cert.display(), error = %e, "TLS certificate not reloaded; the previous one stays in service");
                Err(e)
            }
        }
    }

    /// A TLS acceptor resolving through `this` (HTTP/2 and HTTP/1.1).
    pub fn acceptor(this: &Arc<ServedCert>) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServeError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(this.clone());
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
    }

    /// Reloads on SIGHUP and when the files change (debounced), until `stop`. Without
    /// the company's files SIGHUP is logged and ignored (it never ends the collector).
    pub fn watch(this: Arc<ServedCert>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let Some(files) = this.files.clone() else {
            on_sighup(None);
            return;
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let watcher = file_watcher(&files, tx.clone());
        on_sighup(Some(tx.clone()));
        tokio::spawn(async move {
            let _keep = watcher;
            loop {
                tokio::select! {
                    got = rx.recv() => {
                        if got.is_none() {
                            return;
                        }
                        // a renewal writes two files: let both land
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        while rx.try_recv().is_ok() {}
                        let _ = this.reload();
                    }
                    changed = stop.changed() => {
                        if changed.is_err() || *stop.borrow() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// Handles SIGHUP for as long as the process runs: asks `reload` for a reload, or
/// (without files to reload) logs that there is nothing to do. Either way the signal
/// never ends the collector.
fn on_sighup(reload: Option<tokio::sync::mpsc::Sender<()>>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let kind = tokio::signal::unix::SignalKind::hangup();
        let Ok(mut s) = tokio::signal::unix::signal(kind) else {
            return;
        };
        while s.recv().await.is_some() {
            match &reload {
                Some(tx) => {
                    let _ = tx.send(()).await;
                }
                None => {
                    tracing::info!(
                        "SIGHUP: serving the data dir's own certificate, nothing to reload"
                    )
                }
            }
        }
    });
    #[cfg(not(unix))]
    let _ = reload;
}

/// Watches the folders of `files` and sends on `tx` when either file changes; `None`
/// (SIGHUP still works) when the system cannot watch them.
fn file_watcher(
    files: &OwnCert,
    tx: tokio::sync::mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    let changed = tx;
    let names: Vec<PathBuf> = [&files.cert, &files.key]
        .iter()
        .map(|p| p.to_path_buf())
        .collect();
    let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if ev.is_ok_and(|e| {
            e.paths
                .iter()
                .any(|p| names.iter().any(|n| p.file_name() == n.file_name()))
        }) {
            let _ = changed.try_send(());
        }
    });
    let mut watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "not watching the TLS files; reload with SIGHUP");
            None
        }
    };
    let mut dirs: Vec<&Path> = [&files.cert, &files.key]
        .iter()
        .filter_map(|p| p.parent())
        .collect();
    dirs.dedup();
    for d in dirs {
        if let Some(w) = watcher.as_mut() {
            use notify::Watcher;
            if let Err(e) = w.watch(d, notify::RecursiveMode::NonRecursive) {
                tracing::warn!(dir = %d.display(), error = %e, "not watching the TLS files' folder; reload with SIGHUP");
            }
        }
    }
    watcher
}
