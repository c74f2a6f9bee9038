//! File reading for diagnostics that cannot be raced or tricked: `disk-usage` opens
//! the directory once (never following a symlink), checks where the *opened* handle
//! really is, and walks from handles with `openat`/`fstatat` — so swapping a path
//! component for a symlink between the check and the walk gains nothing. `tail`
//! reads a log from its end, not the whole file into memory.

use std::ffi::CStr;
use std::os::fd::AsRawFd;
use std::path::Path;

use nix::dir::{Dir, Type};
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use tend_shared::diagnostics::{DiskUsage, PathSize};

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Where an open handle really is (no symlink in it can mislead this).
fn real_path(dir: &Dir) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd()))
            .ok()
            .map(|p| p.display().to_string())
    }
    #[cfg(not(target_os = "linux"))]
    {
        crate::platform::fd_path(dir.as_raw_fd())
    }
}

/// Why `disk_usage` did not look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkError {
    /// Not allowed: outside the allowed roots, or a symbolic link.
    Refused(String),
    /// It could not (missing, unreadable).
    Failed(String),
}

/// Sizes of the entries directly under `path`, largest first (at most 25), walking
/// at most `max_entries` entries from handles.
pub fn disk_usage(
    path: &str,
    max_entries: usize,
    allowed: impl Fn(&str) -> bool,
) -> Result<DiskUsage, WalkError> {
    let mut root = match Dir::open(Path::new(path), DIR_FLAGS, Mode::empty()) {
        Ok(d) => d,
        Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR)
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) =>
        {
            return Err(WalkError::Refused(format!(
                "{path} is a symbolic link; links are not followed"
            )))
        }
        Err(e) => return Err(WalkError::Failed(format!("{path}: {e}"))),
    };
    let real = real_path(&root)
        .ok_or_else(|| WalkError::Failed(format!("{path}: cannot tell where it is")))?;
    if !allowed(&real) {
        return Err(WalkError::Refused(format!(
            "{path} is {real}, outside the allowed roots"
        )));
    }
    let mut seen = 0usize;
    let mut children: Vec<PathSize> = Vec::new();
    let names = entry_names(&mut root);
    for name in names {
        if seen >= max_entries {
            break;
        }
        let bytes = size_at(&root, &name, &mut seen, max_entries);
        children.push(PathSize {
            path: format!("{}/{}", real.trim_end_matches('/'), name.to_string_lossy()),
            bytes,
        });
    }
    children.sort_by_key(|c| std::cmp::Reverse(c.bytes));
    let total = children.iter().map(|c| c.bytes).sum();
    let truncated = seen >= max_entries;
    children.truncate(25);
    Ok(DiskUsage {
        path: real,
        total_bytes: total,
        largest: children,
        entries_scanned: seen.min(max_entries) as u64,
        truncated,
    })
}

fn entry_names(dir: &mut Dir) -> Vec<std::ffi::CString> {
    dir.iter()
        .flatten()
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect()
}

/// Size of `name` in `parent` (a directory's whole tree), counting entries in `seen`.
fn size_at(parent: &Dir, name: &CStr, seen: &mut usize, max: usize) -> u64 {
    *seen += 1;
    let Ok(st) = fstatat(Some(parent.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
        return 0;
    };
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    if kind != SFlag::S_IFDIR {
        return if kind == SFlag::S_IFREG {
            st.st_size as u64
        } else {
            0
        };
    }
    let Ok(mut dir) = Dir::openat(Some(parent.as_raw_fd()), name, DIR_FLAGS, Mode::empty()) else {
        return 0;
    };
    let mut total = 0;
    let entries: Vec<(std::ffi::CString, Option<Type>)> = dir
        .iter()
        .flatten()
        .map(|e| (e.file_name().to_owned(), e.file_type()))
        .filter(|(n, _)| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for (n, _) in entries {
        if *seen >= max {
            break;
        }
        total += size_at(&dir, &n, seen, max);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_root_is_judged_by_where_it_leads() {
        let dir = tempfile::Builder::new()
            .prefix("tend-walk")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/f"), vec![0u8; 1000]).unwrap();
        let under_tmp = |p: &str| p.starts_with("/tmp/");
        let d = disk_usage(dir.path().to_str().unwrap(), 1000, under_tmp).unwrap();
        assert_eq!(d.total_bytes, 1000);
        // a link to /etc is refused by what the handle is, not by the name
        let link = dir.path().join("etc");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        assert!(disk_usage(link.to_str().unwrap(), 1000, under_tmp).is_err());
        // a link inside the tree is not followed
        std::os::unix::fs::symlink("/usr", dir.path().join("a/usr")).unwrap();
        let d = disk_usage(dir.path().to_str().unwrap(), 100_000, under_tmp).unwrap();
        assert_eq!(d.total_bytes, 1000);
    }

    #[test]
    fn tail_reads_only_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let text: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&p, text).unwrap();
        let t = crate::platform::tail(&p, 3).unwrap();
        assert_eq!(t, "line 99997\nline 99998\nline 99999");
        assert_eq!(crate::platform::tail(&p, 1).unwrap(), "line 99999");
    }
}
