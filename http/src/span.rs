//! [`Span`]: an offset range into the caller's read buffer.
//!
//! Where it sits: parsers in `http::h1` return spans instead of slices so that a parsed head
//! does not borrow the read buffer; `core` keeps the head while it keeps reading into (or
//! compacting) the same buffer, and resolves spans with [`Span::get`] when it needs bytes.
//!
//! What it does not do: it does not know which buffer it belongs to. Resolving a span against
//! the wrong buffer yields wrong bytes (or an empty slice when out of range), never a panic.

/// `start..start + len` within a buffer. `u32` keeps [`crate::h1::HeaderSpan`] at 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Number of bytes.
    pub len: u32,
}

impl Span {
    /// Span from `usize` offsets; `None` if they do not fit in `u32`.
    pub fn from_range(start: usize, end: usize) -> Option<Span> {
        let len = end.checked_sub(start)?;
        Some(Span { start: u32::try_from(start).ok()?, len: u32::try_from(len).ok()? })
    }

    /// The bytes this span covers in `buf`; an empty slice if it is out of range.
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end()).unwrap_or(&[])
    }

    /// One past the last byte.
    pub fn end(&self) -> usize {
        self.start as usize + self.len as usize
    }

    /// True when the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// This span moved `by` bytes later (saturating).
    pub fn shifted(&self, by: u32) -> Span {
        Span { start: self.start.saturating_add(by), len: self.len }
    }
}

/// Span of `sub` within `base`, by pointer difference (safe: only addresses are compared).
/// `None` if `sub` does not lie inside `base`.
pub(crate) fn span_in(base: &[u8], sub: &[u8]) -> Option<Span> {
    let start = (sub.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    let end = start.checked_add(sub.len())?;
    if end > base.len() {
        return None;
    }
    Span::from_range(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_in_and_out_of_range() {
        let buf = b"hello world";
        let s = Span { start: 6, len: 5 };
        assert_eq!(s.get(buf), b"world");
        assert_eq!(s.end(), 11);
        assert!(!s.is_empty());
        assert_eq!(Span { start: 7, len: 5 }.get(buf), b"");
        assert_eq!(Span { start: 99, len: 0 }.get(buf), b"");
        assert_eq!(Span { start: u32::MAX, len: u32::MAX }.get(buf), b"");
        assert!(Span::default().is_empty());
    }

    #[test]
    fn span_in_by_pointer() {
        let buf = b"GET / HTTP/1.1";
        let sub = buf.get(4..5).unwrap();
        assert_eq!(span_in(buf, sub), Some(Span { start: 4, len: 1 }));
        assert_eq!(Span::from_range(3, 2), None);
        assert_eq!(Span { start: 1, len: 2 }.shifted(3), Span { start: 4, len: 2 });
    }
}
