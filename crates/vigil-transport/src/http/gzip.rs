//! Gzip framing of request bodies (RFC 1952), written by hand around a
//! reused raw deflate state.

use std::io;

use flate2::Compression;
use vigil_core::protocol::Envelope;

/// Gzips envelopes, reusing one deflate state and buffer: setting up a
/// fresh compressor costs more than compressing a typical event.
pub(crate) struct Gzipper {
    deflate: flate2::Compress,
    plain: Vec<u8>,
}

impl Gzipper {
    /// A gzipper at the fast compression level.
    pub(crate) fn new() -> Gzipper {
        Gzipper {
            // Raw deflate; the gzip header and trailer are written here.
            // Fast level: event payloads are small and the worker should not
            // become CPU bound.
            deflate: flate2::Compress::new(Compression::fast(), false),
            plain: Vec::with_capacity(4096),
        }
    }

    /// The envelope in the wire format, gzipped (RFC 1952).
    pub(crate) fn gzip(&mut self, envelope: &Envelope) -> io::Result<Vec<u8>> {
        self.plain.clear();
        envelope.to_writer(&mut self.plain)?;
        self.deflate.reset();
        let mut out = Vec::with_capacity(self.plain.len() / 2 + 64);
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        loop {
            let consumed = usize::try_from(self.deflate.total_in()).unwrap_or(usize::MAX);
            let input = self.plain.get(consumed..).unwrap_or(&[]);
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let status = self
                .deflate
                .compress_vec(input, &mut out, flate2::FlushCompress::Finish)
                .map_err(io::Error::other)?;
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(&self.plain);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE: the input length modulo 2^32, as RFC 1952 defines it.
        out.extend_from_slice(&(self.plain.len() as u32).to_le_bytes());
        Ok(out)
    }
}

/// The envelope in the wire format, gzipped.
#[cfg(test)]
fn gzip(envelope: &Envelope) -> io::Result<Vec<u8>> {
    Gzipper::new().gzip(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let envelope = Envelope::from_event(vigil_core::protocol::Event::default());
        let body = gzip(&envelope).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, envelope.to_vec().unwrap());
    }
}
