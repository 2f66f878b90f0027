//! gzip compression (RFC 1952 around RFC 1951 DEFLATE), written for
//! exposition text with nothing but `std`.
//!
//! Every real Prometheus sends `Accept-Encoding: gzip` on every scrape, and
//! exposition text compresses about tenfold, so the handler compresses
//! whenever the scraper allows it. The encoder is tuned for that text: it
//! is about as small as zlib's default level and several times faster
//! (`bench-compare` measures both against `flate2`).

mod crc32;
mod deflate;
mod huffman;

/// The gzip member header: magic, method 8 (DEFLATE), no flags, no
/// modification time, no extra flags, operating system 255 (unknown).
const HEADER: [u8; 10] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF];

/// Compresses `data` as one gzip member and appends it to `out`.
///
/// The output is a complete `.gz` stream (RFC 1952) that any gzip decoder
/// reads back to exactly `data`: what an HTTP response with
/// `Content-Encoding: gzip` carries. [`Registry::handle`] calls it when the
/// request's `Accept-Encoding` allows gzip; call it directly when serving
/// [`Registry::encode`]'s output by other means.
///
/// [`Registry::handle`]: crate::Registry::handle
/// [`Registry::encode`]: crate::Registry::encode
///
/// # Examples
///
/// ```
/// let text = "app_up 1\n".repeat(100);
/// let mut body = Vec::new();
/// bareprom::gzip(text.as_bytes(), &mut body);
/// assert_eq!(body[..2], [0x1F, 0x8B]);
/// assert!(body.len() < text.len() / 10);
/// ```
pub fn gzip(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(HEADER.len() + data.len() / 8 + 64);
    out.extend_from_slice(&HEADER);
    deflate::deflate(data, out);
    out.extend_from_slice(&crc32::crc32(data).to_le_bytes());
    // ISIZE: the input length modulo 2^32.
    #[allow(clippy::cast_possible_truncation, reason = "RFC 1952 stores the length modulo 2^32")]
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
}
