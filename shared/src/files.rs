//! The one way Tend writes a file it must not lose or leak: readable only by its owner
//! (0600 on Unix), atomically (a temp file beside it, fsynced, renamed over it, then
//! the directory fsynced), so a kill -9 or power cut leaves the old file or the new one,
//! never half of one. The agent's state and spool and the collector's keys all use it.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` as described above.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} has no file name", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_only_its_owner_reads_it() {
        let dir = std::env::temp_dir().join(format!("tend-files-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("secret.json");
        write_private(&p, b"first").unwrap();
        write_private(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("secret.json")],
            "no temp file left"
        );
        assert!(
            write_private(Path::new("/"), b"x").is_err(),
            "a path without a file name"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
