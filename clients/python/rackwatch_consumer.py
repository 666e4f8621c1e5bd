#!/usr/bin/env python3
"""A reference consumer of rackwatchd's native topics.

Subscribes to {prefix}/#, keeps catalogs by id, names each telemetry sample
from the catalog its message refers to, and prints one JSON object a line per
telemetry message, in the shape `rackwatch tail --json` prints it. Sequence
gaps and duplicates go to stderr. The schema is the Python code protoc
generates from proto/rackwatch/v1/telemetry.proto (see README.md beside this
file); nothing here restates it.
"""
import argparse
import json
import math
import signal
import sys
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from google.protobuf.message import DecodeError

from rackwatch.v1 import telemetry_pb2 as pb

HOLD_SECONDS = 2.0  # how long telemetry waits for a catalog not seen yet
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
QUALITY = {pb.QUALITY_GOOD: "good", pb.QUALITY_BAD: "bad", pb.QUALITY_UNCERTAIN: "uncertain"}


def note(text):
    print("rackwatch_consumer: " + text, file=sys.stderr, flush=True)


class Sequences:
    """Telemetry.sequence per (agent_id, boot_id): it counts from 1 at every
    boot, without gaps except what the agent reports dropped. Delivery is at
    least once, and backlog may arrive after fresh readings, so a hole is only
    provisional until the agent's status says nothing is pending."""

    def __init__(self):
        self.boots = {}  # (agent_id, boot_id) -> {"last": int, "missing": set}

    def see(self, agent, boot, seq):
        """One of: baseline, next, gap, late (fills a gap), duplicate."""
        b = self.boots.get((agent, boot))
        if b is None:  # the first seen: what came before is not ours to judge
            self.boots[(agent, boot)] = {"last": seq, "missing": set()}
            return "baseline"
        if seq == b["last"] + 1:
            b["last"] = seq
            return "next"
        if seq > b["last"]:
            b["missing"].update(range(b["last"] + 1, seq))
            b["last"] = seq
            return "gap"
        if seq in b["missing"]:
            b["missing"].discard(seq)
            return "late"
        return "duplicate"

    def missing(self, agent, boot):
        b = self.boots.get((agent, boot))
        return sorted(b["missing"]) if b else []

    def settle(self, agent, boot, taken):
        """The agent's outbox is empty: every number up to `taken` has reached
        the broker, so the ones still missing are lost. Returns and forgets them."""
        b = self.boots.get((agent, boot))
        if not b:
            return []
        lost = sorted(s for s in b["missing"] if s <= taken)
        b["missing"].difference_update(lost)
        return lost


def ranges(numbers):
    """[3, 4, 5, 9] -> "3..5, 9"."""
    out, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(str(start) if start == n else "%d..%d" % (start, n))
            start = None
    return ", ".join(out)


class Consumer:
    def __init__(self, prefix, out=sys.stdout):
        self.prefix = prefix
        self.out = out
        self.catalogs = {}  # (site/rack, catalog_id) -> [(point id, unit symbol)]
        self.held = []  # (deadline, topic, site, rack, Telemetry) awaiting their catalog
        self.sequences = Sequences()
        self.printed = 0

    def on_message(self, topic, payload):
        if not topic.startswith(self.prefix + "/"):
            return
        parts = topic[len(self.prefix) + 1:].split("/")
        if len(parts) < 3 or not payload:  # an empty payload clears a retained message
            return
        site, rack, kind = parts[0], parts[1], "/".join(parts[2:])
        # catalog is the current one, catalog/{catalog_id} each one by id.
        kind = "catalog" if kind.startswith("catalog/") else kind
        schema = {"catalog": pb.Catalog, "telemetry": pb.Telemetry, "status": pb.AgentStatus}.get(kind)
        if schema is None:
            return  # snapshot, alarm, alarms decode alike (pb.Snapshot, ...); shown here: telemetry
        try:
            message = schema.FromString(payload)
        except DecodeError as e:  # anyone allowed to publish under the prefix may send anything
            note("%s: payload does not decode (%s)" % (topic, e))
            return
        if kind == "catalog":
            self.on_catalog(site + "/" + rack, message)
        elif kind == "telemetry":
            self.on_telemetry(topic, site, rack, message)
        else:
            self.on_status(message)

    def on_catalog(self, base, c):
        self.catalogs[(base, c.catalog_id)] = [(p.id, p.unit_symbol) for p in c.points]
        # Release what waited for this catalog, in the order it came.
        ready = []
        waiting, self.held = self.held, []
        for h in waiting:
            (self.held if (h[2] + "/" + h[3], h[4].catalog_id) != (base, c.catalog_id) else ready).append(h)
        for _, topic, site, rack, t in ready:
            self.emit(topic, site, rack, t)

    def on_telemetry(self, topic, site, rack, t):
        verdict = self.sequences.see(t.agent_id, t.boot_id, t.sequence)
        if verdict == "duplicate":  # at least once: drop it by (boot_id, sequence)
            note("duplicate: agent %s boot %s sequence %d" % (t.agent_id, t.boot_id, t.sequence))
            return
        if verdict == "gap":
            note("gap (provisional): agent %s boot %s missing %s"
                 % (t.agent_id, t.boot_id, ranges(self.sequences.missing(t.agent_id, t.boot_id))))
        if (site + "/" + rack, t.catalog_id) in self.catalogs:
            self.emit(topic, site, rack, t)
        else:
            self.held.append((time.monotonic() + HOLD_SECONDS, topic, site, rack, t))

    def on_status(self, s):
        if s.state == pb.AgentStatus.STATE_ONLINE and s.outbox.pending == 0:
            lost = self.sequences.settle(s.agent_id, s.boot_id, s.telemetry_sequence)
            if lost:
                note("gap: agent %s boot %s lost %s (the agent reports %d dropped by its outbox)"
                     % (s.agent_id, s.boot_id, ranges(lost), s.outbox.dropped))

    def expire(self, now):
        """Telemetry whose catalog did not come in time goes out unnamed."""
        late = [h for h in self.held if h[0] <= now]
        self.held = [h for h in self.held if h[0] > now]
        for _, topic, site, rack, t in late:
            self.emit(topic, site, rack, t)

    def emit(self, topic, site, rack, t):
        points = self.catalogs.get((site + "/" + rack, t.catalog_id))
        samples = []
        for s in t.samples:
            named = points is not None and s.point < len(points)
            # Only good and uncertain samples carry a value; bad and unknown have none.
            value = s.value if s.quality in (pb.QUALITY_GOOD, pb.QUALITY_UNCERTAIN) else None
            if value is not None and not math.isfinite(value):
                value = None  # JSON has no NaN or infinity
            when = t.time_ms + s.time_offset_ms
            sample = {
                "point": points[s.point][0] if named else "#%d" % s.point,
                "index": s.point,
                "value": value,
                "unit": points[s.point][1] if named else "",
                "quality": QUALITY.get(s.quality, "unknown"),
                "time_ms": when if INT64_MIN <= when <= INT64_MAX else None,
            }
            if s.reason:
                sample["reason"] = s.reason
            samples.append(sample)
        line = {
            "topic": topic, "type": "telemetry", "site": site, "rack": rack,
            "agent_id": t.agent_id, "boot_id": t.boot_id, "sequence": t.sequence,
            "catalog_id": t.catalog_id, "source": t.source, "time_ms": t.time_ms,
            "catalog_known": points is not None, "samples": samples,
        }
        self.out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.flush()
        self.printed += 1


def main():
    ap = argparse.ArgumentParser(description="Print rackwatch telemetry as JSON lines.")
    ap.add_argument("--broker", required=True, help="tcp://host:port")
    ap.add_argument("--prefix", default="rackwatch/v1")
    ap.add_argument("--count", type=int, help="exit after N telemetry messages")
    ap.add_argument("--timeout", type=float, help="exit 1 after S seconds if fewer than N came")
    ap.add_argument("--client-id", help="a persistent session: what was published while away is kept")
    a = ap.parse_args()
    url = urlparse(a.broker)
    if url.scheme != "tcp" or not url.hostname:
        ap.error("--broker must be tcp://host:port")

    sys.stdout.reconfigure(encoding="utf-8")  # units such as °C, whatever the locale
    consumer = Consumer(a.prefix)
    persistent = a.client_id is not None
    client = mqtt.Client(client_id=a.client_id or "", clean_session=not persistent,
                         protocol=mqtt.MQTTv311)
    # Subscribe on every connect: a clean session forgets subscriptions. QoS 1,
    # as the agent publishes: a persistent session keeps what came while away.
    client.on_connect = lambda c, _u, _f, rc: rc == 0 and c.subscribe(a.prefix + "/#", qos=1)
    client.on_subscribe = lambda *_: note("subscribed to %s/# on %s" % (a.prefix, a.broker))
    client.on_message = lambda _c, _u, m: consumer.on_message(m.topic, m.payload)
    try:
        client.connect(url.hostname, url.port or 1883, keepalive=30)
    except OSError as e:
        note("cannot connect to %s: %s" % (a.broker, e))
        return 2

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    deadline = time.monotonic() + a.timeout if a.timeout else None
    rc = 0
    while not stopping and (a.count is None or consumer.printed < a.count):
        if deadline and time.monotonic() >= deadline:
            note("timeout: %d telemetry messages" % consumer.printed)
            rc = 1
            break
        if client.loop(timeout=0.2) != mqtt.MQTT_ERR_SUCCESS:
            time.sleep(1)  # the connection broke: try again
            try:
                client.reconnect()
            except OSError:
                pass
        consumer.expire(time.monotonic())
    consumer.expire(float("inf"))  # what still waits for a catalog goes out unnamed
    client.disconnect()
    return rc


if __name__ == "__main__":
    sys.exit(main())
