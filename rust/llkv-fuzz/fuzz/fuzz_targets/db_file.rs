//! libFuzzer entry of the `db_file` target (see `llkv_fuzz::files::db_file`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llkv_fuzz::files::db_file(data));
