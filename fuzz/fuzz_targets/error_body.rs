//! `ErrorBody::from_slice` on any bytes: never panics; a body it reads keeps its code, message,
//! request id and authorization message through serialisation and a second read.
#![no_main]

use cce_autopilot_model::ErrorBody;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = ErrorBody::from_slice(data);

    // The serde entry point agrees with `from_slice` on every JSON object.
    let via_serde = serde_json::from_slice::<ErrorBody>(data).ok();
    if parsed.is_some() {
        assert_eq!(via_serde, parsed, "Deserialize and from_slice disagree");
    }

    let Some(body) = parsed else {
        return;
    };
    assert_eq!(
        body.is_empty(),
        body.code.is_none() && body.message.is_none()
    );

    let json = serde_json::to_vec(&body).expect("an ErrorBody always serialises");
    let again = ErrorBody::from_slice(&json).expect("what we wrote is a JSON object");
    assert_eq!(again.code, body.code, "code lost in {}", show(&json));
    assert_eq!(
        again.message,
        body.message,
        "message lost in {}",
        show(&json)
    );
    assert_eq!(
        again.request_id,
        body.request_id,
        "request id lost in {}",
        show(&json)
    );
    assert_eq!(
        again.encoded_authorization_message,
        body.encoded_authorization_message,
        "authorization message lost in {}",
        show(&json)
    );

    // A second round is a fixed point: nothing moves between the mapped fields and `extra` any more.
    let json2 = serde_json::to_vec(&again).expect("an ErrorBody always serialises");
    let third = ErrorBody::from_slice(&json2).expect("what we wrote is a JSON object");
    assert_eq!(third, again, "not stable after one round: {}", show(&json2));
});

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
