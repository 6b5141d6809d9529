//! Reading the input `.npy` (float32, 2-D or 3-D, C or Fortran order, either byte order) and
//! writing the output arrays, with the `npyz` crate for the headers.
//!
//! The header is parsed by `npyz`; the data is read in one block straight into the `f32`
//! buffer (byte-swapped afterwards when the file's byte order is not the machine's), which is
//! much faster than decoding element by element.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use batched_svd::{Layout, MatrixBatch};
use npyz::WriterBuilder;
use npyz::{AutoSerialize, DType, Endianness, NpyHeader, Order, TypeChar, TypeStr, WriteOptions};

use crate::error::CliError;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted. numpy itself refuses headers over 10 000 bytes by default; this
/// only guards against allocating absurd amounts for a corrupt length field.
const MAX_HEADER_BYTES: usize = 1 << 20;

/// A validated input batch, in memory.
#[derive(Debug)]
pub struct Input {
    /// `count·m·n` elements in [`Input::layout`] (3-D Fortran input already converted).
    pub data: Vec<f32>,
    /// Number of matrices (1 for 2-D input).
    pub count: usize,
    /// Rows per matrix.
    pub m: usize,
    /// Columns per matrix.
    pub n: usize,
    /// Layout of each matrix in `data`.
    pub layout: Layout,
    /// Whether the file held a 3-D `(count, m, n)` array (else 2-D `(m, n)`).
    pub batched: bool,
    /// The shape as written in the file.
    pub shape: Vec<u64>,
    /// The dtype as written in the file (`<f4` or `>f4`).
    pub descr: String,
    /// Whether the file is in Fortran order.
    pub fortran_order: bool,
}

impl Input {
    /// The data as a [`MatrixBatch`] (no copy).
    pub fn batch(&self) -> batched_svd::Result<MatrixBatch<'_>> {
        MatrixBatch::with_layout(&self.data, self.count, self.m, self.n, self.layout)
    }
}

/// Reads and fully validates the input file.
///
/// # Errors
/// One-line messages naming the file for: unreadable file, not a `.npy` file, a dtype other
/// than float32, a rank other than 2 or 3, a zero-sized dimension, a size that overflows,
/// truncated data, or memory that cannot be allocated.
pub fn read_input(path: &Path) -> Result<Input, CliError> {
    let file = File::open(path).map_err(|e| CliError::io("cannot read", path, &e))?;
    let file_len = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let header_bytes = read_header_bytes(&mut reader, path)?;
    precheck_shape(&header_bytes, path)?;
    let header = NpyHeader::from_reader(&header_bytes[..])
        .map_err(|e| bad_file(path, &format!("invalid header: {e}")))?;
    let type_str = float32_type(&header, path)?;
    let (count, m, n, batched) = dimensions(header.shape(), path)?;
    let total = element_count(count, m, n, path)?;
    if let Some(len) = file_len {
        check_data_length(len, header_bytes.len(), total, path)?;
    }
    let mut data = read_f32(&mut reader, total, type_str.endianness(), path)?;
    let fortran_order = header.order() == Order::Fortran;
    let layout = match (fortran_order, batched) {
        (false, _) => Layout::RowMajor,
        (true, false) => Layout::ColMajor,
        (true, true) => {
            data = fortran_3d_to_row_major(&data, count, m, n, path)?;
            Layout::RowMajor
        }
    };
    Ok(Input {
        data,
        count,
        m,
        n,
        layout,
        batched,
        shape: header.shape().to_vec(),
        descr: type_str.to_string(),
        fortran_order,
    })
}

/// An error saying `path` is not a usable `.npy` file.
fn bad_file(path: &Path, reason: &str) -> CliError {
    CliError::other(format!(
        "'{}' is not a valid .npy file: {reason}",
        path.display()
    ))
}

/// Reads the magic, version, header length and header text; returns all those bytes, which
/// `npyz` then parses. Leaves `reader` at the first data byte.
fn read_header_bytes(reader: &mut impl Read, path: &Path) -> Result<Vec<u8>, CliError> {
    let read_err = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            bad_file(path, "the file ends inside the header")
        } else {
            CliError::io("cannot read", path, &e)
        }
    };
    let mut bytes = vec![0u8; 8];
    reader.read_exact(&mut bytes).map_err(read_err)?;
    if &bytes[..6] != MAGIC {
        return Err(bad_file(
            path,
            "it does not start with the .npy magic string",
        ));
    }
    let length_bytes = match bytes[6] {
        1 => 2,
        2 | 3 => 4,
        major => {
            return Err(bad_file(
                path,
                &format!("unsupported format version {major}"),
            ));
        }
    };
    let mut length = [0u8; 4];
    reader
        .read_exact(&mut length[..length_bytes])
        .map_err(read_err)?;
    bytes.extend_from_slice(&length[..length_bytes]);
    let text_len = usize::try_from(u32::from_le_bytes(length)).unwrap_or(usize::MAX);
    if text_len > MAX_HEADER_BYTES {
        return Err(bad_file(
            path,
            &format!("header of {text_len} bytes is too long"),
        ));
    }
    let start = bytes.len();
    bytes.resize(start + text_len, 0);
    reader.read_exact(&mut bytes[start..]).map_err(read_err)?;
    Ok(bytes)
}

/// Rejects shapes whose dimensions multiply past `u64` before `npyz` sees them (it multiplies
/// them without overflow checks). Headers whose shape cannot be located are left to `npyz`.
fn precheck_shape(header: &[u8], path: &Path) -> Result<(), CliError> {
    let text = String::from_utf8_lossy(header);
    let Some(dims) = shape_literal(&text) else {
        return Ok(());
    };
    let mut product: u64 = 1;
    for dim in dims.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let Ok(value) = dim.trim_end_matches(['L', 'l']).parse::<u64>() else {
            return Ok(());
        };
        // Zero dimensions are rejected later; the other ones must not overflow even then
        // (npyz computes strides as products of the dimensions).
        if value != 0 {
            product = product.checked_mul(value).ok_or_else(|| {
                CliError::other(format!(
                    "'{}' has shape ({dims}), which is too large",
                    path.display()
                ))
            })?;
        }
    }
    Ok(())
}

/// The text between the parentheses of the header's `'shape': (...)` entry.
fn shape_literal(text: &str) -> Option<&str> {
    let key = text.find("'shape'").or_else(|| text.find("\"shape\""))?;
    let rest = &text[key..];
    let open = rest.find('(')?;
    let close = rest[open..].find(')')? + open;
    Some(&rest[open + 1..close])
}

/// The file's element type, if it is float32 in either byte order.
fn float32_type(header: &NpyHeader, path: &Path) -> Result<TypeStr, CliError> {
    let dtype = header.dtype();
    if let DType::Plain(ts) = &dtype
        && ts.type_char() == TypeChar::Float
        && ts.size_field() == 4
    {
        return Ok(ts.clone());
    }
    Err(CliError::other(format!(
        "'{}' has dtype {}; expected float32",
        path.display(),
        describe_dtype(&dtype)
    )))
}

/// A numpy-style name of a dtype with its type string, e.g. `float64 (<f8)`.
fn describe_dtype(dtype: &DType) -> String {
    match dtype {
        DType::Plain(ts) => format!("{} ({ts})", type_name(ts)),
        DType::Record(_) => format!("structured {}", dtype.descr()),
        DType::Array(..) => format!("array {}", dtype.descr()),
    }
}

/// numpy's name of a scalar type (`float64`, `int32`, `bool`, ...).
fn type_name(ts: &TypeStr) -> String {
    let bits = ts.size_field().saturating_mul(8);
    match ts.type_char() {
        TypeChar::Float => format!("float{bits}"),
        TypeChar::Int => format!("int{bits}"),
        TypeChar::Uint => format!("uint{bits}"),
        TypeChar::Complex => format!("complex{bits}"),
        TypeChar::Bool => "bool".to_string(),
        TypeChar::TimeDelta => "timedelta64".to_string(),
        TypeChar::DateTime => "datetime64".to_string(),
        TypeChar::ByteStr => "bytes".to_string(),
        TypeChar::UnicodeStr => "str".to_string(),
        TypeChar::Object => "object".to_string(),
        TypeChar::RawData => "void".to_string(),
        _ => ts.type_char().to_str().to_string(),
    }
}

/// `(count, m, n, batched)` from a 2-D or 3-D shape with no zero dimension.
fn dimensions(shape: &[u64], path: &Path) -> Result<(usize, usize, usize, bool), CliError> {
    let dims: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| too_large(shape, path))?;
    let (count, m, n, batched) = match dims[..] {
        [m, n] => (1, m, n, false),
        [count, m, n] => (count, m, n, true),
        _ => {
            let rank = dims.len();
            let plural = if rank == 1 { "" } else { "s" };
            return Err(CliError::other(format!(
                "'{}' has {rank} dimension{plural}; expected (m, n) or (count, m, n)",
                path.display()
            )));
        }
    };
    if dims.contains(&0) {
        return Err(CliError::other(format!(
            "'{}' has shape {}, with a zero-sized dimension; every dimension must be at least 1",
            path.display(),
            format_shape(shape)
        )));
    }
    Ok((count, m, n, batched))
}

/// `count·m·n`, also checked to fit in bytes.
fn element_count(count: usize, m: usize, n: usize, path: &Path) -> Result<usize, CliError> {
    count
        .checked_mul(m)
        .and_then(|x| x.checked_mul(n))
        .filter(|x| x.checked_mul(4).is_some())
        .ok_or_else(|| too_large(&[count as u64, m as u64, n as u64], path))
}

/// An error for a shape too large for this machine.
fn too_large(shape: &[u64], path: &Path) -> CliError {
    CliError::other(format!(
        "'{}' has shape {}, which is too large",
        path.display(),
        format_shape(shape)
    ))
}

/// A shape as Python prints it: `(3,)`, `(2, 3)`.
pub fn format_shape(shape: &[u64]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Fails if the file is shorter than the header plus `total` floats.
fn check_data_length(
    file_len: u64,
    header_len: usize,
    total: usize,
    path: &Path,
) -> Result<(), CliError> {
    let available = file_len.saturating_sub(header_len as u64);
    let needed = (total as u64).saturating_mul(4);
    if available < needed {
        return Err(CliError::other(format!(
            "'{}' is truncated: its shape needs {needed} bytes of data, the file has {available}",
            path.display()
        )));
    }
    Ok(())
}

/// Reads `total` floats of the given byte order.
fn read_f32(
    reader: &mut impl Read,
    total: usize,
    endianness: Endianness,
    path: &Path,
) -> Result<Vec<f32>, CliError> {
    let mut data = allocate::<f32>(total, path)?;
    data.resize(total, 0.0);
    reader
        .read_exact(bytemuck::cast_slice_mut(&mut data))
        .map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                CliError::other(format!("'{}' is truncated", path.display()))
            } else {
                CliError::io("cannot read", path, &e)
            }
        })?;
    let native = Endianness::of_machine();
    if endianness != native && endianness != Endianness::Irrelevant {
        for x in &mut data {
            *x = f32::from_bits(x.to_bits().swap_bytes());
        }
    }
    Ok(data)
}

/// An empty vector with room for `len` elements, or an error instead of an abort.
fn allocate<T>(len: usize, path: &Path) -> Result<Vec<T>, CliError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        CliError::other(format!(
            "cannot allocate memory for the {len} elements of '{}'",
            path.display()
        ))
    })?;
    Ok(v)
}

/// Converts a Fortran-order `(count, m, n)` array (element `[b, i, j]` at
/// `b + count·(i + m·j)`) to row-major matrices (element at `b·m·n + i·n + j`).
fn fortran_3d_to_row_major(
    src: &[f32],
    count: usize,
    m: usize,
    n: usize,
    path: &Path,
) -> Result<Vec<f32>, CliError> {
    let mut out = allocate::<f32>(src.len(), path)?;
    for b in 0..count {
        for i in 0..m {
            out.extend((0..n).map(|j| src[b + count * (i + m * j)]));
        }
    }
    Ok(out)
}

/// A float32 array of rank 1, 2 or 3, in memory in C order (for inputs other than the
/// matrix batch, such as the right-hand sides of `lstsq`).
#[derive(Debug)]
pub struct Array {
    /// The elements in C order (Fortran-order files are converted).
    pub data: Vec<f32>,
    /// The shape, as in the file.
    pub shape: Vec<usize>,
    /// The dtype as written in the file (`<f4` or `>f4`).
    pub descr: String,
    /// Whether the file is in Fortran order.
    pub fortran_order: bool,
}

/// Reads and validates a float32 array of rank 1 to 3; `expected` describes the accepted
/// shapes for the error message (e.g. `"(count, m) or (count, m, r)"`).
///
/// # Errors
/// As [`read_input`], with a rank outside 1..=3 reported against `expected`.
pub fn read_array(path: &Path, expected: &str) -> Result<Array, CliError> {
    let file = File::open(path).map_err(|e| CliError::io("cannot read", path, &e))?;
    let file_len = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let header_bytes = read_header_bytes(&mut reader, path)?;
    precheck_shape(&header_bytes, path)?;
    let header = NpyHeader::from_reader(&header_bytes[..])
        .map_err(|e| bad_file(path, &format!("invalid header: {e}")))?;
    let type_str = float32_type(&header, path)?;
    let shape = header.shape();
    let dims: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| too_large(shape, path))?;
    if !(1..=3).contains(&dims.len()) {
        let rank = dims.len();
        let plural = if rank == 1 { "" } else { "s" };
        return Err(CliError::other(format!(
            "'{}' has {rank} dimension{plural}; expected {expected}",
            path.display()
        )));
    }
    if dims.contains(&0) {
        return Err(CliError::other(format!(
            "'{}' has shape {}, with a zero-sized dimension; every dimension must be at least 1",
            path.display(),
            format_shape(shape)
        )));
    }
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|x| x.checked_mul(4).is_some())
        .ok_or_else(|| too_large(shape, path))?;
    if let Some(len) = file_len {
        check_data_length(len, header_bytes.len(), total, path)?;
    }
    let mut data = read_f32(&mut reader, total, type_str.endianness(), path)?;
    let fortran_order = header.order() == Order::Fortran;
    if fortran_order {
        // A rank-2 (m, r) array is the rank-3 case with count = 1; rank 1 needs nothing.
        data = match dims[..] {
            [m, r] => fortran_3d_to_row_major(&data, 1, m, r, path)?,
            [count, m, r] => fortran_3d_to_row_major(&data, count, m, r, path)?,
            _ => data,
        };
    }
    Ok(Array {
        data,
        shape: dims,
        descr: type_str.to_string(),
        fortran_order,
    })
}

/// Writes `data` as a C-order `.npy` array of `shape` (machine byte order), and syncs it to
/// disk.
///
/// # Errors
/// Any I/O error.
pub fn write_array<T>(path: &Path, shape: &[usize], data: &[T]) -> io::Result<()>
where
    T: AutoSerialize + bytemuck::Pod,
{
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    WriteOptions::<T>::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut out)
        .write_header_only()?;
    // The default dtype is in the machine's byte order, so the raw bytes follow as they are.
    out.write_all(bytemuck::cast_slice(data))?;
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_conversion() {
        // (2, 2, 3) array with a[b, i, j] = 100 b + 10 i + j, stored in Fortran order.
        let (count, m, n) = (2, 2, 3);
        let mut src = vec![0.0f32; count * m * n];
        for b in 0..count {
            for i in 0..m {
                for j in 0..n {
                    src[b + count * (i + m * j)] = (100 * b + 10 * i + j) as f32;
                }
            }
        }
        let out = fortran_3d_to_row_major(&src, count, m, n, Path::new("x")).unwrap();
        let expected: Vec<f32> = [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]
            .iter()
            .map(|&x| x as f32)
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn shapes_print_like_python() {
        assert_eq!(format_shape(&[3]), "(3,)");
        assert_eq!(format_shape(&[2, 3, 4]), "(2, 3, 4)");
    }

    #[test]
    fn overflowing_shape_is_rejected_before_npyz() {
        let header =
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }";
        assert!(precheck_shape(header, Path::new("x")).is_err());
        let fine = b"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 2), }";
        assert!(precheck_shape(fine, Path::new("x")).is_ok());
    }
}
