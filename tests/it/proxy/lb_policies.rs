//! Every `lb_policy` through the real proxy: consistent hashing keeps a key on one
//! backend, load-aware policies steer around a busy backend, random follows weights,
//! and `/clusters` shows requests in flight.

use http::{HeaderValue, Method};
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, admin_get, fill};
use mesh_tests::within;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// A listener routing everything to cluster `pool` with `cluster_extra` (the policy)
/// over the three backends, hashing on `x-user`.
fn yaml(cluster_extra: &str, backends: &[SocketAddr; 3]) -> String {
    fill(
        &format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            route: {{ cluster: pool, hash_policy: [ {{ header: {{ header_name: x-user }} }} ] }}
clusters:
  - name: pool
{cluster_extra}
    endpoints:
      - {{ address: "$B1" }}
      - {{ address: "$B2", weight: 3 }}
      - {{ address: "$B3" }}
"#
        ),
        &[("B1", backends[0]), ("B2", backends[1]), ("B3", backends[2])],
    )
}

async fn backends() -> [Http; 3] {
    [
        Http::start("b1").await,
        Http::start("b2").await,
        Http::start("b3").await,
    ]
}

/// The backend that answered a GET carrying `x-user: user` (none: no header).
async fn backend_for(conn: &mut Connection, user: Option<&str>) -> String {
    let mut req = request(Method::GET, "site.test", "/", body::empty());
    if let Some(u) = user {
        req.headers_mut()
            .insert("x-user", HeaderValue::from_str(u).unwrap());
    }
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.header("x-backend").unwrap().to_owned()
}

#[tokio::test]
async fn hashing_policies_keep_each_key_on_one_backend_and_spread_keys() {
    within(T, async {
        for policy in ["    lb_policy: ring_hash", "    lb_policy: maglev"] {
            let b = backends().await;
            let (_proxy, addr) =
                proxy::start_with_listener(&yaml(policy, &[b[0].addr(), b[1].addr(), b[2].addr()]), "web")
                    .await;
            let mut conn = Connection::h2c(addr).await.unwrap();
            let mut owner = HashMap::new();
            for round in 0..3 {
                for u in 0..100 {
                    let user = format!("user-{u}");
                    let got = backend_for(&mut conn, Some(&user)).await;
                    let first = owner.entry(user.clone()).or_insert_with(|| got.clone());
                    assert_eq!(*first, got, "{policy}: {user} moved in round {round}");
                }
            }
            let mut per_backend: HashMap<&str, usize> = HashMap::new();
            for b in owner.values() {
                *per_backend.entry(b.as_str()).or_default() += 1;
            }
            // Weights 1:3:1 over 100 keys: b2 owns about 60. Each backend owning at least a
            // few keys (and b2 the most) only fails if hashing ignored weights or keys.
            assert_eq!(per_backend.len(), 3, "{policy}: {per_backend:?}");
            let b2 = per_backend["b2"];
            assert!(
                b2 > per_backend["b1"] && b2 > per_backend["b3"],
                "{policy}: {per_backend:?}"
            );
            // No hash input still gets an answer (a random point on the ring).
            backend_for(&mut conn, None).await;
        }
    })
    .await;
}

#[tokio::test]
async fn load_aware_policies_steer_around_a_busy_backend() {
    within(T, async {
        // Two backends: with power of two choices over two hosts, the idle one always wins.
        for policy in ["    lb_policy: least_request", "    lb_policy: peak_ewma"] {
            let (b1, b2) = (Http::start("b1").await, Http::start("b2").await);
            let yaml = fill(
                &format!(
                    "admin: {{ address: 127.0.0.1:0 }}\nlisteners:\n  - name: web\n    address: 127.0.0.1:0\n    virtual_hosts:\n      - {{ name: all, domains: [\"*\"], routes: [ {{ match: {{ prefix: \"/\" }}, route: {{ cluster: pool }} }} ] }}\nclusters:\n  - name: pool\n{policy}\n    endpoints: [ {{ address: \"$B1\" }}, {{ address: \"$B2\" }} ]\n"
                ),
                &[("B1", b1.addr()), ("B2", b2.addr())],
            );
            let (proxy, addr) = proxy::start_with_listener(&yaml, "web").await;
            // Occupy one backend with a slow request, then send quick ones.
            let slow = tokio::spawn(async move {
                let mut c = Connection::http1(addr).await.unwrap();
                let reply = c.get("site.test", "/delay/3000").await.unwrap();
                reply.header("x-backend").unwrap().to_owned()
            });
            let clusters = loop {
                let text = admin_get(proxy.admin_addr(), "/clusters").await.text();
                if text.contains("::rq_active::1") {
                    break text;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let busy_addr = if clusters.contains(&format!("pool::{}::rq_active::1", b1.addr())) { b1.addr() } else { b2.addr() };
            let busy = if busy_addr == b1.addr() { "b1" } else { "b2" };
            let mut conn = Connection::h2c(addr).await.unwrap();
            for _ in 0..20 {
                let got = backend_for(&mut conn, None).await;
                assert_ne!(got, busy, "{policy}: a quick request went to the busy backend");
            }
            assert_eq!(slow.await.unwrap(), busy);
            // Once the slow request is done, its backend is back in rotation.
            let text = admin_get(proxy.admin_addr(), "/clusters").await.text();
            assert!(!text.contains("::rq_active::1"), "{policy}: {text}");
        }
    })
    .await;
}

#[tokio::test]
async fn random_follows_weights() {
    within(T, async {
        let b = backends().await;
        let (_proxy, addr) = proxy::start_with_listener(
            &yaml("    lb_policy: random", &[b[0].addr(), b[1].addr(), b[2].addr()]),
            "web",
        )
        .await;
        let mut conn = Connection::h2c(addr).await.unwrap();
        let n = 1000;
        for _ in 0..n {
            backend_for(&mut conn, None).await;
        }
        // b2 has weight 3 of 5: expected 600, sd = sqrt(1000 * 0.6 * 0.4) ≈ 15.5; ±80 is > 5 sd.
        let b2 = b[1].requests() as i64;
        assert!((b2 - 600).abs() < 80, "b2 got {b2} of {n}");
        let others = (b[0].requests() + b[2].requests()) as i64;
        assert_eq!(b2 + others, n);
        // b1 and b3 (weight 1 each): expected 200 each, sd ≈ 12.6.
        for light in [&b[0], &b[2]] {
            assert!(
                (light.requests() as i64 - 200).abs() < 65,
                "{} got {}",
                light.name(),
                light.requests()
            );
        }
    })
    .await;
}
