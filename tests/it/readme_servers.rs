//! The README's mounting snippets for servers without an adapter, run for
//! real: the code here is the README's, so what it claims about `HEAD` and
//! `405` is checked on the wire.

use std::net::SocketAddr;
use std::thread;

use tiny_http::{Header, Method, Response};

use crate::web::fetch;

static UP: bareprom::Gauge = bareprom::Gauge::new("readme_tiny_http_up", "Up.");

/// The README's `tiny_http` snippet, verbatim.
fn serve_one(server: &tiny_http::Server) -> Result<(), Box<dyn std::error::Error>> {
    let req = server.recv()?;
    let method = if *req.method() == Method::Head {
        "GET"
    } else {
        req.method().as_str()
    };
    let res = bareprom::handle(&bareprom::MetricsRequest::new(method, req.url()));
    let mut out = Response::from_data(res.body).with_status_code(res.status);
    out.add_header(Header::from_bytes("Content-Type", res.content_type).map_err(|()| "header")?);
    if let Some(allow) = res.allow {
        out.add_header(Header::from_bytes("Allow", allow).map_err(|()| "header")?);
    }
    Ok(req.respond(out)?)
}

#[test]
fn the_tiny_http_snippet_answers_head_with_the_get_length_and_405_with_allow() {
    // Registering twice (another test run in this process) is an error we
    // do not care about; the gauge is there either way.
    drop(bareprom::register(&UP));
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr: SocketAddr = server.server_addr().to_ip().unwrap();
    let serving = thread::spawn(move || {
        for _ in 0..4 {
            serve_one(&server).unwrap();
        }
    });
    let get = fetch(addr, "GET", "/metrics");
    assert_eq!(get.status, 200);
    assert!(get.text().contains("readme_tiny_http_up 0\n"), "{}", get.text());
    assert_eq!(get.header("content-type"), Some(crate::TEXT_SCRAPE));
    let head = fetch(addr, "HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(get.body.len().to_string().as_str()));
    let post = fetch(addr, "POST", "/metrics");
    assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));
    assert_eq!(fetch(addr, "GET", "/other").status, 404);
    serving.join().unwrap();
}
