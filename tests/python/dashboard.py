"""Loads the admin `/dashboard` in headless Chromium (Debian's `chromium`, driven by the `playwright`
package; no browser download) and reads what it shows.

Usage: dashboard.py ADMIN_ADDR OUT_DIR

Waits until the page has polled `/stats?format=json` a few times and shows a request rate for every
cluster, then reads the figures twice, READ_GAP_S apart. Each read fetches `/stats?format=json` itself
just before and just after, and waits for a poll of the page that started after the first fetch, so
every counter the page shows lies between the two (a test asserts that). Then it takes screenshots
(wide, narrow, dark) into OUT_DIR and writes everything to OUT_DIR/dashboard.json. Exits non-zero, with
the reason, when the page does not come up or a script on it throws.
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REFRESH_MS = 500
READ_GAP_S = 3
TIMEOUT_MS = 20000

# Every figure the page marks, keyed by scope: what a person sees (`text`) and the raw value.
EXTRACT = """() => {
  const out = { polls: Number(document.body.dataset.polls), server: {}, listeners: {}, clusters: {},
                status: document.getElementById('status').textContent };
  const fig = (e) => ({ value: e.dataset.value, text: e.textContent.trim(), source: e.dataset.source || null });
  for (const e of document.querySelectorAll('#proxy [data-field]')) out.server[e.dataset.field] = fig(e);
  for (const e of document.querySelectorAll('[data-listener][data-field]')) {
    (out.listeners[e.dataset.listener] ||= {})[e.dataset.field] = fig(e);
  }
  for (const e of document.querySelectorAll('td[data-cluster][data-field], span[data-cluster][data-field]')) {
    (out.clusters[e.dataset.cluster] ||= { dots: [] })[e.dataset.field] = fig(e);
  }
  for (const e of document.querySelectorAll('.dot[data-host]')) {
    (out.clusters[e.dataset.cluster] ||= { dots: [] }).dots.push({
      address: e.dataset.host, healthy: e.dataset.healthy === 'true', flags: e.dataset.flags, title: e.title });
  }
  return out;
}"""

# Ready: a few polls done and every cluster shows a rate (two polls are needed for one).
READY = """() => Number(document.body.dataset.polls) >= 3 &&
  [...document.querySelectorAll('td[data-cluster][data-field="rq_rate"]')].every(e => e.dataset.value !== '')"""


def stats(admin):
    with urllib.request.urlopen(f"http://{admin}/stats?format=json", timeout=5) as reply:
        return json.load(reply)


def read(page, admin):
    before_at, before = time.time(), stats(admin)
    polls = page.evaluate("() => Number(document.body.dataset.polls)")
    # A poll that starts after `before` was taken (the one in flight may predate it).
    page.wait_for_function(f"() => Number(document.body.dataset.polls) >= {polls + 2}", timeout=TIMEOUT_MS)
    shown = page.evaluate(EXTRACT)
    after = stats(admin)
    return {"before_at": before_at, "stats_before": before, "page": shown, "stats_after": after,
            "after_at": time.time()}


def main():
    admin, out_dir = sys.argv[1], sys.argv[2]
    errors = []
    with tempfile.TemporaryDirectory(prefix="mesh-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1280, "height": 720}, color_scheme="light")
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and errors.append(f"console error: {m.text}"))
        page.goto(f"http://{admin}/dashboard?refresh={REFRESH_MS}", timeout=TIMEOUT_MS)
        try:
            page.wait_for_function(READY, timeout=TIMEOUT_MS)
        except Exception as e:
            page.screenshot(path=os.path.join(out_dir, "dashboard-failed.png"), full_page=True)
            sys.exit(f"the dashboard did not show rates within {TIMEOUT_MS} ms ({e}); see "
                     f"{out_dir}/dashboard-failed.png; it shows:\n"
                     f"{json.dumps(page.evaluate(EXTRACT), indent=1)}\n{sorted(set(errors))}")
        first = read(page, admin)
        time.sleep(READ_GAP_S)
        second = read(page, admin)

        shots = {}
        shots["wide"] = os.path.join(out_dir, "dashboard.png")
        page.screenshot(path=shots["wide"], full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_function(f"() => Number(document.body.dataset.polls) >= {second['page']['polls'] + 1}")
        shots["narrow"] = os.path.join(out_dir, "dashboard-narrow.png")
        page.screenshot(path=shots["narrow"], full_page=True)
        # Wider than the window means a person on a phone scrolls sideways to find a figure.
        narrow_width = page.evaluate("() => document.documentElement.scrollWidth")
        page.set_viewport_size({"width": 1280, "height": 720})
        page.emulate_media(color_scheme="dark")
        shots["dark"] = os.path.join(out_dir, "dashboard-dark.png")
        page.screenshot(path=shots["dark"], full_page=True)
        context.close()
    if errors:
        sys.exit("scripts on the dashboard failed:\n" + "\n".join(sorted(set(errors))))
    result = {"reads": [first, second], "screenshots": shots, "narrow_viewport": 390, "narrow_scroll_width": narrow_width}
    with open(os.path.join(out_dir, "dashboard.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(shots))


if __name__ == "__main__":
    main()
