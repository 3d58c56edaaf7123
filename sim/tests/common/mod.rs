//! Test support: a simulator on a real port and a bare HTTP/1.1 client for it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use okta_sim::{OrgSeed, Simulator, spawn_in_background};
use serde_json::Value;

pub const TOKEN: &str = "token-a";
pub const APP: &str = "0oa1awsfed0000000001";

/// A simulator serving one org built from `seed`.
pub fn start(seed: Value) -> SocketAddr {
    let seed: OrgSeed = serde_json::from_value(seed).expect("test seed");
    let sim = Simulator::new();
    sim.add_org(seed).expect("seed accepted");
    spawn_in_background(sim)
}

/// 2025-03-07T10:21:20Z.
pub const T0: u64 = 1_741_342_880;

/// A simulator clock that moves only when a test moves it.
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock reading `secs` after the epoch.
    pub fn at(secs: u64) -> Arc<Self> {
        Arc::new(ManualClock(Mutex::new(
            UNIX_EPOCH + Duration::from_secs(secs),
        )))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl okta_sim::Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// A simulator on `clock` serving one org built from `seed`.
pub fn start_on(clock: Arc<ManualClock>, seed: Value) -> SocketAddr {
    let sim = Simulator::with_clock(clock);
    sim.add_org(serde_json::from_value(seed).expect("test seed"))
        .expect("seed accepted");
    spawn_in_background(sim)
}

/// An org with an AWS app importing ReadOnly, BillingViewer and DataEngineer.
pub fn aws_org(groups: Value, assignments: Value) -> Value {
    serde_json::json!({
        "tokens": [TOKEN],
        "apps": [{
            "id": APP,
            "roles": ["ReadOnly", "BillingViewer", "DataEngineer"],
            "settings": {"app": {"identityProviderArn": "arn:aws:iam::111122223333:saml-provider/Okta"}}
        }],
        "groups": groups,
        "assignments": assignments
    })
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of the `Link` header.
    pub fn links(&self) -> Vec<String> {
        self.headers
            .get_all("link")
            .iter()
            .filter_map(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// The URL of the `rel="next"` link, if any.
    pub fn next(&self) -> Option<String> {
        self.links()
            .iter()
            .find(|l| l.ends_with("rel=\"next\""))
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(url, _)| url.to_string())
    }

    /// `errorCode` of an error body.
    pub fn error_code(&self) -> String {
        self.json()["errorCode"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Sends one request on a fresh connection. `target` is a path with query, or an absolute URL.
pub async fn send(
    addr: SocketAddr,
    method: Method,
    target: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> Answer {
    try_send(addr, method, target, authorization, body)
        .await
        .expect("response")
}

/// As [`send`], but a connection that ends without a complete answer is an `Err`.
pub async fn try_send(
    addr: SocketAddr,
    method: Method,
    target: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> Result<Answer, hyper::Error> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    send_on(&mut sender, addr, method, target, authorization, body).await
}

/// Sends one request on an open connection.
pub async fn send_on(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    method: Method,
    target: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> Result<Answer, hyper::Error> {
    let target = target
        .strip_prefix(&format!("http://{addr}"))
        .unwrap_or(target);
    let mut request = Request::builder()
        .method(method)
        .uri(target)
        .header("host", addr.to_string())
        .header("accept", "application/json");
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default().to_string())))
        .expect("request");
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Every value of header `name`.
pub fn all(answer: &Answer, name: &str) -> Vec<String> {
    answer
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

pub async fn get(addr: SocketAddr, target: &str) -> Answer {
    send(
        addr,
        Method::GET,
        target,
        Some(&format!("SSWS {TOKEN}")),
        None,
    )
    .await
}

pub async fn put(addr: SocketAddr, target: &str, body: &str) -> Answer {
    send(
        addr,
        Method::PUT,
        target,
        Some(&format!("SSWS {TOKEN}")),
        Some(body),
    )
    .await
}

pub async fn delete(addr: SocketAddr, target: &str) -> Answer {
    send(
        addr,
        Method::DELETE,
        target,
        Some(&format!("SSWS {TOKEN}")),
        None,
    )
    .await
}

pub async fn post(addr: SocketAddr, target: &str, body: &str) -> Answer {
    send(
        addr,
        Method::POST,
        target,
        Some(&format!("SSWS {TOKEN}")),
        Some(body),
    )
    .await
}

/// The `profile.name` of every group in a list answer.
pub fn names(answer: &Answer) -> Vec<String> {
    answer
        .json()
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .map(|g| {
                    g["profile"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}
