//! Chunked transfer coding decoder (RFC 9112 §7.1), for request and response bodies.
//!
//! Where it sits: after a head parser reported `Chunked`, `core` feeds the bytes that
//! follow the head to [`ChunkedDecoder::decode`] and forwards the data ranges it returns
//! (re-chunking them with `encode`). Works on any split of the input: state survives
//! between calls, nothing is buffered.
//!
//! What it does not do: no I/O, no copying (data is reported as a range of the input), no
//! trailer forwarding (trailers are validated, bounded and dropped).
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//!
//!  Size ──hex──► Size ──";"/BWS──► Ext* ──CR──► SizeLf ──LF──► Data(n) ──► DataCr ──► DataLf ─┐
//!   ▲                                              │ (size 0)                                    │
//!   └──────────────────────────────────────────────┼─────────────────────────────────────────────┘
//!                                                  ▼
//!                      TrailerLineStart ──name──► TrailerName ──":"──► TrailerValue ──CR──► TrailerLf
//!                            │  ▲                                                            │
//!                            │  └────────────────────────────LF──────────────────────────────┘
//!                            └──CR──► EndLf ──LF──► Done
//! ```

use std::ops::Range;

use super::head::{is_field_value_byte, is_tchar};
use crate::{H1Error, Limits};

/// Most hex digits accepted in a chunk-size: 16 digits cannot overflow a u64.
const MAX_SIZE_DIGITS: u8 = 16;

/// Where we are inside a chunk-extension (RFC 9112 §7.1.1):
/// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExtAt {
    /// After size digits or a value, saw BWS: only more BWS or ';' may follow.
    Bws,
    /// After ';': BWS, then a name.
    NameStart,
    /// Inside a name.
    Name,
    /// BWS after a name: '=' or ';' may follow.
    AfterName,
    /// After '=': BWS, then a token or a quoted-string.
    ValueStart,
    /// Inside a token value.
    Token,
    /// Inside a quoted-string.
    Quoted,
    /// After a backslash inside a quoted-string.
    QuotedEscape,
    /// Right after the closing quote.
    AfterQuoted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk-size.
    Size { size: u64, digits: u8 },
    /// Inside chunk extensions; `used` counts their bytes on this line.
    Ext { size: u64, at: ExtAt, used: usize },
    /// Saw CR after the chunk-size line; expecting LF.
    SizeLf { size: u64 },
    /// Inside chunk data.
    Data { remaining: u64 },
    /// Expecting CR after chunk data.
    DataCr,
    /// Expecting LF after chunk data.
    DataLf,
    /// Start of a trailer line (or the final CRLF).
    TrailerLineStart,
    /// Inside a trailer field name.
    TrailerName,
    /// Inside a trailer field value.
    TrailerValue,
    /// Saw CR ending a trailer field line.
    TrailerLf,
    /// Saw the CR of the final CRLF.
    EndLf,
    /// Body complete.
    Done,
}

/// Result of one [`ChunkedDecoder::decode`] call.
#[derive(Debug, PartialEq, Eq)]
pub struct ChunkStep {
    /// Bytes of input used (framing and data).
    pub consumed: usize,
    /// Data bytes within `input[..consumed]`, at most one range per call.
    pub data: Option<Range<usize>>,
    /// The last-chunk, trailers and final CRLF have been consumed.
    pub done: bool,
}

/// Incremental, overflow-safe chunked decoder. One per body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    max_ext: usize,
    max_trailer: usize,
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new(limits: &Limits) -> Self {
        ChunkedDecoder {
            state: State::Size { size: 0, digits: 0 },
            max_ext: limits.max_chunk_ext_bytes,
            max_trailer: limits.max_trailer_bytes,
            trailer_bytes: 0,
        }
    }

    /// True once the whole body (including trailers and the final CRLF) was consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decode from `input` (the unconsumed remainder). Call repeatedly; when
    /// `consumed == 0 && data.is_none() && !done`, more input is needed.
    pub fn decode(&mut self, input: &[u8]) -> Result<ChunkStep, H1Error> {
        let mut pos = 0usize;
        loop {
            if self.state == State::Done {
                return Ok(ChunkStep { consumed: pos, data: None, done: true });
            }
            if let State::Data { remaining } = self.state {
                let avail = input.len().saturating_sub(pos);
                if avail == 0 {
                    break;
                }
                let take = usize::try_from(remaining).unwrap_or(usize::MAX).min(avail);
                let left = remaining - take as u64;
                self.state =
                    if left == 0 { State::DataCr } else { State::Data { remaining: left } };
                return Ok(ChunkStep {
                    consumed: pos + take,
                    data: Some(pos..pos + take),
                    done: false,
                });
            }
            let Some(&b) = input.get(pos) else { break };
            self.state = self.step(b)?;
            pos += 1;
        }
        Ok(ChunkStep { consumed: pos, data: None, done: false })
    }

    /// One framing byte.
    fn step(&mut self, b: u8) -> Result<State, H1Error> {
        use State::*;
        Ok(match self.state {
            Size { size, digits } => match b {
                // RFC 9112 §7.1: chunk-size = 1*HEXDIG
                _ if b.is_ascii_hexdigit() => {
                    if digits >= MAX_SIZE_DIGITS {
                        return Err(H1Error::ChunkSizeOverflow);
                    }
                    let d = hex_value(b);
                    Size { size: (size << 4) | d, digits: digits + 1 }
                }
                _ if digits == 0 => return Err(H1Error::InvalidChunkSize),
                b'\r' => SizeLf { size },
                b';' => self.ext(size, ExtAt::NameStart, 1)?,
                b' ' | b'\t' => self.ext(size, ExtAt::Bws, 1)?,
                _ => return Err(H1Error::InvalidChunkSize),
            },
            Ext { size, at, used } => {
                let used = used + 1;
                let next = match (at, b) {
                    (ExtAt::Bws, b' ' | b'\t') => ExtAt::Bws,
                    (ExtAt::Bws, b';') => ExtAt::NameStart,
                    // BWS not followed by ';' (e.g. "a \r\n"): refused, strict.
                    (ExtAt::Bws, _) if used == 2 => return Err(H1Error::InvalidChunkSize),
                    (ExtAt::NameStart, b' ' | b'\t') => ExtAt::NameStart,
                    (ExtAt::NameStart | ExtAt::Name, _) if is_tchar(b) => ExtAt::Name,
                    (ExtAt::Name, b'\r') | (ExtAt::Token, b'\r') | (ExtAt::AfterQuoted, b'\r') => {
                        return Ok(SizeLf { size })
                    }
                    (ExtAt::Name | ExtAt::AfterName, b' ' | b'\t') => ExtAt::AfterName,
                    (ExtAt::Name | ExtAt::AfterName, b'=') => ExtAt::ValueStart,
                    (ExtAt::Name | ExtAt::AfterName | ExtAt::Token | ExtAt::AfterQuoted, b';') => {
                        ExtAt::NameStart
                    }
                    (ExtAt::ValueStart, b' ' | b'\t') => ExtAt::ValueStart,
                    (ExtAt::ValueStart, b'"') => ExtAt::Quoted,
                    (ExtAt::ValueStart | ExtAt::Token, _) if is_tchar(b) => ExtAt::Token,
                    (ExtAt::Token | ExtAt::AfterQuoted, b' ' | b'\t') => ExtAt::Bws,
                    (ExtAt::Quoted, b'"') => ExtAt::AfterQuoted,
                    (ExtAt::Quoted, b'\\') => ExtAt::QuotedEscape,
                    // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                    (ExtAt::Quoted, _) if is_field_value_byte(b) => ExtAt::Quoted,
                    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    (ExtAt::QuotedEscape, _) if is_field_value_byte(b) => ExtAt::Quoted,
                    _ => return Err(H1Error::InvalidChunkExtension),
                };
                self.ext(size, next, used)?
            }
            // RFC 9112 §7.1: chunk-size line ends with CRLF; bare CR is refused.
            SizeLf { size } => match b {
                b'\n' if size == 0 => TrailerLineStart,
                b'\n' => Data { remaining: size },
                _ => return Err(H1Error::InvalidChunkSize),
            },
            // RFC 9112 §7.1: chunk-data is followed by CRLF.
            DataCr => match b {
                b'\r' => DataLf,
                _ => return Err(H1Error::InvalidChunkData),
            },
            DataLf => match b {
                b'\n' => Size { size: 0, digits: 0 },
                _ => return Err(H1Error::InvalidChunkData),
            },
            // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF )
            TrailerLineStart => match b {
                b'\r' => EndLf,
                _ if is_tchar(b) => self.trailer(TrailerName)?,
                _ => return Err(H1Error::InvalidTrailer),
            },
            TrailerName => match b {
                b':' => self.trailer(TrailerValue)?,
                _ if is_tchar(b) => self.trailer(TrailerName)?,
                _ => return Err(H1Error::InvalidTrailer),
            },
            TrailerValue => match b {
                b'\r' => self.trailer(TrailerLf)?,
                _ if is_field_value_byte(b) => self.trailer(TrailerValue)?,
                _ => return Err(H1Error::InvalidTrailer),
            },
            TrailerLf => match b {
                b'\n' => self.trailer(TrailerLineStart)?,
                _ => return Err(H1Error::InvalidTrailer),
            },
            EndLf => match b {
                b'\n' => Done,
                _ => return Err(H1Error::InvalidChunkData),
            },
            Data { .. } | Done => self.state,
        })
    }

    fn ext(&self, size: u64, at: ExtAt, used: usize) -> Result<State, H1Error> {
        if used > self.max_ext {
            return Err(H1Error::ChunkExtensionTooLong);
        }
        Ok(State::Ext { size, at, used })
    }

    fn trailer(&mut self, next: State) -> Result<State, H1Error> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > self.max_trailer {
            return Err(H1Error::TrailersTooLarge);
        }
        Ok(next)
    }
}

fn hex_value(b: u8) -> u64 {
    u64::from(match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    })
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
