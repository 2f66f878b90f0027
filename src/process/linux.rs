//! Parsers for the Linux `/proc` files that the process collector reads.
//!
//! Every function here is pure: it takes the contents of a file and returns
//! values, so it compiles, runs and can be fuzzed on every target, not only on
//! Linux. None of them panics on any input. A field that is missing or
//! malformed comes back as `None`, so that the collector can leave out just that
//! one value.

/// The fields of `/proc/<pid>/stat` that the collector uses, in kernel units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stat {
    /// CPU time spent in user mode, in clock ticks (field 14).
    pub(crate) utime: Option<u64>,
    /// CPU time spent in kernel mode, in clock ticks (field 15).
    pub(crate) stime: Option<u64>,
    /// Number of threads (field 20).
    pub(crate) num_threads: Option<u64>,
    /// Start time after system boot, in clock ticks (field 22).
    pub(crate) starttime: Option<u64>,
    /// Virtual memory size in bytes (field 23).
    pub(crate) vsize: Option<u64>,
    /// Resident set size in pages (field 24).
    pub(crate) rss: Option<u64>,
}

/// Parses `/proc/<pid>/stat`.
///
/// Returns `None` only when the line has no `)`, which means that it is not a
/// stat line at all; any later field that is missing or not a number is `None`
/// within the returned [`Stat`].
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    // Field 2 is the command name in parentheses. The kernel copies it verbatim,
    // so it may itself hold spaces and parentheses, as in `((sd-pam))`. Every
    // later field is a number or a single state letter, so the last `)` in the
    // line is the one that closes the name.
    let (_, rest) = text.rsplit_once(')')?;
    // Field 3 (the state letter) is the first token after the name, so field N
    // lands at index N - 3. Reading into a fixed array avoids an allocation, and
    // the constant indices below are checked against its length at compile time.
    let mut fields = [None; 22];
    for (slot, token) in fields.iter_mut().zip(rest.split_ascii_whitespace()) {
        *slot = token.parse::<u64>().ok();
    }
    Some(Stat {
        utime: fields[14 - 3],
        stime: fields[15 - 3],
        num_threads: fields[20 - 3],
        starttime: fields[22 - 3],
        vsize: fields[23 - 3],
        rss: fields[24 - 3],
    })
}

/// The soft limits from `/proc/<pid>/limits` that the collector uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The `Max open files` soft limit; `None` when unlimited or unreadable.
    pub(crate) max_open_files: Option<u64>,
    /// The `Max address space` soft limit in bytes; `None` when unlimited or
    /// unreadable.
    pub(crate) max_address_space: Option<u64>,
}

/// Parses `/proc/<pid>/limits`.
pub(crate) fn parse_limits(text: &str) -> Limits {
    Limits {
        max_open_files: soft_limit(text, "Max open files"),
        max_address_space: soft_limit(text, "Max address space"),
    }
}

/// Finds the row called `name` and parses its soft limit, the first column
/// after the name.
fn soft_limit(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            // Comparing word by word, rather than by a fixed column width, keeps
            // the parser indifferent to the amount and kind of spacing, and stops
            // `Max open files` from matching a longer name that starts the same.
            let mut tokens = line.split_ascii_whitespace();
            if !name.split_ascii_whitespace().all(|w| tokens.next() == Some(w)) {
                return None;
            }
            // `unlimited`, an empty column and any other non-number all mean
            // that there is no limit to report.
            Some(tokens.next().and_then(|soft| soft.parse::<u64>().ok()))
        })
        .flatten()
}

/// Parses the boot time, in seconds since the Unix epoch, from the `btime`
/// line of `/proc/stat`.
pub(crate) fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut tokens = line.split_ascii_whitespace();
        match (tokens.next(), tokens.next(), tokens.next()) {
            (Some("btime"), Some(value), None) => value.parse().ok(),
            _ => None,
        }
    })
}

/// The entries of the ELF auxiliary vector that the collector uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Auxv {
    /// `AT_CLKTCK`: the unit of the tick counts in `/proc/<pid>/stat`.
    pub(crate) clock_ticks: Option<u64>,
    /// `AT_PAGESZ`: the unit of the resident set size in `/proc/<pid>/stat`.
    pub(crate) page_size: Option<u64>,
}

/// Key that ends the auxiliary vector.
const AT_NULL: u64 = 0;
/// Key of the system page size.
const AT_PAGESZ: u64 = 6;
/// Key of the frequency of `times()`, which `/proc` uses for tick counts.
const AT_CLKTCK: u64 = 17;

/// Parses `/proc/<pid>/auxv`: pairs of native-endian machine words (key,
/// value), ended by an `AT_NULL` key.
pub(crate) fn parse_auxv(bytes: &[u8]) -> Auxv {
    // The words are `unsigned long`, which has the width of `usize` on every
    // Linux target Rust supports, 32-bit ones included.
    parse_auxv_words(bytes, size_of::<usize>())
}

/// Parses an auxiliary vector whose words are `word` bytes wide (4 or 8).
fn parse_auxv_words(bytes: &[u8], word: usize) -> Auxv {
    let mut auxv = Auxv::default();
    let Some(pair_len) = word.checked_mul(2).filter(|&n| n > 0) else {
        return auxv;
    };
    // A trailing partial pair, as in a truncated read, is left out by
    // `chunks_exact`.
    for pair in bytes.chunks_exact(pair_len) {
        let Some((key, value)) = pair.split_at_checked(word) else {
            break;
        };
        let (Some(key), Some(value)) = (read_word(key), read_word(value)) else {
            break;
        };
        // A zero value is treated as absent: both values are used as units,
        // and a clock tick of zero would make every CPU time infinite.
        match key {
            AT_NULL => break,
            AT_PAGESZ => auxv.page_size = Some(value).filter(|&v| v > 0),
            AT_CLKTCK => auxv.clock_ticks = Some(value).filter(|&v| v > 0),
            _ => {}
        }
    }
    auxv
}

/// Reads one native-endian word of 4 or 8 bytes.
fn read_word(bytes: &[u8]) -> Option<u64> {
    match bytes.len() {
        4 => Some(u64::from(u32::from_ne_bytes(bytes.try_into().ok()?))),
        8 => Some(u64::from_ne_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

/// Byte totals of the network namespace, from `/proc/<pid>/net/netstat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NetBytes {
    /// `IpExt: InOctets`, bytes received.
    pub(crate) received: Option<u64>,
    /// `IpExt: OutOctets`, bytes sent.
    pub(crate) transmitted: Option<u64>,
}

/// Parses the `IpExt` `InOctets` and `OutOctets` counters from
/// `/proc/<pid>/net/netstat`, the source `client_golang` uses for its
/// `process_network_*_bytes_total` metrics.
pub(crate) fn parse_netstat(text: &str) -> NetBytes {
    let mut net = NetBytes::default();
    // The file is a series of line pairs: a header line naming the counters of
    // a section, then a line with their values, both starting with the section
    // name, e.g. `IpExt:`. Lines of other sections never start with `IpExt:`,
    // so the first `IpExt:` line is the header and the next one the values.
    let mut lines = text.lines();
    let Some(names) = lines.find_map(|line| line.strip_prefix("IpExt:")) else {
        return net;
    };
    let Some(values) = lines.next().and_then(|line| line.strip_prefix("IpExt:")) else {
        return net;
    };
    for (name, value) in names.split_ascii_whitespace().zip(values.split_ascii_whitespace()) {
        match name {
            "InOctets" => net.received = value.parse().ok(),
            "OutOctets" => net.transmitted = value.parse().ok(),
            _ => {}
        }
    }
    net
}

/// Converts a count of clock ticks to seconds.
#[allow(
    clippy::cast_precision_loss,
    reason = "an f64 holds tick counts exactly up to 2^53, which at 100 Hz is millions of years"
)]
pub(crate) fn ticks_to_seconds(ticks: u64, ticks_per_second: u64) -> Option<f64> {
    (ticks_per_second > 0).then(|| ticks as f64 / ticks_per_second as f64)
}

/// Total CPU time of the process in seconds.
pub(crate) fn cpu_seconds(stat: &Stat, ticks_per_second: u64) -> Option<f64> {
    let ticks = stat.utime?.checked_add(stat.stime?)?;
    ticks_to_seconds(ticks, ticks_per_second)
}

/// Start time of the process in seconds since the Unix epoch.
#[allow(clippy::cast_precision_loss, reason = "boot times in seconds stay far below 2^53")]
pub(crate) fn start_time_seconds(stat: &Stat, boot_time: u64, ticks_per_second: u64) -> Option<f64> {
    Some(boot_time as f64 + ticks_to_seconds(stat.starttime?, ticks_per_second)?)
}

/// Resident set size in bytes.
pub(crate) fn resident_bytes(stat: &Stat, page_size: u64) -> Option<u64> {
    stat.rss?.checked_mul(page_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stat line of a normal user process; the tail is shortened.
    const STAT_NORMAL: &str = "1234 (bareprom-test) S 1 1234 1234 0 -1 4194560 2500 0 3 0 \
        157 42 0 0 20 0 7 0 88123 1073741824 5120 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1\n";

    fn full(utime: u64, stime: u64, threads: u64, start: u64, vsize: u64, rss: u64) -> Stat {
        Stat {
            utime: Some(utime),
            stime: Some(stime),
            num_threads: Some(threads),
            starttime: Some(start),
            vsize: Some(vsize),
            rss: Some(rss),
        }
    }

    #[test]
    fn stat_of_normal_process() {
        let stat = parse_stat(STAT_NORMAL);
        assert_eq!(stat, Some(full(157, 42, 7, 88123, 1_073_741_824, 5120)));
    }

    #[test]
    fn stat_of_kernel_threads_with_odd_names() {
        let kworker = "17 (kworker/0:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 31 0 0 \
            20 0 1 0 12 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0";
        assert_eq!(parse_stat(kworker), Some(full(0, 31, 1, 12, 0, 0)));
        let sd_pam = "1001 ((sd-pam)) S 1000 1000 1000 0 -1 1077936448 38 0 0 0 3 4 0 0 \
            20 0 1 0 2345 107012096 1158 18446744073709551615";
        assert_eq!(parse_stat(sd_pam), Some(full(3, 4, 1, 2345, 107_012_096, 1158)));
        let nested = "42 ((a) b (c)) R 1 42 42 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 99 4096 1";
        assert_eq!(parse_stat(nested), Some(full(5, 6, 2, 99, 4096, 1)));
    }

    #[test]
    fn stat_name_that_mimics_fields_splits_at_last_paren() {
        // A 15-byte name made to look like the fields that follow it.
        let hostile = "5 (x) 9 9 9 9 (y) S 1 5 5 0 -1 0 0 0 0 0 10 20 0 0 20 0 3 0 77 8192 2";
        assert_eq!(parse_stat(hostile), Some(full(10, 20, 3, 77, 8192, 2)));
    }

    #[test]
    fn stat_truncated_or_malformed() {
        let truncated = "1234 (trunc) S 1 1234 1234 0 -1 4194560 2500 0 3 0 157";
        let stat = parse_stat(truncated).expect("has a name");
        assert_eq!(stat.utime, Some(157));
        assert_eq!((stat.stime, stat.num_threads, stat.rss), (None, None, None));
        assert_eq!(parse_stat("1234 (only-name)"), Some(Stat::default()));
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("1234 (no closing paren S 1 2 3"), None);
        // A negative or non-numeric field is lost alone; its neighbours survive.
        let bad = "1 (b) S 1 1 1 0 -1 0 0 0 0 0 abc 6 0 0 20 0 2 0 99 4096 -1";
        let stat = parse_stat(bad).expect("has a name");
        assert_eq!((stat.utime, stat.stime, stat.rss), (None, Some(6), None));
        assert_eq!(cpu_seconds(&stat, 100), None);
    }

    #[test]
    fn derived_values() {
        let stat = parse_stat(STAT_NORMAL).expect("valid");
        assert_eq!(cpu_seconds(&stat, 100), Some(1.99));
        assert_eq!(cpu_seconds(&stat, 0), None);
        let started = start_time_seconds(&stat, 1_700_000_000, 100).expect("valid");
        assert!((started - 1_700_000_881.23).abs() < 1e-6, "{started}");
        assert_eq!(resident_bytes(&stat, 4096), Some(20_971_520));
        let huge = Stat {
            rss: Some(u64::MAX),
            ..stat
        };
        assert_eq!(resident_bytes(&huge, 4096), None);
        let overflow = Stat {
            utime: Some(u64::MAX),
            ..stat
        };
        assert_eq!(cpu_seconds(&overflow, 100), None);
    }

    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 524288               files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
";

    #[test]
    fn limits_real_layout() {
        let limits = parse_limits(LIMITS);
        assert_eq!(limits.max_open_files, Some(1024));
        assert_eq!(limits.max_address_space, None);
    }

    #[test]
    fn limits_odd_spacing_and_limited_address_space() {
        let text = "Max open files\t\t65536\t65536 files\n  Max   address   space 4294967296 unlimited bytes";
        let limits = parse_limits(text);
        assert_eq!(limits.max_open_files, Some(65536));
        assert_eq!(limits.max_address_space, Some(4_294_967_296));
    }

    #[test]
    fn limits_empty_missing_or_garbage() {
        assert_eq!(parse_limits(""), Limits::default());
        assert_eq!(parse_limits("Max open files            \n"), Limits::default());
        assert_eq!(parse_limits("Max open files  lots  4096  files"), Limits::default());
        // A longer name that starts with the one we want must not match.
        assert_eq!(parse_limits("Max open filesystems 5 5 fs"), Limits::default());
        assert_eq!(parse_limits("Max open files -1 -1 files").max_open_files, None);
    }

    #[test]
    fn boot_time() {
        let text = "cpu  10 0 20 300 0 0 0 0 0 0\nintr 1 2 3\nctxt 999\nbtime 1795429251\nprocesses 3000\n";
        assert_eq!(parse_boot_time(text), Some(1_795_429_251));
        assert_eq!(parse_boot_time("cpu 1 2 3\nctxt 9\n"), None);
        assert_eq!(parse_boot_time("btime\nbtime x\nbtimes 5\nbtime 1 2\n"), None);
        assert_eq!(parse_boot_time(""), None);
    }

    /// Encodes key/value pairs as an auxiliary vector with `word`-byte words.
    fn auxv_bytes(pairs: &[(u64, u64)], word: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for &(key, value) in pairs {
            for w in [key, value] {
                if word == 4 {
                    let w = u32::try_from(w).expect("fits in 32 bits");
                    bytes.extend_from_slice(&w.to_ne_bytes());
                } else {
                    bytes.extend_from_slice(&w.to_ne_bytes());
                }
            }
        }
        bytes
    }

    #[test]
    fn auxv_with_keys_in_both_widths() {
        let pairs = [(33, 0x7fff_0000), (AT_PAGESZ, 4096), (AT_CLKTCK, 100), (AT_NULL, 0)];
        let want = Auxv {
            clock_ticks: Some(100),
            page_size: Some(4096),
        };
        assert_eq!(parse_auxv_words(&auxv_bytes(&pairs, 8), 8), want);
        assert_eq!(parse_auxv_words(&auxv_bytes(&pairs, 4), 4), want);
        let native = auxv_bytes(&pairs, size_of::<usize>());
        assert_eq!(parse_auxv(&native), want);
    }

    #[test]
    fn auxv_without_keys_or_broken() {
        assert_eq!(parse_auxv(&[]), Auxv::default());
        let none = auxv_bytes(&[(33, 1), (25, 2), (AT_NULL, 0)], 8);
        assert_eq!(parse_auxv_words(&none, 8), Auxv::default());
        // Entries after AT_NULL are not part of the vector.
        let after_end = auxv_bytes(&[(AT_NULL, 0), (AT_PAGESZ, 4096)], 8);
        assert_eq!(parse_auxv_words(&after_end, 8), Auxv::default());
        // A zero clock tick would divide by zero, so it counts as absent.
        let zero = auxv_bytes(&[(AT_CLKTCK, 0), (AT_PAGESZ, 16384)], 8);
        assert_eq!(
            parse_auxv_words(&zero, 8),
            Auxv {
                clock_ticks: None,
                page_size: Some(16384)
            }
        );
        // A truncated trailing pair is ignored; the whole pairs before it count.
        let mut cut = auxv_bytes(&[(AT_PAGESZ, 65536), (AT_CLKTCK, 100)], 8);
        cut.truncate(cut.len() - 3);
        assert_eq!(
            parse_auxv_words(&cut, 8),
            Auxv {
                clock_ticks: None,
                page_size: Some(65536)
            }
        );
        // Unsupported word widths never panic.
        for word in [0, 1, 3, 16, usize::MAX] {
            assert_eq!(parse_auxv_words(&[1; 64], word), Auxv::default());
        }
    }

    const NETSTAT: &str = "\
TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed
TcpExt: 0 0 0
IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets InMcastOctets
IpExt: 0 0 0 0 0 0 44298254 44779 0
MPTcpExt: MPCapableSYNRX MPCapableSYNTX
MPTcpExt: 0 0
";

    /// Feeds every parser every prefix of real fixtures, which covers reads
    /// cut short at any byte, and pseudo-random text built from the characters
    /// that matter to them.
    #[test]
    fn never_panics_on_truncated_or_random_input() {
        let parse_all = |text: &str| {
            let stat = parse_stat(text).unwrap_or_default();
            let _ = (cpu_seconds(&stat, 100), start_time_seconds(&stat, u64::MAX, 1));
            let _ = (resident_bytes(&stat, u64::MAX), parse_limits(text));
            let _ = (parse_boot_time(text), parse_netstat(text), parse_auxv(text.as_bytes()));
        };
        for fixture in [STAT_NORMAL, LIMITS, NETSTAT] {
            (0..=fixture.len()).filter_map(|n| fixture.get(..n)).for_each(parse_all);
        }
        let alphabet = b"0123456789 ()\nabtimeIpExt:Max open files-";
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..2000 {
            let text: String = (0..64)
                .map(|_| {
                    // xorshift64: a dependency-free generator, good enough to vary input.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let i = usize::try_from(state % alphabet.len() as u64).unwrap_or(0);
                    char::from(alphabet.get(i).copied().unwrap_or(b' '))
                })
                .collect();
            parse_all(&text);
            let _ = parse_auxv_words(text.as_bytes(), 4);
        }
    }

    #[test]
    fn netstat_real_layout() {
        let net = parse_netstat(NETSTAT);
        assert_eq!(
            net,
            NetBytes {
                received: Some(44_298_254),
                transmitted: Some(44779)
            }
        );
    }

    #[test]
    fn netstat_missing_or_broken() {
        assert_eq!(parse_netstat(""), NetBytes::default());
        assert_eq!(parse_netstat("TcpExt: A B\nTcpExt: 1 2\n"), NetBytes::default());
        // A header without its value line.
        assert_eq!(parse_netstat("IpExt: InOctets OutOctets\n"), NetBytes::default());
        // The value line of another section does not count.
        assert_eq!(
            parse_netstat("IpExt: InOctets OutOctets\nTcpExt: 1 2\n"),
            NetBytes::default()
        );
        // Columns are matched by name, not by position, and each value stands alone.
        let odd = "IpExt: OutOctets InOctets\nIpExt: 7 x\n";
        assert_eq!(
            parse_netstat(odd),
            NetBytes {
                received: None,
                transmitted: Some(7)
            }
        );
        // Fewer values than names leave the unmatched names out.
        let short = "IpExt: InOctets OutOctets\nIpExt: 5\n";
        assert_eq!(
            parse_netstat(short),
            NetBytes {
                received: Some(5),
                transmitted: None
            }
        );
    }
}
