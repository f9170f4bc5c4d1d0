//! Moving a message body from one side to the other while translating its framing.
//!
//! The input framing comes from the parsed head (Content-Length, chunked, or until close); the
//! output framing is chosen by the proxy: raw bytes (the receiver knows the length, or the
//! connection closes at the end) or chunked (re-encoded here, so chunk extensions and trailers
//! never reach the other side and both sides agree on where the message ends). The pump works on
//! whatever bytes are available and keeps its state between reads, so a body of any size streams
//! through buffers of fixed size.

use turnpike_http::h1::{self, ChunkedDecoder};
use turnpike_http::{H1Error, Limits};

/// How the body is written to the receiving side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFraming {
    /// Body bytes as they are (the head carries Content-Length, or the connection closes after).
    Raw,
    /// Chunked transfer coding, re-encoded.
    Chunked,
}

#[derive(Debug)]
enum Input {
    Length { remaining: u64 },
    Chunked(Box<ChunkedDecoder>),
    UntilClose,
    Done,
}

/// Why a body could not be moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The body's framing is invalid (bad chunk size, missing CRLF, ...).
    Framing(H1Error),
    /// The sender closed before the body was complete.
    Truncated,
}

/// Body pump state for one message.
#[derive(Debug)]
pub struct BodyPump {
    input: Input,
    out: OutFraming,
    /// Body bytes moved so far.
    pub moved: u64,
}

impl BodyPump {
    /// A body of exactly `len` bytes.
    pub fn length(len: u64, out: OutFraming) -> Self {
        let input = if len == 0 { Input::Done } else { Input::Length { remaining: len } };
        Self { input, out, moved: 0 }
    }

    /// A chunked body.
    pub fn chunked(limits: &Limits, out: OutFraming) -> Self {
        Self { input: Input::Chunked(Box::new(ChunkedDecoder::new(limits))), out, moved: 0 }
    }

    /// A body that ends when the sender closes the connection.
    pub fn until_close(out: OutFraming) -> Self {
        Self { input: Input::UntilClose, out, moved: 0 }
    }

    /// No body.
    pub fn none() -> Self {
        Self { input: Input::Done, out: OutFraming::Raw, moved: 0 }
    }

    /// Whether the whole body has been moved (for chunked output, including the last chunk).
    pub fn is_done(&self) -> bool {
        matches!(self.input, Input::Done)
    }

    /// Whether the body ends only when the sender closes.
    pub fn until_closed(&self) -> bool {
        matches!(self.input, Input::UntilClose)
    }

    /// Moves body bytes from `input` to `out`; returns how many input bytes were used. Bytes after
    /// the end of the body are left unused (they belong to the next message).
    pub fn pump(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        match &mut self.input {
            Input::Done => Ok(0),
            Input::Length { remaining } => {
                let take = usize::try_from(*remaining).unwrap_or(usize::MAX).min(input.len());
                let data = input.get(..take).unwrap_or_default();
                write_data(self.out, data, out);
                *remaining -= take as u64;
                self.moved += take as u64;
                if *remaining == 0 {
                    self.finish(out);
                }
                Ok(take)
            }
            Input::UntilClose => {
                write_data(self.out, input, out);
                self.moved += input.len() as u64;
                Ok(input.len())
            }
            Input::Chunked(decoder) => {
                let mut pos = 0;
                loop {
                    let rest = input.get(pos..).unwrap_or_default();
                    let step = decoder.decode(rest).map_err(BodyError::Framing)?;
                    if let Some(range) = step.data.clone() {
                        let data = rest.get(range).unwrap_or_default();
                        write_data(self.out, data, out);
                        self.moved += data.len() as u64;
                    }
                    pos += step.consumed;
                    if step.done {
                        self.finish(out);
                        return Ok(pos);
                    }
                    if step.consumed == 0 && step.data.is_none() {
                        return Ok(pos);
                    }
                }
            }
        }
    }

    /// The sender closed its side: completes a close-delimited body, fails any other.
    pub fn on_eof(&mut self, out: &mut Vec<u8>) -> Result<(), BodyError> {
        match self.input {
            Input::Done => Ok(()),
            Input::UntilClose => {
                self.finish(out);
                Ok(())
            }
            Input::Length { .. } | Input::Chunked(_) => Err(BodyError::Truncated),
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.out == OutFraming::Chunked {
            h1::write_last_chunk(out);
        }
        self.input = Input::Done;
    }
}

fn write_data(framing: OutFraming, data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    match framing {
        OutFraming::Raw => out.extend_from_slice(data),
        OutFraming::Chunked => {
            h1::write_chunk_header(out, data.len());
            out.extend_from_slice(data);
            h1::write_chunk_end(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_body_stops_at_its_end_and_leaves_the_next_message() {
        let mut pump = BodyPump::length(5, OutFraming::Raw);
        let mut out = Vec::new();
        assert_eq!(pump.pump(b"hel", &mut out).unwrap(), 3);
        assert!(!pump.is_done());
        assert_eq!(pump.pump(b"loGET /", &mut out).unwrap(), 2);
        assert!(pump.is_done());
        assert_eq!(out, b"hello");
    }

    #[test]
    fn chunked_is_reencoded_without_extensions_or_trailers() {
        let mut pump = BodyPump::chunked(&Limits::default(), OutFraming::Chunked);
        let mut out = Vec::new();
        let input = b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
        let used = pump.pump(input, &mut out).unwrap();
        assert_eq!(&input[used..], b"NEXT");
        assert!(pump.is_done());
        assert_eq!(out, b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    }

    #[test]
    fn chunked_split_at_every_byte() {
        let input = b"4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
        for split in 0..input.len() {
            let mut pump = BodyPump::chunked(&Limits::default(), OutFraming::Raw);
            let mut out = Vec::new();
            let mut pending = input[..split].to_vec();
            let used = pump.pump(&pending, &mut out).unwrap();
            pending.drain(..used);
            pending.extend_from_slice(&input[split..]);
            let used = pump.pump(&pending, &mut out).unwrap();
            assert_eq!(used, pending.len(), "split {split}");
            assert!(pump.is_done(), "split {split}");
            assert_eq!(out, b"wikipedia", "split {split}");
        }
    }

    #[test]
    fn close_delimited_becomes_chunked_and_ends_on_eof() {
        let mut pump = BodyPump::until_close(OutFraming::Chunked);
        let mut out = Vec::new();
        pump.pump(b"abc", &mut out).unwrap();
        pump.on_eof(&mut out).unwrap();
        assert_eq!(out, b"3\r\nabc\r\n0\r\n\r\n");
    }

    #[test]
    fn early_eof_is_truncation() {
        let mut pump = BodyPump::length(10, OutFraming::Raw);
        let mut out = Vec::new();
        pump.pump(b"abc", &mut out).unwrap();
        assert_eq!(pump.on_eof(&mut out), Err(BodyError::Truncated));
    }

    #[test]
    fn bad_chunk_size_is_a_framing_error() {
        let mut pump = BodyPump::chunked(&Limits::default(), OutFraming::Chunked);
        let mut out = Vec::new();
        assert!(matches!(pump.pump(b"zz\r\n", &mut out), Err(BodyError::Framing(_))));
    }
}
