//! The CRC-8 of PlainBuffer: polynomial 0x07, initial value 0, no reflection,
//! no final XOR, fed cell by cell as the format describes.

const fn make_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static TABLE: [u8; 256] = make_table();

/// Feed one byte.
pub fn byte(crc: u8, b: u8) -> u8 {
    TABLE[(crc ^ b) as usize]
}

/// Feed bytes in order.
pub fn bytes(mut crc: u8, data: &[u8]) -> u8 {
    for b in data {
        crc = byte(crc, *b);
    }
    crc
}

/// Feed a 32-bit value, least significant byte first.
pub fn u32_le(crc: u8, v: u32) -> u8 {
    bytes(crc, &v.to_le_bytes())
}

/// Feed a 64-bit value, least significant byte first.
pub fn u64_le(crc: u8, v: u64) -> u8 {
    bytes(crc, &v.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_published_one() {
        // First and last rows of the SDK's CRC8_TABLE.
        assert_eq!(
            &TABLE[..8],
            &[0x00, 0x07, 0x0e, 0x09, 0x1c, 0x1b, 0x12, 0x15]
        );
        assert_eq!(
            &TABLE[248..],
            &[0xe6, 0xe1, 0xe8, 0xef, 0xfa, 0xfd, 0xf4, 0xf3]
        );
        // CRC-8/SMBUS check value.
        assert_eq!(bytes(0, b"123456789"), 0xf4);
    }
}
