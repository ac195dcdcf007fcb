#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| faceless_fuzz::c_abi(data));
