//! XML request documents: the tree reader every body goes through (ossd_errors::xml::parse), then every
//! bucket-configuration and retention decoder built on it (a decoded document must survive a render).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ossd_server::fuzzing;

fuzz_target!(|data: &[u8]| {
    let root = fuzzing::XML_ROOTS[data.first().map_or(0, |b| *b as usize) % fuzzing::XML_ROOTS.len()];
    if let Ok(doc) = ossd_errors::xml::parse(data, root) {
        assert_eq!(doc.name, root);
    }
    fuzzing::xml_documents(data);
});
