//! Unit tests of families and their series table.

use super::table::{AT_MASK, at_of, home, tag};
use super::*;

#[test]
fn split_points_hash_apart_and_never_share_a_series() {
    static F: CounterVec<2> = CounterVec::new("split_total", "Split.", ["x", "y"]);
    assert_ne!(hash_values(&["ab", "c"]), hash_values(&["a", "bc"]));
    F.with(["ab", "c"]).inc();
    assert_eq!(F.with(["a", "bc"]).get(), 0);
    assert_eq!(F.len(), 2);
}

/// Values of a table's series in scrape order, with their cells' values.
fn scraped<const N: usize>(table: &Table<CounterCell, N>) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    table.snapshot().for_each(|text, mut start, ends, cell| {
        let values: Vec<&str> = ends
            .iter()
            .map(|&end| {
                let value = &text[start..end as usize];
                start = end as usize;
                value
            })
            .collect();
        out.push((values.join("|"), cell.get()));
    });
    out
}

#[test]
fn colliding_hashes_still_compare_values() {
    collide::during(|| {
        let mut table: Table<CounterCell, 1> = Table::new();
        // Every series has one hash: one probe run, told apart by value only.
        let hash = hash_values(&["any"]);
        for v in ["1", "2", "3", "4"] {
            let (cells, slot) = table.insert(hash, &[v], CounterCell::new).expect("stored");
            cells[slot].inc_by(v.parse().expect("digit"));
        }
        assert!(
            table
                .find(hash, &["2"])
                .is_some_and(|(cells, slot)| cells[slot].get() == 2)
        );
        assert!(table.remove(hash, &["1"]));
        assert!(!table.remove(hash, &["1"]));
        // The words after the removed one were shifted back, not lost.
        for v in ["2", "3", "4"] {
            assert!(table.find(hash, &[v]).is_some(), "{v}");
        }
        assert!(table.find(hash, &["1"]).is_none());
        assert_eq!(table.len(), 3);
        assert_eq!(scraped(&table), [("2".into(), 2), ("3".into(), 3), ("4".into(), 4)]);
    });
}

/// Index words keep 7 bits of the hash: series whose hashes agree in those
/// bits but not in the probe start, and series with the same probe start
/// but other tags, are all found, removed and re-indexed as the table
/// grows, escaped values included (growth and removal hash stored values
/// again, unescaped).
#[test]
fn short_tags_and_rehashed_words_keep_every_series() {
    let mut table: Table<CounterCell, 2> = Table::new();
    let names: Vec<[String; 2]> = (0..3000)
        .map(|i| {
            [
                format!("k{i}"),
                if i % 3 == 0 {
                    format!("a\\\"b\n{i}")
                } else {
                    format!("v{i}")
                },
            ]
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        let values = [name[0].as_str(), name[1].as_str()];
        let (cells, slot) = table
            .insert(hash_values(&values), &values, CounterCell::new)
            .expect("stored");
        cells[slot].inc_by(i as u64);
    }
    // Remove every other series: removals shift words whose homes come
    // from hashing stored values again.
    for name in names.iter().step_by(2) {
        let values = [name[0].as_str(), name[1].as_str()];
        assert!(table.remove(hash_values(&values), &values), "{values:?}");
    }
    for (i, name) in names.iter().enumerate() {
        let values = [name[0].as_str(), name[1].as_str()];
        let found = table.find(hash_values(&values), &values);
        if i % 2 == 0 {
            assert!(found.is_none(), "{values:?}");
        } else {
            assert_eq!(
                found.map(|(cells, slot)| cells[slot].get()),
                Some(i as u64),
                "{values:?}"
            );
        }
    }
    assert_eq!(table.len(), 1500);
}

/// An index word is a 7-bit tag and a position plus one, never 0.
#[test]
fn index_words_hold_the_last_position_and_every_tag() {
    for hash in [0, u64::MAX, 1 << 25, (1 << 32) - 1, 0x5bd1_e995_0000_0000] {
        for at in [0, 1, 64, AT_MASK - 1] {
            let word = tag(hash) | (at + 1);
            assert_ne!(word, 0);
            assert_eq!(at_of(word), at, "{hash:#x} {at}");
            assert_eq!(word & !AT_MASK, tag(hash));
        }
    }
    // The tag is apart from the probe start's bits.
    assert_eq!(tag(u64::MAX << 32), 0);
    assert_eq!(home(u64::from(u32::MAX)), 0);
}

#[test]
fn pages_fill_in_order_and_empty_ones_are_dropped() {
    let mut table: Table<CounterCell, 2> = Table::new();
    let names: Vec<String> = (0..1000).map(|i| format!("s{i}")).collect();
    let mut handles = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let values = [name.as_str(), "x"];
        let (cells, slot) = table
            .insert(hash_values(&values), &values, CounterCell::new)
            .expect("stored");
        cells[slot].inc_by(i as u64);
        handles.push(Child::new(cells, slot));
    }
    let all = scraped(&table);
    assert_eq!(all.len(), 1000);
    assert!(
        all.iter()
            .enumerate()
            .all(|(i, (v, n))| *v == format!("s{i}|x") && *n == i as u64)
    );
    // Remove all but every 100th: most pages go, and are compacted away.
    for name in names.iter().enumerate().filter(|(i, _)| i % 100 != 0).map(|(_, n)| n) {
        let values = [name.as_str(), "x"];
        assert!(table.remove(hash_values(&values), &values));
    }
    // 1000 series fill 21 pages; 10 live ones keep at most 10 of them, plus
    // the page still filling; the list keeps at most 8 more dropped pages
    // than twice the held ones before it is compacted.
    let (held, listed) = table.page_counts();
    assert!(
        held <= 10 + 1 && listed <= 2 * held + 8,
        "{held} pages held, {listed} listed"
    );
    let kept = scraped(&table);
    assert_eq!(
        kept.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>()[..3],
        ["s0|x", "s100|x", "s200|x"]
    );
    assert_eq!(kept.len(), 10);
    for (i, name) in names.iter().enumerate() {
        let values = [name.as_str(), "x"];
        assert_eq!(
            table.find(hash_values(&values), &values).is_some(),
            i % 100 == 0,
            "{name}"
        );
    }
    // Handles of removed series still work; re-adding starts a new series.
    handles[1].inc();
    assert_eq!(handles[1].get(), 2);
    let values = ["s1", "x"];
    let (cells, slot) = table
        .insert(hash_values(&values), &values, CounterCell::new)
        .expect("stored");
    assert_eq!(cells[slot].get(), 0);
    assert_eq!(scraped(&table).last(), Some(&("s1|x".into(), 0)));
}

#[test]
fn churn_does_not_grow_the_table() {
    // Every series is removed right after it is added: slots are never
    // reused, so without dropping and compacting pages this would list
    // 100 000 / 64 pages.
    let mut table: Table<CounterCell, 1> = Table::new();
    for i in 0..100_000 {
        let name = i.to_string();
        let values = [name.as_str()];
        let hash = hash_values(&values);
        assert!(table.insert(hash, &values, CounterCell::new).is_some());
        assert!(table.remove(hash, &values));
    }
    let (held, listed) = table.page_counts();
    assert_eq!(table.len(), 0);
    assert!(
        held <= 1 && listed <= 2 * held + 8,
        "{held} pages held, {listed} listed"
    );
}

#[test]
fn label_free_family_has_one_series() {
    let mut table: Table<CounterCell, 0> = Table::new();
    assert!(table.insert(hash_values(&[]), &[], CounterCell::new).is_some());
    assert!(table.find(hash_values(&[]), &[]).is_some());
    assert_eq!(scraped(&table), [(String::new(), 0)]);
}

#[test]
fn escaped_values_match_exactly() {
    static F: GaugeVec<1> = GaugeVec::new("esc", "Esc.", ["v"]);
    for v in ["a\"b", "a\\b", "a\nb", "a\\\"b", "\\n", ""] {
        F.with([v]).set(1);
    }
    assert_eq!(F.len(), 6);
    assert_eq!(F.with(["a\\nb"]).get(), 0);
}

use crate::hash::collide;

/// xorshift64*: deterministic randomness without crates.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Label values of up to `longest` characters drawn from `alphabet`.
fn random_value(rng: &mut Rng, alphabet: &[char], longest: u64) -> String {
    let len = rng.below(longest + 1);
    (0..len)
        .map(|_| alphabet[usize::try_from(rng.below(alphabet.len() as u64)).expect("small")])
        .collect()
}

/// Adds and removes label sets drawn by `draw` in `family` and checks it
/// against a model after every step, and the scrape at the end. The model:
/// live label sets in first-seen order (a removed set that comes back is
/// new, so it goes last), each with its count.
fn check_against_model(
    family: &CounterVec<2>,
    limit: usize,
    steps: u32,
    mut draw: impl FnMut(&mut Rng) -> [String; 2],
) {
    family.set_series_limit(limit);
    let mut model: Vec<([String; 2], u64)> = Vec::new();
    let mut overflow = 0_u64;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for step in 0..steps {
        let id = draw(&mut rng);
        let [key, value] = [id[0].as_str(), id[1].as_str()];
        if rng.below(3) == 0 {
            let existed = model.iter().position(|(m, _)| *m == id);
            assert_eq!(family.remove([key, value]), existed.is_some(), "step {step}: {id:?}");
            if let Some(at) = existed {
                model.remove(at);
            }
        } else {
            family.with([key, value]).inc();
            // The overflow series, once it exists, counts towards the limit.
            let room = model.len() + usize::from(overflow > 0) < limit;
            match model.iter().position(|(m, _)| *m == id) {
                Some(at) => model[at].1 += 1,
                None if room => model.push((id.clone(), 1)),
                None => overflow += 1,
            }
        }
        assert_eq!(
            family.len(),
            model.len() + usize::from(overflow > 0),
            "step {step}: {id:?}"
        );
    }
    let mut scraped = Vec::new();
    family.for_each_series(|labels, cell| {
        let block: Vec<String> = ["k", "v"]
            .iter()
            .zip(labels.escaped_values())
            .map(|(name, value)| format!("{name}=\"{value}\""))
            .collect();
        scraped.push((block.join(","), cell.get()));
    });
    let escape = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let mut expected: Vec<(String, u64)> = model
        .iter()
        .map(|([k, v], n)| (format!("k=\"{}\",v=\"{}\"", escape(k), escape(v)), *n))
        .collect();
    if overflow > 0 {
        // The overflow series sits where it was first needed; compare it
        // apart from the order of the rest.
        let at = scraped
            .iter()
            .position(|(b, _)| b.contains(OVERFLOW_LABEL_VALUE))
            .expect("overflow series");
        let (_, n) = scraped.remove(at);
        assert_eq!(n, overflow);
        expected.retain(|(b, _)| !b.contains(OVERFLOW_LABEL_VALUE));
    }
    assert_eq!(scraped, expected);
}

#[test]
fn random_adds_and_removes_match_a_model() {
    let family = CounterVec::<2>::try_new("model_total", "Model.", ["k", "v"]).expect("valid");
    check_against_model(&family, 200, 40_000, |rng| {
        let key = format!("{}", rng.below(300));
        // Values with escapes too, so that stored text differs from input.
        let value = if rng.below(4) == 0 { "a\"b\n" } else { "x" };
        [key, value.to_owned()]
    });
}

/// The model test again with every label set hashed alike, so that every
/// lookup compares against every live series: values of escapable
/// characters and of the text their escapes are made of (raw `\n` against
/// a newline, raw `\\` against `\`) must never be taken for each other.
#[test]
fn random_adds_and_removes_match_a_model_when_every_hash_collides() {
    const ALPHABET: [char; 5] = ['\\', '"', '\n', 'n', 'a'];
    let family = CounterVec::<2>::try_new("collide_total", "Collide.", ["k", "v"]).expect("valid");
    collide::during(|| {
        assert_eq!(hash_values(&["a", "b"]), hash_values(&["\\", "n"]));
        check_against_model(&family, 400, 20_000, |rng| {
            [random_value(rng, &ALPHABET, 1), random_value(rng, &ALPHABET, 3)]
        });
    });
}

/// The table itself, one hash for every series: a value is found only by
/// itself, never by the text of its escape, nor the other way round.
#[test]
fn colliding_hashes_tell_escapes_from_raw_text() {
    let pairs = [
        ("\n", "\\n"),
        ("\\", "\\\\"),
        ("\"", "\\\""),
        ("a\nb\"", "a\\nb\\\""),
        ("0123456789\n", "0123456789\\n"),
        ("a long value with a \\ in it", "a long value with a \\\\ in it"),
    ];
    for (raw, escape) in pairs {
        for (first, second) in [(raw, escape), (escape, raw)] {
            collide::during(|| {
                let mut table: Table<CounterCell, 1> = Table::new();
                let hash = hash_values(&[first]);
                table.insert(hash, &[first], CounterCell::new).expect("stored");
                assert!(table.find(hash, &[first]).is_some(), "{first:?}");
                assert!(table.find(hash, &[second]).is_none(), "{second:?} found as {first:?}");
                assert!(!table.remove(hash, &[second]), "{second:?} removed as {first:?}");
                table.insert(hash, &[second], CounterCell::new).expect("stored");
                assert_eq!(table.len(), 2);
                assert!(table.remove(hash, &[first]) && table.remove(hash, &[second]));
            });
        }
    }
}

/// The cache's key hash is the table's: a lookup that misses the cache
/// must find what `remove` and `insert` see.
#[test]
fn cache_key_hashes_as_the_table_does() {
    let long = "a value of more than sixteen bytes";
    for values in [
        ["", "", ""],
        ["GET", "/api/users/:id", "200"],
        ["a", "sixteen bytes!!!", long],
        ["seventeen bytes!!", "x".repeat(33).as_str(), "z".repeat(64).as_str()],
    ] {
        let mut key = cache::Key::new(&values);
        assert_eq!(key.hash(), crate::hash::hash_values(&values), "{values:?}");
        key.mix_in();
        assert_eq!(key.hash(), crate::hash::hash_values(&values), "{values:?} (mixed)");
    }
}

/// Looked up often enough to be cached (one miss in four is), then
/// removed: the next lookup must find a new series, on this thread and on
/// one that cached it too.
#[test]
fn cached_lookups_see_removals() {
    static F: CounterVec<2> = CounterVec::new("cached_total", "Cached.", ["a", "b"]);
    let bump = || {
        for _ in 0..16 {
            F.with(["GET", "200"]).inc();
        }
    };
    bump();
    // Every check runs after both barriers, so a failing one cannot leave
    // the other thread waiting.
    let (cached, removed) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    let (before, after, elsewhere) = std::thread::scope(|s| {
        let other = s.spawn(|| {
            bump();
            cached.wait();
            removed.wait();
            F.with(["GET", "200"]).get()
        });
        cached.wait();
        let before = F.with(["GET", "200"]).get();
        let existed = F.remove(["GET", "200"]);
        let after = F.with(["GET", "200"]).get();
        removed.wait();
        assert!(existed);
        (before, after, other.join().expect("no panic"))
    });
    assert_eq!(before, 32);
    assert_eq!(after, 0, "this thread's cache");
    assert_eq!(elsewhere, 0, "the other thread's cache");
    bump();
    assert_eq!(F.with(["GET", "200"]).get(), 16);
    assert_eq!(F.len(), 1);
}

/// Entries are told apart by family (two families, and two of different
/// cell types, with the same values) and by value lengths (overlapping
/// words of `aaaa` and `aaaaa` are equal).
#[test]
fn cached_lookups_never_mix_series() {
    static A: CounterVec<1> = CounterVec::new("mix_a_total", "A.", ["v"]);
    static B: CounterVec<1> = CounterVec::new("mix_b_total", "B.", ["v"]);
    static G: GaugeVec<1> = GaugeVec::new("mix_g", "G.", ["v"]);
    let values = ["aaaa", "aaaaa", "aaaaaaaa", "aaaaaaaaa", "", "a"];
    for round in 1..=20_u64 {
        for (i, v) in (1_u64..).zip(values) {
            A.with([v]).inc_by(i);
            G.with([v]).set(-i64::try_from(i).expect("small"));
        }
        for (i, v) in (1_u64..).zip(values) {
            assert_eq!(A.with([v]).get(), round * i, "{v:?}");
            assert_eq!(B.with([v]).get(), 0, "{v:?}");
            assert_eq!(G.with([v]).get(), -i64::try_from(i).expect("small"), "{v:?}");
        }
    }
    assert_eq!((A.len(), B.len(), G.len()), (values.len(), values.len(), values.len()));
}

/// A lookup from a thread-local's destructor, which may run after the
/// cache's own is gone, goes to the table instead of panicking.
#[test]
fn lookups_at_thread_exit_still_count() {
    static F: CounterVec<1> = CounterVec::new("exit_total", "Exit.", ["v"]);
    struct AtExit;
    impl Drop for AtExit {
        fn drop(&mut self) {
            for _ in 0..8 {
                F.with(["exit"]).inc();
            }
        }
    }
    thread_local! {
        static AT_EXIT: AtExit = const { AtExit };
    }
    std::thread::spawn(|| {
        for _ in 0..8 {
            F.with(["exit"]).inc();
        }
        AT_EXIT.with(|_| ());
    })
    .join()
    .expect("no panic at thread exit");
    assert_eq!(F.with(["exit"]).get(), 16);
}

/// Route patterns of any usual length are cached (issue 19: entries used
/// to take values of at most 16 bytes), and a label set past the cache's
/// byte bound still finds its series in the table.
#[test]
fn long_values_are_cached() {
    static F: CounterVec<3> = CounterVec::new("long_cached_total", "Long.", ["method", "route", "status"]);
    let route = "/api/v2/service123/items/:id/attachments/:attachment_id";
    let huge = "x".repeat(300);
    let (_, before) = F.cache_state();
    for _ in 0..64 {
        F.with(["GET", route, "200"]).inc();
        F.with(["GET", &huge, "200"]).inc();
    }
    let (_, after) = F.cache_state();
    assert!(after - before >= 56, "{} hits of 64 for the route", after - before);
    assert!(after - before <= 64, "the 300-byte value is never cached");
    assert_eq!(
        (F.with(["GET", route, "200"]).get(), F.with(["GET", &huge, "200"]).get()),
        (64, 64)
    );
}

/// With every label set hashed alike, cache entries land in one set with
/// one hash: a hit must still be decided by the values, in full. Sets that
/// differ in one middle byte, in the last byte, in where one value ends
/// and the next begins, or in length, each keep their own series; the
/// counts are checked through a scrape, which reads the table, not the
/// cache.
#[test]
fn cached_lookups_compare_values_when_every_hash_collides() {
    static F: CounterVec<3> = CounterVec::new("collide_cached_total", "C.", ["a", "b", "c"]);
    let base = "/api/v2/service123/items/:id/x";
    let middle = base.replacen("123", "124", 1);
    let last = format!("{}y", &base[..base.len() - 1]);
    let longer = format!("{base}/");
    let sets: Vec<[&str; 3]> = vec![
        ["GET", base, "200"],
        ["GET", &middle, "200"],
        ["GET", &last, "200"],
        ["GET", &longer, "200"],
        ["GE", "T/api/v2/service123/items/:id/x", "200"],
        ["GET", base, "20"],
        ["GET", base, "2000"],
        ["", base, "200"],
    ];
    let (_, before) = F.cache_state();
    collide::during(|| {
        assert_eq!(hash_values(&sets[0]), hash_values(&sets[1]));
        for _ in 0..4 {
            for (i, set) in (1..).zip(&sets) {
                // Often enough in a row to be admitted and then hit.
                for _ in 0..8 {
                    F.with(*set).inc_by(i);
                }
            }
        }
    });
    let (_, after) = F.cache_state();
    assert!(after - before >= 64, "only {} cache hits", after - before);
    let registry = crate::Registry::new().without_health();
    registry.register(&F).expect("registers");
    let text = registry.render();
    for (i, [a, b, c]) in (1_u64..).zip(&sets) {
        let line = format!("collide_cached_total{{a=\"{a}\",b=\"{b}\",c=\"{c}\"}} {}\n", 4 * 8 * i);
        assert!(text.contains(&line), "missing {line:?} in {text}");
    }
    assert_eq!(F.len(), sets.len());
}

/// `same_bytes`, which decides a table hit, is byte equality at every
/// length its word paths cover (1-3, 4-7, 8-16) and past them: one changed
/// byte anywhere, or one byte more, is told apart.
#[test]
fn same_bytes_is_equality_at_every_length() {
    let text: Vec<u8> = (0..80u8).map(|i| i.wrapping_mul(37) | 1).collect();
    for n in 0..=text.len() {
        let a = &text[..n];
        let mut b = a.to_vec();
        assert!(table::same_bytes(a, &b), "{n} bytes");
        assert!(!table::same_bytes(a, &text[..n.saturating_sub(1)]) || n == 0);
        for i in 0..n {
            b[i] ^= 0x80;
            assert!(!table::same_bytes(a, &b), "{n} bytes, byte {i} changed");
            b[i] ^= 0x80;
        }
    }
}

#[test]
fn a_scrape_keeps_its_snapshot_buffer_and_no_handle() {
    let family = CounterVec::<1>::try_new("kept_total", "Kept.", ["k"]).expect("valid");
    for i in 0..300 {
        family.with([&i.to_string()]).inc();
    }
    let held = family.with(["0"]);
    let mut seen = 0;
    family.for_each_series(|_, _| seen += 1);
    assert_eq!(seen, 300);
    let kept = family.snapshots.kept();
    // 300 series in pages of 1, 2, 4, ..., 64: 10 pages, none kept alive.
    assert_eq!(kept, (0, family.table.read().unwrap().page_counts().0));
    assert!(family.snapshots.capacity() >= 10);
    // A second scrape takes the same buffer, and nothing else changes.
    family.for_each_series(|_, _| {});
    assert_eq!(family.snapshots.kept(), kept);
    held.inc();
    assert_eq!(family.with(["0"]).get(), 2);
}

#[test]
fn a_scrape_during_a_scrape_takes_a_buffer_of_its_own() {
    let family = CounterVec::<1>::try_new("nested_total", "Nested.", ["k"]).expect("valid");
    for i in 0..100 {
        family.with([&i.to_string()]).inc();
    }
    let (mut outer, mut inner) = (0, 0);
    family.for_each_series(|_, _| {
        if outer == 0 {
            // The kept buffer is out with the outer scrape.
            assert_eq!(family.snapshots.capacity(), 0);
            family.for_each_series(|_, _| inner += 1);
        }
        outer += 1;
    });
    assert_eq!((outer, inner), (100, 100));
    assert!(family.snapshots.capacity() > 0);
}

#[test]
fn apply_finds_the_series_with_finds() {
    let family = CounterVec::<2>::try_new("apply_total", "Apply.", ["a", "b"]).expect("valid");
    let held = family.with(["x", "y"]);
    // The first lookups go to the table, later ones to this thread's cache.
    let (_, served_before) = family.cache_state();
    for _ in 0..100 {
        family.apply(["x", "y"], CounterCell::inc);
    }
    let (_, served_after) = family.cache_state();
    assert!(served_after - served_before >= 90, "{served_before} -> {served_after}");
    assert_eq!(held.get(), 100);
    assert_eq!(family.apply(["x", "y"], CounterCell::get), 100);
    assert_eq!(family.apply(["new", "one"], CounterCell::get), 0);
    assert_eq!(family.len(), 2);
}

#[test]
fn a_lookup_inside_apply_goes_to_the_table_and_counts() {
    let family = CounterVec::<1>::try_new("nested_apply_total", "Nested.", ["k"]).expect("valid");
    for _ in 0..50 {
        family.apply(["outer"], |outer| {
            outer.inc();
            // The cache is in use here: both of these go to the table.
            family.apply(["inner"], CounterCell::inc);
            family.with(["outer"]).inc();
        });
    }
    assert_eq!(family.with(["outer"]).get(), 100);
    assert_eq!(family.with(["inner"]).get(), 50);
}

#[test]
fn apply_sees_removals_and_the_series_limit() {
    let family = CounterVec::<1>::try_new("limited_apply_total", "Limited.", ["k"])
        .expect("valid")
        .with_series_limit(2);
    for _ in 0..20 {
        family.apply(["a"], CounterCell::inc);
    }
    assert!(family.remove(["a"]));
    family.apply(["a"], CounterCell::inc);
    assert_eq!(family.with(["a"]).get(), 1, "a removed series starts again from zero");
    family.apply(["b"], CounterCell::inc);
    family.apply(["c"], CounterCell::inc);
    assert_eq!(family.dropped(), 1);
    assert_eq!(family.with([OVERFLOW_LABEL_VALUE]).get(), 1);
}

#[test]
fn a_panic_inside_apply_leaves_lookups_working() {
    let family = CounterVec::<1>::try_new("panicky_apply_total", "Panicky.", ["k"]).expect("valid");
    for _ in 0..10 {
        family.apply(["p"], CounterCell::inc);
    }
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        family.apply(["p"], |_| panic!("user code"));
    }));
    assert!(caught.is_err());
    for _ in 0..10 {
        family.apply(["p"], CounterCell::inc);
    }
    assert_eq!(family.with(["p"]).get(), 20);
}

#[test]
fn apply_observes_into_histograms() {
    let family = HistogramVec::<1>::try_new("apply_seconds", "Apply.", ["k"]).expect("valid");
    for i in 0..10 {
        family.apply(["h"], |series| series.observe(f64::from(i)));
    }
    assert_eq!(family.with(["h"]).count(), 10);
}
