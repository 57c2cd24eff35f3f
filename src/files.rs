//! Every path occam reads or writes goes through here, so that no run loses a user's data.
//!
//! **Reading** ([`read_bounded`]): only regular files (a symlink is followed), never a folder,
//! FIFO, socket or device, and never more than a stated number of bytes — a `/dev/zero` or a named
//! pipe is refused at once instead of filling memory or waiting forever.
//!
//! **File outputs** ([`write_file`]):
//! - `--out` that is (or is a hard or symbolic link to) an input of the same command is refused;
//!   files are compared by (device, inode), so every spelling of a path is caught.
//! - A symlink is followed: its target is written, atomically, in the target's folder.
//! - An existing regular file is replaced only when occam wrote it and nobody has edited it since:
//!   every file occam writes carries the extended attribute [`OWNER_MARK`], the SHA-256 of what it
//!   wrote, and a file without it (a user's own), or whose bytes no longer match it (edited), is
//!   refused before anything is computed ([`check_file_out`]). Where the file system keeps no
//!   extended attributes, occam's own files cannot be told from a user's, so they are refused too
//!   (the message says to move the file away).
//! - A new file, or one occam may replace, is written to a staging file beside it, then renamed
//!   over it, with the existing file's permission bits kept: a failure leaves the old file whole.
//! - A device, FIFO or socket (`/dev/null`, `/dev/stdout`) is written straight to, never renamed
//!   over; a folder is refused.
//!
//! **Folder outputs** ([`check_folder_out`], [`Staging::commit_folder`]): a folder is only ever
//! replaced when occam made it — its `manifest.json` lists every file occam wrote with its
//! SHA-256. Files occam did not write are never deleted: their presence refuses the run, with or
//! without `--force`. A file occam wrote that has since been edited refuses it too, unless
//! `--force` says the edit may go. An empty folder may be filled; a file where a folder is wanted
//! is refused.
//!
//! **Staging** ([`Staging`]): everything is built under a hidden sibling named
//! `.NAME.occam-staging-PID`, kept in a process-wide registry. SIGINT and SIGTERM remove every
//! registered path before exiting with 130 or 143 ([`install_interrupt_cleanup`]); after a
//! SIGKILL, the next write to the same NAME removes staging left by a process that is no longer
//! alive. Only names of exactly that shape are ever removed.

use crate::error::{OccamError, Result, Setting};
use crate::message;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The largest study spec `occam run` reads.
pub const MAX_SPEC_BYTES: u64 = 1 << 20;
/// The largest centre file (`file:`) or truth file read: 64 MiB holds a few million numbers.
pub const MAX_VECTOR_BYTES: u64 = 64 << 20;
/// The largest CSV data file read (`--data`, `fit:`).
pub const MAX_DATA_BYTES: u64 = 16 << 30;

/// The tag in every staging name, so that only occam's own leftovers are ever recognised.
const STAGING_TAG: &str = "occam-staging";

/// The extended attribute on every file occam writes: the lowercase hex SHA-256 of its bytes.
/// `--out` replaces an existing file only when this matches the file's bytes (see the module docs).
pub const OWNER_MARK: &str = "user.occam.sha256";

/// Paths being staged by this process, removed by the SIGINT/SIGTERM handler.
static LIVE_STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live_staging() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the lock was held cannot leave the list inconsistent (push/retain only).
    LIVE_STAGING.lock().unwrap_or_else(|e| e.into_inner())
}

fn remove_path(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Removes every live staging path, then exits with 128 + the signal number on SIGINT (130) or
/// SIGTERM (143). Call once, early in `main`; without it a signal kills the process as usual.
pub fn install_interrupt_cleanup() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                for path in live_staging().iter() {
                    remove_path(path);
                }
                eprintln!("occam: interrupted; removed its partial output");
                std::process::exit(128 + signal);
            }
        });
    }
}

/// Whether process `pid` is alive (on other systems than Unix every process is assumed alive,
/// so no staging is ever taken for stale there).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 sends nothing; it only asks whether the process exists.
        let result = unsafe { libc::kill(pid, 0) };
        result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The process id in a staging name `.NAME.occam-staging-PID` for this NAME, if it is one.
fn staging_pid(entry: &str, name: &str) -> Option<u32> {
    let digits = entry.strip_prefix(&format!(".{name}.{STAGING_TAG}-"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A hidden staging path beside an output, removed when dropped unless committed.
#[derive(Debug)]
pub struct Staging {
    path: PathBuf,
    committed: bool,
}

impl Staging {
    /// Reserves `.NAME.occam-staging-PID` beside `target` (whose folder must exist), first
    /// removing any staging for the same NAME left by a process that is no longer running.
    pub fn beside(target: &Path) -> Result<Staging> {
        let (folder, name) = split(target)?;
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(pid) = staging_pid(&file_name.to_string_lossy(), &name) else {
                    continue;
                };
                if pid != std::process::id() && !process_alive(pid) {
                    remove_path(&entry.path());
                }
            }
        }
        let path = folder.join(format!(".{name}.{STAGING_TAG}-{}", std::process::id()));
        remove_path(&path);
        live_staging().push(path.clone());
        Ok(Staging {
            path,
            committed: false,
        })
    }

    /// The staging path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn release(&mut self) {
        self.committed = true;
        live_staging().retain(|p| p != &self.path);
    }

    /// Renames the staged file over `target`.
    fn commit_file(mut self, target: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, target)?;
        self.release();
        Ok(())
    }

    /// Puts the staged folder at `target`, replacing the folder there (already checked with
    /// [`check_folder_out`]). On Linux the two are exchanged in one step, so there is never a
    /// moment without a report at `target`; the old one, now at the staging name, is then removed
    /// (by the signal handler too, if one arrives first). Elsewhere the old folder is moved aside
    /// to a second staging name first.
    pub fn commit_folder(mut self, target: &Path) -> Result<()> {
        let fail = |source| OccamError::Write {
            path: target.to_path_buf(),
            source,
        };
        let exists = std::fs::symlink_metadata(target).is_ok();
        if !exists {
            std::fs::rename(&self.path, target).map_err(fail)?;
            self.release();
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            if exchange(&self.path, target).is_ok() {
                // The old folder is now at the staging path, still registered; Drop removes it.
                return Ok(());
            }
        }
        let aside = Staging::beside(&self.path)?;
        std::fs::rename(target, aside.path()).map_err(fail)?;
        if let Err(source) = std::fs::rename(&self.path, target) {
            let _ = std::fs::rename(aside.path(), target);
            return Err(fail(source));
        }
        drop(aside);
        self.release();
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            remove_path(&self.path);
            self.release();
        }
    }
}

/// Atomically exchanges two paths (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them like rename does.
    let result = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// (folder, file name) of a path; `out.csv` lives in `.`.
fn split(path: &Path) -> Result<(PathBuf, String)> {
    let name = path.file_name().ok_or_else(|| {
        OccamError::invalid(
            Setting::Out,
            format!("{}: not a file or folder name", path.display()),
        )
    })?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((folder, name.to_string_lossy().into_owned()))
}

/// Follows symbolic links (a dangling one too) to the path that is really written; a path with
/// no file name (`.`, `..`) is made absolute first.
pub fn resolve_out(path: &Path) -> Result<PathBuf> {
    let mut current = if path.file_name().is_none() {
        std::fs::canonicalize(path).map_err(|source| OccamError::Write {
            path: path.to_path_buf(),
            source,
        })?
    } else {
        path.to_path_buf()
    };
    // 40 is Linux's own limit on links followed in one lookup (ELOOP).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|source| OccamError::Write {
                    path: current.clone(),
                    source,
                })?;
                current = if target.is_absolute() {
                    target
                } else {
                    split(&current)?.0.join(target)
                };
            }
            _ => return Ok(current),
        }
    }
    Err(OccamError::invalid(
        Setting::Out,
        message![
            format!(
                "{}: too many levels of symbolic links; point ",
                path.display()
            ),
            Setting::Out,
            " at a real file"
        ],
    ))
}

/// (device, inode) of an existing path, following links.
#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// Refuses an output that is one of the command's inputs: the same path, a hard link to it or
/// a symbolic link to it.
pub fn check_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    let Some(out_id) = identity(out) else {
        return Ok(()); // a path that does not exist yet is no input
    };
    for input in inputs {
        if identity(input).as_ref() == Some(&out_id) {
            return Err(OccamError::invalid(
                Setting::Out,
                message![
                    format!(
                        "{} is the input {} (the same file, or a link to it); writing it would destroy the input — choose another ",
                        out.display(),
                        input.display()
                    ),
                    Setting::Out
                ],
            ));
        }
    }
    Ok(())
}

/// Refuses a file output that may not be written: one of the command's `inputs`
/// ([`check_not_input`]), a folder, or an existing regular file (links followed) that occam did
/// not write or that has been edited since ([`OWNER_MARK`]). A new path, a device, FIFO or
/// socket, and occam's own unedited output pass. Called before anything is computed, and again
/// by [`write_file`].
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let mine = dir.path().join("notes.txt");
/// std::fs::write(&mine, "a user's file").unwrap();
/// assert!(occam::files::check_file_out(&mine, &[]).is_err());
/// let out = dir.path().join("fit.json");
/// occam::files::check_file_out(&out, &[]).unwrap(); // new: may be written
/// occam::files::write_file(&out, b"{}", &[]).unwrap();
/// # if xattr::SUPPORTED_PLATFORM && xattr::get(&out, occam::files::OWNER_MARK).is_ok_and(|m| m.is_some()) {
/// occam::files::check_file_out(&out, &[]).unwrap(); // occam's own, unedited: may be replaced
/// # }
/// std::fs::write(&out, "edited").unwrap();
/// assert!(occam::files::check_file_out(&out, &[]).is_err());
/// ```
pub fn check_file_out(out: &Path, inputs: &[&Path]) -> Result<()> {
    check_not_input(out, inputs)?;
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(()); // nothing there yet (or a dangling link, whose target is created)
    };
    if !meta.is_file() || is_stream_path(out) {
        return Ok(()); // a folder is refused by write_file; devices and FIFOs are written to
    }
    let refuse = |why: String| {
        Err(OccamError::invalid(
            Setting::Out,
            message![
                why,
                " — occam replaces only files it wrote and nobody has edited since, so as not to lose a user's data; move or delete it first, or choose another ",
                Setting::Out
            ],
        ))
    };
    // The file a link leads to (xattr reads a link's own attributes, not its target's).
    let file = resolve_out(out)?;
    let mark = xattr::get(&file, OWNER_MARK).ok().flatten();
    let Some(mark) = mark else {
        return refuse(format!(
            "{} exists and occam did not write it (it has no {OWNER_MARK} mark{})",
            out.display(),
            if xattr::SUPPORTED_PLATFORM {
                ""
            } else {
                "; this platform keeps none"
            }
        ));
    };
    let digest = sha256_of_file(&file).map_err(|source| OccamError::Read {
        path: file.clone(),
        source,
    })?;
    if mark != digest.as_bytes() {
        return refuse(format!(
            "{} was written by occam but has been edited since",
            out.display()
        ));
    }
    Ok(())
}

/// A path under /dev or /proc (`/dev/stdout`, `/proc/self/fd/1`): a stream the shell opened,
/// written to as it is even when it leads to a regular file (`occam … --out /dev/stdout > f`).
fn is_stream_path(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

/// Lowercase hex SHA-256 of a file's bytes, read in blocks.
fn sha256_of_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes `contents` to the file `out` by the rules of the module docs: never over an input,
/// through symlinks, atomically for regular files (keeping their permissions), straight into
/// devices and FIFOs.
pub fn write_file(out: &Path, contents: &[u8], inputs: &[&Path]) -> Result<()> {
    check_file_out(out, inputs)?;
    // Asked of `out` itself (links followed by the system): a /proc "magic" link such as
    // /dev/stdout → /proc/self/fd/1 → "pipe:[…]" names no path that could be resolved by hand.
    let existing = std::fs::metadata(out).ok();
    let target = match &existing {
        Some(meta) if !meta.is_file() || is_stream_path(out) => out.to_path_buf(),
        _ => resolve_out(out)?,
    };
    let fail = |source| OccamError::Write {
        path: target.clone(),
        source,
    };
    if let Some(meta) = &existing {
        if meta.is_dir() {
            return Err(OccamError::invalid(
                Setting::Out,
                format!(
                    "{} is a folder; name a file inside it, e.g. {}",
                    out.display(),
                    out.join("out.txt").display()
                ),
            ));
        }
        if !meta.is_file() || is_stream_path(out) {
            // A device, FIFO or socket (or /dev/stdout redirected to a file by the shell, which
            // is the shell's open file): write to it as it is, never rename over it.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(fail)?;
            return file.write_all(contents).map_err(fail);
        }
    }
    let staging = Staging::beside(&target)?;
    let written = std::fs::File::create(staging.path()).and_then(|mut f| {
        f.write_all(contents)?;
        if let Some(meta) = &existing {
            f.set_permissions(meta.permissions())?;
        }
        // Unmarked where the file system keeps no extended attributes: the file is then written,
        // but a later `--out` will not replace it (check_file_out says why).
        let _ = xattr::set(staging.path(), OWNER_MARK, sha256_hex(contents).as_bytes());
        f.sync_all()
    });
    written
        .and_then(|_| staging.commit_file(&target))
        .map_err(fail)
}

/// Reads a regular file of at most `limit` bytes; `what` names it in errors ("the spec", …).
/// Folders, FIFOs, sockets and devices are refused before they are opened, so nothing blocks.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let refuse = |message: String| OccamError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(message),
    };
    let meta = std::fs::metadata(path).map_err(|source| OccamError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    check_regular(&meta, limit, what).map_err(refuse)?;
    let file = std::fs::File::open(path).map_err(|source| OccamError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // The file may have grown since; never read past the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| OccamError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(refuse(too_large(what, limit)));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text_bounded(path: &Path, limit: u64, what: &str) -> Result<String> {
    String::from_utf8(read_bounded(path, limit, what)?).map_err(|_| OccamError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("{what} is not UTF-8 text")),
    })
}

/// The shared check of [`read_bounded`] and the data loader: a regular file of at most `limit`
/// bytes, or what is wrong with it.
pub fn check_regular(
    meta: &std::fs::Metadata,
    limit: u64,
    what: &str,
) -> std::result::Result<(), String> {
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(format!(
            "is a folder; {what} must be a file — name a file inside it"
        ));
    }
    if !kind.is_file() {
        return Err(format!(
            "is a {}, not a regular file; {what} must be a regular file — save it to a file first",
            special_kind(meta)
        ));
    }
    if meta.len() > limit {
        return Err(too_large(what, limit));
    }
    Ok(())
}

fn too_large(what: &str, limit: u64) -> String {
    format!(
        "is larger than the {} occam reads for {what}; check that this is the file you meant",
        human_bytes(limit as f64)
    )
}

/// "FIFO", "character device", … for a non-regular file.
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "character device";
        }
        if kind.is_block_device() {
            return "block device";
        }
        if kind.is_socket() {
            return "socket";
        }
    }
    let _ = meta;
    "special file"
}

/// Bytes in binary units: 1536 → "1.5 KiB".
pub fn human_bytes(bytes: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if value >= 1024.0 {
        // Past the last unit (a width that overflows any machine): plain scientific notation.
        format!("{bytes:.2e} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `root`, as `/`-separated paths relative to it, plus every folder that holds
/// no file (as `NAME/`), sorted.
pub fn list_tree(root: &Path) -> Result<BTreeSet<String>> {
    fn walk(root: &Path, relative: &str, out: &mut BTreeSet<String>) -> Result<()> {
        let folder = root.join(relative);
        let entries = std::fs::read_dir(&folder).map_err(|source| OccamError::Read {
            path: folder.clone(),
            source,
        })?;
        let mut empty = true;
        for entry in entries {
            let entry = entry.map_err(|source| OccamError::Read {
                path: folder.clone(),
                source,
            })?;
            empty = false;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(root, &path, out)?;
            } else {
                out.insert(path);
            }
        }
        if empty && !relative.is_empty() {
            out.insert(format!("{relative}/"));
        }
        Ok(())
    }
    let mut out = BTreeSet::new();
    walk(root, "", &mut out)?;
    Ok(out)
}

/// The name of the file in an occam folder that lists what occam wrote.
pub const MANIFEST: &str = "manifest.json";

/// Checks that the folder output `out` may be (re)written, by the rules of the module docs, and
/// returns the existing occam manifest when there is one. `force` lets files occam wrote and
/// the user has since edited be replaced; it never lets a file occam did not write be deleted.
pub fn check_folder_out(out: &Path, force: bool) -> Result<Option<serde_json::Value>> {
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(None);
    };
    if !meta.is_dir() {
        return Err(OccamError::invalid(
            Setting::Out,
            message![
                format!(
                    "{} exists and is not a folder; occam writes a report folder there and never replaces a file — choose another ",
                    out.display()
                ),
                Setting::Out
            ],
        ));
    }
    let present = list_tree(out)?;
    if present.is_empty() {
        return Ok(None);
    }
    let manifest = read_bounded(&out.join(MANIFEST), MAX_VECTOR_BYTES, "a manifest")
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let listed: Option<Vec<(String, String)>> = manifest
        .as_ref()
        .and_then(|m| m.get("files"))
        .and_then(|files| files.as_array())
        .map(|files| {
            files
                .iter()
                .filter_map(|f| {
                    Some((
                        f.get("path")?.as_str()?.to_string(),
                        f.get("sha256")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        });
    let Some(listed) = listed else {
        return Err(OccamError::invalid(
            Setting::Out,
            message![
                format!(
                    "{} is not a folder occam wrote (it has no {MANIFEST} listing occam's files) and holds {}; occam never deletes files it did not write — choose a new or empty ",
                    out.display(),
                    name_some(&present)
                ),
                Setting::Out,
                " folder"
            ],
        ));
    };
    let known: BTreeSet<&str> = listed.iter().map(|(p, _)| p.as_str()).collect();
    let unknown: BTreeSet<String> = present
        .iter()
        .filter(|p| p.as_str() != MANIFEST && !known.contains(p.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(OccamError::invalid(
            Setting::Out,
            message![
                format!(
                    "{} is an occam folder but also holds {} that occam did not write; occam never deletes them (not even with ",
                    out.display(),
                    name_some(&unknown)
                ),
                Setting::Force,
                ") — move them out of the folder, or choose another ",
                Setting::Out
            ],
        ));
    }
    if !force {
        let edited: BTreeSet<String> = listed
            .iter()
            .filter(|(path, sha)| {
                let path = out.join(path);
                // Something put where occam's file was that is not a regular file (a FIFO would
                // block the read) counts as an edit; a regular file is hashed, within the data limit.
                match std::fs::symlink_metadata(&path) {
                    Ok(meta) if meta.is_file() => {
                        read_bounded(&path, MAX_DATA_BYTES, "an output file")
                            .is_ok_and(|bytes| &sha256_hex(&bytes) != sha)
                    }
                    Ok(_) => true,
                    Err(_) => false,
                }
            })
            .map(|(path, _)| path.clone())
            .collect();
        if !edited.is_empty() {
            return Err(OccamError::invalid(
                Setting::Out,
                message![
                    format!(
                        "{}: {} changed since occam wrote it; rerun with ",
                        out.display(),
                        name_some(&edited)
                    ),
                    Setting::Force,
                    " to replace the edits, or choose another ",
                    Setting::Out
                ],
            ));
        }
    }
    Ok(manifest)
}

/// "a, b and 3 more" for error messages.
fn name_some(paths: &BTreeSet<String>) -> String {
    const SHOWN: usize = 8;
    let names: Vec<&str> = paths.iter().take(SHOWN).map(String::as_str).collect();
    let more = paths.len().saturating_sub(SHOWN);
    if more > 0 {
        format!("{} and {more} more", names.join(", "))
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_recognised_only_in_their_exact_shape() {
        assert_eq!(staging_pid(".rep.occam-staging-123", "rep"), Some(123));
        assert_eq!(staging_pid(".rep.occam-staging-", "rep"), None);
        assert_eq!(staging_pid(".rep.occam-staging-12x", "rep"), None);
        assert_eq!(staging_pid(".other.occam-staging-123", "rep"), None);
        assert_eq!(staging_pid(".rep.partial-123", "rep"), None);
        assert_eq!(staging_pid("rep.occam-staging-123", "rep"), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(process_alive(std::process::id()));
    }

    #[test]
    fn human_bytes_uses_binary_units() {
        assert_eq!(human_bytes(512.0), "512 bytes");
        assert_eq!(human_bytes(1536.0), "1.5 KiB");
        assert_eq!(human_bytes(16.0 * 1024.0 * 1024.0 * 1024.0), "16.0 GiB");
        assert_eq!(human_bytes(1.5e30), "1.50e30 bytes");
    }

    #[test]
    fn sha256_matches_the_standard_test_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_a_good_one_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/out.json");
        assert!(write_file(&missing, b"x", &[]).is_err());
        let ok = dir.path().join("out.json");
        write_file(&ok, b"{}", &[]).unwrap();
        assert_eq!(std::fs::read_to_string(&ok).unwrap(), "{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(!live_staging().iter().any(|p| p.starts_with(dir.path())));
    }

    #[test]
    fn list_tree_names_files_and_empty_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        std::fs::write(dir.path().join("a/b/f.txt"), "x").unwrap();
        std::fs::write(dir.path().join("top"), "x").unwrap();
        let listed: Vec<String> = list_tree(dir.path()).unwrap().into_iter().collect();
        assert_eq!(listed, ["a/b/f.txt", "empty/", "top"]);
    }
}
