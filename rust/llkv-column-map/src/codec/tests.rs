//! Round-trip, zero-copy and corruption tests for the chunk codec.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::*;
use arrow_buffer::{Buffer, IntervalMonthDayNano};
use arrow_schema::{DataType, TimeUnit};
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

/// A blob whose start is aligned like a pager blob (arrow allocations are
/// at least 64-byte aligned).
fn aligned(bytes: &[u8]) -> Buffer {
    let blob = Buffer::from_slice_ref(bytes);
    assert_eq!(blob.as_ptr() as usize % BUFFER_ALIGNMENT, 0);
    blob
}

/// A blob deliberately starting at an odd address.
fn misaligned(bytes: &[u8]) -> Buffer {
    let mut shifted = vec![0u8];
    shifted.extend_from_slice(bytes);
    let blob = Buffer::from_slice_ref(&shifted).slice(1);
    assert_eq!(blob.as_ptr() as usize % 2, 1);
    blob
}

fn round_trip(array: &dyn Array) -> ArrayRef {
    let encoded = encode_array(array).unwrap();
    let decoded = decode_array(&aligned(&encoded), true).unwrap();
    decoded.to_data().validate_full().unwrap();
    decoded
}

fn opt<T: Strategy>(s: T) -> impl Strategy<Value = Vec<Option<T::Value>>>
where
    T::Value: Clone + std::fmt::Debug,
{
    proptest::collection::vec(proptest::option::weighted(0.8, s), 0..70)
}

fn prim<T: ArrowPrimitiveType>(
    s: impl Strategy<Value = T::Native> + 'static,
    data_type: DataType,
) -> BoxedStrategy<ArrayRef>
where
    T::Native: std::fmt::Debug,
{
    opt(s)
        .prop_map(move |v| {
            Arc::new(PrimitiveArray::<T>::from_iter(v).with_data_type(data_type.clone()))
                as ArrayRef
        })
        .boxed()
}

fn time_unit() -> impl Strategy<Value = TimeUnit> {
    prop_oneof![
        Just(TimeUnit::Second),
        Just(TimeUnit::Millisecond),
        Just(TimeUnit::Microsecond),
        Just(TimeUnit::Nanosecond),
    ]
}

fn any_array() -> impl Strategy<Value = ArrayRef> {
    let timestamp = (
        time_unit(),
        proptest::option::of(prop_oneof![
            Just("UTC"),
            Just("+05:30"),
            Just("America/New_York")
        ]),
    )
        .prop_flat_map(|(unit, tz)| {
            let dt = DataType::Timestamp(unit, tz.map(Arc::from));
            match unit {
                TimeUnit::Second => prim::<TimestampSecondType>(any::<i64>(), dt),
                TimeUnit::Millisecond => prim::<TimestampMillisecondType>(any::<i64>(), dt),
                TimeUnit::Microsecond => prim::<TimestampMicrosecondType>(any::<i64>(), dt),
                TimeUnit::Nanosecond => prim::<TimestampNanosecondType>(any::<i64>(), dt),
            }
        });
    let decimal = (1u8..=38)
        .prop_flat_map(|p| (Just(p), -(p as i8)..=(p as i8)))
        .prop_flat_map(|(p, s)| prim::<Decimal128Type>(any::<i128>(), DataType::Decimal128(p, s)));
    prop_oneof![
        (0usize..100).prop_map(|n| Arc::new(NullArray::new(n)) as ArrayRef),
        opt(any::<bool>()).prop_map(|v| Arc::new(BooleanArray::from(v)) as ArrayRef),
        prim::<Int8Type>(any::<i8>(), DataType::Int8),
        prim::<Int16Type>(any::<i16>(), DataType::Int16),
        prim::<Int32Type>(any::<i32>(), DataType::Int32),
        prim::<Int64Type>(any::<i64>(), DataType::Int64),
        prim::<UInt8Type>(any::<u8>(), DataType::UInt8),
        prim::<UInt16Type>(any::<u16>(), DataType::UInt16),
        prim::<UInt32Type>(any::<u32>(), DataType::UInt32),
        prim::<UInt64Type>(any::<u64>(), DataType::UInt64),
        prim::<Float32Type>(any::<f32>(), DataType::Float32),
        prim::<Float64Type>(any::<f64>(), DataType::Float64),
        opt(".{0,12}").prop_map(|v| Arc::new(StringArray::from(v)) as ArrayRef),
        opt(".{0,12}").prop_map(|v| Arc::new(LargeStringArray::from(v)) as ArrayRef),
        opt(proptest::collection::vec(any::<u8>(), 0..12))
            .prop_map(|v| { Arc::new(BinaryArray::from_iter(v)) as ArrayRef }),
        opt(proptest::collection::vec(any::<u8>(), 0..12))
            .prop_map(|v| { Arc::new(LargeBinaryArray::from_iter(v)) as ArrayRef }),
        prim::<Date32Type>(any::<i32>(), DataType::Date32),
        prim::<Date64Type>(any::<i64>(), DataType::Date64),
        timestamp,
        prim::<Time32SecondType>(0i32..86_400, DataType::Time32(TimeUnit::Second)),
        prim::<Time32MillisecondType>(0i32..86_400_000, DataType::Time32(TimeUnit::Millisecond)),
        prim::<Time64MicrosecondType>(any::<i64>(), DataType::Time64(TimeUnit::Microsecond)),
        prim::<Time64NanosecondType>(any::<i64>(), DataType::Time64(TimeUnit::Nanosecond)),
        time_unit().prop_flat_map(|unit| {
            let dt = DataType::Duration(unit);
            match unit {
                TimeUnit::Second => prim::<DurationSecondType>(any::<i64>(), dt),
                TimeUnit::Millisecond => prim::<DurationMillisecondType>(any::<i64>(), dt),
                TimeUnit::Microsecond => prim::<DurationMicrosecondType>(any::<i64>(), dt),
                TimeUnit::Nanosecond => prim::<DurationNanosecondType>(any::<i64>(), dt),
            }
        }),
        decimal,
        prim::<IntervalMonthDayNanoType>(
            (any::<i32>(), any::<i32>(), any::<i64>())
                .prop_map(|(m, d, n)| IntervalMonthDayNano::new(m, d, n)),
            DataType::Interval(arrow_schema::IntervalUnit::MonthDayNano),
        ),
    ]
}

/// An array and a random visible window of it.
fn sliced_array() -> impl Strategy<Value = ArrayRef> {
    (any_array(), any::<Index>(), any::<Index>()).prop_map(|(array, a, b)| {
        let (a, b) = (a.index(array.len() + 1), b.index(array.len() + 1));
        array.slice(a.min(b), a.max(b) - a.min(b))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trips_every_type(array in sliced_array()) {
        let decoded = round_trip(array.as_ref());
        prop_assert_eq!(decoded.data_type(), array.data_type());
        prop_assert_eq!(decoded.as_ref(), array.as_ref());
        prop_assert_eq!(decoded.logical_null_count(), array.logical_null_count());
        prop_assert_eq!(decoded.offset(), 0);
    }

    #[test]
    fn misaligned_blob_still_decodes(array in sliced_array()) {
        let encoded = encode_array(array.as_ref()).unwrap();
        let decoded = decode_array(&misaligned(&encoded), true).unwrap();
        prop_assert_eq!(decoded.as_ref(), array.as_ref());
    }

    #[test]
    fn damaged_chunks_never_panic(
        array in sliced_array(),
        flips in proptest::collection::vec((any::<Index>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<Index>()),
    ) {
        let mut bytes = encode_array(array.as_ref()).unwrap();
        for (at, value) in &flips {
            let at = at.index(bytes.len());
            bytes[at] = *value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        for verify in [false, true] {
            if let Ok(decoded) = decode_array(&aligned(&bytes), verify) {
                prop_assert!(decoded.to_data().validate_full().is_ok());
            }
        }
        if bytes != encode_array(array.as_ref()).unwrap() {
            prop_assert!(decode_array(&aligned(&bytes), true).is_err(), "checksum missed damage");
        }
    }
}

#[test]
fn decoded_values_are_slices_of_the_blob() {
    let array = Int64Array::from_iter((0..1000).map(|i| (i % 7 != 0).then_some(i)));
    let blob = aligned(&encode_array(&array).unwrap());
    let decoded = decode_array(&blob, true).unwrap();
    let decoded = decoded.as_primitive::<Int64Type>();
    let range = blob.as_ptr() as usize..blob.as_ptr() as usize + blob.len();
    let values = decoded.values().inner().as_ptr() as usize;
    assert!(range.contains(&values), "values were copied");
    let validity = decoded.nulls().unwrap().buffer().as_ptr() as usize;
    assert!(range.contains(&validity), "validity was copied");
    assert_eq!(values % BUFFER_ALIGNMENT, 0);
    assert_eq!(decoded, &array);
}

#[test]
fn decoded_strings_are_slices_of_the_blob() {
    let array = StringArray::from(vec![Some("alpha"), None, Some("gamma")]).slice(1, 2);
    let blob = aligned(&encode_array(&array).unwrap());
    let decoded = decode_array(&blob, true).unwrap();
    let range = blob.as_ptr() as usize..blob.as_ptr() as usize + blob.len();
    let decoded = decoded.as_string::<i32>();
    assert!(range.contains(&(decoded.offsets().inner().inner().as_ptr() as usize)));
    assert!(range.contains(&(decoded.values().as_ptr() as usize)));
    assert_eq!(decoded, &array);
}

#[test]
fn sliced_input_is_normalized() {
    let array = StringArray::from(vec!["aaaaaaaaaa", "b", "c"]).slice(1, 2);
    let whole = encode_array(&StringArray::from(vec!["b", "c"])).unwrap();
    assert_eq!(encode_array(&array).unwrap(), whole);
    let bools = BooleanArray::from(vec![true, false, true, true, false]).slice(3, 2);
    let decoded = round_trip(&bools);
    assert_eq!(decoded.as_boolean(), &BooleanArray::from(vec![true, false]));
}

#[test]
fn unsupported_types_are_rejected() {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
    assert!(matches!(
        encode_array(&list),
        Err(CodecError::Unsupported(_))
    ));
}

fn int_chunk() -> Vec<u8> {
    encode_array(&Int32Array::from(vec![Some(1), None, Some(3)])).unwrap()
}

fn expect_corrupt(bytes: &[u8], verify: bool, needle: &str) {
    match decode_array(&aligned(bytes), verify) {
        Err(CodecError::Corrupt(detail)) => assert!(detail.contains(needle), "{detail}"),
        other => panic!("expected Corrupt containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn checksum_catches_a_flipped_value_byte() {
    let mut bytes = int_chunk();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    expect_corrupt(&bytes, true, "checksum");
    // Without verification a value flip is undetectable but still safe.
    assert!(decode_array(&aligned(&bytes), false).is_ok());
}

#[test]
fn structural_damage_is_reported_without_checksum() {
    let good = int_chunk();
    expect_corrupt(&good[..10], false, "shorter than the header");
    expect_corrupt(&good[..good.len() - 1], false, "outside the chunk");

    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    expect_corrupt(&bad_magic, false, "magic");

    let mut bad_tag = good.clone();
    bad_tag[5] = 200;
    expect_corrupt(&bad_tag, false, "unknown type tag");

    let mut bad_len = good.clone();
    bad_len[8] = 100;
    expect_corrupt(&bad_len, false, "expected");

    let mut bad_nulls = good.clone();
    bad_nulls[16] = 2;
    expect_corrupt(&bad_nulls, false, "nulls");
}

#[test]
fn invalid_utf8_and_offsets_are_rejected() {
    let array = StringArray::from(vec!["ab", "cd"]);
    let bytes = encode_array(&array).unwrap();
    let values_at = read_usize(&bytes, FIXED_HEADER_LEN + DIR_ENTRY_LEN, "").unwrap();
    let offsets_at = read_usize(&bytes, FIXED_HEADER_LEN, "").unwrap();

    let mut bad_utf8 = bytes.clone();
    bad_utf8[values_at] = 0xFF;
    assert!(matches!(
        decode_array(&aligned(&bad_utf8), false),
        Err(CodecError::Corrupt(_))
    ));

    let mut bad_offsets = bytes.clone();
    bad_offsets[offsets_at + 4] = 9;
    assert!(matches!(
        decode_array(&aligned(&bad_offsets), false),
        Err(CodecError::Corrupt(_))
    ));
}

#[test]
fn invalid_type_parameters_are_rejected() {
    let time = Time64MicrosecondArray::from(vec![1, 2]);
    let mut bytes = encode_array(&time).unwrap();
    bytes[6] = 0; // Time64(Second) does not exist.
    expect_corrupt(&bytes, false, "invalid unit");

    let dec = Decimal128Array::from(vec![1i128]).with_data_type(DataType::Decimal128(5, 2));
    let mut bytes = encode_array(&dec).unwrap();
    bytes[6] = 60;
    expect_corrupt(&bytes, false, "precision");

    let odd = Decimal128Array::from(vec![1i128]).with_data_type(DataType::Decimal128(5, 9));
    assert!(matches!(
        encode_array(&odd),
        Err(CodecError::Unsupported(_))
    ));
}
