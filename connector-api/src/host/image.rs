//! A library file checked against its own headers before the dynamic loader maps it.
//!
//! The loader maps a library's segments as its headers describe them; a file cut short (an
//! interrupted copy, a full disk) maps past its end, and the first access to a missing page
//! kills the host with SIGBUS, taking every connector loaded in it down. Every segment the
//! headers announce must lie within the file, or the library is refused with the reason.

use std::path::Path;

use std::io::Read;

use object::read::ReadCache;
use object::{Object, ObjectSegment};

/// Why a file is no loadable library, or `Ok` when its headers and size agree. Only the
/// headers are read, not the whole file.
pub(crate) fn check(path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let len = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?
        .len();
    let mut magic = [0u8; 4];
    let _ = file.read(&mut magic);
    let cache = ReadCache::new(file);
    let parsed = match object::File::parse(&cache) {
        Ok(parsed) => parsed,
        // Not an object file at all: the dynamic loader says so in its own words.
        Err(_) if !looks_like_an_object_file(&magic) => return Ok(()),
        Err(e) => return Err(format!("its headers are corrupt or cut short ({e})")),
    };
    for segment in parsed.segments() {
        let (offset, size) = segment.file_range();
        if offset.saturating_add(size) > len {
            return Err(format!(
                "it is truncated or corrupt: a segment its headers announce ends at byte {}, the file has {len}",
                offset.saturating_add(size)
            ));
        }
    }
    Ok(())
}

/// Whether `data` starts like an ELF, PE or Mach-O file.
fn looks_like_an_object_file(data: &[u8]) -> bool {
    const MAGICS: [&[u8]; 5] = [
        b"\x7fELF",
        b"MZ",
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xca, 0xfe, 0xba, 0xbe],
    ];
    MAGICS.iter().any(|m| data.starts_with(m))
}
