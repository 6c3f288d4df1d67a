//! Reading input files and writing result files without surprises
//! (docs/limits.md): an input is read only when it is a regular file of
//! at most [`MAX_INPUT_BYTES`]; a result file is written into its folder
//! through a fresh temporary file renamed over the old name, so that a
//! symbolic link planted under that name is replaced, never followed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The largest input file read (scenario, stack file, empirical samples,
/// batch shard files): 16 MiB. Bundled scenarios are a few KB.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A directory, FIFO, socket or device: named by kind.
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    #[error(
        "the file is {0} bytes; input files are limited to {MAX_INPUT_BYTES} bytes (16 MiB, docs/limits.md)"
    )]
    TooLarge(u64),
    /// Not UTF-8: the 1-based line and column (in characters) of the first
    /// invalid byte, and that byte.
    #[error("invalid UTF-8: byte 0x{byte:02x} (the file must be UTF-8 text)")]
    Utf8 {
        line: usize,
        column: usize,
        byte: u8,
    },
}

fn kind_of(ft: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// Reads a regular file of at most [`MAX_INPUT_BYTES`] as UTF-8 text.
/// FIFOs and devices are refused before they are opened (so `/dev/zero`
/// is not read and a FIFO does not block).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let (line, column) = line_column(bytes, at);
        ReadError::Utf8 {
            line,
            column,
            byte: bytes[at],
        }
    })
}

/// Reads a regular file of at most [`MAX_INPUT_BYTES`].
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let f = File::open(path)?;
    // Checked again on the open file, in case the name changed between.
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    let mut out = Vec::new();
    f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge(out.len() as u64));
    }
    Ok(out)
}

/// The 1-based line and column (counted in characters of the valid text
/// before it) of byte offset `at`.
pub fn line_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// Writes `name` inside `dir` (created if missing): the bytes go to a new
/// temporary file in `dir`, which is then renamed to `name`. A symbolic
/// link found under `name` is replaced by the file, and the file it
/// pointed to is left alone.
pub fn write_in(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let (mut f, tmp) = create_in(dir, name)?;
    let written = f.write_all(bytes).and_then(|()| f.flush());
    drop(f);
    match written {
        Ok(()) => publish(&tmp, dir, name),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A new temporary file in `dir` (created if missing) for `name`, to be
/// written (e.g. streamed during a run) and then [`publish`]ed.
pub fn create_in(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let open = || OpenOptions::new().write(true).create_new(true).open(&tmp);
    let f = match open() {
        Ok(f) => f,
        // A leftover (or planted) temporary name: remove it (a link is
        // removed, not followed) and try once more.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(&tmp)?;
            open()?
        }
        Err(e) => return Err(e),
    };
    Ok((f, tmp))
}

/// Renames the temporary file `tmp` of [`create_in`] to `name` in `dir`:
/// whatever was under `name`, a symbolic link included, is replaced.
pub fn publish(tmp: &Path, dir: &Path, name: &str) -> io::Result<()> {
    let renamed = fs::rename(tmp, dir.join(name));
    if renamed.is_err() {
        let _ = fs::remove_file(tmp);
    }
    renamed
}

/// Writes a file the user named (`--timeline`, `--junit`, `--out`) the
/// same way as [`write_in`], in the folder that holds it.
pub fn write_path(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    write_in(dir, name, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column(b"ab\ncd\xff", 5), (2, 3));
        assert_eq!(line_column(b"\xc3\xa9\xff", 2), (1, 2));
        assert_eq!(line_column(b"\xff", 0), (1, 1));
    }

    #[test]
    fn refuses_devices_and_directories() {
        assert!(matches!(
            read_text(Path::new("/dev/zero")),
            Err(ReadError::NotRegular("a device"))
        ));
        assert!(matches!(
            read_text(Path::new("/")),
            Err(ReadError::NotRegular("a directory"))
        ));
    }

    #[test]
    fn invalid_utf8_has_a_position() {
        let dir = std::env::temp_dir().join(format!("swarmsim-fsio-{}", std::process::id()));
        write_in(&dir, "bad.yaml", b"name: x\nse\xffed: 1\n").unwrap();
        match read_text(&dir.join("bad.yaml")) {
            Err(ReadError::Utf8 { line, column, byte }) => {
                assert_eq!((line, column, byte), (2, 3, 0xff))
            }
            other => panic!("{other:?}"),
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let dir = std::env::temp_dir().join(format!("swarmsim-fsio-link-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("out")).unwrap();
        fs::write(dir.join("victim"), "keep").unwrap();
        std::os::unix::fs::symlink(dir.join("victim"), dir.join("out/transcript.txt")).unwrap();
        write_in(&dir.join("out"), "transcript.txt", b"new").unwrap();
        assert_eq!(fs::read_to_string(dir.join("victim")).unwrap(), "keep");
        let meta = fs::symlink_metadata(dir.join("out/transcript.txt")).unwrap();
        assert!(meta.is_file());
        assert_eq!(
            fs::read_to_string(dir.join("out/transcript.txt")).unwrap(),
            "new"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
