//! libFuzzer entry of the `sql` target (see `llkv_fuzz::sql::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llkv_fuzz::sql::run(data));
