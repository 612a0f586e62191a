//! Column chunk codec: one Arrow array ⇄ one self-describing byte blob.
//!
//! Layout (all integers little-endian; offsets relative to the blob start):
//!
//! ```text
//!  0..4   magic "LKVC"          24     number of buffers (n)
//!  4      format version (1)    25     flags (bit 0: validity bitmap present)
//!  5      type tag              26..28 timezone length in bytes (t)
//!  6      type param a          28..32 crc32 of every other byte of the blob
//!  7      type param b          32..48 reserved (zero)
//!  8..16  length (rows)         48..   n × (offset u64, length u64) buffer directory
//! 16..24  null count            then   t bytes of UTF-8 timezone
//! then, each at a 64-byte aligned offset: [validity] [offsets] [values]
//! ```
//!
//! Buffers are stored in Arrow's in-memory layout with offset 0, so a blob
//! that is 64-byte aligned in memory (pager blobs are) decodes into arrays
//! whose buffers are slices of the blob: no bytes are copied. The format is
//! little-endian only, like every platform llkv targets.

use std::sync::Arc;

use arrow_array::{make_array, Array, ArrayRef, NullArray};
use arrow_buffer::{bit_util, BooleanBuffer, Buffer, NullBuffer};
use arrow_data::ArrayDataBuilder;
use arrow_schema::{DataType, IntervalUnit, TimeUnit, DECIMAL128_MAX_PRECISION};

/// Why a chunk could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The array's data type has no chunk encoding.
    #[error("column chunks cannot store arrays of type {0}")]
    Unsupported(String),
    /// The blob is not a valid chunk (truncated, damaged or foreign bytes).
    #[error("corrupt column chunk: {0}")]
    Corrupt(String),
}

/// Bytes every chunk starts with.
const MAGIC: [u8; 4] = *b"LKVC";
/// Chunk format version written by this code.
const VERSION: u8 = 1;
/// Size of the fixed header part, before the buffer directory.
const FIXED_HEADER_LEN: usize = 48;
/// Bytes per buffer directory entry.
const DIR_ENTRY_LEN: usize = 16;
/// Alignment of every buffer, relative to the blob start.
pub const BUFFER_ALIGNMENT: usize = 64;
/// Byte range of the crc32 field, excluded from its own checksum.
const CRC_RANGE: std::ops::Range<usize> = 28..32;
/// Flag bit: a validity bitmap is the first buffer.
const FLAG_VALIDITY: u8 = 1;

/// Serializes one Arrow array as a self-describing column chunk.
///
/// Sliced arrays are normalized: only the visible rows are written.
///
/// ```
/// use arrow_array::{Array, Int64Array};
/// use llkv_column_map::codec::{decode_array, encode_array};
/// let array = Int64Array::from(vec![Some(1), None, Some(3)]);
/// let blob = arrow_buffer::Buffer::from_vec(encode_array(&array).unwrap());
/// let back = decode_array(&blob, true).unwrap();
/// assert_eq!(back.as_ref(), &array as &dyn Array);
/// ```
pub fn encode_array(array: &dyn Array) -> Result<Vec<u8>, CodecError> {
    let (tag, param_a, param_b, tz) = type_to_tag(array.data_type())?;
    let data = array.to_data();
    let len = data.len();
    let offset = data.offset();

    let mut buffers: Vec<Buffer> = Vec::with_capacity(3);
    let null_count = if tag == Tag::Null as u8 {
        len
    } else if let Some(nulls) = data.nulls().filter(|n| n.null_count() > 0) {
        buffers.push(nulls.inner().sliced());
        nulls.null_count()
    } else {
        0
    };
    let has_validity = !buffers.is_empty();

    let first = |what: &str| {
        data.buffers().first().cloned().ok_or_else(|| {
            CodecError::Unsupported(format!("{} array without {what}", array.data_type()))
        })
    };
    match layout(array.data_type()) {
        Layout::Null => {}
        Layout::Bits => buffers.push(BooleanBuffer::new(first("values")?, offset, len).sliced()),
        Layout::Fixed(width) => {
            buffers.push(first("values")?.slice_with_length(offset * width, len * width))
        }
        Layout::Var { offset_width } => {
            let offsets = first("offsets")?;
            let values = data.buffers().get(1).cloned().ok_or_else(|| {
                CodecError::Unsupported(format!("{} array without values", array.data_type()))
            })?;
            let (rebased, start, end) = rebase_offsets(&offsets, offset, len, offset_width);
            buffers.push(rebased);
            buffers.push(values.slice_with_length(start, end - start));
        }
    }

    let dir_end = FIXED_HEADER_LEN + buffers.len() * DIR_ENTRY_LEN;
    let tz_bytes = tz.map(str::as_bytes).unwrap_or_default();
    let tz_len = u16::try_from(tz_bytes.len())
        .map_err(|_| CodecError::Unsupported(format!("timezone longer than {} bytes", u16::MAX)))?;

    let mut out = vec![0u8; dir_end];
    out[0..4].copy_from_slice(&MAGIC);
    out[4] = VERSION;
    out[5] = tag;
    out[6] = param_a;
    out[7] = param_b;
    out[8..16].copy_from_slice(&(len as u64).to_le_bytes());
    out[16..24].copy_from_slice(&(null_count as u64).to_le_bytes());
    out[24] = buffers.len() as u8;
    out[25] = if has_validity { FLAG_VALIDITY } else { 0 };
    out[26..28].copy_from_slice(&tz_len.to_le_bytes());
    out.extend_from_slice(tz_bytes);
    for (i, buffer) in buffers.iter().enumerate() {
        out.resize(out.len().next_multiple_of(BUFFER_ALIGNMENT), 0);
        let entry = FIXED_HEADER_LEN + i * DIR_ENTRY_LEN;
        let position = out.len() as u64;
        out[entry..entry + 8].copy_from_slice(&position.to_le_bytes());
        out[entry + 8..entry + 16].copy_from_slice(&(buffer.len() as u64).to_le_bytes());
        out.extend_from_slice(buffer.as_slice());
    }
    let crc = checksum(&out);
    out[CRC_RANGE].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Rebuilds the array from a chunk.
///
/// Zero-copy: the array's buffers are slices of `blob` when aligned (a copy
/// is made only when the blob is misaligned). Validates lengths, offsets,
/// UTF-8 and, when `verify` is true, the checksum; corrupt input yields
/// [`CodecError::Corrupt`], never a panic.
pub fn decode_array(blob: &Buffer, verify: bool) -> Result<ArrayRef, CodecError> {
    let bytes = blob.as_slice();
    if bytes.len() < FIXED_HEADER_LEN {
        return Err(corrupt(format!(
            "{} bytes is shorter than the header",
            bytes.len()
        )));
    }
    if bytes[0..4] != MAGIC {
        return Err(corrupt("bad magic; not a column chunk"));
    }
    if bytes[4] != VERSION {
        return Err(corrupt(format!("unsupported chunk version {}", bytes[4])));
    }
    if verify {
        let stored = u32::from_le_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]);
        let actual = checksum(bytes);
        if stored != actual {
            return Err(corrupt(format!(
                "checksum mismatch: stored {stored:#010x}, computed {actual:#010x}"
            )));
        }
    }
    let n_buffers = usize::from(bytes[24]);
    let has_validity = match bytes[25] {
        0 => false,
        FLAG_VALIDITY => true,
        other => return Err(corrupt(format!("unknown flags {other:#04x}"))),
    };
    let tz_len = usize::from(u16::from_le_bytes([bytes[26], bytes[27]]));
    let dir_end = FIXED_HEADER_LEN + n_buffers * DIR_ENTRY_LEN;
    let tz_end = dir_end + tz_len;
    if tz_end > bytes.len() {
        return Err(corrupt("header runs past the end of the chunk"));
    }
    let tz = match tz_len {
        0 => None,
        _ => Some(
            std::str::from_utf8(&bytes[dir_end..tz_end])
                .map_err(|_| corrupt("timezone is not UTF-8"))?,
        ),
    };
    let data_type = tag_to_type(bytes[5], bytes[6], bytes[7], tz)?;
    let len = read_usize(bytes, 8, "length")?;
    let null_count = read_usize(bytes, 16, "null count")?;
    if null_count > len {
        return Err(corrupt(format!(
            "null count {null_count} exceeds length {len}"
        )));
    }

    let layout = layout(&data_type);
    let expected_buffers = layout.data_buffers() + usize::from(has_validity);
    if n_buffers != expected_buffers {
        return Err(corrupt(format!(
            "{data_type} chunk has {n_buffers} buffers, expected {expected_buffers}"
        )));
    }
    let mut buffers = (0..n_buffers)
        .map(|i| {
            let entry = FIXED_HEADER_LEN + i * DIR_ENTRY_LEN;
            let start = read_usize(bytes, entry, "buffer offset")?;
            let length = read_usize(bytes, entry + 8, "buffer length")?;
            match start.checked_add(length) {
                Some(end) if start >= tz_end && end <= bytes.len() => {
                    Ok(blob.slice_with_length(start, length))
                }
                _ => Err(corrupt(format!("buffer {i} lies outside the chunk"))),
            }
        })
        .collect::<Result<Vec<Buffer>, CodecError>>()?
        .into_iter();

    if layout == Layout::Null {
        if null_count != len || has_validity {
            return Err(corrupt(
                "null chunk must have null count equal to its length",
            ));
        }
        return Ok(Arc::new(NullArray::new(len)));
    }

    let bitmap_len = bit_util::ceil(len, 8);
    let nulls = match has_validity {
        false if null_count != 0 => {
            return Err(corrupt(format!(
                "null count {null_count} without a validity bitmap"
            )))
        }
        false => None,
        true => {
            let bitmap = buffers
                .next()
                .ok_or_else(|| corrupt("missing validity bitmap"))?;
            expect_len(&bitmap, bitmap_len, "validity bitmap")?;
            let nulls = NullBuffer::new(BooleanBuffer::new(bitmap, 0, len));
            if nulls.null_count() != null_count {
                return Err(corrupt(format!(
                    "header says {null_count} nulls, bitmap has {}",
                    nulls.null_count()
                )));
            }
            Some(nulls)
        }
    };
    let data_buffers: Vec<Buffer> = buffers.collect();
    match (layout, data_buffers.as_slice()) {
        (Layout::Bits, [values]) => expect_len(values, bitmap_len, "boolean values")?,
        (Layout::Fixed(width), [values]) => {
            let needed = len
                .checked_mul(width)
                .ok_or_else(|| corrupt(format!("length {len} overflows")))?;
            expect_len(values, needed, "values")?
        }
        (Layout::Var { offset_width }, [offsets, _values]) => {
            let needed = len
                .checked_add(1)
                .and_then(|n| n.checked_mul(offset_width))
                .ok_or_else(|| corrupt(format!("length {len} overflows")))?;
            expect_len(offsets, needed, "offsets")?
        }
        _ => return Err(corrupt("buffer count does not match the type layout")),
    }

    let data = ArrayDataBuilder::new(data_type)
        .len(len)
        .nulls(nulls)
        .buffers(data_buffers)
        .align_buffers(true)
        .build()
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(make_array(data))
}

/// How an array's data buffers are laid out (validity excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// No buffers (the Null type).
    Null,
    /// One bit-packed values buffer (Boolean).
    Bits,
    /// One values buffer of fixed-width elements of this many bytes.
    Fixed(usize),
    /// Offsets of this many bytes each, then a values buffer.
    Var { offset_width: usize },
}

impl Layout {
    fn data_buffers(self) -> usize {
        match self {
            Layout::Null => 0,
            Layout::Bits | Layout::Fixed(_) => 1,
            Layout::Var { .. } => 2,
        }
    }
}

/// Layout of a supported type (callers have checked support via the tag).
fn layout(data_type: &DataType) -> Layout {
    match data_type {
        DataType::Null => Layout::Null,
        DataType::Boolean => Layout::Bits,
        DataType::Utf8 | DataType::Binary => Layout::Var { offset_width: 4 },
        DataType::LargeUtf8 | DataType::LargeBinary => Layout::Var { offset_width: 8 },
        other => Layout::Fixed(other.primitive_width().unwrap_or(0)),
    }
}

/// Type tags stored in byte 5 of the header. Values are part of the format.
#[repr(u8)]
#[derive(Debug, Clone, Copy)]
enum Tag {
    Null = 1,
    Boolean = 2,
    Int8 = 3,
    Int16 = 4,
    Int32 = 5,
    Int64 = 6,
    UInt8 = 7,
    UInt16 = 8,
    UInt32 = 9,
    UInt64 = 10,
    Float32 = 11,
    Float64 = 12,
    Utf8 = 13,
    LargeUtf8 = 14,
    Binary = 15,
    LargeBinary = 16,
    Date32 = 17,
    Date64 = 18,
    Timestamp = 19,
    Time32 = 20,
    Time64 = 21,
    Duration = 22,
    Decimal128 = 23,
    IntervalMonthDayNano = 24,
}

const ALL_TAGS: [Tag; 24] = [
    Tag::Null,
    Tag::Boolean,
    Tag::Int8,
    Tag::Int16,
    Tag::Int32,
    Tag::Int64,
    Tag::UInt8,
    Tag::UInt16,
    Tag::UInt32,
    Tag::UInt64,
    Tag::Float32,
    Tag::Float64,
    Tag::Utf8,
    Tag::LargeUtf8,
    Tag::Binary,
    Tag::LargeBinary,
    Tag::Date32,
    Tag::Date64,
    Tag::Timestamp,
    Tag::Time32,
    Tag::Time64,
    Tag::Duration,
    Tag::Decimal128,
    Tag::IntervalMonthDayNano,
];

/// Maps a data type to (tag, param a, param b, timezone).
fn type_to_tag(data_type: &DataType) -> Result<(u8, u8, u8, Option<&str>), CodecError> {
    let plain = |tag: Tag| Ok((tag as u8, 0, 0, None));
    match data_type {
        DataType::Null => plain(Tag::Null),
        DataType::Boolean => plain(Tag::Boolean),
        DataType::Int8 => plain(Tag::Int8),
        DataType::Int16 => plain(Tag::Int16),
        DataType::Int32 => plain(Tag::Int32),
        DataType::Int64 => plain(Tag::Int64),
        DataType::UInt8 => plain(Tag::UInt8),
        DataType::UInt16 => plain(Tag::UInt16),
        DataType::UInt32 => plain(Tag::UInt32),
        DataType::UInt64 => plain(Tag::UInt64),
        DataType::Float32 => plain(Tag::Float32),
        DataType::Float64 => plain(Tag::Float64),
        DataType::Utf8 => plain(Tag::Utf8),
        DataType::LargeUtf8 => plain(Tag::LargeUtf8),
        DataType::Binary => plain(Tag::Binary),
        DataType::LargeBinary => plain(Tag::LargeBinary),
        DataType::Date32 => plain(Tag::Date32),
        DataType::Date64 => plain(Tag::Date64),
        DataType::Timestamp(unit, tz) => {
            Ok((Tag::Timestamp as u8, unit_code(*unit), 0, tz.as_deref()))
        }
        DataType::Time32(unit @ (TimeUnit::Second | TimeUnit::Millisecond)) => {
            Ok((Tag::Time32 as u8, unit_code(*unit), 0, None))
        }
        DataType::Time64(unit @ (TimeUnit::Microsecond | TimeUnit::Nanosecond)) => {
            Ok((Tag::Time64 as u8, unit_code(*unit), 0, None))
        }
        DataType::Duration(unit) => Ok((Tag::Duration as u8, unit_code(*unit), 0, None)),
        DataType::Decimal128(precision, scale) if valid_decimal(*precision, *scale) => Ok((
            Tag::Decimal128 as u8,
            *precision,
            scale.to_le_bytes()[0],
            None,
        )),
        DataType::Interval(IntervalUnit::MonthDayNano) => plain(Tag::IntervalMonthDayNano),
        other => Err(CodecError::Unsupported(other.to_string())),
    }
}

/// Inverse of [`type_to_tag`], rejecting parameters Arrow would not accept.
fn tag_to_type(tag: u8, a: u8, b: u8, tz: Option<&str>) -> Result<DataType, CodecError> {
    let tag = ALL_TAGS
        .into_iter()
        .find(|t| *t as u8 == tag)
        .ok_or_else(|| corrupt(format!("unknown type tag {tag}")))?;
    let no_params = |dt: DataType| {
        if a != 0 || b != 0 || tz.is_some() {
            Err(corrupt(format!("unexpected type parameters for {dt}")))
        } else {
            Ok(dt)
        }
    };
    let unit = || match a {
        0 => Ok(TimeUnit::Second),
        1 => Ok(TimeUnit::Millisecond),
        2 => Ok(TimeUnit::Microsecond),
        3 => Ok(TimeUnit::Nanosecond),
        other => Err(corrupt(format!("unknown time unit {other}"))),
    };
    let unit_only = |make: fn(TimeUnit) -> Option<DataType>| {
        if b != 0 || tz.is_some() {
            return Err(corrupt("unexpected parameters for a time type"));
        }
        make(unit()?).ok_or_else(|| corrupt(format!("invalid unit {a} for {tag:?}")))
    };
    match tag {
        Tag::Null => no_params(DataType::Null),
        Tag::Boolean => no_params(DataType::Boolean),
        Tag::Int8 => no_params(DataType::Int8),
        Tag::Int16 => no_params(DataType::Int16),
        Tag::Int32 => no_params(DataType::Int32),
        Tag::Int64 => no_params(DataType::Int64),
        Tag::UInt8 => no_params(DataType::UInt8),
        Tag::UInt16 => no_params(DataType::UInt16),
        Tag::UInt32 => no_params(DataType::UInt32),
        Tag::UInt64 => no_params(DataType::UInt64),
        Tag::Float32 => no_params(DataType::Float32),
        Tag::Float64 => no_params(DataType::Float64),
        Tag::Utf8 => no_params(DataType::Utf8),
        Tag::LargeUtf8 => no_params(DataType::LargeUtf8),
        Tag::Binary => no_params(DataType::Binary),
        Tag::LargeBinary => no_params(DataType::LargeBinary),
        Tag::Date32 => no_params(DataType::Date32),
        Tag::Date64 => no_params(DataType::Date64),
        Tag::IntervalMonthDayNano => no_params(DataType::Interval(IntervalUnit::MonthDayNano)),
        Tag::Timestamp => {
            if b != 0 {
                return Err(corrupt("unexpected parameter for timestamp"));
            }
            Ok(DataType::Timestamp(unit()?, tz.map(Arc::from)))
        }
        Tag::Time32 => unit_only(|u| {
            matches!(u, TimeUnit::Second | TimeUnit::Millisecond).then_some(DataType::Time32(u))
        }),
        Tag::Time64 => unit_only(|u| {
            matches!(u, TimeUnit::Microsecond | TimeUnit::Nanosecond).then_some(DataType::Time64(u))
        }),
        Tag::Duration => unit_only(|u| Some(DataType::Duration(u))),
        Tag::Decimal128 => {
            let scale = i8::from_le_bytes([b]);
            if tz.is_some() || !valid_decimal(a, scale) {
                return Err(corrupt(format!(
                    "invalid decimal precision {a} / scale {scale}"
                )));
            }
            Ok(DataType::Decimal128(a, scale))
        }
    }
}

/// Decimal parameters this codec accepts: precision 1..=38 and a scale
/// (possibly negative) no larger in magnitude than the precision.
fn valid_decimal(precision: u8, scale: i8) -> bool {
    (1..=DECIMAL128_MAX_PRECISION).contains(&precision)
        && i16::from(scale).unsigned_abs() <= u16::from(precision)
}

fn unit_code(unit: TimeUnit) -> u8 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    }
}

/// Copies the `len + 1` visible offsets starting at element `offset`,
/// shifted so the first is zero; returns them with the value byte range.
fn rebase_offsets(
    offsets: &Buffer,
    offset: usize,
    len: usize,
    width: usize,
) -> (Buffer, usize, usize) {
    let raw = &offsets.as_slice()[offset * width..(offset + len + 1) * width];
    let read = |chunk: &[u8]| -> usize {
        let mut wide = [0u8; 8];
        wide[..width].copy_from_slice(chunk);
        u64::from_le_bytes(wide) as usize
    };
    let start = read(&raw[..width]);
    let end = read(&raw[len * width..]);
    let mut out = Vec::with_capacity(raw.len());
    for chunk in raw.chunks_exact(width) {
        let shifted = (read(chunk) - start) as u64;
        out.extend_from_slice(&shifted.to_le_bytes()[..width]);
    }
    (Buffer::from_vec(out), start, end)
}

/// crc32 of the whole blob except the crc field itself.
fn checksum(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[..CRC_RANGE.start]);
    hasher.update(&bytes[CRC_RANGE.end..]);
    hasher.finalize()
}

fn read_usize(bytes: &[u8], at: usize, what: &str) -> Result<usize, CodecError> {
    let raw: [u8; 8] = bytes
        .get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| corrupt(format!("{what} lies outside the chunk")))?;
    usize::try_from(u64::from_le_bytes(raw)).map_err(|_| corrupt(format!("{what} too large")))
}

fn expect_len(buffer: &Buffer, expected: usize, what: &str) -> Result<(), CodecError> {
    if buffer.len() == expected {
        Ok(())
    } else {
        Err(corrupt(format!(
            "{what} buffer is {} bytes, expected {expected}",
            buffer.len()
        )))
    }
}

fn corrupt(detail: impl Into<String>) -> CodecError {
    CodecError::Corrupt(detail.into())
}

#[cfg(test)]
mod tests;
