//! [`AccessLogs`] driven by hand, as the proxy's router does: several logs over one entry, each
//! sampling on its own; sampling by request ID; nothing written for unsampled requests.

use super::*;
use crate::request_id::RequestIdValue;
use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use mesh_core::policy::Percent;

fn parts(id: Option<&'static str>) -> http::request::Parts {
    let mut req = Request::post("/orders").header("host", "svc.local");
    if let Some(id) = id {
        req = req.header("x-request-id", id);
    }
    let mut req = req.body(()).unwrap();
    if let Some(id) = id {
        req.extensions_mut()
            .insert(RequestIdValue(HeaderValue::from_static(id)));
    }
    req.into_parts().0
}

/// Runs one request through `logs`: a 5-byte request body, a 200 with `sent` as its body.
async fn exchange(logs: &AccessLogs, parts: &http::request::Parts, sent: &'static str) {
    let mut record = logs.start(parts);
    let body = record.request_body(Full::new(Bytes::from("12345")));
    body.collect().await.unwrap();
    record.downstream("10.0.0.9:4000".parse().unwrap());
    let response = Response::new(Full::new(Bytes::from(sent)));
    record.response(&response);
    record.flags("URX");
    let body = record.body(response.into_body());
    body.collect().await.unwrap();
}

// Two IDs on either side of 50%: buckets 0x1387 = 4999 and 0x1388 = 5000.
const IN: &str = "00001387-0000-4000-8000-000000000000";
const OUT: &str = "00001388-0000-4000-8000-000000000000";

#[tokio::test]
async fn each_log_writes_its_own_format_of_one_entry_when_it_sampled_the_request() {
    let (all, all_out) = captured();
    let (half, half_out) = captured();
    let logs = AccessLogs::new([
        (
            Format::parse("%REQ(X-REQUEST-ID)% %BYTES_RECEIVED% %BYTES_SENT%").unwrap(),
            all.clone(),
            AccessLogSampling::All,
        ),
        (
            Format::parse("%RESPONSE_FLAGS% %DOWNSTREAM_REMOTE_ADDRESS% %REQ(:METHOD)%").unwrap(),
            half.clone(),
            AccessLogSampling::RequestId(Percent::new(50.0).unwrap()),
        ),
    ]);
    exchange(&logs, &parts(Some(IN)), "abc").await;
    exchange(&logs, &parts(Some(OUT)), "abcd").await;
    all.flush().await;
    half.flush().await;
    assert_eq!(all_out.lines(), [format!("{IN} 5 3"), format!("{OUT} 5 4")]);
    assert_eq!(half_out.lines(), ["URX 10.0.0.9:4000 POST"]);
}

#[tokio::test]
async fn a_request_no_log_samples_costs_no_record() {
    let (sink, out) = captured();
    let logs = AccessLogs::new([(
        Format::default(),
        sink.clone(),
        AccessLogSampling::RequestId(Percent::ZERO),
    )]);
    let record = logs.start(&parts(Some(IN)));
    assert!(!record.is_on());
    drop(record);
    sink.flush().await;
    assert!(out.lines().is_empty());
    assert!(AccessLogs::default().is_empty() && !logs.is_empty());
}

#[tokio::test]
async fn sampling_by_request_id_without_an_id_draws_at_random() {
    let (sink, out) = captured();
    let never = AccessLogs::new([(
        Format::default(),
        sink.clone(),
        AccessLogSampling::RequestId(Percent::ZERO),
    )]);
    let always = AccessLogs::new([(
        Format::default(),
        sink.clone(),
        AccessLogSampling::RequestId(Percent::HUNDRED),
    )]);
    for _ in 0..20 {
        assert!(!never.start(&parts(None)).is_on());
        let mut on = always.start(&parts(None));
        assert!(on.is_on());
        on.finish();
    }
    sink.flush().await;
    assert_eq!(out.lines().len(), 20);
}
