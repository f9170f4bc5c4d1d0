//! Unit tests for `chunked.rs`: every split point, overflow, extensions, trailers.

use super::*;

/// Decode all of `input` fed in pieces of at most `step` bytes; returns the data.
fn decode_split(input: &[u8], cuts: &[usize], limits: &Limits) -> Result<(Vec<u8>, bool), H1Error> {
    let mut d = ChunkedDecoder::new(limits);
    let mut data = Vec::new();
    let mut start = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.push(input.len());
    for end in bounds {
        pending.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            let step = d.decode(&pending)?;
            if let Some(r) = step.data.clone() {
                assert!(r.end <= step.consumed);
                data.extend_from_slice(&pending[r]);
            }
            pending.drain(..step.consumed);
            if step.done {
                assert!(d.is_done());
                return Ok((data, true));
            }
            if step.consumed == 0 && step.data.is_none() {
                break;
            }
        }
    }
    Ok((data, false))
}

fn decode(input: &[u8]) -> Result<(Vec<u8>, bool), H1Error> {
    decode_split(input, &[], &Limits::default())
}

const BODY: &[u8] = b"5;a=b;c=\"q\\\"x\"\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n";

#[test]
fn whole() {
    assert_eq!(decode(BODY), Ok((b"hello world".to_vec(), true)));
}

#[test]
fn every_split_point() {
    for i in 0..=BODY.len() {
        assert_eq!(
            decode_split(BODY, &[i], &Limits::default()),
            Ok((b"hello world".to_vec(), true)),
            "split at {i}"
        );
    }
    // byte by byte
    let cuts: Vec<usize> = (1..BODY.len()).collect();
    assert_eq!(decode_split(BODY, &cuts, &Limits::default()), Ok((b"hello world".to_vec(), true)));
}

#[test]
fn done_stops_consuming() {
    let mut d = ChunkedDecoder::new(&Limits::default());
    let input = b"0\r\n\r\nGET / HTTP/1.1";
    let s = d.decode(input).unwrap();
    assert_eq!(s, ChunkStep { consumed: 5, data: None, done: true });
}

#[test]
fn needs_more() {
    let mut d = ChunkedDecoder::new(&Limits::default());
    assert_eq!(d.decode(b"").unwrap(), ChunkStep { consumed: 0, data: None, done: false });
    assert_eq!(d.decode(b"a").unwrap().consumed, 1);
    assert!(!d.is_done());
}

#[test]
fn sizes() {
    assert_eq!(decode(b"A\r\n0123456789\r\n000\r\n\r\n").unwrap().0, b"0123456789");
    assert_eq!(decode(b"ffffffffffffffff\r\n").map(|r| r.1), Ok(false));
    assert_eq!(decode(b"00000000000000001\r\n").map(|r| r.1), Err(H1Error::ChunkSizeOverflow));
    assert_eq!(decode(b"10000000000000000\r\n").map(|r| r.1), Err(H1Error::ChunkSizeOverflow));
    assert_eq!(decode(b"\r\n").map(|r| r.1), Err(H1Error::InvalidChunkSize));
    assert_eq!(decode(b"g\r\n").map(|r| r.1), Err(H1Error::InvalidChunkSize));
    assert_eq!(decode(b"-1\r\n").map(|r| r.1), Err(H1Error::InvalidChunkSize));
    assert_eq!(decode(b"1\n").map(|r| r.1), Err(H1Error::InvalidChunkSize));
    assert_eq!(decode(b"1\rx").map(|r| r.1), Err(H1Error::InvalidChunkSize));
    assert_eq!(decode(b"a \r\n").map(|r| r.1), Err(H1Error::InvalidChunkSize));
    assert_eq!(decode(b"2 erf\r\n").map(|r| r.1), Err(H1Error::InvalidChunkSize));
}

#[test]
fn extensions() {
    for ok in [
        &b"1;a\r\nx\r\n0\r\n\r\n"[..],
        b"1;a=b\r\nx\r\n0\r\n\r\n",
        b"1 ; a = b ; c\r\nx\r\n0\r\n\r\n",
        b"1;a=\"b c; d\"\r\nx\r\n0\r\n\r\n",
        b"1;a=\"\\\"\"\r\nx\r\n0;last=1\r\n\r\n",
    ] {
        assert_eq!(decode(ok), Ok((b"x".to_vec(), true)), "{:?}", String::from_utf8_lossy(ok));
    }
    for bad in [
        &b"1;\r\n"[..],
        b"1;=b\r\n",
        b"1;a=\r\n",
        b"1;a=\"b\r\n",
        b"1;a b\r\n",
        b"1;a=b c\r\n",
        b"1;a@\r\n",
        b"1;a \r\n",
    ] {
        let r = decode(bad).map(|r| r.1);
        assert!(
            matches!(r, Err(H1Error::InvalidChunkExtension | H1Error::InvalidChunkSize)),
            "{:?} → {r:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let limits = Limits { max_chunk_ext_bytes: 8, ..Limits::default() };
    assert_eq!(
        decode_split(b"1;abcdefgh\r\n", &[], &limits).map(|r| r.1),
        Err(H1Error::ChunkExtensionTooLong)
    );
    assert_eq!(decode_split(b"1;abcdefg\r\nx\r\n0\r\n\r\n", &[], &limits).map(|r| r.1), Ok(true));
}

#[test]
fn data_termination() {
    assert_eq!(decode(b"5\r\nABCDE0\r\n").map(|r| r.1), Err(H1Error::InvalidChunkData));
    assert_eq!(decode(b"1\r\nA\n0\r\n\r\n").map(|r| r.1), Err(H1Error::InvalidChunkData));
    assert_eq!(decode(b"1\r\nA\rX").map(|r| r.1), Err(H1Error::InvalidChunkData));
    assert_eq!(decode(b"0\r\n\rX").map(|r| r.1), Err(H1Error::InvalidChunkData));
    assert_eq!(decode(b"0\r\n\n").map(|r| r.1), Err(H1Error::InvalidTrailer));
}

#[test]
fn trailers() {
    assert_eq!(decode(b"0\r\nA: b\r\n\r\n").map(|r| r.1), Ok(true));
    assert_eq!(decode(b"0\r\nA:\r\n\r\n").map(|r| r.1), Ok(true));
    for bad in [
        &b"0\r\n: b\r\n\r\n"[..],
        b"0\r\nA : b\r\n\r\n",
        b"0\r\nA: b\r\n c\r\n\r\n",
        b"0\r\nA: b\x01\r\n\r\n",
        b"0\r\nA: b\rc\r\n\r\n",
        b"0\r\nA\r\n\r\n",
    ] {
        assert_eq!(
            decode(bad).map(|r| r.1),
            Err(H1Error::InvalidTrailer),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let limits = Limits { max_trailer_bytes: 10, ..Limits::default() };
    assert_eq!(
        decode_split(b"0\r\nAbcdef: ghijk\r\n\r\n", &[], &limits).map(|r| r.1),
        Err(H1Error::TrailersTooLarge)
    );
    assert_eq!(decode_split(b"0\r\nAb: c\r\n\r\n", &[], &limits).map(|r| r.1), Ok(true));
}

#[test]
fn large_chunk_streams_in_pieces() {
    let mut body = Vec::new();
    body.extend_from_slice(b"10000\r\n");
    body.extend(std::iter::repeat_n(b'z', 65536));
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    let cuts: Vec<usize> = (1..body.len()).step_by(1000).collect();
    let (data, done) = decode_split(&body, &cuts, &Limits::default()).unwrap();
    assert!(done);
    assert_eq!(data.len(), 65536);
}
