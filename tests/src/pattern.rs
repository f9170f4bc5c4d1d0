//! Deterministic bodies and their digest.
//!
//! Large transfers are generated on the fly from a byte pattern (never held in memory) and
//! compared by [`Digest`] (length + 64-bit FNV-1a), so a 50 MB body costs the tests nothing but time.

/// Byte `i` of the deterministic pattern (not periodic over short spans, so a dropped or
/// duplicated block changes the digest).
pub fn byte_at(i: u64) -> u8 {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((x >> 29) ^ (i >> 11)) as u8
}

/// Fills `buf` with the pattern starting at offset `start`.
pub fn fill(start: u64, buf: &mut [u8]) {
    for (k, b) in buf.iter_mut().enumerate() {
        *b = byte_at(start + k as u64);
    }
}

/// The first `len` bytes of the pattern.
pub fn bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    fill(0, &mut v);
    v
}

/// Length and FNV-1a hash of a byte stream, fed incrementally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    pub len: u64,
    pub fnv: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest { len: 0, fnv: 0xcbf2_9ce4_8422_2325 }
    }
}

impl Digest {
    pub fn new() -> Digest {
        Digest::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        let mut h = self.fnv;
        for &b in data {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.fnv = h;
        self.len += data.len() as u64;
    }

    pub fn of(data: &[u8]) -> Digest {
        let mut d = Digest::new();
        d.update(data);
        d
    }

    /// Digest of the first `len` bytes of the pattern.
    pub fn of_pattern(len: u64) -> Digest {
        let mut d = Digest::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut off = 0;
        while off < len {
            let n = (len - off).min(buf.len() as u64) as usize;
            fill(off, &mut buf[..n]);
            d.update(&buf[..n]);
            off += n as u64;
        }
        d
    }

    /// `"<len>:<fnv hex>"`, as the backend reports it in JSON.
    pub fn to_text(&self) -> String {
        format!("{}:{:016x}", self.len, self.fnv)
    }
}
