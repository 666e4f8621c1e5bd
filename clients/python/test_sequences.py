"""The consumer's bookkeeping without a broker: sequence gaps and duplicates,
and telemetry held until its catalog comes. Run with the generated schema on
PYTHONPATH (ctest does): python3 -m unittest test_sequences"""
import io
import json
import unittest

from rackwatch.v1 import telemetry_pb2 as pb

from rackwatch_consumer import Consumer, Sequences, ranges


class SequencesTest(unittest.TestCase):
    def test_first_seen_is_a_baseline_then_each_next(self):
        s = Sequences()
        self.assertEqual(s.see("a", "b1", 40), "baseline")  # started late: 1..39 are not a gap
        self.assertEqual(s.see("a", "b1", 41), "next")
        self.assertEqual(s.missing("a", "b1"), [])

    def test_a_gap_is_provisional_until_the_outbox_is_empty(self):
        s = Sequences()
        s.see("a", "b1", 1)
        self.assertEqual(s.see("a", "b1", 5), "gap")
        self.assertEqual(s.missing("a", "b1"), [2, 3, 4])
        # Backlog after a reconnect comes beside fresh readings: 3 was late, not lost.
        self.assertEqual(s.see("a", "b1", 3), "late")
        self.assertEqual(s.missing("a", "b1"), [2, 4])
        # Status with pending 0, telemetry_sequence 5: whatever is still missing is lost.
        self.assertEqual(s.settle("a", "b1", 5), [2, 4])
        self.assertEqual(s.missing("a", "b1"), [])

    def test_settle_leaves_numbers_the_status_has_not_taken_yet(self):
        s = Sequences()
        s.see("a", "b1", 1)
        s.see("a", "b1", 10)
        self.assertEqual(s.settle("a", "b1", 6), [2, 3, 4, 5, 6])
        self.assertEqual(s.missing("a", "b1"), [7, 8, 9])

    def test_duplicates(self):
        s = Sequences()
        s.see("a", "b1", 7)
        s.see("a", "b1", 8)
        self.assertEqual(s.see("a", "b1", 8), "duplicate")
        self.assertEqual(s.see("a", "b1", 7), "duplicate")
        self.assertEqual(s.see("a", "b1", 6), "duplicate")  # before the baseline: already had, or not ours

    def test_each_boot_counts_on_its_own(self):
        s = Sequences()
        s.see("a", "b1", 100)
        self.assertEqual(s.see("a", "b2", 1), "baseline")  # a restart: numbers start over
        self.assertEqual(s.see("a", "b1", 101), "next")  # the old boot's backlog still arrives
        self.assertEqual(s.see("other", "b1", 5), "baseline")

    def test_ranges(self):
        self.assertEqual(ranges([2, 3, 4, 9, 11, 12]), "2..4, 9, 11..12")


def catalog(cid, *points):
    c = pb.Catalog(agent_id="a", site="s", rack="r", catalog_id=cid)
    for pid, symbol in points:
        c.points.add(id=pid, unit_symbol=symbol)
    return c.SerializeToString()


def telemetry(seq, cid):
    t = pb.Telemetry(agent_id="a", boot_id="b1", sequence=seq, catalog_id=cid, source="pdu", time_ms=1000)
    t.samples.add(point=0, value=230.5, quality=pb.QUALITY_GOOD, time_offset_ms=-3)
    t.samples.add(point=1, value=0, quality=pb.QUALITY_BAD, reason="timeout")
    return t.SerializeToString()


class ConsumerTest(unittest.TestCase):
    def setUp(self):
        self.out = io.StringIO()
        self.c = Consumer("rw", self.out)

    def lines(self):
        return [json.loads(line) for line in self.out.getvalue().splitlines()]

    def test_telemetry_waits_for_its_catalog_by_id(self):
        self.c.on_message("rw/s/r/telemetry", telemetry(1, "c2"))
        self.assertEqual(self.lines(), [])
        self.c.on_message("rw/s/r/catalog/c2", catalog("c2", ("pdu.v", "V"), ("pdu.t", "°C")))
        [line] = self.lines()
        self.assertTrue(line["catalog_known"])
        self.assertEqual(line["samples"], [
            {"point": "pdu.v", "index": 0, "value": 230.5, "unit": "V", "quality": "good", "time_ms": 997},
            {"point": "pdu.t", "index": 1, "value": None, "unit": "°C", "quality": "bad", "time_ms": 1000,
             "reason": "timeout"},
        ])

    def test_without_its_catalog_it_goes_out_unnamed(self):
        self.c.on_message("rw/s/r/catalog", catalog("c1", ("pdu.v", "V")))
        self.c.on_message("rw/s/r/telemetry", telemetry(1, "c2"))  # names a catalog not seen
        self.c.expire(float("inf"))
        [line] = self.lines()
        self.assertFalse(line["catalog_known"])
        self.assertEqual([s["point"] for s in line["samples"]], ["#0", "#1"])
        self.assertEqual(line["samples"][0]["unit"], "")

    def test_a_duplicate_is_dropped(self):
        self.c.on_message("rw/s/r/catalog", catalog("c1", ("pdu.v", "V"), ("pdu.t", "°C")))
        for seq in (1, 2, 2):
            self.c.on_message("rw/s/r/telemetry", telemetry(seq, "c1"))
        self.assertEqual([line["sequence"] for line in self.lines()], [1, 2])

    def test_what_does_not_decode_is_skipped(self):
        self.c.on_message("rw/s/r/telemetry", b"\xff\xff\xff")
        self.c.on_message("rw/s/r/catalog", b"")  # a retained catalog cleared
        self.c.expire(float("inf"))
        self.assertEqual(self.lines(), [])


if __name__ == "__main__":
    unittest.main()
