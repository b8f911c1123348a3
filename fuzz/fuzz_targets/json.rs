//! JSON documents from clients: the upload-callback parameter and its variables, and PostObject policies
//! (checked against a few form fields).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ossd_server::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::callback_json(data, Some(data));
    let fields = [
        ("key".to_string(), "user/a.txt".to_string()),
        ("x-oss-object-acl".to_string(), "private".to_string()),
        ("content-type".to_string(), "text/plain".to_string()),
    ];
    fuzzing::post_policy(data, &fields, "fuzz");
});
