"""The dashboard page against scripted `/stats?format=json` answers (the contract's shape), for what a
live proxy rarely shows on cue: missing latencies, a host down, a failed poll, a proxy restart (counters
going backwards), draining, and a cluster name with markup in it.

Usage: dashboard_fixture.py DASHBOARD_HTML OUT_DIR

Serves DASHBOARD_HTML at /dashboard and the current step's JSON at /stats?format=json on 127.0.0.1:0,
drives headless Chromium (Debian's chromium through playwright) through the steps, and exits non-zero
with the reason at the first figure that is not what a person should see. Leaves a screenshot per step
in OUT_DIR.
"""
import copy
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import sync_playwright

from dashboard import ARGS, CHROMIUM, EXTRACT

TIMEOUT_MS = 20000
ODD_NAME = "<b>x</b>&amp;"

BASE = {
    "server": {"version": "0.1.0", "state": "LIVE", "uptime_s": 3725, "config_version": 3},
    "listeners": [
        {"name": "ingress", "address": "127.0.0.1:10000", "cx_active": 3, "cx_total": 10,
         "rq_total": 120, "rq_active": 1},
    ],
    "clusters": [
        {"name": "web",
         "rq_total": 100, "rq_2xx": 90, "rq_3xx": 0, "rq_4xx": 5, "rq_5xx": 5, "rq_active": 2,
         "rq_timeout": 0, "rq_retry": 1,
         "latency_ms": {"p50": 1.2, "p90": 3.4, "p99": 9.0, "p999": 12.0},
         "latency_ms_interval": None,
         "hosts_healthy": 1, "hosts_total": 2,
         "hosts": [{"address": "127.0.0.1:8081", "healthy": True, "health_flags": "healthy", "rq_active": 0},
                   {"address": "127.0.0.1:8082", "healthy": False,
                    "health_flags": "/failed_active_hc (connection refused; for 12s)", "rq_active": 0}]},
        {"name": ODD_NAME,
         "rq_total": 0, "rq_2xx": 0, "rq_3xx": 0, "rq_4xx": 0, "rq_5xx": 0, "rq_active": 0,
         "rq_timeout": 0, "rq_retry": 0, "latency_ms": None, "latency_ms_interval": None,
         "hosts_healthy": 0, "hosts_total": 0, "hosts": []},
    ],
}


class Script:
    """What /stats answers now: a JSON document, an HTTP status, or (traffic) a document whose `web`
    counters advance by a fixed step on every poll, so every poll interval shows the same rates."""
    def __init__(self):
        self.lock = threading.Lock()
        self.answer = (200, BASE)
        self.step = None

    def set(self, status, doc=None, step=None):
        with self.lock:
            self.answer, self.step = (status, copy.deepcopy(doc)), step

    def get(self):
        with self.lock:
            status, doc = self.answer
            if doc is not None and self.step is not None:
                web = doc["clusters"][0]
                for key, by in self.step.items():
                    web[key] += by
            return status, json.dumps(doc).encode() if doc is not None else None


def serve(html, script):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/dashboard"):
                status, body, kind = 200, html, "text/html; charset=utf-8"
            elif self.path == "/stats?format=json":
                status, body = script.get()
                body, kind = (body, "application/json") if body else (b"down\n", "text/plain")
            else:
                status, body, kind = 404, b"", "text/plain"
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check(what, got, want):
    if got != want:
        sys.exit(f"{what}: the page shows {got!r}, expected {want!r}")


def main():
    html_path, out_dir = sys.argv[1], sys.argv[2]
    with open(html_path, "rb") as f:
        html = f.read()
    script = Script()
    server = serve(html, script)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="mesh-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True, viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/dashboard?refresh=250", timeout=TIMEOUT_MS)

        def next_poll():
            polls = page.evaluate("() => Number(document.body.dataset.polls)")
            page.wait_for_function(f"() => Number(document.body.dataset.polls) >= {polls + 2}",
                                   timeout=TIMEOUT_MS)
            return page.evaluate(EXTRACT)

        def shot(name):
            page.screenshot(path=os.path.join(out_dir, f"fixture-{name}.png"), full_page=True)

        # 1. Steady: no traffic between polls, no interval latency, one host down, an empty cluster.
        shown = next_poll()
        web = shown["clusters"]["web"]
        check("web rq/s without traffic", web["rq_rate"]["value"], "0")
        check("web error rate without traffic", web["error_rate"]["text"], "–")
        check("web p50 falls back to cumulative", (web["p50"]["value"], web["p50"]["source"]), ("1.2", "cumulative"))
        check("web hosts", web["hosts"]["text"], "1/2")
        check("web host dots", [(d["address"], d["healthy"]) for d in web["dots"]],
              [("127.0.0.1:8081", True), ("127.0.0.1:8082", False)])
        odd = shown["clusters"].get(ODD_NAME)
        if odd is None or odd["name"]["text"] != ODD_NAME:
            sys.exit(f"a cluster name with markup is not shown as written: {shown['clusters'].keys()}")
        check("markup in a name stays text", page.locator("#clusters b").count(), 0)
        check("empty cluster p99", odd["p99"]["text"], "–")
        check("uptime", shown["server"]["uptime_s"]["text"], "1h 2m")
        shot("steady")

        # 2. Traffic: every poll interval, 100 more requests of which 25 are 5xx; interval quantiles.
        moved = copy.deepcopy(BASE)
        moved["clusters"][0]["latency_ms_interval"] = {"p50": 2.0, "p90": 10.0, "p99": 20.5, "p999": 30.0}
        script.set(200, moved, step={"rq_total": 100, "rq_2xx": 75, "rq_5xx": 25})
        next_poll()
        web = next_poll()["clusters"]["web"]
        check("web error rate", (web["error_rate"]["value"], web["error_rate"]["text"]), ("25", "25%"))
        if not float(web["rq_rate"]["value"]) > 0:
            sys.exit(f"no request rate under traffic: {web['rq_rate']}")
        check("web p50 from the interval", (web["p50"]["text"], web["p50"]["source"]), ("2.0 ms", "interval"))
        check("web p99 from the interval", web["p99"]["text"], "21 ms")
        total = int(web["rq_total"]["value"])
        check("web total, grouped", web["rq_total"]["text"], f"{total:,}")
        shot("traffic")

        # 3. The admin stops answering: the figures stay, the page says they are stale.
        frozen = copy.deepcopy(moved)
        frozen["clusters"][0]["rq_total"] = 5000
        script.set(200, frozen)
        next_poll()
        script.set(503)
        page.wait_for_function("() => document.getElementById('status').classList.contains('error')",
                               timeout=TIMEOUT_MS)
        shown = page.evaluate(EXTRACT)
        check("figures kept through a failed poll", shown["clusters"]["web"]["rq_total"]["text"], "5,000")
        if "503" not in shown["status"]:
            sys.exit(f"the status line does not say why: {shown['status']!r}")
        shot("stale")

        # 4. The proxy restarted (counters back near zero) and is draining.
        restarted = copy.deepcopy(BASE)
        restarted["server"].update(state="DRAINING", uptime_s=2, config_version=1)
        restarted["clusters"][0].update(rq_total=7, rq_5xx=0)
        script.set(200, restarted)
        page.wait_for_function("() => !document.getElementById('status').classList.contains('error')",
                               timeout=TIMEOUT_MS)
        # The first poll after the failure compares with the last good one, from before the restart.
        shown = page.evaluate(EXTRACT)
        check("state", shown["server"]["state"]["text"], "DRAINING")
        check("config version", shown["server"]["config_version"]["value"], "1")
        check("counters after a restart", shown["clusters"]["web"]["rq_total"]["value"], "7")
        check("no negative rate after a restart", shown["clusters"]["web"]["rq_rate"]["text"], "–")
        shot("restarted")
        context.close()
    server.shutdown()
    if errors:
        sys.exit("scripts on the dashboard failed:\n" + "\n".join(errors))
    print("ok")


if __name__ == "__main__":
    main()
