//! The collector's config file (`/etc/tend/collector.toml`), read by `serve --config`
//! and checked by `tend-collector validate` (systemd runs it as `ExecStartPre`).
//! Parsed then validated in two steps; command-line flags override the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use tend_client::config::ConfigError;

/// `/etc/tend/collector.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorConfig {
    /// Data directory: keys, certificates and (without `database`) the sled store.
    #[serde(default = "default_data")]
    pub data: PathBuf,
    /// Address the HTTPS listener binds.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Extra DNS names or IPs for the server certificate.
    #[serde(default)]
    pub sans: Vec<String>,
    /// Largest accepted request body in bytes (artifact uploads have their own limit).
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// Device events older than this many days are deleted (1..=3650).
    #[serde(default = "default_retention")]
    pub event_retention_days: u64,
    /// Refuse writes (507, `/healthz` degraded) while less than this many MiB are free
    /// on the sled store's filesystem, before sled meets the end of the disk; 0: only
    /// when the disk is actually full.
    #[serde(default = "default_min_free")]
    pub min_free_mb: u64,
    /// Accept `http://` webhooks to loopback addresses (a relay on this host); every
    /// other webhook must be https.
    #[serde(default)]
    pub allow_http_loopback_webhooks: bool,
    /// PostgreSQL to keep records in (`postgres://user@host/db?sslmode=require`);
    /// none: the embedded sled store in the data dir.
    #[serde(default)]
    pub database: Option<String>,
    /// Extra CA (PEM) trusted for TLS to the database (system roots are trusted).
    #[serde(default)]
    pub database_ca: Option<PathBuf>,
    /// Connections this collector keeps to the database (2..=256).
    #[serde(default = "default_pool")]
    pub database_pool: usize,
    /// The key sealing the identity collectors share in the database
    /// [default: `<data>/cluster.key`].
    #[serde(default)]
    pub cluster_key: Option<PathBuf>,
    /// Enrollments accepted per source address and minute (a burst of 200 above it);
    /// 0: no limit (a load generator on one address). Expiring, counted enrollment
    /// tokens (`tendctl enroll-token create`) bound a fleet push further.
    #[serde(default = "default_enroll_rate")]
    pub enrollments_per_minute: u32,
    /// Load balancers or reverse proxies whose `X-Forwarded-For` is believed: the
    /// client address (rate limits, the audit log) is the last address in it that is
    /// not one of these. From anyone else the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve this certificate chain (PEM: the server's certificate, then the chain
    /// that issued it) instead of the data dir's own; reloaded on SIGHUP and when the
    /// file changes. Needs `tls_key`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

fn default_enroll_rate() -> u32 {
    120
}

fn default_pool() -> usize {
    16
}

fn default_data() -> PathBuf {
    PathBuf::from("/var/lib/tend/collector")
}
fn default_listen() -> String {
    "0.0.0.0:8443".into()
}
fn default_body_limit() -> usize {
    1 << 20
}

fn default_min_free() -> u64 {
    64
}

fn default_retention() -> u64 {
    90
}

impl CollectorConfig {
    /// The rate limits this file sets (the rest are the defaults): enrollments per
    /// source address, `enrollments_per_minute` (0: unlimited).
    pub fn rates(&self) -> crate::limits::RateConfig {
        let off = self.enrollments_per_minute == 0;
        crate::limits::RateConfig {
            enrollments: crate::limits::Rate {
                burst: if off { f64::MAX } else { 200.0 },
                per_s: f64::from(self.enrollments_per_minute.max(1)) / 60.0,
            },
            ..Default::default()
        }
    }
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            data: default_data(),
            listen: default_listen(),
            sans: Vec::new(),
            body_limit: default_body_limit(),
            event_retention_days: default_retention(),
            min_free_mb: default_min_free(),
            allow_http_loopback_webhooks: false,
            database: None,
            database_ca: None,
            database_pool: default_pool(),
            cluster_key: None,
            enrollments_per_minute: default_enroll_rate(),
            trusted_proxies: Vec::new(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl CollectorConfig {
    /// The company's certificate to serve, when configured.
    pub fn own_cert(&self) -> Option<crate::server::tls::OwnCert> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::server::tls::OwnCert {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    /// Where records live: sled in the data dir, or the configured PostgreSQL.
    pub fn backend(&self) -> crate::server::Backend {
        match &self.database {
            None => crate::server::Backend::Sled,
            Some(url) => crate::server::Backend::Postgres {
                options: crate::store::PgOptions {
                    url: url.clone(),
                    ca_file: self.database_ca.clone(),
                    pool_size: self.database_pool,
                },
                cluster_key: self
                    .cluster_key
                    .clone()
                    .unwrap_or_else(|| self.data.join("cluster.key")),
            },
        }
    }

    /// Parses `text` (step one: syntax and types).
    pub fn parse(path: &Path, text: &str) -> Result<CollectorConfig, ConfigError> {
        tend_client::config::parse(path, text)
    }

    /// Reads and validates a file; a missing file at the default path means defaults.
    pub fn load(path: &Path, must_exist: bool) -> Result<CollectorConfig, ConfigError> {
        tend_client::config::load(path, must_exist)
    }

    /// Step two: values that parse but cannot work.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        self.listen.parse::<SocketAddr>().map_err(|_| {
            invalid(format!(
                "listen = {:?} is not an address like 0.0.0.0:8443",
                self.listen
            ))
        })?;
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(
                    "tls_cert and tls_key go together: give both, or neither to serve the data dir's own certificate".into(),
                ))
            }
            (Some(cert), Some(key)) => {
                let files = crate::server::tls::OwnCert {
                    cert: cert.clone(),
                    key: key.clone(),
                };
                crate::server::tls::read_pair(&files)
                    .map_err(|e| invalid(format!("tls_cert {}: {e}", cert.display())))?;
            }
            (None, None) => {}
        }
        if !(1024..=64 << 20).contains(&self.body_limit) {
            return Err(invalid(format!(
                "body_limit = {} must be between 1024 and {}",
                self.body_limit,
                64 << 20
            )));
        }
        if self.data.as_os_str().is_empty() || self.data.is_relative() {
            return Err(invalid(format!(
                "data = {:?} must be an absolute path",
                self.data
            )));
        }
        if self.data.exists() && !self.data.is_dir() {
            return Err(invalid(format!(
                "data = {:?} is not a directory",
                self.data
            )));
        }
        if !(1..=3650).contains(&self.event_retention_days) {
            return Err(invalid(format!(
                "event_retention_days = {} must be between 1 and 3650",
                self.event_retention_days
            )));
        }
        if let Some(url) = &self.database {
            crate::store::PgOptions::check_url(url).map_err(|e| {
                invalid(format!(
                    "database is not a PostgreSQL connection string: {e}"
                ))
            })?;
        }
        if !(2..=256).contains(&self.database_pool) {
            return Err(invalid(format!(
                "database_pool = {} must be between 2 and 256",
                self.database_pool
            )));
        }
        for s in &self.sans {
            if s.is_empty() || s.contains(char::is_whitespace) {
                return Err(invalid(format!("sans entry {s:?} is not a DNS name or IP")));
            }
        }
        Ok(())
    }
}

impl tend_client::config::ConfigFile for CollectorConfig {
    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        CollectorConfig::validate(self, path)
    }
}

/// `tend-collector serve`'s flags: each overrides the config file's value.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeFlags {
    /// Config file (TOML); flags below override it. Missing is fine unless given.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (keys, certificates, sled store) [default: /var/lib/tend/collector].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on [default: 0.0.0.0:8443].
    #[arg(long)]
    pub listen: Option<String>,
    /// Extra DNS names or IPs for the server certificate (repeatable).
    #[arg(long = "san")]
    pub sans: Vec<String>,
    /// Largest accepted request body in bytes [default: 1048576].
    #[arg(long)]
    pub body_limit: Option<usize>,
    /// Refuse writes while less than this many MiB are free on the store's
    /// filesystem [default: 64; 0: only when the disk is full].
    #[arg(long)]
    pub min_free_mb: Option<u64>,
    /// Keep records in this PostgreSQL database (several collectors may share it)
    /// instead of the embedded sled store.
    #[arg(long, env = "TEND_DATABASE")]
    pub database: Option<String>,
    /// Extra CA (PEM) to trust for TLS to the database.
    #[arg(long)]
    pub database_ca: Option<PathBuf>,
    /// The key that unseals the identity collectors share [default: <data>/cluster.key].
    #[arg(long)]
    pub cluster_key: Option<PathBuf>,
    /// Serve this certificate chain (PEM: the server's, then its issuers) instead of
    /// the data dir's own; reloaded on SIGHUP and when the file changes.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl ServeFlags {
    /// The config file (`--config`, else `default` if it exists) overlaid with the
    /// flags, validated.
    pub fn config(self, default: &Path) -> Result<CollectorConfig, ConfigError> {
        let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
        let path = self.config.clone().unwrap_or_else(|| default.to_path_buf());
        let mut cfg = CollectorConfig::load(&path, self.config.is_some())?;
        if let Some(d) = self.data {
            cfg.data = abs(d);
        }
        cfg.listen = self.listen.unwrap_or(cfg.listen);
        cfg.sans.extend(self.sans);
        cfg.body_limit = self.body_limit.unwrap_or(cfg.body_limit);
        cfg.min_free_mb = self.min_free_mb.unwrap_or(cfg.min_free_mb);
        cfg.database = self.database.or(cfg.database);
        cfg.database_ca = self.database_ca.or(cfg.database_ca);
        cfg.cluster_key = self.cluster_key.map(abs).or(cfg.cluster_key);
        cfg.tls_cert = self.tls_cert.map(abs).or(cfg.tls_cert);
        cfg.tls_key = self.tls_key.map(abs).or(cfg.tls_key);
        cfg.validate(&path)?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<CollectorConfig, ConfigError> {
        let p = Path::new("collector.toml");
        let c = CollectorConfig::parse(p, text)?;
        c.validate(p)?;
        Ok(c)
    }

    #[test]
    fn good_and_bad_configs() {
        let c =
            check("listen = \"127.0.0.1:9443\"\ndata = \"/srv/tend\"\nsans = [\"tend.corp\"]\n")
                .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9443");
        assert_eq!(c.body_limit, 1 << 20);
        assert_eq!(check("").unwrap(), CollectorConfig::default());
        for (bad, says) in [
            ("listen = \"everywhere\"", "listen"),
            ("body_limit = 5", "body_limit"),
            ("event_retention_days = 0", "event_retention_days"),
            ("data = \"relative/dir\"", "absolute"),
            ("lisen = \"0.0.0.0:1\"", "unknown field"),
            ("listen = [", "collector.toml"),
            (
                "database = \"postgres://x/y?sslmode=sometimes\"",
                "database",
            ),
            ("database_pool = 1", "database_pool"),
        ] {
            let e = check(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
