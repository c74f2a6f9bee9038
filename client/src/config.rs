//! Loading a TOML config file, for the agent's `agent.toml` and the collector's
//! `collector.toml` alike: read, parse (syntax and types, unknown keys refused by the
//! type), validate (values that parse but cannot work), with errors naming the file.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a config file was not used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A config file's type: how to tell values that parse but cannot work.
pub trait ConfigFile: DeserializeOwned + Default {
    fn validate(&self, path: &Path) -> Result<(), ConfigError>;
}

/// Step one: syntax and types (the message on one line).
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

/// Reads, parses and validates `path`. A missing file means the defaults unless
/// `must_exist` (the operator named it).
pub fn load<T: ConfigFile>(path: &Path, must_exist: bool) -> Result<T, ConfigError> {
    let cfg = match std::fs::read_to_string(path) {
        Ok(text) => parse::<T>(path, &text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => T::default(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                error: source,
            })
        }
    };
    cfg.validate(path)?;
    Ok(cfg)
}
