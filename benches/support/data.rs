// The bench data: one seeded generator of label values and label sets,
// shared by `benches/hot_paths.rs` and `bench-compare/src/main.rs` (each
// includes this file with `#[path]`), so that every library and every row
// sees the same values.
//
// What it makes (every call with the same arguments makes the same data,
// on every machine: a splitmix64 stream from a fixed seed per use):
//
// - methods: the 5 of `METHODS` (3-6 bytes); statuses: 8 codes (3 bytes);
// - routes: route patterns built from path segments (`/api/v2/service123/
//   items/:id`, `/billing/accounts/:account_id/invoices`), in three length
//   classes: short (4-16 bytes), medium (17-32) and long (33-64);
// - `realistic_sets(n, seed)`: `n` distinct 3-label sets (method, route,
//   status), routes a third of each length class: the lookup rows (50
//   sets, 2 000 sets) and the families of 10, 10 000 and 100 000 series;
// - `repeated_sets()`: 5 methods x 500 routes x 4 statuses = 10 000 sets,
//   every value repeated (each route in 20 sets);
// - `distinct_sets(n)`: `n` sets whose every value appears in one set only
//   (a request id, a route with an id, a 4-digit code);
// - `random_order(len, count, seed)`: indexes into a set list, for the
//   random-lookup rows (drawn before timing, so no row times the generator).
//
// Each includer uses a different part of it.
#![allow(dead_code)]
#![allow(clippy::cast_possible_truncation)]

use std::collections::HashSet;

pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];
pub(crate) const STATUSES: [&str; 8] = ["200", "201", "204", "301", "400", "404", "500", "503"];

/// Path segments routes are built from.
const SEGMENTS: [&str; 24] = [
    "api",
    "v1",
    "v2",
    "users",
    "items",
    "orders",
    "billing",
    "accounts",
    "invoices",
    "search",
    "health",
    "admin",
    "metrics",
    "tenants",
    "projects",
    "files",
    "jobs",
    "webhooks",
    "sessions",
    "reports",
    "export",
    "settings",
    "catalog",
    "inventory",
];
/// Route parameters, as routers name them.
const PARAMS: [&str; 6] = [":id", ":user_id", ":account_id", "{id}", "{order_id}", ":slug"];

/// A splitmix64 stream: small, seedable, good enough to pick values.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) const fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

/// The three lengths classes of a route, in bytes.
pub(crate) const ROUTE_LENGTHS: [(usize, usize); 3] = [(4, 16), (17, 32), (33, 64)];

/// A route pattern of `lo..=hi` bytes: `/segment` pieces, some with a number
/// (`service123`), some parameters, until the drawn length is reached.
pub(crate) fn route(rng: &mut Rng, (lo, hi): (usize, usize)) -> String {
    loop {
        let want = rng.between(lo, hi);
        let mut route = String::new();
        while route.len() < want {
            route.push('/');
            match rng.below(8) {
                0 | 1 => route.push_str(PARAMS[rng.below(PARAMS.len())]),
                2 => {
                    route.push_str(SEGMENTS[rng.below(SEGMENTS.len())]);
                    route.push_str(&rng.below(1000).to_string());
                }
                _ => route.push_str(SEGMENTS[rng.below(SEGMENTS.len())]),
            }
        }
        if route.len() <= hi {
            return route;
        }
    }
}

/// Leaks a string: every library gets `&'static str`s, as
/// `prometheus-client`'s label struct needs.
fn leak(s: String) -> &'static str {
    s.leak()
}

/// `n` distinct (method, route, status) sets, routes a third of each length
/// class, in a seeded random order.
pub(crate) fn realistic_sets(n: usize, seed: u64) -> Vec<[&'static str; 3]> {
    let mut rng = Rng::new(seed);
    let mut drawn = HashSet::new();
    let mut sets = Vec::with_capacity(n);
    while sets.len() < n {
        let class = ROUTE_LENGTHS[sets.len() % 3];
        let set = (
            METHODS[rng.below(METHODS.len())],
            route(&mut rng, class),
            STATUSES[rng.below(STATUSES.len())],
        );
        if drawn.insert(set.clone()) {
            sets.push([set.0, leak(set.1), set.2]);
        }
    }
    sets
}

/// 5 methods x 500 routes (a third of each length class) x 4 statuses:
/// 10 000 sets, each value repeated, in a seeded random order.
pub(crate) fn repeated_sets() -> Vec<[&'static str; 3]> {
    let mut rng = Rng::new(0x5eed_0002);
    let mut seen = HashSet::new();
    let mut routes = Vec::new();
    while routes.len() < 500 {
        let r = route(&mut rng, ROUTE_LENGTHS[routes.len() % 3]);
        if seen.insert(r.clone()) {
            routes.push(leak(r));
        }
    }
    let mut sets = Vec::with_capacity(10_000);
    for m in METHODS {
        for r in &routes {
            for s in &STATUSES[..4] {
                sets.push([m, *r, *s]);
            }
        }
    }
    shuffle(&mut sets, &mut rng);
    sets
}

/// `n` sets whose every value is unique: a request id (`req-<n>`), a route
/// with its own id (a third of each length class before the id) and a
/// 4-digit code.
pub(crate) fn distinct_sets(n: usize) -> Vec<[&'static str; 3]> {
    let mut rng = Rng::new(0x5eed_0003);
    (0..n)
        .map(|i| {
            let route = format!("{}/{i}", route(&mut rng, ROUTE_LENGTHS[i % 3]));
            [leak(format!("req-{i}")), leak(route), leak(format!("{i:04}"))]
        })
        .collect()
}

/// `count` indexes in `0..len`, seeded: the order of a random-lookup row.
pub(crate) fn random_order(len: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| rng.below(len)).collect()
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// Mean bytes of the values of `sets`, per set (what a heap row's label
/// block is made of).
pub(crate) fn value_bytes(sets: &[[&str; 3]]) -> f64 {
    sets.iter()
        .map(|s| s.iter().map(|v| v.len()).sum::<usize>())
        .sum::<usize>() as f64
        / sets.len().max(1) as f64
}
