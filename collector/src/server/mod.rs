//! Serving the router over HTTPS (rustls, ring provider) until a shutdown future
//! fires: `conn` runs the accept loop and the per-connection limits, `io` gives
//! hyper's own error responses a JSON body.

pub mod conn;
pub mod control;
pub mod io;
pub mod tls;

use std::future::Future;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::pki::{self, Identity};
use crate::state::{AppState, Keys, Limits};
use crate::store::Store;

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("opening the store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Saving the store at a clean stop failed (what was acknowledged was saved before).
    #[error("saving the store at shutdown: {0}")]
    Closing(crate::store::StoreError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("setting up the store: {0}")]
    Setup(String),
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("serving: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ServeError {
    fn from(e: std::io::Error) -> Self {
        ServeError::Io(e)
    }
}

/// Installs ring as the process-wide rustls provider (idempotent; the webhook client
/// needs it too).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A collector opened on a data dir, ready to serve.
#[derive(Debug)]
pub struct Collector {
    pub state: AppState,
    pub identity: Identity,
    /// Set when this start created the first admin token (shown once).
    pub initial_admin_token: Option<String>,
    /// The company's certificate to serve instead of the data dir's own (reloaded on
    /// SIGHUP and when the files change).
    pub own_cert: Option<tls::OwnCert>,
    /// The data dir of a sled store (its control socket serves online backups).
    pub sled_data: Option<std::path::PathBuf>,
}

/// Where a collector keeps its records.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The embedded sled store under the data dir (one collector).
    Sled,
    /// A PostgreSQL database shared by any number of collectors, and the cluster key
    /// that unseals their shared identity.
    Postgres {
        options: crate::store::PgOptions,
        cluster_key: std::path::PathBuf,
    },
}

impl Collector {
    /// Opens (creating on first start) the identity and the sled store under `data`.
    pub async fn open(
        data: &Path,
        extra_sans: &[String],
        clock: SharedClock,
        limits: Limits,
    ) -> Result<Collector, ServeError> {
        Collector::open_with(data, extra_sans, clock, limits, &Backend::Sled).await
    }

    /// Opens the identity under `data` and the store `backend` names. On PostgreSQL
    /// the identity comes from the database (see `cluster`).
    pub async fn open_with(
        data: &Path,
        extra_sans: &[String],
        clock: SharedClock,
        limits: Limits,
        backend: &Backend,
    ) -> Result<Collector, ServeError> {
        let (store, sealing_key) = match backend {
            Backend::Sled => {
                let dir = data.join("db");
                let store = tokio::task::spawn_blocking(move || Store::open(&dir))
                    .await
                    .map_err(|e| ServeError::Setup(e.to_string()))??;
                (store, None)
            }
            Backend::Postgres {
                options,
                cluster_key,
            } => {
                let store = Store::connect(options).await?;
                crate::cluster::join(&store, data, cluster_key).await?;
                (store, crate::cluster::read_key(cluster_key)?)
            }
        };
        let identity = pki::load_or_create(data, extra_sans)?;
        let mut keys = Keys::new(
            identity.ca_pem.clone(),
            identity.signing_key.clone(),
            &identity.enroll_secret,
        );
        // secrets kept in a shared database are sealed under the cluster key
        if let Some(k) = sealing_key {
            keys = keys.with_cluster_key(k);
        }
        let state = AppState::new(store, clock, keys, limits).await?;
        let now = state.now_ms();
        let setup = |e: crate::error::ApiError| ServeError::Setup(e.to_string());
        crate::users::tokens::migrate_legacy_tokens(&state.store, now)
            .await
            .map_err(setup)?;
        let initial_admin_token = crate::users::tokens::create_initial_admin(&state.store, now)
            .await
            .map_err(setup)?;
        state.store.flush().await?;
        Ok(Collector {
            state,
            identity,
            initial_admin_token,
            own_cert: None,
            sled_data: matches!(backend, Backend::Sled).then(|| data.to_path_buf()),
        })
    }

    /// Serves HTTPS on `listener` until `shutdown` resolves, then drains connections
    /// (up to 10 s) and flushes the store.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.run_with(listener, conn::ConnLimits::default(), shutdown)
            .await
    }

    /// `run` with explicit connection limits.
    pub async fn run_with(
        self,
        listener: TcpListener,
        limits: conn::ConnLimits,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        install_crypto_provider();
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let served = Arc::new(match &self.own_cert {
            Some(files) => tls::ServedCert::from_files(files)?,
            None => tls::ServedCert::fixed(
                &self.identity.server_cert_pem,
                &self.identity.server_key_pem,
            )?,
        });
        tls::ServedCert::watch(served.clone(), stop_rx.clone());
        let tls = tls::ServedCert::acceptor(&served)?;
        let st = self.state.clone();
        tokio::spawn(async move {
            shutdown.await;
            // answer open long-polls first, so draining does not wait for them
            st.begin_shutdown();
            let _ = stop_tx.send(true);
        });
        let store = self.state.store.clone();
        let st = self.state.clone();
        let sweeper = tokio::spawn(crate::sweep::run(
            st.clone(),
            st.limits.sweep_every,
            st.shutdown_signal(),
        ));
        let hooks = tokio::spawn(crate::webhooks::run(
            st.clone(),
            st.limits.webhook_retry_base,
            st.shutdown_signal(),
        ));
        let recovery = tokio::spawn(recover_disk(store.clone(), st.shutdown_signal()));
        let control = self
            .sled_data
            .as_deref()
            .and_then(|d| control::listen(d, store.clone()));
        let app = crate::http::app(self.state);
        let mut rx = stop_rx;
        let stop = async move {
            let _ = rx.wait_for(|v| *v).await;
        };
        conn::serve(listener, tls, app, limits, stop, Duration::from_secs(10)).await;
        let _ = sweeper.await;
        let _ = hooks.await;
        let _ = recovery.await;
        drop(control);
        store.release_numbers().await.map_err(ServeError::Closing)?;
        store.flush().await.map_err(ServeError::Closing)?;
        Ok(())
    }
}

/// Reopens the store once space is back after a full disk (tried every 2 s while the
/// store says so), so writes resume without a restart.
async fn recover_disk(store: Store, stop: impl Future<Output = ()>) {
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
        if store.degraded().is_some() {
            if let Err(e) = store.recover().await {
                tracing::warn!(error = %e, "reopening the store after a full disk failed; trying again");
            }
        }
    }
}
