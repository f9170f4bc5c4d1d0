//! Large bodies stream through without being buffered: 50 MB up and 50 MB down arrive intact
//! (length + FNV digest) while the gateway's RSS stays under 64 MiB. The far side reads slowly
//! at first, so a gateway that buffered whole bodies would hold most of one in memory.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use turnpike_tests::gateway::rss_kib;
use turnpike_tests::{gateway_to, pattern, Backend, Behaviour, Digest, Framing};

const SIZE: u64 = 50 * 1024 * 1024;
const RSS_LIMIT_KIB: u64 = 64 * 1024;

/// Samples the RSS of `pid` every 10 ms until dropped; `max()` is the peak seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        RssSampler { stop, peak, thread: Some(thread) }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// Writes `len` bytes of the pattern to `w`, as chunks of `chunk` bytes if `chunked`.
fn write_pattern(w: &mut impl Write, len: u64, chunked: bool) -> std::io::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut off = 0;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        pattern::fill(off, &mut buf[..n]);
        if chunked {
            w.write_all(format!("{n:x}\r\n").as_bytes())?;
            w.write_all(&buf[..n])?;
            w.write_all(b"\r\n")?;
        } else {
            w.write_all(&buf[..n])?;
        }
        off += n as u64;
    }
    if chunked {
        w.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

fn upload(chunked: bool) {
    // The backend waits a second before reading the body: the gateway must apply backpressure.
    let b = Backend::with(Behaviour::DelayRead(Duration::from_secs(1), Box::new(Behaviour::Echo)));
    let gw = gateway_to(&b);
    let sampler = RssSampler::start(gw.pid());
    let mut c = gw.client();
    c.set_timeout(Duration::from_secs(25));
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {SIZE}")
    };
    c.send(format!("PUT /api/upload HTTP/1.1\r\nHost: a\r\n{framing}\r\n\r\n").as_bytes());
    let mut w = c.stream().try_clone().expect("clone");
    let writer = std::thread::spawn(move || write_pattern(&mut w, SIZE, chunked));
    let r = c.read_response();
    let peak = sampler.finish();
    // Status first: an early error reply would also make the writer fail with EPIPE.
    assert_eq!(r.status, 200, "{}", r.describe());
    writer.join().expect("writer thread").expect("upload write failed");
    let want = Digest::of_pattern(SIZE);
    assert_eq!(r.json()["body_digest"], want.to_text(), "backend got a different body");
    assert_eq!(b.single_request().chunked, chunked);
    assert!(peak > 0, "could not read the gateway's RSS");
    assert!(peak < RSS_LIMIT_KIB, "gateway RSS peaked at {peak} KiB during a {SIZE}-byte upload");
    eprintln!("upload (chunked={chunked}): peak gateway RSS {peak} KiB");
}

fn download(framing: Framing) {
    let b = Backend::with(Behaviour::Body { len: SIZE, framing });
    let gw = gateway_to(&b);
    let sampler = RssSampler::start(gw.pid());
    let mut c = gw.client();
    c.set_timeout(Duration::from_secs(25));
    c.send(b"GET /api/download HTTP/1.1\r\nHost: a\r\n\r\n");
    // Read nothing for a second: the backend writes as fast as the gateway lets it.
    std::thread::sleep(Duration::from_secs(1));
    let r = c.read_response_digest();
    let peak = sampler.finish();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.raw_head));
    assert_eq!(r.digest, Digest::of_pattern(SIZE), "download corrupted");
    assert!(peak > 0, "could not read the gateway's RSS");
    assert!(peak < RSS_LIMIT_KIB, "gateway RSS peaked at {peak} KiB during a {SIZE}-byte download");
    eprintln!("download ({framing:?}): peak gateway RSS {peak} KiB");
}

#[test]
fn upload_50mb_content_length() {
    upload(false);
}

#[test]
fn upload_50mb_chunked() {
    upload(true);
}

#[test]
fn download_50mb_content_length() {
    download(Framing::ContentLength);
}

#[test]
fn download_50mb_chunked() {
    download(Framing::Chunked);
}
