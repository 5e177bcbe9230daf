#!/usr/bin/env python3
"""Prometheus metrics of dvs-switchd and dvsmgr (--metrics-listen).

dvsmgr on a private bus with one dvs-switchd host h1 that has a plain
port; h1 joins a DVswitch, so the manager pushes to it.  Then:

* GET /metrics of both daemons is parsed by a strict parser of the text
  format 0.0.4 written here (HELP and TYPE once per family and before its
  samples, names and labels well-formed, values floats, no duplicate
  series, counters ending in _total, histogram buckets cumulative with a
  +Inf bucket equal to _count), and the series say what is true: h1's port
  counters and drop reasons, the datapath's load, h1 connected and in sync,
  the push counted with its latency, empty queues;
* other paths are 404, other methods 405, a silent client is dropped;
* a real Prometheus (Debian package prometheus) scrapes both every second
  and its HTTP API returns the series (skipped without prometheus).

Run: meson test -C build metrics
"""

import http.client
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import wait_until  # noqa: E402

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^\n]*\})? (\S+)( -?\d+)?$")


class ParseError(AssertionError):
    pass


def parse_labels(text, where):
    """'{a="x",b="y\\"z"}' -> {"a": "x", "b": 'y"z'}, strictly."""
    labels = {}
    i, n = 1, len(text) - 1          # inside the braces
    while i < n:
        m = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"").match(text, i)
        if m is None:
            raise ParseError("%s: bad label at %r" % (where, text[i:]))
        name, i = m.group(1), m.end()
        value = []
        while True:
            if i >= n:
                raise ParseError("%s: unterminated label value" % where)
            c = text[i]
            if c == "\\":
                esc = text[i + 1:i + 2]
                if esc not in ('\\', '"', 'n'):
                    raise ParseError("%s: bad escape \\%s" % (where, esc))
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ParseError("%s: newline in a label value" % where)
            else:
                value.append(c)
                i += 1
        if name in labels:
            raise ParseError("%s: label %s twice" % (where, name))
        labels[name] = "".join(value)
        if i < n:
            if text[i] != ",":
                raise ParseError("%s: expected ',' at %r" % (where, text[i:]))
            i += 1
    return labels


def parse_value(s, where):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$", s):
        raise ParseError("%s: bad value %r" % (where, s))
    return float(s)


def parse_exposition(text):
    """Text format 0.0.4 -> {family: {"type", "help", "samples": [(name,
    labels, value)]}}; raises ParseError at the first deviation."""
    if not text.endswith("\n"):
        raise ParseError("the exposition does not end with a newline")
    families, current, series = {}, None, set()
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % lineno
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                continue                       # a comment
            kind, name = parts[1], parts[2]
            if not METRIC_NAME.match(name):
                raise ParseError("%s: bad metric name %r" % (where, name))
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if fam["samples"]:
                raise ParseError("%s: %s of %s after its samples" % (where, kind, name))
            if kind == "HELP":
                if fam["help"] is not None:
                    raise ParseError("%s: second HELP for %s" % (where, name))
                fam["help"] = parts[3] if len(parts) > 3 else ""
            else:
                if fam["type"] is not None:
                    raise ParseError("%s: second TYPE for %s" % (where, name))
                if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram",
                                                        "summary", "untyped"):
                    raise ParseError("%s: bad TYPE line %r" % (where, line))
                fam["type"] = parts[3]
            current = name
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise ParseError("%s: not a sample: %r" % (where, line))
        name, labels_text, value = m.group(1), m.group(2), m.group(3)
        labels = parse_labels(labels_text, where) if labels_text else {}
        for ln in labels:
            if not LABEL_NAME.match(ln) or ln.startswith("__"):
                raise ParseError("%s: bad label name %r" % (where, ln))
        fam_name = name
        if current and families[current]["type"] == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current + suffix:
                    fam_name = current
        if fam_name != current:
            raise ParseError("%s: sample %s outside its family (%s)" % (where, name, current))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise ParseError("%s: series %s%s twice" % (where, name, labels_text or ""))
        series.add(key)
        families[fam_name]["samples"].append((name, labels, parse_value(value, where)))
    for name, fam in families.items():
        if fam["type"] is None or fam["help"] is None:
            raise ParseError("%s lacks TYPE or HELP" % name)
        if fam["type"] == "counter":
            if not name.endswith("_total"):
                raise ParseError("counter %s does not end in _total" % name)
            for _, labels, v in fam["samples"]:
                if v < 0 or math.isnan(v):
                    raise ParseError("counter %s%r is %r" % (name, labels, v))
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    buckets = [(s[1]["le"], s[2]) for s in samples if s[0] == name + "_bucket"]
    count = [s[2] for s in samples if s[0] == name + "_count"]
    if not buckets or buckets[-1][0] != "+Inf" or len(count) != 1:
        raise ParseError("histogram %s needs buckets ending in +Inf and one _count" % name)
    bounds = [parse_value(le, name) for le, _ in buckets]
    if bounds != sorted(bounds):
        raise ParseError("histogram %s: buckets not in order" % name)
    values = [v for _, v in buckets]
    if values != sorted(values):
        raise ParseError("histogram %s: buckets not cumulative: %r" % (name, values))
    if values[-1] != count[0]:
        raise ParseError("histogram %s: +Inf bucket %r != _count %r" % (name, values[-1], count[0]))


def value(families, name, **labels):
    fam = families.get(name)
    for suffix in ("_count", "_sum", "_bucket"):
        # a histogram's samples belong to its family, not one of their own
        if fam is None and name.endswith(suffix):
            fam = families.get(name[:-len(suffix)])
    if fam is None:
        raise AssertionError("no family %s" % name)
    found = [v for n, lb, v in fam["samples"]
             if n == name and all(lb.get(k) == str(x) for k, x in labels.items())]
    if len(found) != 1:
        raise AssertionError("%s%r: %d samples" % (name, labels, len(found)))
    return found[0]


def http_get(port, path="/metrics", method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode("utf-8")
    finally:
        conn.close()


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        cls.tmp = dvstest.tempdir()
        cls.mgr_port = mgrtest.free_tcp_port()
        cls.sw_port = mgrtest.free_tcp_port()
        cls.bus = mgrtest.Bus(cls.tmp)
        cls.polkit = mgrtest.Polkit(cls.bus, cls.tmp)
        cls.polkit.allow(mgrtest.ACTIONS)
        cls.mgr = mgrtest.Manager(cls.tmp, cls.bus, extra_args=[
            "--metrics-listen", "127.0.0.1:%d" % cls.mgr_port]).start()
        cls.mgr.register_host("h1")
        cls.h1 = mgrtest.host_switch(cls.tmp, "h1", cls.mgr)
        cls.h1.ports = ["vm1=%s,server" % os.path.join(cls.tmp, "vm1.sock")]
        cls.h1.extra_args += ["--metrics-listen", "127.0.0.1:%d" % cls.sw_port]
        cls.h1.start()
        cls.mgr.wait_connected("h1")
        cls.sw_path, cls.sw = cls.mgr.create_switch("metrics", {"transport_zone": "tz1"})
        cls.mgr.join(cls.sw_path, "h1")
        cls.mgr.wait_in_sync(["h1"])

    def scrape(self, port):
        status, ctype, body = http_get(port)
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
        return parse_exposition(body)

    def test_switchd_exposition(self):
        f = self.scrape(self.sw_port)
        name = self.h1.name
        self.assertEqual(value(f, "dvs_switchd_info", switch=name), 1)
        self.assertEqual(value(f, "dvs_ports", switch=name), 1)
        self.assertEqual(value(f, "dvs_port_link_up", switch=name, port="vm1"), 0)
        for fam in ("dvs_port_rx_packets_total", "dvs_port_rx_bytes_total",
                    "dvs_port_tx_packets_total", "dvs_port_tx_bytes_total"):
            for kind in ("unicast", "multicast", "broadcast"):
                self.assertEqual(value(f, fam, switch=name, port="vm1", kind=kind), 0)
        # The reasons are the control protocol's drop names (port.show).
        shown = self.h1.call("port.show", {"name": "vm1"})["stats"]["drops"]
        reasons = {lb["reason"]: v for _, lb, v in f["dvs_port_drops_total"]["samples"]}
        self.assertEqual(reasons, {k: float(v) for k, v in shown.items()})
        self.assertGreater(value(f, "dvs_datapath_polls_total", switch=name), 0)
        self.assertGreaterEqual(value(f, "dvs_datapath_busy_seconds_total", switch=name), 0)
        self.assertEqual(f["dvs_datapath_busy_seconds_total"]["type"], "counter")

    def test_manager_exposition(self):
        f = self.scrape(self.mgr_port)
        self.assertEqual(value(f, "dvsmgr_host_connected", host="h1"), 1)
        self.assertEqual(value(f, "dvsmgr_host_in_sync", host="h1"), 1)
        self.assertEqual(value(f, "dvsmgr_hosts_connected"), 1)
        self.assertEqual(value(f, "dvsmgr_switches"), 1)
        self.assertGreaterEqual(value(f, "dvsmgr_pushes_total", result="ok"), 1)
        self.assertEqual(value(f, "dvsmgr_queue_entries", queue="repush"), 0)
        self.assertEqual(value(f, "dvsmgr_queue_entries", queue="rip"), 0)
        self.assertEqual(f["dvsmgr_push_latency_seconds"]["type"], "histogram")
        count = value(f, "dvsmgr_push_latency_seconds_count")
        self.assertGreaterEqual(count, value(f, "dvsmgr_pushes_total", result="ok"))
        self.assertGreater(value(f, "dvsmgr_push_latency_seconds_sum"), 0)

    def test_parser_is_strict(self):
        good = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\\\"\"} 1\n"
        parse_exposition(good)
        for bad in (good.replace("a_total{", "a_total {"),     # space before labels
                    good + "a_total{l=\"v\\\"\"} 2\n",          # duplicate series
                    good.replace(" 1\n", " one\n"),            # not a number
                    good.replace("counter", "countr"),         # unknown type
                    good.replace("\\\"", "\\q"),               # bad escape
                    good.rstrip("\n"),                         # no final newline
                    good.replace("a_total", "a")):             # counter without _total
            with self.subTest(bad=bad):
                self.assertRaises(ParseError, parse_exposition, bad)

    def test_only_get_metrics(self):
        for port in (self.sw_port, self.mgr_port):
            with self.subTest(port=port):
                self.assertEqual(http_get(port, "/")[0], 404)
                self.assertEqual(http_get(port, "/metrics", "POST")[0], 405)
                self.assertEqual(http_get(port, "/metrics", "HEAD")[0], 200)
                # A client that sends nothing is dropped, and others still served.
                idle = socket.create_connection(("127.0.0.1", port), timeout=10)
                try:
                    self.assertEqual(http_get(port)[0], 200)
                    idle.settimeout(15)
                    self.assertEqual(idle.recv(1), b"", "an idle client was not closed")
                finally:
                    idle.close()

    def test_prometheus_scrapes_both(self):
        prom = shutil.which("prometheus")
        if prom is None:
            self.skipTest("no prometheus (package prometheus)")
        web_port = mgrtest.free_tcp_port()
        pdir = os.path.join(self.tmp, "prometheus")
        os.makedirs(pdir, exist_ok=True)
        config = os.path.join(pdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n"
                    "  - job_name: dvs\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d', '127.0.0.1:%d']\n"
                    % (self.sw_port, self.mgr_port))
        log = os.path.join(pdir, "prometheus.log")
        dvstest.register_log("prometheus", log)
        with open(log, "wb") as out:
            p = dvstest.Proc("prometheus", [prom, "--config.file=" + config,
                                            "--storage.tsdb.path=" + os.path.join(pdir, "data"),
                                            "--web.listen-address=127.0.0.1:%d" % web_port],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            def query(q):
                url = "http://127.0.0.1:%d/api/v1/query?%s" % (
                    web_port, urllib.parse.urlencode({"query": q}))
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        doc = json.load(r)
                except OSError:
                    return []
                return doc["data"]["result"] if doc.get("status") == "success" else []

            def both_up():
                return sorted(float(r["value"][1]) for r in query("up{job='dvs'}")) == [1.0, 1.0]
            wait_until(both_up, 60, "prometheus to scrape both targets successfully")
            res = query('dvs_port_rx_packets_total{port="vm1",kind="unicast"}')
            self.assertEqual(len(res), 1, res)
            self.assertEqual(res[0]["metric"]["switch"], self.h1.name)
            res = query('dvsmgr_host_in_sync{host="h1"}')
            self.assertEqual([r["value"][1] for r in res], ["1"])
            res = query("histogram_quantile(0.5, dvsmgr_push_latency_seconds_bucket)")
            self.assertEqual(len(res), 1, res)
        finally:
            p.stop()


if __name__ == "__main__":
    dvstest.main()
