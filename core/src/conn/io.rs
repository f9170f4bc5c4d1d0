//! Socket reads and writes bounded by the connection's [`Deadline`] (armed by the caller), over
//! monoio's owned-buffer I/O: a buffer is moved into the operation and comes back with it. If the
//! deadline passes, the operation (and its buffer) is abandoned and the caller closes the
//! connection.

use std::io;

use crate::deadline::Deadline;
use crate::runtime::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, IoBufMut};

/// Smallest free space a read is given; the buffer grows by this much when fuller.
const MIN_READ_SPACE: usize = 4 * 1024;

/// Why a read or write did not complete.
#[derive(Debug)]
pub enum IoFailure {
    /// The peer closed its side (read returned 0).
    Closed,
    /// The deadline passed.
    TimedOut,
    /// The socket failed (reset, broken pipe, ...).
    Failed(io::Error),
}

/// Reads more bytes, appending them to `buf`; returns how many arrived.
///
/// Generic over the stream: plain TCP, or TLS over it (client and upstream side alike).
pub async fn read_more<S: AsyncReadRent>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    deadline: &Deadline,
) -> Result<usize, IoFailure> {
    if buf.capacity() - buf.len() < MIN_READ_SPACE {
        buf.reserve(MIN_READ_SPACE.max(buf.capacity()));
    }
    let owned = std::mem::take(buf);
    let (start, end) = (owned.len(), owned.capacity());
    let Some((result, slice)) = deadline.within(stream.read(owned.slice_mut(start..end))).await
    else {
        return Err(IoFailure::TimedOut);
    };
    *buf = slice.into_inner();
    match result {
        Ok(0) => Err(IoFailure::Closed),
        Ok(n) => Ok(n),
        Err(err) => Err(IoFailure::Failed(err)),
    }
}

/// Writes all of `buf` (which keeps its contents, so a caller may resend it).
pub async fn write_all<S: AsyncWriteRent>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    deadline: &Deadline,
) -> Result<(), IoFailure> {
    if buf.is_empty() {
        return Ok(());
    }
    let owned = std::mem::take(buf);
    let Some((result, owned)) = deadline.within(stream.write_all(owned)).await else {
        return Err(IoFailure::TimedOut);
    };
    *buf = owned;
    match result {
        Ok(_) => Ok(()),
        Err(err) => Err(IoFailure::Failed(err)),
    }
}
