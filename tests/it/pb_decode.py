"""A decoder of the Prometheus protobuf exposition, independent of the
crate: written in Python from the protobuf encoding spec
(https://protobuf.dev/programming-guides/encoding/) and the field numbers of
io.prometheus.client's metrics.proto (prometheus/client_model). Reads
length-delimited MetricFamily messages on stdin and prints one line per
family and per metric, in a canonical form the Rust test compares with
what it expects. Strict: a truncated message, an unknown wire type, a
field of the wrong wire type or an unexpected field number is an error
(exit status 1).

Used by tests/it/protobuf_python.rs.
"""
import struct
import sys

VARINT, FIXED64, LEN = 0, 1, 2
TYPES = {0: "COUNTER", 1: "GAUGE", 2: "SUMMARY", 3: "UNTYPED", 4: "HISTOGRAM", 5: "GAUGE_HISTOGRAM"}


class Bad(Exception):
    pass


def varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise Bad("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift >= 70:
            raise Bad("varint longer than 10 bytes")


def fields(data):
    """Yields (number, wire type, value) of every field of a message."""
    at = 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise Bad("field number 0")
        if wire == VARINT:
            value, at = varint(data, at)
        elif wire == FIXED64:
            if at + 8 > len(data):
                raise Bad("truncated fixed64")
            value = data[at:at + 8]
            at += 8
        elif wire == LEN:
            length, at = varint(data, at)
            if at + length > len(data):
                raise Bad("truncated length-delimited field")
            value = data[at:at + length]
            at += length
        else:
            raise Bad(f"wire type {wire}")
        yield number, wire, value


def expect(wire, want, what):
    if wire != want:
        raise Bad(f"{what}: wire type {wire}, want {want}")


def zigzag(z):
    return (z >> 1) ^ -(z & 1)


def double(value):
    return struct.unpack("<d", value)[0]


def packed_sint64(wire, value, out, what):
    """A repeated sint64, packed (LEN) or one per field (VARINT)."""
    if wire == VARINT:
        out.append(zigzag(value))
        return
    expect(wire, LEN, what)
    at = 0
    while at < len(value):
        z, at = varint(value, at)
        out.append(zigzag(z))


def label(data):
    name = value = None
    for number, wire, v in fields(data):
        expect(wire, LEN, "label field")
        if number == 1:
            name = v.decode("utf-8")
        elif number == 2:
            value = v.decode("utf-8")
        else:
            raise Bad(f"LabelPair field {number}")
    return name, value


def single_value(data, what):
    value = None
    for number, wire, v in fields(data):
        if number == 1:
            expect(wire, FIXED64, what)
            value = double(v)
        elif number == 2 and what == "counter":
            # Counter.exemplar: a nested message, allowed and not checked.
            expect(wire, LEN, "counter exemplar")
        else:
            raise Bad(f"{what} field {number}")
    return value


def exemplar(data):
    """An Exemplar as `labels value seconds.nanos` (the timestamp `None`
    when absent)."""
    labels, value, ts = [], None, None
    for number, wire, v in fields(data):
        if number == 1:
            expect(wire, LEN, "exemplar label")
            labels.append(label(v))
        elif number == 2:
            expect(wire, FIXED64, "exemplar value")
            value = double(v)
        elif number == 3:
            expect(wire, LEN, "exemplar timestamp")
            seconds = nanos = 0
            for n, w, tv in fields(v):
                expect(w, VARINT, "timestamp field")
                if n == 1:
                    seconds = tv
                elif n == 2:
                    nanos = tv
                else:
                    raise Bad(f"Timestamp field {n}")
            ts = f"{seconds}.{nanos:09d}"
        else:
            raise Bad(f"Exemplar field {number}")
    rendered = ",".join(f"{n}={v!r}" for n, v in labels)
    return f"{{{rendered}}}:{value!r}@{ts}"


def span(data):
    offset = length = 0
    for number, wire, v in fields(data):
        expect(wire, VARINT, "span field")
        if number == 1:
            offset = zigzag(v)
        elif number == 2:
            length = v
        else:
            raise Bad(f"BucketSpan field {number}")
    return offset, length


def buckets(spans, deltas):
    """(key, count) of each native bucket, from spans and deltas."""
    out, key, count, at = [], 0, 0, 0
    for offset, length in spans:
        key += offset
        for _ in range(length):
            if at >= len(deltas):
                raise Bad("fewer deltas than the spans' lengths")
            count += deltas[at]
            at += 1
            out.append((key, count))
            key += 1
    if at != len(deltas):
        raise Bad("more deltas than the spans' lengths")
    return out


def histogram(data):
    h = {"classic": [], "pspans": [], "pdeltas": [], "nspans": [], "ndeltas": [], "exemplars": []}
    for number, wire, v in fields(data):
        if number == 1:
            expect(wire, VARINT, "sample_count")
            h["count"] = v
        elif number == 2:
            expect(wire, FIXED64, "sample_sum")
            h["sum"] = double(v)
        elif number == 3:
            expect(wire, LEN, "bucket")
            count = bound = None
            for n, w, bv in fields(v):
                if n == 1:
                    expect(w, VARINT, "cumulative_count")
                    count = bv
                elif n == 2:
                    expect(w, FIXED64, "upper_bound")
                    bound = double(bv)
                elif n == 3:
                    expect(w, LEN, "bucket exemplar")
                    h.setdefault("bucket_exemplars", []).append((bound, exemplar(bv)))
                else:
                    raise Bad(f"Bucket field {n}")
            h["classic"].append((bound, count))
        elif number == 5:
            expect(wire, VARINT, "schema")
            h["schema"] = zigzag(v)
        elif number == 6:
            expect(wire, FIXED64, "zero_threshold")
            h["zero_threshold"] = double(v)
        elif number == 7:
            expect(wire, VARINT, "zero_count")
            h["zero_count"] = v
        elif number in (9, 12):
            expect(wire, LEN, "span")
            h["nspans" if number == 9 else "pspans"].append(span(v))
        elif number in (10, 13):
            packed_sint64(wire, v, h["ndeltas" if number == 10 else "pdeltas"], "deltas")
        elif number == 16:
            # Histogram.exemplars, native histograms only: "These exemplars
            # MUST have a timestamp."
            expect(wire, LEN, "histogram exemplar")
            e = exemplar(v)
            if e.endswith("@None"):
                raise Bad("a native histogram exemplar without a timestamp")
            h["exemplars"].append(e)
        else:
            raise Bad(f"Histogram field {number}")
    parts = [f"count={h.get('count')}", f"sum={h.get('sum')!r}"]
    if h["classic"]:
        parts.append("classic=" + ",".join(f"{b!r}:{c}" for b, c in h["classic"]))
    if "bucket_exemplars" in h:
        parts.append("bucket_exemplars=" + ";".join(f"{b!r}={e}" for b, e in h["bucket_exemplars"]))
    if "schema" in h:
        positive = buckets(h["pspans"], h["pdeltas"])
        negative = buckets(h["nspans"], h["ndeltas"])
        parts += [
            f"schema={h['schema']}",
            f"zero_threshold={h.get('zero_threshold')!r}",
            f"zero_count={h.get('zero_count')}",
            "positive=" + ",".join(f"{k}:{c}" for k, c in positive),
            "negative=" + ",".join(f"{k}:{c}" for k, c in negative),
            f"pspans={len(h['pspans'])}",
        ]
        if sum(c for _, c in positive + negative) + h.get("zero_count", 0) != h.get("count"):
            raise Bad("count is not the zero bucket plus the buckets")
    if h["exemplars"]:
        if "schema" not in h:
            raise Bad("Histogram.exemplars on a histogram that is not native")
        parts.append("exemplars=" + ";".join(h["exemplars"]))
    return " ".join(parts)


def metric(data):
    labels, body = [], None
    for number, wire, v in fields(data):
        if number == 1:
            expect(wire, LEN, "label")
            labels.append(label(v))
        elif number == 2:
            expect(wire, LEN, "gauge")
            body = f"gauge={single_value(v, 'gauge')!r}"
        elif number == 3:
            expect(wire, LEN, "counter")
            body = f"counter={single_value(v, 'counter')!r}"
        elif number == 7:
            expect(wire, LEN, "histogram")
            body = histogram(v)
        else:
            raise Bad(f"Metric field {number}")
    rendered = ",".join(f"{n}={v!r}" for n, v in labels)
    return f"  {{{rendered}}} {body}"


def family(data):
    name = help_ = kind = unit = None
    metrics = []
    for number, wire, v in fields(data):
        if number == 1:
            expect(wire, LEN, "name")
            name = v.decode("utf-8")
        elif number == 2:
            expect(wire, LEN, "help")
            help_ = v.decode("utf-8")
        elif number == 3:
            expect(wire, VARINT, "type")
            kind = TYPES.get(v, f"type {v}")
        elif number == 4:
            expect(wire, LEN, "metric")
            metrics.append(metric(v))
        elif number == 5:
            expect(wire, LEN, "unit")
            unit = v.decode("utf-8")
        else:
            raise Bad(f"MetricFamily field {number}")
    head = f"{name} {kind} help={help_!r}" + (f" unit={unit}" if unit else "")
    return [head] + metrics


def main():
    data = sys.stdin.buffer.read()
    at, lines = 0, []
    try:
        while at < len(data):
            length, at = varint(data, at)
            if at + length > len(data):
                raise Bad("truncated MetricFamily")
            lines += family(data[at:at + length])
            at += length
    except Bad as bad:
        print(f"bad protobuf at byte {at}: {bad}", file=sys.stderr)
        sys.exit(1)
    print("\n".join(lines))


main()
