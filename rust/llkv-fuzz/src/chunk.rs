//! Stored records → decoders: the first input byte picks the decoder
//! (column chunk, catalog root, manifest page, catalog JSON), the rest is
//! its input. A chunk that decodes must hold a valid Arrow array and
//! encode back to a chunk that decodes to the same array.

use arrow_array::Array;
use arrow_buffer::Buffer;
use llkv_column_map::codec::{decode_array, encode_array};
use llkv_table::{manifest, Catalog};

/// Runs the `chunk` target.
pub fn run(data: &[u8]) {
    let Some((which, bytes)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => chunk(bytes),
        1 => {
            let _ = manifest::Root::decode(bytes);
        }
        2 => {
            let _ = manifest::decode_page(bytes);
        }
        _ => {
            let _ = Catalog::from_bytes(bytes);
        }
    }
}

fn chunk(bytes: &[u8]) {
    // Copied into an Arrow buffer, as the pager hands blobs out.
    let blob = Buffer::from_slice_ref(bytes);
    let Ok(array) = decode_array(&blob, true) else {
        return;
    };
    array
        .to_data()
        .validate_full()
        .expect("a decoded chunk is a valid array");
    let again = encode_array(array.as_ref()).expect("a decoded chunk encodes");
    let back = decode_array(&Buffer::from_vec(again), true).expect("a re-encoded chunk decodes");
    assert_eq!(back.to_data(), array.to_data());
}
