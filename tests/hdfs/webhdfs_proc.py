"""The WebHDFS fixture (tests/fixtures/webhdfs.py) as a subprocess, for the tests in this
directory. The fixture follows the documented WebHDFS REST protocol; it is not Hadoop.

Also the tiny test registry both test scripts use: Check, check."""

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "webhdfs.py")
HOST = "127.0.0.1"


class Check(Exception):
    """A failed expectation."""


def check(cond, message):
    """Raise Check(message) unless cond holds."""
    if not cond:
        raise Check(message)


class Fixture:
    """A webhdfs.py process over its own temporary root, BASE/NAME/root."""

    def __init__(self, base, name, *extra):
        """Start the fixture and wait for its port file."""
        self.dir = os.path.join(base, name)
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        port_file = os.path.join(self.dir, "ports.json")
        self.proc = subprocess.Popen(
            [sys.executable, FIXTURE, "--root", self.root, "--port-file", port_file,
             "--exit-with-parent", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fixture %s did not start" % name)
            time.sleep(0.02)
        with open(port_file) as f:
            ports = json.load(f)
        self.nn, self.dn = ports["namenode"], ports["datanode"]

    def stop(self):
        """SIGTERM, then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def url(self, path="/", scheme="hdfs"):
        """hdfs://127.0.0.1:NN/path."""
        return "%s://%s:%d%s" % (scheme, HOST, self.nn, path)

    def control(self, method, target):
        """A request to the fixture's control endpoints; returns the body."""
        req = urllib.request.Request("http://%s:%d%s" % (HOST, self.nn, target), method=method)
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.read()

    def faults(self, spec=None):
        """Merge SPEC into the fixture's faults ("clear" removes them); without SPEC, the
        faults in force."""
        if spec is None:
            return json.loads(self.control("GET", "/fixture/faults"))
        return json.loads(self.control("POST", "/fixture/faults?"
                                       + urllib.parse.urlencode({"spec": spec})))

    def log(self):
        """The request log as a list of dicts."""
        return [json.loads(l) for l in self.control("GET", "/fixture/log").decode().splitlines()]

    def clear_log(self):
        """Empty the request log."""
        self.control("DELETE", "/fixture/log")

    def local(self, path):
        """The local file behind an HDFS path."""
        return os.path.join(self.root, path.lstrip("/"))

    def write(self, path, data):
        """Create a file in the root directly (parents too)."""
        p = self.local(path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    def read(self, path):
        """A file's bytes from the root."""
        with open(self.local(path), "rb") as f:
            return f.read()
