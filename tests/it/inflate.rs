//! A test-only gzip and DEFLATE decoder, written from RFC 1952 and RFC 1951
//! alone and sharing nothing with the crate's encoder: the oracle for its
//! round trips, here and in the `gzip_roundtrip` fuzz target (which
//! includes this file by `#[path]`).
//!
//! It is strict where the encoder promises more than the format requires:
//! every dynamic Huffman code must be complete (the encoder never sends the
//! one-code trees some decoders refuse), and nothing may follow the member.
//! Speed is no concern; clarity is.

/// Decodes one gzip member that must make up all of `bytes`.
pub(crate) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let header = bytes.get(..10).ok_or("shorter than a gzip header")?;
    if header[..3] != [0x1F, 0x8B, 8] {
        return Err(format!("not a gzip member with DEFLATE: {:02x?}", &header[..3]));
    }
    let flags = header[3];
    if flags & 0xE0 != 0 {
        return Err("reserved flag bits set".into());
    }
    let mut at = 10;
    if flags & 0x04 != 0 {
        // FEXTRA: a two-byte length, then that many bytes.
        let len = bytes.get(at..at + 2).ok_or("truncated FEXTRA")?;
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [0x08, 0x10] {
        // FNAME and FCOMMENT: zero-terminated strings.
        if flags & flag != 0 {
            let end = bytes.get(at..).ok_or("truncated header")?.iter().position(|&b| b == 0);
            at += end.ok_or("unterminated header string")? + 1;
        }
    }
    if flags & 0x02 != 0 {
        at += 2; // FHCRC
    }
    let body = bytes.get(at..).ok_or("truncated header")?;
    let (data, used) = inflate(body)?;
    let trailer = body.get(used..).ok_or("missing trailer")?;
    if trailer.len() != 8 {
        return Err(format!("{} bytes after the DEFLATE stream, expected 8", trailer.len()));
    }
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc != crc32(&data) {
        return Err(format!("CRC-32 {crc:08x} is not the data's {:08x}", crc32(&data)));
    }
    if size != data.len() as u32 {
        return Err(format!("ISIZE {size} is not the data's length {}", data.len()));
    }
    Ok(data)
}

/// CRC-32 bit by bit (RFC 1952 section 8).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

struct Bits<'a> {
    bytes: &'a [u8],
    /// The next bit to read, counted from the start of `bytes`.
    at: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<u32, String> {
        let byte = self.bytes.get(self.at / 8).ok_or("the DEFLATE stream ends early")?;
        let bit = (byte >> (self.at % 8)) & 1;
        self.at += 1;
        Ok(u32::from(bit))
    }

    /// `n` bits, the first one read as the least significant.
    fn bits(&mut self, n: u32) -> Result<u32, String> {
        let mut value = 0;
        for i in 0..n {
            value |= self.bit()? << i;
        }
        Ok(value)
    }
}

/// A canonical Huffman code as counts per length and symbols in code order.
struct Huffman {
    count: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    /// Builds the code for `lengths`; `complete` requires the Kraft sum to
    /// be exactly one.
    fn new(lengths: &[u8], complete: bool) -> Result<Self, String> {
        let mut count = [0u16; 16];
        for &len in lengths {
            count[usize::from(len)] += 1;
        }
        count[0] = 0;
        let mut left: i32 = 1;
        for &n in &count[1..] {
            left = left * 2 - i32::from(n);
            if left < 0 {
                return Err("over-subscribed Huffman code".into());
            }
        }
        if complete && left != 0 {
            return Err(format!("incomplete Huffman code: {lengths:?}"));
        }
        let mut symbols = Vec::new();
        for len in 1..16u8 {
            for (symbol, &l) in lengths.iter().enumerate() {
                if l == len {
                    symbols.push(symbol as u16);
                }
            }
        }
        Ok(Huffman { count, symbols })
    }

    /// Reads one symbol: codes of each length are consecutive integers,
    /// read most significant bit first (RFC 1951 section 3.2.2).
    fn decode(&self, bits: &mut Bits<'_>) -> Result<usize, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.bit()? as i32;
            let count = i32::from(self.count[len]);
            if code - first < count {
                return Ok(usize::from(self.symbols[(index + code - first) as usize]));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("invalid Huffman code".into())
    }
}

const LENGTH_BASE: [usize; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LENGTH_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [usize; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u32; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];

/// Decodes a raw DEFLATE stream from the start of `bytes`: the data and how
/// many whole bytes the stream used.
pub(crate) fn inflate(bytes: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let mut bits = Bits { bytes, at: 0 };
    let mut out = Vec::new();
    loop {
        let last = bits.bit()? == 1;
        match bits.bits(2)? {
            0 => {
                bits.at = bits.at.div_ceil(8) * 8;
                let len = bits.bits(16)?;
                let nlen = bits.bits(16)?;
                if len != !nlen & 0xFFFF {
                    return Err("stored block length check fails".into());
                }
                let start = bits.at / 8;
                let block = bytes
                    .get(start..start + len as usize)
                    .ok_or("stored block ends early")?;
                out.extend_from_slice(block);
                bits.at += 8 * len as usize;
            }
            1 => {
                let mut litlen = [8u8; 288];
                litlen[144..256].fill(9);
                litlen[256..280].fill(7);
                let litlen = Huffman::new(&litlen, true)?;
                let dist = Huffman::new(&[5; 32], true)?;
                codes(&mut bits, &litlen, &dist, &mut out)?;
            }
            2 => {
                let (litlen, dist) = dynamic_codes(&mut bits)?;
                codes(&mut bits, &litlen, &dist, &mut out)?;
            }
            _ => return Err("reserved block type 3".into()),
        }
        if last {
            return Ok((out, bits.at.div_ceil(8)));
        }
    }
}

/// The order in which code-length code lengths are sent.
const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

fn dynamic_codes(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
    let hlit = bits.bits(5)? as usize + 257;
    let hdist = bits.bits(5)? as usize + 1;
    let hclen = bits.bits(4)? as usize + 4;
    if hlit > 286 || hdist > 30 {
        return Err(format!("{hlit} literal/length or {hdist} distance codes"));
    }
    let mut clen = [0u8; 19];
    for &symbol in &ORDER[..hclen] {
        clen[symbol] = bits.bits(3)? as u8;
    }
    let clen = Huffman::new(&clen, true)?;
    let mut lengths = Vec::with_capacity(hlit + hdist);
    while lengths.len() < hlit + hdist {
        let (value, repeat) = match clen.decode(bits)? {
            len @ 0..=15 => (len as u8, 1),
            16 => {
                let previous = *lengths.last().ok_or("repeat with no previous length")?;
                (previous, 3 + bits.bits(2)? as usize)
            }
            17 => (0, 3 + bits.bits(3)? as usize),
            _ => (0, 11 + bits.bits(7)? as usize),
        };
        if lengths.len() + repeat > hlit + hdist {
            return Err("code lengths run past the end".into());
        }
        lengths.extend(std::iter::repeat_n(value, repeat));
    }
    if lengths[256] == 0 {
        return Err("no code for end of block".into());
    }
    Ok((
        Huffman::new(&lengths[..hlit], true)?,
        Huffman::new(&lengths[hlit..], true)?,
    ))
}

fn codes(bits: &mut Bits<'_>, litlen: &Huffman, dist: &Huffman, out: &mut Vec<u8>) -> Result<(), String> {
    loop {
        let symbol = litlen.decode(bits)?;
        match symbol {
            0..=255 => out.push(symbol as u8),
            256 => return Ok(()),
            257..=285 => {
                let i = symbol - 257;
                let len = LENGTH_BASE[i] + bits.bits(LENGTH_EXTRA[i])? as usize;
                let d = dist.decode(bits)?;
                if d >= 30 {
                    return Err(format!("distance symbol {d}"));
                }
                let distance = DIST_BASE[d] + bits.bits(DIST_EXTRA[d])? as usize;
                if distance > out.len() || distance > 32768 {
                    return Err(format!("distance {distance} reaches before the start ({})", out.len()));
                }
                // Byte by byte: a match may overlap the bytes it copies.
                for _ in 0..len {
                    out.push(out[out.len() - distance]);
                }
            }
            _ => return Err(format!("literal/length symbol {symbol}")),
        }
    }
}
