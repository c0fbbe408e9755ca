//! Unix domain stream sockets, parking the goroutine like TCP's.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::path::Path;

use super::{limit_methods, stream_io, Socket};

/// A Unix domain socket listening for connections.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use goro::net::{UnixListener, UnixStream};
/// goro::run(|| {
///     let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let ln = UnixListener::bind(&path).unwrap();
///     goro::go(move || {
///         let mut c = ln.accept().unwrap();
///         c.write_all(b"hi").unwrap();
///     });
///     let mut s = UnixStream::connect(&path).unwrap();
///     let mut buf = [0; 2];
///     s.read_exact(&mut buf).unwrap();
///     assert_eq!(&buf, b"hi");
///     std::fs::remove_file(&path).unwrap();
/// })
/// .unwrap();
/// ```
pub struct UnixListener {
    s: Socket<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` (which must not exist yet).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            s: Socket::new(mio::net::UnixListener::bind(path)?)?,
        })
    }

    /// Waits for a connection (the read deadline applies).
    pub fn accept(&self) -> io::Result<UnixStream> {
        let (io, _) = self.s.read_with(|l| l.accept())?;
        Ok(UnixStream {
            s: Socket::new(io)?,
        })
    }

    limit_methods!();
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("addr", &self.s.io.local_addr().ok())
            .finish()
    }
}

/// A Unix domain stream connection; `Read`/`Write` for `&UnixStream` too.
pub struct UnixStream {
    s: Socket<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`, parking while the connection completes.
    pub fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let s = UnixStream {
            s: Socket::new(mio::net::UnixStream::connect(path)?)?,
        };
        s.s.write_with(|io| super::connected(io.take_error(), io.peer_addr().map(drop)))?;
        Ok(s)
    }

    /// A connected pair.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream { s: Socket::new(a)? },
            UnixStream { s: Socket::new(b)? },
        ))
    }

    /// Shuts down the read half, the write half, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.s.io.shutdown(how)
    }

    limit_methods!();
}

stream_io!(UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").finish_non_exhaustive()
    }
}
