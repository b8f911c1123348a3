//! The data dir's lock: one process at a time serves (or repairs) a data dir. An exclusive `flock` on
//! `<data>/ossd.lock`, released by the kernel when the holder exits, however it exits.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Held while it lives.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes the lock on `data_dir` without waiting: `ErrorKind::WouldBlock` when another process holds it.
pub fn lock(data_dir: &Path) -> io::Result<DataDirLock> {
    let path = data_dir.join("ossd.lock");
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this function owns; it touches no memory.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("{} is in use by another ossd process (it holds {})", data_dir.display(), path.display()),
                ));
            }
            return Err(e);
        }
    }
    Ok(DataDirLock { _file: file })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("ossd-lock-{}", crate::model::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = super::lock(&dir).unwrap();
        let err = super::lock(&dir).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "{err}");
        drop(first);
        let _again = super::lock(&dir).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
