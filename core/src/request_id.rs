//! Request ids: `x-request-id` is kept when the client sent a sane one, otherwise generated here as
//! a random UUIDv4-formatted string from a per-core generator (seeded once from the OS, no syscall
//! per request).

/// Per-core generator of request ids.
#[derive(Debug)]
pub struct RequestIds {
    state: u64,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl RequestIds {
    /// A generator seeded from the OS random source (falls back to time and thread if that fails).
    pub fn new() -> Self {
        let mut seed = [0u8; 8];
        let seeded = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed);
        let mut state = u64::from_le_bytes(seed);
        if seeded.is_err() || state == 0 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64);
            state = nanos | 1;
        }
        Self { state }
    }

    /// splitmix64: fast, full-period, good enough for identifiers (not for secrets).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Writes a new id (36 bytes, UUIDv4 layout) into `out`.
    pub fn generate(&mut self, out: &mut [u8; 36]) {
        let raw = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        // Version 4 (random) and the RFC 9562 variant bits.
        let raw = (raw & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        let mut slots = out.iter_mut();
        for (i, byte) in raw.to_be_bytes().iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                if let Some(slot) = slots.next() {
                    *slot = b'-';
                }
            }
            for nibble in [byte >> 4, byte & 0x0f] {
                if let Some(slot) = slots.next() {
                    *slot = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
                }
            }
        }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a client-supplied request id is safe to keep (printable, bounded).
pub fn is_acceptable(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= 200 && id.iter().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v4_shaped_and_distinct() {
        let mut gen = RequestIds::new();
        let (mut a, mut b) = ([0u8; 36], [0u8; 36]);
        gen.generate(&mut a);
        gen.generate(&mut b);
        assert_ne!(a, b);
        let text = std::str::from_utf8(&a).unwrap();
        let parts: Vec<&str> = text.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'), "{text}");
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "{text}");
    }

    #[test]
    fn client_ids_are_checked() {
        assert!(is_acceptable(b"abc-123"));
        assert!(!is_acceptable(b""));
        assert!(!is_acceptable(b"a b"));
        assert!(!is_acceptable(&[b'a'; 201]));
    }
}
