//! A system call the standard library lacks, behind a safe function: a read that refuses to wait for the
//! disk. Elsewhere than Linux it reports "not available", and callers take their ordinary path.

use std::fs::File;
use std::io;

/// Reads into `buf` at `off` only from the page cache: Ok(Some(n)) with the bytes read (0 at end of file),
/// Ok(None) when the read would have to wait for the disk or the kernel cannot promise not to.
#[cfg(target_os = "linux")]
pub fn pread_nowait(file: &File, buf: &mut [u8], off: u64) -> io::Result<Option<usize>> {
    use std::os::fd::AsRawFd;
    let Ok(off) = libc::off_t::try_from(off) else { return Ok(None) };
    let iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: `iov` points at `buf`, which is valid for writes of `buf.len()` bytes and outlives the call; the
    // descriptor belongs to `file`, which is borrowed for the call.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, off, libc::RWF_NOWAIT) };
    if n >= 0 {
        return Ok(Some(n as usize));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EINVAL) => Ok(None),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn pread_nowait(_file: &File, _buf: &mut [u8], _off: u64) -> io::Result<Option<usize>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn nowait_read_of_a_cached_file_returns_its_bytes() {
        let path = std::env::temp_dir().join(format!("ossd-sys-{}", crate::model::random_u64()));
        let mut f = File::create(&path).unwrap();
        f.write_all(b"hello, page cache").unwrap();
        drop(f);
        let f = File::open(&path).unwrap();
        let mut buf = [0u8; 64];
        // Just written, so cached: Linux reads it without waiting; elsewhere the answer is None.
        let got = pread_nowait(&f, &mut buf, 7).unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(got, Some(10));
            assert_eq!(&buf[..10], b"page cache");
        } else {
            assert_eq!(got, None);
        }
        assert_eq!(pread_nowait(&f, &mut buf, 1000).unwrap().unwrap_or(0), 0, "past the end reads nothing");
        std::fs::remove_file(&path).unwrap();
    }
}
