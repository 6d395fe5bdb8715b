#!/usr/bin/env python3
"""Measures the ladders of an HTML report as headless Chromium lays them out in a 1280 px window.

usage: check_ladder_fit.py REPORT_DIR [MIN_PEERS]
For every ladder with at least MIN_PEERS (default 2) peer columns: every column (the peers', the
stack's) lies inside the window, the page does not scroll sideways, each arrow's label and expectation
stay between the two columns the arrow joins (a teardown arrow's too, and the teardown's title stays
inside its ladder), and the notes beside the stack (app calls, states,
counters) start right of the stack's line and end inside the window. Chromium is driven over its
DevTools pipe (--remote-debugging-pipe: no port, no network), which lays the page out as it shows it
and answers with measured positions; the page itself runs no script. Exit 0 when every check holds,
1 otherwise, one line per broken check.
"""
import json
import os
import subprocess
import sys
import tempfile

WIDTH = 1280
SLACK = 2  # px: rounding of text extents

MEASURE = """JSON.stringify({
  width: innerWidth,
  scroll: document.documentElement.scrollWidth,
  wide: [...document.body.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth &&
    getComputedStyle(e).overflowX == 'visible').slice(0, 3).map(e => e.tagName + ' ' + e.getAttribute('class')),
  ladders: [...document.querySelectorAll('svg.ladder')].map(svg => {
    const box = el => el.getBoundingClientRect();
    const columns = {};
    for (const g of svg.querySelectorAll('g.column'))
      columns[g.dataset.column] = box(g.querySelector('line')).left;
    const arrows = [...svg.querySelectorAll('g.arrow')].map(g => ({
      left: box(g.querySelector('line')).left, right: box(g.querySelector('line')).right,
      texts: [...g.querySelectorAll('text')].map(t => [box(t).left, box(t).right, t.textContent])}));
    const notes = [...svg.querySelectorAll('g.note text')].map(t => [box(t).left, box(t).right, t.textContent]);
    const dividers = [...svg.querySelectorAll('g.teardown-divider text')].map(t => [box(t).left, box(t).right,
      t.textContent]);
    return {run: svg.dataset.run, left: box(svg).left, right: box(svg).right, columns, arrows, notes, dividers};
  })
})"""


class Chromium:
    """A headless Chromium spoken to over its DevTools pipe: fd 3 takes commands, fd 4 gives answers,
    each message JSON ended by a NUL byte."""

    def __init__(self, profile):
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()

        def plumb():
            # Through fresh descriptors first: either end may itself be 3 or 4.
            commands, answers = os.dup(commands_read), os.dup(answers_write)
            os.dup2(commands, 3)
            os.dup2(answers, 4)
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", f"--window-size={WIDTH},1000", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "about:blank"],
            pass_fds=(3, 4), preexec_fn=plumb, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self.pending = b""
        self.last_id = 0

    def send(self, method, params=None, session=None):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        return self.last_id

    def receive(self):
        while b"\0" not in self.pending:
            chunk = os.read(self.answers, 1 << 16)
            if not chunk:
                raise SystemExit("FAIL: chromium closed its DevTools pipe")
            self.pending += chunk
        message, self.pending = self.pending.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None):
        wanted = self.send(method, params, session)
        while True:
            message = self.receive()
            if message.get("id") == wanted:
                if "error" in message:
                    raise SystemExit(f"FAIL: {method}: {message['error']}")
                return message["result"]

    def measure(self, url):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", {}, session)
        self.send("Page.navigate", {"url": url}, session)
        while self.receive().get("method") != "Page.loadEventFired":
            pass
        result = self.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session)
        return json.loads(result["result"]["value"])

    def close(self):
        try:
            self.call("Browser.close")
        finally:
            self.process.wait(timeout=30)


def check(page, min_peers):
    problems, checked = [], 0
    if page["width"] != WIDTH:
        problems.append(f"the window is {page['width']} px wide, not {WIDTH}")
    if page["scroll"] > page["width"]:
        problems.append(f"the page is {page['scroll']} px wide: it scrolls sideways ({page['wide']})")
    for ladder in page["ladders"]:
        name, columns = ladder["run"], ladder["columns"]
        peers = [c for c in columns if c != "stack"]
        if len(peers) < min_peers:
            continue
        checked += 1
        for column, x in columns.items():
            if not 0 <= x <= page["width"]:
                problems.append(f"{name}: column {column} at {x:.0f} px, outside the {page['width']} px window")
        stack = columns.get("stack")
        for arrow in ladder["arrows"]:
            for left, right, text in arrow["texts"]:
                if left < arrow["left"] - SLACK or right > arrow["right"] + SLACK:
                    problems.append(f"{name}: '{text}' spans {left:.0f}-{right:.0f} px, past its arrow's "
                                    f"{arrow['left']:.0f}-{arrow['right']:.0f}")
        for left, right, text in ladder["notes"]:
            if stack is None or left < stack or right > page["width"] + SLACK:
                problems.append(f"{name}: the note '{text}' spans {left:.0f}-{right:.0f} px, not between the "
                                f"stack ({stack}) and the window's edge")
        for left, right, text in ladder["dividers"]:
            if left < ladder["left"] or right > ladder["right"] + SLACK:
                problems.append(f"{name}: the teardown's '{text}' spans {left:.0f}-{right:.0f} px, outside its "
                                f"ladder's {ladder['left']:.0f}-{ladder['right']:.0f}")
        print(f"{name}: columns " + ", ".join(f"{c} {x:.0f}" for c, x in columns.items()) +
              f"; {len(ladder['arrows'])} arrows, {len(ladder['notes'])} note lines")
    return checked, problems


def main():
    report_dir = os.path.abspath(sys.argv[1])
    min_peers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    with tempfile.TemporaryDirectory() as profile:
        chromium = Chromium(profile)
        try:
            page = chromium.measure("file://" + os.path.join(report_dir, "index.html"))
        finally:
            chromium.close()
    checked, problems = check(page, min_peers)
    if checked == 0:
        problems.append(f"no ladder with {min_peers} peers or more to measure")
    for p in problems:
        print("FAIL:", p)
    print(f"ladder fit: {checked} ladders measured at {page['width']} px, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
