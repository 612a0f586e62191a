//! libFuzzer entry of the `wal` target (see `llkv_fuzz::files::wal`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llkv_fuzz::files::wal(data));
