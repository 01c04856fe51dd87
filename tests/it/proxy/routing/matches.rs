//! Route matches: path kinds, case sensitivity, header matchers, methods, and first-match-wins.
//!
//! Every route answers with a direct response naming itself, so the body says which route won.

use super::T;
use http::{Method, StatusCode};
use mesh_tests::client::{Connection, body, request};
use mesh_tests::{proxy, within};

const ROUTES: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/first" }, direct_response: { status: 200, body: "first" } }
          - { match: { path: "/first/shadowed" }, direct_response: { status: 200, body: "shadowed" } }
          - { match: { path: "/exact" }, direct_response: { status: 200, body: "exact" } }
          - { match: { path: "/Exact-CI", case_sensitive: false }, direct_response: { status: 200, body: "exact-ci" } }
          - { match: { safe_regex: "/items/[0-9]+" }, direct_response: { status: 200, body: "regex" } }
          - { match: { prefix: "/CI/", case_sensitive: false }, direct_response: { status: 200, body: "prefix-ci" } }
          - { match: { prefix: "/CS/" }, direct_response: { status: 200, body: "prefix-cs" } }
          - match: { prefix: "/h", headers: [ { name: x-v, exact: "2" } ] }
            direct_response: { status: 200, body: "h-exact" }
          - match: { prefix: "/h", headers: [ { name: x-v, prefix: "bet" } ] }
            direct_response: { status: 200, body: "h-prefix" }
          - match: { prefix: "/h", headers: [ { name: x-present } ] }
            direct_response: { status: 200, body: "h-present" }
          - match: { prefix: "/h", headers: [ { name: x-env, exact: prod, invert_match: true } ] }
            direct_response: { status: 200, body: "h-invert" }
          - match: { prefix: "/h", headers: [ { name: x-id, safe_regex: "[a-z]+-[0-9]+" } ] }
            direct_response: { status: 200, body: "h-regex" }
          - match: { prefix: "/h", headers: [ { name: x-a, exact: "1" }, { name: x-b, present: false } ] }
            direct_response: { status: 200, body: "h-all" }
          - match: { prefix: "/ab", headers: [ { name: cookie, safe_regex: "(.*; )?version=v2(;.*)?" } ] }
            direct_response: { status: 200, body: "version-v2" }
          - { match: { prefix: "/m", methods: [POST, put] }, direct_response: { status: 200, body: "methods" } }
          - { match: { prefix: "/" }, direct_response: { status: 200, body: "fallback" } }
"#;

/// Which route answered `method path` with `headers`.
async fn route_of(conn: &mut Connection, method: Method, path: &str, headers: &[(&str, &str)]) -> String {
    let mut req = request(method.clone(), "routes.test", path, body::empty());
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        req.headers_mut().append(name, value.parse().unwrap());
    }
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{method} {path} {headers:?}");
    reply.text()
}

#[tokio::test]
async fn path_matches_prefix_exact_regex_and_case() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(ROUTES, "web").await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let cases = [
            // The first matching route wins, even over a more specific one written later.
            ("/first/shadowed", "first"),
            ("/firstly", "first"),
            // `path` is exact and ignores the query string.
            ("/exact", "exact"),
            ("/exact?x=1", "exact"),
            ("/exact/", "fallback"),
            ("/EXACT", "fallback"),
            ("/exact-ci", "exact-ci"),
            ("/EXACT-CI?q", "exact-ci"),
            // `safe_regex` must match the whole path, never the query.
            ("/items/42", "regex"),
            ("/items/42?page=2", "regex"),
            ("/items/42/more", "fallback"),
            ("/items/4a", "fallback"),
            ("/x/items/42", "fallback"),
            // `case_sensitive: false` applies to prefixes too; the default is case-sensitive.
            ("/ci/a", "prefix-ci"),
            ("/Ci/b", "prefix-ci"),
            ("/CS/a", "prefix-cs"),
            ("/cs/a", "fallback"),
        ];
        for (path, want) in cases {
            assert_eq!(
                route_of(&mut conn, Method::GET, path, &[]).await,
                want,
                "GET {path}"
            );
        }
        // h2 requests are matched the same way.
        let mut h2 = Connection::h2c(addr).await.unwrap();
        assert_eq!(route_of(&mut h2, Method::GET, "/items/7?x", &[]).await, "regex");
        assert_eq!(route_of(&mut h2, Method::GET, "/exact", &[]).await, "exact");
    })
    .await;
}

#[tokio::test]
async fn header_matchers_and_methods() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(ROUTES, "web").await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "fallback"),
            // exact is case-sensitive and whole-value.
            (&[("x-v", "2")], "h-exact"),
            (&[("x-v", "22")], "fallback"),
            (&[("x-v", "beta")], "h-prefix"),
            (&[("x-v", "alpha")], "fallback"),
            // No rule means `present: true`; an empty value is still present.
            (&[("x-present", "")], "h-present"),
            (&[("x-present", "anything")], "h-present"),
            // invert_match inverts a value that was found; an absent header never matches.
            (&[("x-env", "dev")], "h-invert"),
            (&[("x-env", "prod")], "fallback"),
            // safe_regex matches the whole value.
            (&[("x-id", "abc-123")], "h-regex"),
            (&[("x-id", "abc-123x")], "fallback"),
            (&[("x-id", "ABC-123")], "fallback"),
            // Every matcher of a route must match; `present: false` wants the header absent.
            (&[("x-a", "1")], "h-all"),
            (&[("x-a", "1"), ("x-b", "")], "fallback"),
            // Repeated headers are matched against their values joined with ",".
            (&[("x-id", "a-1"), ("x-id", "b-2")], "fallback"),
            (&[("x-v", "bet"), ("x-v", "x")], "h-prefix"),
            (&[("x-v", "2"), ("x-v", "2")], "fallback"),
        ];
        for (headers, want) in cases {
            assert_eq!(
                route_of(&mut conn, Method::GET, "/h", headers).await,
                *want,
                "headers {headers:?}"
            );
        }

        for (method, want) in [
            (Method::GET, "fallback"),
            (Method::POST, "methods"),
            (Method::PUT, "methods"), // configured in lower case: names are upper-cased
            (Method::DELETE, "fallback"),
        ] {
            assert_eq!(
                route_of(&mut conn, method.clone(), "/m", &[]).await,
                want,
                "{method} /m"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_cookie_routes_to_a_version_over_h1_and_split_h2_cookies() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(ROUTES, "web").await;
        let mut h1 = Connection::http1(addr).await.unwrap();
        let mut h2 = Connection::h2c(addr).await.unwrap();
        let v2 = [("cookie", "session=abc; version=v2")];
        assert_eq!(route_of(&mut h1, Method::GET, "/ab", &v2).await, "version-v2");
        let other = [("cookie", "session=abc; version=v20")];
        assert_eq!(route_of(&mut h1, Method::GET, "/ab", &other).await, "fallback");
        assert_eq!(route_of(&mut h1, Method::GET, "/ab", &[]).await, "fallback");
        // HTTP/2 clients send each cookie as its own header (RFC 9113 §8.2.3).
        let split = [("cookie", "session=abc"), ("cookie", "version=v2")];
        assert_eq!(route_of(&mut h2, Method::GET, "/ab", &split).await, "version-v2");
    })
    .await;
}
