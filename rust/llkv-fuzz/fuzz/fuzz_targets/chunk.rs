//! libFuzzer entry of the `chunk` target (see `llkv_fuzz::chunk::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llkv_fuzz::chunk::run(data));
