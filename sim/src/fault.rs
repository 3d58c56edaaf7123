//! The fault schedule: answers an org gives instead of (or after) the real one, such as
//! Okta's 500s, a gateway's HTML 502, extra delay, or a connection closed without an answer.
//!
//! Faults are matched in order against each Okta API request that passed the rate limiter;
//! the first one with uses left applies and loses one use. `after: false` answers instead of
//! the real handler (nothing changes in the org); `after: true` lets the handler run first and
//! then replaces or drops its answer (the write applied, its answer was lost).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One fault as `POST /__sim/faults` takes it and `GET /__sim/faults` lists it (with the uses
/// it has left as `times`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// The request method it applies to (any case); any method when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A prefix of the request path (`/api/v1/apps/`); any path when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How many matching requests it applies to before it is used up.
    #[serde(default = "one")]
    pub times: u32,
    /// The status to answer with; the real answer (after any latency) when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The body: a string is sent as it is, any other JSON value as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// `Content-Type` of the answer; `application/json` when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Headers set on the answer, replacing any of the same name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Delay before answering, in the org's time.
    #[serde(default)]
    pub latency_ms: u64,
    /// Close the connection without an HTTP answer.
    #[serde(default)]
    pub drop: bool,
    /// Run the real handler first, then replace or drop its answer.
    #[serde(default)]
    pub after: bool,
}

fn one() -> u32 {
    1
}

/// An answer a fault sends instead of the real one.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub content_type: HeaderValue,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// What a fault does once its latency has passed.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Give the real answer.
    Real,
    Answer(Answer),
    /// Close the connection without answering.
    Drop,
}

/// A fault that matched a request, ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub action: Action,
    /// In the org's time.
    pub latency: Duration,
    pub after: bool,
}

impl Fault {
    /// Checks the fault and works out what it does; `Err` says what is wrong.
    fn check(&self) -> Result<Applied, String> {
        if self.times == 0 {
            return Err("times must be at least 1".into());
        }
        let answers =
            self.body.is_some() || self.content_type.is_some() || !self.headers.is_empty();
        let action = match (self.status, self.drop) {
            (Some(_), true) => return Err("a fault that drops the connection has no status".into()),
            (None, true) if answers => {
                return Err("a fault that drops the connection has no body or headers".into());
            }
            (None, true) => Action::Drop,
            (None, false) if answers => {
                return Err("body, contentType and headers need a status".into());
            }
            (None, false) => Action::Real,
            (Some(status), false) => Action::Answer(self.answer(status)?),
        };
        Ok(Applied {
            action,
            latency: Duration::from_millis(self.latency_ms),
            after: self.after,
        })
    }

    fn answer(&self, status: u16) -> Result<Answer, String> {
        let status = StatusCode::from_u16(status)
            .ok()
            .filter(|s| (200..=599).contains(&s.as_u16()))
            .ok_or_else(|| format!("status {status} is not between 200 and 599"))?;
        let content_type = match &self.content_type {
            None => HeaderValue::from_static("application/json"),
            Some(value) => HeaderValue::from_str(value)
                .map_err(|_| format!("contentType {value:?} is not a header value"))?,
        };
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("{name:?} is not a header name"))?;
            if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
                return Err(format!("header {name} is set by the simulator"));
            }
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("header {name} has an invalid value {value:?}"))?;
            headers.push((name, value));
        }
        let body = match &self.body {
            None => Bytes::new(),
            Some(Value::String(text)) => Bytes::from(text.clone()),
            Some(json) => Bytes::from(json.to_string()),
        };
        Ok(Answer {
            status,
            content_type,
            headers,
            body,
        })
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
            && self.path.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

#[derive(Debug)]
struct Entry {
    /// `times` counts the uses left.
    fault: Fault,
    applied: Applied,
}

/// One org's faults still to apply, in order.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    entries: Vec<Entry>,
}

impl Schedule {
    /// Appends `faults`, or none of them when one is invalid (`Err` names it and says why).
    pub fn add(&mut self, faults: Vec<Fault>) -> Result<(), String> {
        let mut checked = Vec::with_capacity(faults.len());
        for (i, fault) in faults.into_iter().enumerate() {
            let applied = fault.check().map_err(|e| format!("faults[{i}]: {e}"))?;
            checked.push(Entry { fault, applied });
        }
        self.entries.extend(checked);
        Ok(())
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The faults not yet used up, with the uses they have left.
    pub fn pending(&self) -> Vec<Fault> {
        self.entries.iter().map(|e| e.fault.clone()).collect()
    }

    /// Uses the first fault matching the request once, if there is one.
    pub fn take(&mut self, method: &Method, path: &str) -> Option<Applied> {
        let index = self
            .entries
            .iter()
            .position(|e| e.fault.matches(method, path))?;
        let entry = &mut self.entries[index];
        let applied = entry.applied.clone();
        entry.fault.times -= 1;
        if entry.fault.times == 0 {
            self.entries.remove(index);
        }
        Some(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn faults(value: Value) -> Vec<Fault> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn faults_apply_in_order_and_are_used_up_after_their_times() {
        let mut schedule = Schedule::default();
        schedule
            .add(faults(json!([
                {"method": "put", "path": "/api/v1/apps/", "times": 2, "status": 500},
                {"status": 502, "body": "<html>Bad Gateway</html>", "contentType": "text/html"}
            ])))
            .unwrap();
        let path = "/api/v1/apps/0oa1/groups/00g1";
        let first = schedule.take(&Method::PUT, path).unwrap();
        assert!(matches!(first.action, Action::Answer(ref a) if a.status == 500));
        assert_eq!(schedule.pending()[0].times, 1);
        let gateway = schedule.take(&Method::GET, path).unwrap();
        let Action::Answer(answer) = gateway.action else {
            panic!("an answer");
        };
        assert_eq!(answer.status, 502);
        assert_eq!(answer.body, "<html>Bad Gateway</html>");
        assert_eq!(answer.content_type, "text/html");
        assert!(schedule.take(&Method::PUT, path).is_some());
        assert!(schedule.take(&Method::PUT, path).is_none());
        assert!(schedule.pending().is_empty());
    }

    #[test]
    fn a_path_is_a_prefix_and_a_missing_method_or_path_matches_anything() {
        let fault = &faults(json!([{"path": "/api/v1/apps/"}]))[0];
        assert!(fault.matches(&Method::DELETE, "/api/v1/apps/0oa1"));
        assert!(!fault.matches(&Method::GET, "/api/v1/apps"));
        assert!(!fault.matches(&Method::GET, "/api/v1/groups"));
        let any = &faults(json!([{}]))[0];
        assert!(any.matches(&Method::PATCH, "/api/v1/users"));
    }

    #[test]
    fn a_json_body_is_sent_as_json_and_a_latency_only_fault_keeps_the_real_answer() {
        let mut schedule = Schedule::default();
        schedule
            .add(faults(json!([
                {"status": 403, "body": {"errorCode": "E0000006"}},
                {"latencyMs": 250, "after": true}
            ])))
            .unwrap();
        let Action::Answer(answer) = schedule.take(&Method::GET, "/").unwrap().action else {
            panic!("an answer");
        };
        assert_eq!(answer.body, r#"{"errorCode":"E0000006"}"#);
        assert_eq!(answer.content_type, "application/json");
        let delay = schedule.take(&Method::GET, "/").unwrap();
        assert!(matches!(delay.action, Action::Real));
        assert_eq!(delay.latency, Duration::from_millis(250));
        assert!(delay.after);
    }

    #[test]
    fn an_invalid_fault_is_refused_and_none_of_its_batch_is_scheduled() {
        for bad in [
            json!({"times": 0}),
            json!({"status": 99}),
            json!({"status": 1000}),
            json!({"status": 500, "drop": true}),
            json!({"drop": true, "body": "x"}),
            json!({"body": "x"}),
            json!({"status": 500, "headers": {"bad name": "x"}}),
            json!({"status": 500, "headers": {"X-A": "line\nbreak"}}),
            json!({"status": 500, "headers": {"Content-Length": "1"}}),
            json!({"status": 500, "contentType": "text/\u{0}"}),
        ] {
            let mut schedule = Schedule::default();
            let err = schedule
                .add(faults(json!([{"status": 500}, bad])))
                .unwrap_err();
            assert!(err.starts_with("faults[1]: "), "{err}");
            assert!(schedule.pending().is_empty(), "{bad}");
        }
        assert!(serde_json::from_value::<Fault>(json!({"stauts": 500})).is_err());
    }
}
