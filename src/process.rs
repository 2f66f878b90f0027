//! Metrics about the current process, with the names and help texts of the
//! Prometheus Go client (`client_golang`), read from `/proc` on Linux.

// The parsers are plain text processing, so they are compiled on every target
// where they can be tested and fuzzed; only Linux builds ever call them.
#[cfg_attr(
    not(target_os = "linux"),
    allow(dead_code, reason = "the parsers are only called on Linux")
)]
pub(crate) mod linux;

use crate::registry::{Collect, Scrape};

/// Collects CPU, memory, file descriptor, thread, start time and network
/// metrics of the current process.
///
/// Every scrape reads `/proc/self/stat`, `/proc/self/limits`, `/proc/self/fd`,
/// `/proc/stat` and `/proc/self/net/netstat` afresh. It emits:
///
/// | metric | type | source |
/// |---|---|---|
/// | `process_cpu_seconds_total` | counter | user + system time from `stat` |
/// | `process_open_fds` | gauge | entries of `/proc/self/fd` |
/// | `process_max_fds` | gauge | soft `Max open files`, only when limited |
/// | `process_virtual_memory_bytes` | gauge | `vsize` from `stat` |
/// | `process_virtual_memory_max_bytes` | gauge | soft `Max address space`, only when limited |
/// | `process_resident_memory_bytes` | gauge | `rss` from `stat` times the page size |
/// | `process_start_time_seconds` | gauge | `btime` from `/proc/stat` plus `starttime` |
/// | `process_threads` | gauge | `num_threads` from `stat` |
/// | `process_network_receive_bytes_total` | counter | `IpExt: InOctets` from `net/netstat` |
/// | `process_network_transmit_bytes_total` | counter | `IpExt: OutOctets` from `net/netstat` |
///
/// A value that cannot be read or parsed is left out of that scrape; collecting
/// never fails and never panics. Unlike `client_golang`, an unlimited
/// `process_max_fds` or `process_virtual_memory_max_bytes` is left out rather
/// than reported as 2<sup>64</sup> − 1.
///
/// The network counters, like `client_golang`'s, are the IPv4 byte totals of the
/// process's network namespace, loopback traffic included. They are per
/// process only when the process has a network namespace of its own, as in most
/// containers.
///
/// Clock ticks per second and the page size are read once from
/// `/proc/self/auxv`. If that fails, the collector falls back to 100 ticks per
/// second (`USER_HZ` on every mainstream Linux architecture, and the value
/// `client_golang` hard-codes) and to 4096-byte pages (the base page size of
/// x86, x86-64 and the usual arm64 and RISC-V kernels).
///
/// # Platform support
///
/// On targets other than Linux the collector compiles and emits nothing,
/// because the standard library offers no portable source for these values.
///
/// # Example
///
/// ```
/// let registry = bareprom::Registry::new();
/// registry.register_collector("process", bareprom::ProcessCollector::new())?;
/// let text = registry.render();
/// if cfg!(target_os = "linux") {
///     assert!(text.contains("process_resident_memory_bytes "));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct ProcessCollector {
    // A private field keeps construction going through `new` or `Default`, so
    // that options can be added later without breaking callers.
    _private: (),
}

impl ProcessCollector {
    /// Creates a collector for the current process.
    ///
    /// # Example
    ///
    /// ```
    /// let registry = bareprom::Registry::new();
    /// registry.register_collector("process", bareprom::ProcessCollector::new())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

impl Collect for ProcessCollector {
    fn collect(&self, out: &mut Scrape<'_>) {
        #[cfg(target_os = "linux")]
        collect_linux(out);
        #[cfg(not(target_os = "linux"))]
        let _ = out;
    }
}

/// The process' start time, computed once: it cannot change, and reading
/// `/proc/stat` (whose size grows with the CPU count) on every scrape
/// would cost a tenth of the collector's time and let the value jitter when
/// the wall clock is stepped. A failed read is retried at the next scrape.
#[cfg(target_os = "linux")]
fn start_time(stat: &linux::Stat, ticks: u64) -> Option<f64> {
    static START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    if let Some(start) = START.get() {
        return Some(*start);
    }
    // /proc/stat is read only when there is a start time to add it to.
    stat.starttime?;
    let boot = read_text("/proc/stat").and_then(|t| linux::parse_boot_time(&t))?;
    let seconds = linux::start_time_seconds(stat, boot, ticks)?;
    Some(*START.get_or_init(|| seconds))
}

/// Ticks per second when `/proc/self/auxv` has no `AT_CLKTCK`.
#[cfg(target_os = "linux")]
const DEFAULT_CLOCK_TICKS: u64 = 100;
/// Page size when `/proc/self/auxv` has no `AT_PAGESZ`.
#[cfg(target_os = "linux")]
const DEFAULT_PAGE_SIZE: u64 = 4096;

/// Reads all sources and emits every value that could be read.
#[cfg(target_os = "linux")]
fn collect_linux(out: &mut Scrape<'_>) {
    let (ticks, page_size) = system_units();
    let stat = read_text("/proc/self/stat").and_then(|t| linux::parse_stat(&t));
    let stat = stat.unwrap_or_default();
    let limits = read_text("/proc/self/limits").map(|t| linux::parse_limits(&t));
    let limits = limits.unwrap_or_default();

    if let Some(v) = linux::cpu_seconds(&stat, ticks) {
        out.float_counter(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            v,
        );
    }
    if let Some(v) = open_fds().and_then(to_i64) {
        out.gauge("process_open_fds", "Number of open file descriptors.", v);
    }
    if let Some(v) = limits.max_open_files.and_then(to_i64) {
        out.gauge("process_max_fds", "Maximum number of open file descriptors.", v);
    }
    if let Some(v) = stat.vsize.and_then(to_i64) {
        out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", v);
    }
    if let Some(v) = limits.max_address_space.and_then(to_i64) {
        out.gauge(
            "process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.",
            v,
        );
    }
    if let Some(v) = linux::resident_bytes(&stat, page_size).and_then(to_i64) {
        out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", v);
    }
    if let Some(v) = start_time(&stat, ticks) {
        out.float_gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            v,
        );
    }
    if let Some(v) = stat.num_threads.and_then(to_i64) {
        out.gauge("process_threads", "Number of OS threads in the process.", v);
    }
    let net = read_text("/proc/self/net/netstat").map(|t| linux::parse_netstat(&t));
    let net = net.unwrap_or_default();
    if let Some(v) = net.received {
        out.counter(
            "process_network_receive_bytes_total",
            "Number of bytes received by the process over the network.",
            v,
        );
    }
    if let Some(v) = net.transmitted {
        out.counter(
            "process_network_transmit_bytes_total",
            "Number of bytes sent by the process over the network.",
            v,
        );
    }
}

/// How many more descriptors the process may open: the soft
/// `Max open files` limit minus the descriptors open now. `None` when there
/// is no limit or it cannot be read (and on targets other than Linux). The
/// std server sizes its connection limit by this.
#[cfg(target_os = "linux")]
pub(crate) fn descriptor_headroom() -> Option<u64> {
    let limit = read_text("/proc/self/limits")
        .map(|t| linux::parse_limits(&t))?
        .max_open_files?;
    Some(limit.saturating_sub(open_fds()?))
}

/// See the Linux version; elsewhere nothing is known.
#[cfg(not(target_os = "linux"))]
pub(crate) fn descriptor_headroom() -> Option<u64> {
    None
}

/// Reads a whole file in one go. Invalid UTF-8 is replaced rather than
/// rejected, because the command name in `/proc/self/stat` is whatever bytes
/// the program set, and the fields after it are still readable.
#[cfg(target_os = "linux")]
fn read_text(path: &str) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Clock ticks per second and page size, read from the auxiliary vector on
/// first use. Both are fixed for the life of the process.
#[cfg(target_os = "linux")]
fn system_units() -> (u64, u64) {
    static UNITS: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *UNITS.get_or_init(|| {
        let auxv = std::fs::read("/proc/self/auxv").map(|b| linux::parse_auxv(&b));
        let auxv = auxv.unwrap_or_default();
        (
            auxv.clock_ticks.unwrap_or(DEFAULT_CLOCK_TICKS),
            auxv.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
        )
    })
}

/// Counts the open file descriptors of the process.
#[cfg(target_os = "linux")]
fn open_fds() -> Option<u64> {
    // Since Linux 6.2 the size of `/proc/<pid>/fd` is the number of open
    // descriptors: one `stat` call, no descriptor of our own, and no listing of
    // what may be a million entries. `client_golang` (through procfs) takes the
    // same fast path.
    if let Ok(meta) = std::fs::metadata("/proc/self/fd")
        && meta.len() > 0
    {
        return Some(meta.len());
    }
    // Older kernels report a size of 0, so the entries are counted. Listing the
    // directory holds a descriptor for it, which shows up in the listing; it is
    // subtracted so that both paths report the same number. (procfs does not
    // subtract it, so `client_golang` reports one more on such kernels.)
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    let count = entries.flatten().count();
    u64::try_from(count).ok()?.checked_sub(1)
}

/// Converts to the gauge type, leaving out values beyond `i64::MAX`.
#[cfg(target_os = "linux")]
fn to_i64(value: u64) -> Option<i64> {
    i64::try_from(value).ok()
}
