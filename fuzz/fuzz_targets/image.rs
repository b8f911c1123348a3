//! Image decoding: the input (after a first byte that picks the processing) is stored as an object and read
//! back through `x-oss-process`, on the in-process server, which must keep answering.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SPECS: &[&str] = &[
    "image/info",
    "image/resize,w_16",
    "image/resize,h_20,m_fixed/format,png",
    "image/format,jpg",
    "image/resize,w_40/format,jpg",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, image)) = data.split_first() else { return };
    let s = ossd_fuzz::server();
    let mut put = format!("v1 PUT /{}/img\n\n", ossd_fuzz::BUCKET).into_bytes();
    put.extend_from_slice(image);
    let _ = s.send_text(&put);
    let spec = SPECS[pick as usize % SPECS.len()];
    let _ = s.send_text(format!("v1 GET /{}/img?x-oss-process={spec}\n", ossd_fuzz::BUCKET).as_bytes());
    s.assert_alive();
});
