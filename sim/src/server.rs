//! Serving over TCP: one hyper HTTP/1.1 connection per client, closed without an answer when a
//! fault drops the request.
//!
//! A handler cannot reach its connection, so it marks the response it returns instead; the
//! service around the router turns a marked response into an error, on which hyper closes the
//! connection before writing anything. The client sees the connection end mid-exchange
//! ("connection closed before message completed").

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

/// Marks a response whose connection is to be closed instead.
#[derive(Debug, Clone, Copy)]
struct DropConnection;

/// A response that makes [`serve`] close the connection without answering. Served some other
/// way (the router on its own), it is an empty 500.
pub(crate) fn dropped() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.extensions_mut().insert(DropConnection);
    response
}

/// Why hyper ends a connection: a fault dropped the request on it.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a fault dropped the connection")
    }
}

impl std::error::Error for Dropped {}

/// Whether an accept error concerns only the one connection (the listener still works).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` until the future is dropped. Running out of file descriptors
/// or similar pauses accepting briefly instead of ending.
pub(crate) async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let service = TowerToHyperService::new(router);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = service.clone();
        tokio::spawn(async move {
            let connection = service_fn(move |request: Request<Incoming>| {
                let call = service.call(request);
                async move {
                    let response: Response = call.await.unwrap_or_else(|e: Infallible| match e {});
                    if response.extensions().get::<DropConnection>().is_some() {
                        Err(Dropped)
                    } else {
                        Ok(response)
                    }
                }
            });
            // A connection that fails or is dropped concerns only its client.
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(None)
                .serve_connection(TokioIo::new(stream), connection)
                .await;
        });
    }
}
