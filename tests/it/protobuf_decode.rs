//! A test-only decoder of the delimited protobuf exposition, written from
//! the protobuf encoding spec (varints, wire types 0, 1, 2 and 5, zig-zag)
//! and upstream `io/prometheus/client/metrics.proto` (`prometheus/client_model`),
//! sharing no code with the crate's encoder. Strict: a truncated field, an
//! unknown wire type, a wrong wire type for a known field, or bytes left
//! over are errors. Shared with `fuzz/` by `#[path]`.

/// One decoded `MetricFamily`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PbFamily {
    pub(crate) name: String,
    pub(crate) help: String,
    /// `MetricType`: 0 counter, 1 gauge, 2 summary, 3 untyped, 4 histogram.
    pub(crate) kind: u64,
    pub(crate) unit: String,
    pub(crate) metrics: Vec<PbMetric>,
}

/// One decoded `Metric`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PbMetric {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) gauge: Option<f64>,
    pub(crate) counter: Option<f64>,
    /// `Counter.exemplar` (field 2).
    pub(crate) counter_exemplar: Option<PbExemplar>,
    pub(crate) histogram: Option<PbHistogram>,
}

/// One decoded `Exemplar` (`label` = 1, `value` = 2, `timestamp` = 3, a
/// `google.protobuf.Timestamp { seconds = 1, nanos = 2 }`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PbExemplar {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: Option<f64>,
    /// `(seconds, nanos)`.
    pub(crate) timestamp: Option<(i64, i32)>,
}

/// One decoded `Histogram`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PbHistogram {
    pub(crate) sample_count: Option<u64>,
    pub(crate) sample_sum: Option<f64>,
    /// `(cumulative_count, upper_bound)` of each `Bucket`.
    pub(crate) buckets: Vec<(u64, f64)>,
    /// `Bucket.exemplar` (field 3) of the buckets that have one: the
    /// bucket's index in `buckets` and the exemplar.
    pub(crate) bucket_exemplars: Vec<(usize, PbExemplar)>,
    pub(crate) schema: Option<i64>,
    pub(crate) zero_threshold: Option<f64>,
    pub(crate) zero_count: Option<u64>,
    /// `(offset, length)` of each positive `BucketSpan`.
    pub(crate) positive_spans: Vec<(i64, u64)>,
    pub(crate) positive_deltas: Vec<i64>,
    pub(crate) negative_spans: Vec<(i64, u64)>,
    pub(crate) negative_deltas: Vec<i64>,
    /// `Histogram.exemplars` (field 16, native histograms only), in order.
    pub(crate) exemplars: Vec<PbExemplar>,
}

/// A field's payload by wire type.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.0.split_first().ok_or("truncated varint")?;
            self.0 = rest;
            if i == 9 && b > 1 {
                return Err("varint longer than 64 bits".into());
            }
            v |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("truncated: {n} bytes wanted, {} left", self.0.len()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// The next `(field number, payload)`, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Wire<'a>)>, String> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (field, wire) = (key >> 3, key & 7);
        if field == 0 {
            return Err("field number 0".into());
        }
        let payload = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| "fixed64")?)),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length overflows")?;
                Wire::Len(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            other => return Err(format!("wire type {other} of field {field}")),
        };
        Ok(Some((field, payload)))
    }
}

fn unzigzag(z: u64) -> i64 {
    // The spec's inverse: (n >>> 1) ^ -(n & 1).
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

fn string(bytes: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
}

fn double(wire: Wire<'_>, what: &str) -> Result<f64, String> {
    match wire {
        Wire::Fixed64(bits) => Ok(f64::from_bits(bits)),
        _ => Err(format!("{what} is not a double")),
    }
}

fn varint(wire: Wire<'_>, what: &str) -> Result<u64, String> {
    match wire {
        Wire::Varint(v) => Ok(v),
        _ => Err(format!("{what} is not a varint")),
    }
}

fn bytes<'a>(wire: Wire<'a>, what: &str) -> Result<&'a [u8], String> {
    match wire {
        Wire::Len(b) => Ok(b),
        _ => Err(format!("{what} is not length-delimited")),
    }
}

/// A repeated varint field, packed (one length-delimited run) or not.
fn varints(wire: Wire<'_>, out: &mut Vec<u64>, what: &str) -> Result<(), String> {
    match wire {
        Wire::Varint(v) => out.push(v),
        Wire::Len(b) => {
            let mut r = Reader(b);
            while !r.0.is_empty() {
                out.push(r.varint()?);
            }
        }
        _ => return Err(format!("{what} is not a varint")),
    }
    Ok(())
}

/// Decodes a whole delimited exposition: messages each prefixed by its
/// varint length, until the bytes end exactly.
pub(crate) fn decode(mut body: &[u8]) -> Result<Vec<PbFamily>, String> {
    let mut families = Vec::new();
    while !body.is_empty() {
        let mut r = Reader(body);
        let len = usize::try_from(r.varint()?).map_err(|_| "length overflows")?;
        let message = r.take(len).map_err(|e| format!("family {}: {e}", families.len()))?;
        families.push(family(message).map_err(|e| format!("family {}: {e}", families.len()))?);
        body = r.0;
    }
    Ok(families)
}

fn family(message: &[u8]) -> Result<PbFamily, String> {
    let mut f = PbFamily::default();
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        match field {
            1 => f.name = string(bytes(wire, "name")?, "name")?,
            2 => f.help = string(bytes(wire, "help")?, "help")?,
            3 => f.kind = varint(wire, "type")?,
            4 => f.metrics.push(metric(bytes(wire, "metric")?)?),
            5 => f.unit = string(bytes(wire, "unit")?, "unit")?,
            _ => {}
        }
    }
    Ok(f)
}

fn metric(message: &[u8]) -> Result<PbMetric, String> {
    let mut m = PbMetric::default();
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        match field {
            1 => m.labels.push(label(bytes(wire, "label")?)?),
            2 => m.gauge = Some(single_double(bytes(wire, "gauge")?)?),
            3 => {
                let body = bytes(wire, "counter")?;
                m.counter = Some(single_double(body)?);
                m.counter_exemplar = counter_exemplar(body)?;
            }
            7 => m.histogram = Some(histogram(bytes(wire, "histogram")?)?),
            _ => {}
        }
    }
    Ok(m)
}

fn label(message: &[u8]) -> Result<(String, String), String> {
    let (mut name, mut value) = (String::new(), String::new());
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        match field {
            1 => name = string(bytes(wire, "label name")?, "label name")?,
            2 => value = string(bytes(wire, "label value")?, "label value")?,
            _ => {}
        }
    }
    Ok((name, value))
}

/// `Gauge` and `Counter`: `value` = 1.
fn single_double(message: &[u8]) -> Result<f64, String> {
    let mut value = None;
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        if field == 1 {
            value = Some(double(wire, "value")?);
        }
    }
    value.ok_or_else(|| "value missing".into())
}

/// `Counter.exemplar` (field 2), if present.
fn counter_exemplar(message: &[u8]) -> Result<Option<PbExemplar>, String> {
    let mut found = None;
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        if field == 2 {
            found = Some(exemplar(bytes(wire, "counter exemplar")?)?);
        }
    }
    Ok(found)
}

fn exemplar(message: &[u8]) -> Result<PbExemplar, String> {
    let mut e = PbExemplar::default();
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        match field {
            1 => e.labels.push(label(bytes(wire, "exemplar label")?)?),
            2 => e.value = Some(double(wire, "exemplar value")?),
            3 => {
                let (mut seconds, mut nanos) = (0i64, 0i32);
                let mut t = Reader(bytes(wire, "exemplar timestamp")?);
                while let Some((field, wire)) = t.field()? {
                    match field {
                        // int64 and int32 are plain varints (two's complement).
                        1 => seconds = varint(wire, "seconds")? as i64,
                        2 => nanos = i32::try_from(varint(wire, "nanos")? as i64).map_err(|_| "nanos out of range")?,
                        _ => {}
                    }
                }
                e.timestamp = Some((seconds, nanos));
            }
            _ => {}
        }
    }
    Ok(e)
}

fn span(message: &[u8]) -> Result<(i64, u64), String> {
    let (mut offset, mut length) = (0, 0);
    let mut r = Reader(message);
    while let Some((field, wire)) = r.field()? {
        match field {
            1 => offset = unzigzag(varint(wire, "span offset")?),
            2 => length = varint(wire, "span length")?,
            _ => {}
        }
    }
    Ok((offset, length))
}

fn histogram(message: &[u8]) -> Result<PbHistogram, String> {
    let mut h = PbHistogram::default();
    let mut r = Reader(message);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    while let Some((field, wire)) = r.field()? {
        match field {
            1 => h.sample_count = Some(varint(wire, "sample_count")?),
            2 => h.sample_sum = Some(double(wire, "sample_sum")?),
            3 => {
                let (mut count, mut bound, mut ex) = (0, f64::NAN, None);
                let mut b = Reader(bytes(wire, "bucket")?);
                while let Some((field, wire)) = b.field()? {
                    match field {
                        1 => count = varint(wire, "cumulative_count")?,
                        2 => bound = double(wire, "upper_bound")?,
                        3 => ex = Some(exemplar(bytes(wire, "bucket exemplar")?)?),
                        _ => {}
                    }
                }
                if let Some(ex) = ex {
                    h.bucket_exemplars.push((h.buckets.len(), ex));
                }
                h.buckets.push((count, bound));
            }
            5 => h.schema = Some(unzigzag(varint(wire, "schema")?)),
            6 => h.zero_threshold = Some(double(wire, "zero_threshold")?),
            7 => h.zero_count = Some(varint(wire, "zero_count")?),
            9 => h.negative_spans.push(span(bytes(wire, "negative_span")?)?),
            10 => varints(wire, &mut neg, "negative_delta")?,
            12 => h.positive_spans.push(span(bytes(wire, "positive_span")?)?),
            13 => varints(wire, &mut pos, "positive_delta")?,
            16 => h.exemplars.push(exemplar(bytes(wire, "histogram exemplar")?)?),
            _ => {}
        }
    }
    h.positive_deltas = pos.into_iter().map(unzigzag).collect();
    h.negative_deltas = neg.into_iter().map(unzigzag).collect();
    Ok(h)
}
