//! Reading the input `.npy` files (float32, float64, complex64 or complex128, integer and bool
//! read as float64; any rank, C or Fortran order, either byte order) and writing the output
//! arrays, with the `npyz` crate for the headers.
//!
//! The header is parsed by `npyz`; float data is read in one block straight into the element
//! buffer (byte-swapped afterwards when the file's byte order is not the machine's), which is
//! much faster than decoding element by element.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use batched_svd::{Complex, Element, Layout, MatrixBatch};
use npyz::WriterBuilder;
use npyz::{AutoSerialize, DType, Endianness, NpyHeader, Order, TypeChar, TypeStr, WriteOptions};

use crate::error::CliError;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted. numpy itself refuses headers over 10 000 bytes by default; this
/// guards against allocating absurd amounts for a corrupt length field, and bounds the time
/// `npyz`'s parser takes (about 3 µs a byte: 0.2 s at this length, 3 s at 1 MiB).
const MAX_HEADER_BYTES: usize = 1 << 16;

/// Deepest nesting of brackets accepted in the header. A plain dtype's header nests 2 deep
/// (the dict and the shape tuple), a structured one 3 or 4; `npyz`'s Python-literal parser
/// backtracks exponentially in the depth (each level about three times the work: 12 levels
/// of `{` took over a minute), so a few hundred bytes of brackets would hang the reader.
const MAX_HEADER_NESTING: usize = 4;

/// Bytes of data allocated at a time when the input's length is not known (a pipe).
const STREAM_BLOCK_BYTES: usize = 1 << 20;

/// The elements of an array in the type they are computed in: float32, complex64 and
/// complex128 files stay as they are; float64, integer and bool files become `f64`, as numpy's
/// `linalg` computes them. Complex values are interleaved `(re, im)` pairs, as in the file.
#[derive(Debug)]
pub enum Values {
    /// From a float32 file.
    F32(Vec<f32>),
    /// From a float64, integer or bool file.
    F64(Vec<f64>),
    /// From a complex64 file.
    C64(Vec<Complex<f32>>),
    /// From a complex128 file.
    C128(Vec<Complex<f64>>),
}

impl Values {
    /// numpy's name of the element type: `"float32"`, `"float64"`, `"complex64"` or
    /// `"complex128"`.
    pub fn dtype(&self) -> &'static str {
        match self {
            Values::F32(_) => f32::NAME,
            Values::F64(_) => f64::NAME,
            Values::C64(_) => Complex::<f32>::NAME,
            Values::C128(_) => Complex::<f64>::NAME,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::C64(v) => v.len(),
            Values::C128(v) => v.len(),
        }
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn is_complex(&self) -> bool {
        matches!(self, Values::C64(_) | Values::C128(_))
    }

    fn is_double(&self) -> bool {
        matches!(self, Values::F64(_) | Values::C128(_))
    }

    /// The values converted (exactly) to numpy's common type of `self` and `other`: complex if
    /// either is, double precision if either is (float32 with float64 is float64, float64
    /// with complex64 is complex128).
    pub fn promote_with(self, other: &Values) -> Values {
        let complex = self.is_complex() || other.is_complex();
        let double = self.is_double() || other.is_double();
        let c = |re: f64| Complex::new(re, 0.0);
        match (self, complex, double) {
            (Values::F32(v), false, true) => Values::F64(v.into_iter().map(f64::from).collect()),
            (Values::F32(v), true, false) => {
                Values::C64(v.into_iter().map(|x| Complex::new(x, 0.0)).collect())
            }
            (Values::F32(v), true, true) => {
                Values::C128(v.into_iter().map(|x| c(f64::from(x))).collect())
            }
            (Values::F64(v), true, _) => Values::C128(v.into_iter().map(c).collect()),
            (Values::C64(v), _, true) => Values::C128(
                v.into_iter()
                    .map(|z| Complex::new(f64::from(z.re), f64::from(z.im)))
                    .collect(),
            ),
            (same, _, _) => same,
        }
    }
}

/// A validated input batch, in memory.
#[derive(Debug)]
pub struct Input {
    /// `count·m·n` elements in [`Input::layout`] (Fortran input of rank ≥ 3 already in C order).
    pub values: Values,
    /// The batch dimensions in front of `(m, n)` (none for 2-D input).
    pub lead: Vec<usize>,
    /// Number of matrices, the product of [`Input::lead`] (1 for 2-D input).
    pub count: usize,
    /// Rows per matrix.
    pub m: usize,
    /// Columns per matrix.
    pub n: usize,
    /// Layout of each matrix in the values.
    pub layout: Layout,
    /// The shape as written in the file.
    pub shape: Vec<u64>,
    /// The dtype as written in the file (`<f4`, `>f8`, `|b1`, ...).
    pub descr: String,
    /// Whether the file is in Fortran order.
    pub fortran_order: bool,
}

impl Input {
    /// The values as a [`MatrixBatch`] of numpy's shape `lead + (m, n)` (no copy).
    pub fn batch<'a, T: Element>(&self, data: &'a [T]) -> batched_svd::Result<MatrixBatch<'a, T>> {
        let mut shape = self.lead.clone();
        shape.extend([self.m, self.n]);
        MatrixBatch::from_shape(data, &shape, self.layout)
    }

    /// `lead + dims`: an output's numpy shape.
    pub fn shaped(&self, dims: &[usize]) -> Vec<usize> {
        self.lead.iter().chain(dims).copied().collect()
    }
}

/// Reads and fully validates the input file: an array of shape `(..., m, n)`.
///
/// # Errors
/// One-line messages naming the file for: unreadable file, not a `.npy` file, an unsupported
/// dtype (named), fewer than 2 dimensions, a size that overflows, truncated data, or memory
/// that cannot be allocated.
pub fn read_input(path: &Path) -> Result<Input, CliError> {
    input_of(read_raw(path)?, path)
}

/// As [`read_input`], from the `.npy` bytes of `reader`; `path` only names the input in
/// messages. `len` is the number of bytes `reader` holds, when known (a file's length): a
/// header whose shape needs more data is then an error before anything is allocated. When it
/// is `None` (a pipe), the data is read in blocks, so that a shape larger than the data
/// allocates no more than the data read before the error.
///
/// # Errors
/// As [`read_input`].
pub fn read_input_from(
    reader: impl Read,
    len: Option<u64>,
    path: &Path,
) -> Result<Input, CliError> {
    input_of(read_raw_from(reader, len, path)?, path)
}

/// The input batch of the array `raw`, which needs at least two dimensions.
fn input_of(raw: Raw, path: &Path) -> Result<Input, CliError> {
    let rank = raw.shape.len();
    if rank < 2 {
        let plural = if rank == 1 { "" } else { "s" };
        return Err(CliError::other(format!(
            "'{}' has {rank} dimension{plural}; expected (m, n) or a batch (..., m, n)",
            path.display()
        )));
    }
    let (m, n) = (raw.shape[rank - 2], raw.shape[rank - 1]);
    let lead = raw.shape[..rank - 2].to_vec();
    // A 2-D Fortran array is one column-major matrix, used as it is.
    let (values, layout) = match (raw.fortran_order, rank) {
        (false, _) => (raw.values, Layout::RowMajor),
        (true, 2) => (raw.values, Layout::ColMajor),
        (true, _) => (
            fortran_to_c(raw.values, &raw.shape, path)?,
            Layout::RowMajor,
        ),
    };
    Ok(Input {
        values,
        count: lead.iter().product(),
        lead,
        m,
        n,
        layout,
        shape: raw.shape.iter().map(|&d| d as u64).collect(),
        descr: raw.descr,
        fortran_order: raw.fortran_order,
    })
}

/// An array of any rank in the file's element order.
struct Raw {
    values: Values,
    shape: Vec<usize>,
    descr: String,
    fortran_order: bool,
}

/// Reads the header and the data of `path`, converted to [`Values`].
fn read_raw(path: &Path) -> Result<Raw, CliError> {
    let file = File::open(path).map_err(|e| CliError::io("cannot read", path, &e))?;
    let file_len = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    read_raw_from(BufReader::with_capacity(1 << 20, file), file_len, path)
}

/// Reads the header and the data of the `.npy` bytes of `reader`, which holds `file_len`
/// bytes when that is known.
fn read_raw_from(
    mut reader: impl Read,
    file_len: Option<u64>,
    path: &Path,
) -> Result<Raw, CliError> {
    let header_bytes = read_header_bytes(&mut reader, path)?;
    // The header's text follows the magic, the version and the 2- or 4-byte length.
    let text = &header_bytes[if header_bytes[6] == 1 { 10 } else { 12 }..];
    check_nesting(text, path)?;
    precheck_shape(text, path)?;
    let header = NpyHeader::from_reader(&header_bytes[..])
        .map_err(|e| bad_file(path, &format!("invalid header: {e}")))?;
    let (type_str, kind) = element_type(&header, path)?;
    let shape = header.shape();
    let dims: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| too_large(shape, path))?;
    // At most 16 (complex128): `element_type` accepts no larger type.
    let size = type_str.size_field() as usize;
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|x| x.checked_mul(size.max(8)).is_some())
        .ok_or_else(|| too_large(shape, path))?;
    if let Some(len) = file_len {
        check_data_length(len, header_bytes.len(), total, size, path)?;
    }
    // The data as read, plus its float64 copy for integer and bool types.
    let in_memory = total.saturating_mul(size + if kind == Kind::Converted { 8 } else { 0 });
    crate::run::memory::check_array(path, shape, in_memory)?;
    // With the length checked, the data is read in one block; otherwise in blocks of
    // `STREAM_BLOCK_BYTES`, allocated as they arrive.
    let block = if file_len.is_some() {
        usize::MAX
    } else {
        STREAM_BLOCK_BYTES
    };
    let endianness = type_str.endianness();
    let values = match kind {
        Kind::F32 => Values::F32(read_floats(&mut reader, total, endianness, block, path)?),
        Kind::F64 => Values::F64(read_floats(&mut reader, total, endianness, block, path)?),
        Kind::C64 => Values::C64(read_floats(&mut reader, total, endianness, block, path)?),
        Kind::C128 => Values::C128(read_floats(&mut reader, total, endianness, block, path)?),
        Kind::Converted => Values::F64(read_converted(&mut reader, total, &type_str, block, path)?),
    };
    Ok(Raw {
        values,
        shape: dims,
        descr: type_str.to_string(),
        fortran_order: header.order() == Order::Fortran,
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

/// Rejects headers whose brackets nest deeper than [`MAX_HEADER_NESTING`] before `npyz`
/// parses them. Brackets inside string literals do not count; strings are delimited as the
/// parser reads them (a quote to the same quote, a backslash escaping the next character, a
/// line break ending it), and wherever this reading could differ from the parser's it counts
/// more brackets, never fewer.
fn check_nesting(text: &[u8], path: &Path) -> Result<(), CliError> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < text.len() && !matches!(text[i], b'\n' | b'\r') && text[i] != quote {
                    if text[i] == b'\\' {
                        i += 1;
                        if text.get(i..i + 2) == Some(&b"\r\n"[..]) {
                            i += 1;
                        }
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_HEADER_NESTING {
                    return Err(bad_file(
                        path,
                        &format!("its header nests brackets more than {MAX_HEADER_NESTING} deep"),
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Rejects shapes whose dimensions multiply past `u64` before `npyz` sees them (it multiplies
/// them, and computes strides as products of them, without overflow checks: a panic in builds
/// with overflow checks, a wrapped size otherwise). The header text is parsed as `npyz` parses
/// it (the same Python-literal parser, after [`check_nesting`]), so that every way of writing
/// the shape is covered: a tuple or a list, hexadecimal or binary literals, `2**32`-sized sums,
/// a repeated key (the last one counts). Headers without a readable shape are left to `npyz`,
/// which rejects them.
fn precheck_shape(text: &[u8], path: &Path) -> Result<(), CliError> {
    use py_literal::Value;
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let Ok(Ok(Value::Dict(entries))) = std::str::from_utf8(text).map(str::parse::<Value>) else {
        return Ok(());
    };
    let shape = entries
        .iter()
        .rev()
        .find(|(key, _)| key.as_string().is_some_and(|k| k == "shape"));
    let Some((_, Value::Tuple(dims) | Value::List(dims))) = shape else {
        return Ok(());
    };
    let mut product: u64 = 1;
    for dim in dims {
        let Value::Integer(value) = dim else {
            return Ok(());
        };
        let Ok(value) = u64::try_from(value) else {
            return Ok(());
        };
        // With a zero dimension the array is empty, but the other ones must still not
        // overflow (npyz computes strides as products of the dimensions).
        if value != 0 {
            product = product.checked_mul(value).ok_or_else(|| {
                let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
                CliError::other(format!(
                    "'{}' has shape ({}), which is too large",
                    path.display(),
                    dims.join(", ")
                ))
            })?;
        }
    }
    Ok(())
}

/// How an element type is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// float32, kept.
    F32,
    /// float64, kept.
    F64,
    /// complex64, kept.
    C64,
    /// complex128, kept.
    C128,
    /// Integer or bool, converted to float64 (as numpy's `linalg` does).
    Converted,
}

/// The file's element type, if the tool computes with it: float32, float64, complex64,
/// complex128, a 1- to 8-byte integer or bool, in either byte order.
fn element_type(header: &NpyHeader, path: &Path) -> Result<(TypeStr, Kind), CliError> {
    let dtype = header.dtype();
    if let DType::Plain(ts) = &dtype {
        let kind = match (ts.type_char(), ts.size_field()) {
            (TypeChar::Float, 4) => Some(Kind::F32),
            (TypeChar::Float, 8) => Some(Kind::F64),
            (TypeChar::Int | TypeChar::Uint, 1 | 2 | 4 | 8) | (TypeChar::Bool, 1) => {
                Some(Kind::Converted)
            }
            (TypeChar::Complex, 8) => Some(Kind::C64),
            (TypeChar::Complex, 16) => Some(Kind::C128),
            _ => None,
        };
        if let Some(kind) = kind {
            return Ok((ts.clone(), kind));
        }
    }
    Err(CliError::other(format!(
        "'{}' has dtype {}; expected float32, float64, complex64 or complex128 (integer and \
         bool arrays are read as float64)",
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

/// Fails if the file is shorter than the header plus `total` elements of `size` bytes.
fn check_data_length(
    file_len: u64,
    header_len: usize,
    total: usize,
    size: usize,
    path: &Path,
) -> Result<(), CliError> {
    let available = file_len.saturating_sub(header_len as u64);
    let needed = (total as u64).saturating_mul(size as u64);
    if available < needed {
        return Err(CliError::other(format!(
            "'{}' is truncated: its shape needs {needed} bytes of data, the file has {available}",
            path.display()
        )));
    }
    Ok(())
}

/// Reads `n` bytes exactly, naming truncation.
fn read_bytes(reader: &mut impl Read, bytes: &mut [u8], path: &Path) -> Result<(), CliError> {
    reader.read_exact(bytes).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            CliError::other(format!("'{}' is truncated", path.display()))
        } else {
            CliError::io("cannot read", path, &e)
        }
    })
}

/// Reads `total` elements of type `T` as they are in the file, allocating at most `block`
/// bytes ahead of the data read (so that a stream shorter than its header says is a
/// truncation error after at most `block` bytes more than it holds).
fn read_elements<T: bytemuck::Pod + Default>(
    reader: &mut impl Read,
    total: usize,
    block: usize,
    path: &Path,
) -> Result<Vec<T>, CliError> {
    let per_block = (block / std::mem::size_of::<T>().max(1)).max(1);
    let mut data = allocate::<T>(total.min(per_block), path)?;
    while data.len() < total {
        let start = data.len();
        let end = start + (total - start).min(per_block);
        // Amortised growth: the capacity at most doubles past what the data needs.
        data.try_reserve(end - start).map_err(|_| {
            CliError::other(format!(
                "cannot allocate memory for the {total} elements of '{}'",
                path.display()
            ))
        })?;
        data.resize(end, T::default());
        read_bytes(reader, bytemuck::cast_slice_mut(&mut data[start..]), path)?;
    }
    Ok(data)
}

/// Reads `total` floats of type `T` (real, or complex as two parts) in the given byte order
/// (`block` as [`read_elements`]).
fn read_floats<T: Element>(
    reader: &mut impl Read,
    total: usize,
    endianness: Endianness,
    block: usize,
    path: &Path,
) -> Result<Vec<T>, CliError> {
    let mut data = read_elements::<T>(reader, total, block, path)?;
    let native = Endianness::of_machine();
    if endianness != native && endianness != Endianness::Irrelevant {
        // Each part of a complex number is swapped on its own.
        let size = std::mem::size_of::<T::Real>();
        for x in bytemuck::cast_slice_mut::<T, u8>(&mut data).chunks_exact_mut(size) {
            x.reverse();
        }
    }
    Ok(data)
}

/// Reads `total` integers or bools of type `ts` as `f64` (integers beyond 2⁵³ round, as
/// numpy's conversion does; `block` as [`read_elements`]).
fn read_converted(
    reader: &mut impl Read,
    total: usize,
    ts: &TypeStr,
    block: usize,
    path: &Path,
) -> Result<Vec<f64>, CliError> {
    let size = ts.size_field() as usize;
    let bytes = read_elements::<u8>(reader, total * size, block, path)?;
    let little = ts.endianness() != Endianness::Big;
    let shift = 64 - 8 * size as u32;
    let mut out = allocate::<f64>(total, path)?;
    out.extend(bytes.chunks_exact(size).map(|c| {
        let word = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        let bits = if little {
            c.iter().rev().fold(0, word)
        } else {
            c.iter().fold(0, word)
        };
        match ts.type_char() {
            TypeChar::Int => (((bits << shift) as i64) >> shift) as f64,
            TypeChar::Bool => f64::from(u8::from(bits != 0)),
            _ => bits as f64,
        }
    }));
    Ok(out)
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

/// Converts a Fortran-order array of `shape` (first index fastest) to C order (last index
/// fastest).
fn fortran_to_c(values: Values, shape: &[usize], path: &Path) -> Result<Values, CliError> {
    Ok(match values {
        Values::F32(v) => Values::F32(fortran_to_c_order(&v, shape, path)?),
        Values::F64(v) => Values::F64(fortran_to_c_order(&v, shape, path)?),
        Values::C64(v) => Values::C64(fortran_to_c_order(&v, shape, path)?),
        Values::C128(v) => Values::C128(fortran_to_c_order(&v, shape, path)?),
    })
}

fn fortran_to_c_order<T: Copy>(
    src: &[T],
    shape: &[usize],
    path: &Path,
) -> Result<Vec<T>, CliError> {
    let mut out = allocate::<T>(src.len(), path)?;
    if src.is_empty() {
        return Ok(out);
    }
    // Fortran strides; walk the C-order index like an odometer, last digit fastest.
    let mut strides = vec![1usize; shape.len()];
    for d in 1..shape.len() {
        strides[d] = strides[d - 1] * shape[d - 1];
    }
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for _ in 0..src.len() {
        out.push(src[offset]);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            offset += strides[d];
            if index[d] < shape[d] {
                break;
            }
            offset -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
    Ok(out)
}

/// An array of any rank in C order (for inputs other than the matrix batch, such as the
/// right-hand sides of `lstsq`).
#[derive(Debug)]
pub struct Array {
    /// The elements in C order (Fortran-order files are converted).
    pub values: Values,
    /// The shape, as in the file.
    pub shape: Vec<usize>,
    /// The dtype as written in the file (`<f4`, `<i8`, ...).
    pub descr: String,
    /// Whether the file is in Fortran order.
    pub fortran_order: bool,
}

/// Reads and validates an array of any rank, in C order.
///
/// # Errors
/// As [`read_input`], without the rank requirement.
pub fn read_array(path: &Path) -> Result<Array, CliError> {
    array_of(read_raw(path)?, path)
}

/// As [`read_array`], from the `.npy` bytes of `reader` (`len` and `path` as
/// [`read_input_from`]).
///
/// # Errors
/// As [`read_array`].
pub fn read_array_from(
    reader: impl Read,
    len: Option<u64>,
    path: &Path,
) -> Result<Array, CliError> {
    array_of(read_raw_from(reader, len, path)?, path)
}

/// The array `raw` in C order.
fn array_of(raw: Raw, path: &Path) -> Result<Array, CliError> {
    let values = if raw.fortran_order {
        fortran_to_c(raw.values, &raw.shape, path)?
    } else {
        raw.values
    };
    Ok(Array {
        values,
        shape: raw.shape,
        descr: raw.descr,
        fortran_order: raw.fortran_order,
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
        let out = fortran_to_c_order(&src, &[count, m, n], Path::new("x")).unwrap();
        let expected: Vec<f32> = [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]
            .iter()
            .map(|&x| x as f32)
            .collect();
        assert_eq!(out, expected);
        // Rank 4: a[p, q, i, j] = 1000 p + 100 q + 10 i + j of shape (2, 3, 2, 2).
        let shape = [2, 3, 2, 2];
        let mut src = vec![0usize; 24];
        let mut c_order = Vec::new();
        for p in 0..2 {
            for q in 0..3 {
                for i in 0..2 {
                    for j in 0..2 {
                        let v = 1000 * p + 100 * q + 10 * i + j;
                        src[p + 2 * (q + 3 * (i + 2 * j))] = v;
                        c_order.push(v);
                    }
                }
            }
        }
        assert_eq!(
            fortran_to_c_order(&src, &shape, Path::new("x")).unwrap(),
            c_order
        );
        assert!(
            fortran_to_c_order::<usize>(&[], &[2, 0, 3], Path::new("x"))
                .unwrap()
                .is_empty()
        );
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
        // Every spelling npyz's parser reads (each panicked in npyz with overflow checks on).
        for shape in [
            "[4294967296, 4294967296, 2]",
            "(0x100000000, 0b1, 0o4000000000000)",
            "(4294967295 + 1, 4294967296, 2)",
            "(4_294_967_296, 4294967296, 0)",
        ] {
            let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
            assert!(
                precheck_shape(header.as_bytes(), Path::new("x")).is_err(),
                "{shape}"
            );
        }
        let repeated = b"{'shape': (1, 1), 'descr': '<f4', 'fortran_order': False, \
                         'shape': (4294967296, 4294967296, 2), }";
        assert!(precheck_shape(repeated, Path::new("x")).is_err());
    }
}
