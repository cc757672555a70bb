//! Reads `producer_version` from an ONNX file's top-level message. ONNX Runtime's metadata API
//! has the producer's name but not its version; this scans the top-level protobuf fields,
//! seeking past the graph, so even a large model costs a few small reads.

use std::io::{Read, Seek, SeekFrom};

const PRODUCER_VERSION: u64 = 3;
/// Longer values are not a version string; stop rather than read them.
const MAX_VERSION_LEN: u64 = 4096;

/// The model's `producer_version`, or an empty string when it has none or the bytes are not a
/// readable ONNX model (ONNX Runtime reports the real problem when it loads them).
pub(crate) fn producer_version<R: Read + Seek>(mut r: R) -> String {
    scan(&mut r).unwrap_or_default()
}

fn scan<R: Read + Seek>(r: &mut R) -> Option<String> {
    loop {
        let key = varint(r)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(r)?;
            }
            1 => {
                r.seek(SeekFrom::Current(8)).ok()?;
            }
            2 => {
                let len = varint(r)?;
                if field == PRODUCER_VERSION {
                    if len > MAX_VERSION_LEN {
                        return None;
                    }
                    let mut buf = vec![0u8; len as usize];
                    r.read_exact(&mut buf).ok()?;
                    return String::from_utf8(buf).ok();
                }
                r.seek(SeekFrom::Current(i64::try_from(len).ok()?)).ok()?;
            }
            5 => {
                r.seek(SeekFrom::Current(4)).ok()?;
            }
            _ => return None,
        }
    }
}

fn varint<R: Read>(r: &mut R) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8; 1];
        r.read_exact(&mut byte).ok()?;
        value |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::producer_version;
    use std::io::Cursor;

    #[test]
    fn finds_the_field_after_skipping_others() {
        // ir_version = 8 (varint), producer_name = "p" (field 2), producer_version = "1.2.3".
        let bytes = [0x08, 0x08, 0x12, 0x01, b'p', 0x1a, 0x05, b'1', b'.', b'2', b'.', b'3'];
        assert_eq!(producer_version(Cursor::new(&bytes[..])), "1.2.3");
    }

    #[test]
    fn garbage_and_truncation_give_an_empty_version() {
        assert_eq!(producer_version(Cursor::new(&b"not a model at all"[..])), "");
        assert_eq!(producer_version(Cursor::new(&[0x1a, 0x05, b'1'][..])), "");
        assert_eq!(producer_version(Cursor::new(&[][..])), "");
    }
}
