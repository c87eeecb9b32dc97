//! Whether the spool's directory can be trusted with what events hold
//! (emails, headers, breadcrumbs), and opening its files without following
//! links planted there.
//!
//! On Unix the directory is created `0700` and its files `0600`. An
//! existing directory is used only when it is a directory owned by the
//! user the process runs as and not writable by group or others: in a
//! directory others can write, they could replace files with links (so
//! that the spool truncates or deletes files elsewhere) or plant envelopes
//! for it to send. Stored files are opened without following a symbolic
//! link. Other systems get no checks beyond the operating system's own.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// Why the directory is not used.
#[derive(Debug)]
pub(crate) struct Untrusted(String);

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Creates `dir` (and missing parents) when missing, private to this user;
/// then checks that it may be used.
pub(super) fn prepare_dir(dir: &Path) -> io::Result<Result<(), Untrusted>> {
    create_private_dir(dir)?;
    Ok(check_dir(dir))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Whether the existing `dir` may be used (see the module docs).
#[cfg(unix)]
pub(super) fn check_dir(dir: &Path) -> Result<(), Untrusted> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(dir)
        .map_err(|e| Untrusted(format!("{} cannot be read: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(Untrusted(format!("{} is not a directory", dir.display())));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Untrusted(format!(
            "{} belongs to user {}, not to this process's user {me}",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Untrusted(format!(
            "{} is writable by {} (mode {:o}); make it private with `chmod 700`",
            dir.display(),
            if meta.mode() & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            },
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn check_dir(_dir: &Path) -> Result<(), Untrusted> {
    Ok(())
}

/// Whether `path` is a directory itself, not a link to one.
pub(super) fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
}

/// Opens a stored file for reading and writing, refusing a symbolic link;
/// on a read-only file system, for reading only (it can still be sent,
/// not removed).
pub(super) fn open_stored(path: &Path) -> io::Result<File> {
    match open_nofollow(path, true) {
        Err(e) if e.kind() == io::ErrorKind::ReadOnlyFilesystem => open_nofollow(path, false),
        opened => opened,
    }
}

fn open_nofollow(path: &Path, write: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(write);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nofollow());
    }
    options.open(path)
}

/// Creates a new file, readable and writable by this user only.
pub(super) fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// `O_NOFOLLOW`, as `OpenOptionsExt::custom_flags` takes it.
#[cfg(unix)]
fn nofollow() -> i32 {
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn a_link_is_never_opened_as_a_stored_file() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        fs::write(&target, b"precious").unwrap();
        let link = tmp.path().join("link");
        symlink(&target, &link).unwrap();
        assert!(open_stored(&link).is_err());
        assert!(open_stored(&target).is_ok());
        assert!(
            create_private_file(&link).is_err(),
            "create_new never follows"
        );
        assert_eq!(fs::read(&target).unwrap(), b"precious");
    }

    #[test]
    fn only_a_private_directory_of_this_user_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a").join("b");
        assert!(prepare_dir(&dir).unwrap().is_ok());
        assert!(is_real_dir(&dir));
        for (mode, ok) in [(0o700, true), (0o755, true), (0o775, false), (0o707, false)] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(check_dir(&dir).is_ok(), ok, "{mode:o}");
        }
        let link = tmp.path().join("link");
        symlink(&dir, &link).unwrap();
        assert!(!is_real_dir(&link));
        let file = tmp.path().join("file");
        fs::write(&file, b"").unwrap();
        assert!(check_dir(&file).is_err());
    }
}
