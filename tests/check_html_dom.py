#!/usr/bin/env python3
"""Checks the DOM headless Chromium built from an HTML report against the runs behind it.

usage: check_html_dom.py DOM REPORT_DIR CONSOLE SCREENSHOT [TEARDOWN_RUNS]
  DOM            `chromium --dump-dom` of REPORT_DIR/index.html
  CONSOLE        the harness's console output for the same invocation (PASS/FAIL/SKIP NAME lines)
  SCREENSHOT     Chromium's PNG of the page
  TEARDOWN_RUNS  comma-separated run name prefixes: each such run's teardown must send something (a
                 FIN or RST to a connection its lines left open), which its ladder must draw

It reads the page only through the DOM contract at the top of src/report_html.c. A ladder's arrows
must be its pcap's frames, one for one and in the same directions. The teardown's arrows (what the
stack sent as the harness closed the application's sockets, after the last line) come last, below the
teardown's divider, each marked as teardown (class and label) and never broke, each a frame from the
stack; the pcap may end with more FINs or RSTs from the stack that came after the teardown stopped
listening. Exit status 0 when every check holds, 1 otherwise, with one line per broken check.
"""
import html.parser
import os
import re
import struct
import subprocess
import sys
import urllib.parse

# Elements that load something: a self-contained page has none.
LOADING_TAGS = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "base"}


class Report(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections = {}  # data-run -> {"verdict", "pcap"}
        self.ladders = {}   # data-run -> {"segments", "arrows", "broke", "count"}
        self.ids = set()
        self.fragments = []
        self.loading = []
        self.current_section = None
        self.current_ladder = None
        self.current_column = None
        self.reading_address = False
        self.current_arrow = False
        self.reading_label = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "id" in a:
            self.ids.add(a["id"])
        if tag in LOADING_TAGS:
            self.loading.append(tag)
        href = a.get("href")
        if href is not None and href.startswith("#"):
            self.fragments.append(href[1:])
        if tag == "section" and "run" in classes:
            self.current_section = a["data-run"]
            self.sections[self.current_section] = {"verdict": a["data-verdict"], "pcap": None, "pre": set()}
        elif tag == "pre" and self.current_section:
            self.sections[self.current_section]["pre"].update(classes)
        elif tag == "a" and "pcap" in classes:
            self.sections[self.current_section]["pcap"] = href
        elif tag == "svg" and "ladder" in classes:
            name = a["data-run"]
            ladder = self.ladders.setdefault(name, {"segments": int(a["data-segments"]),
                                                    "teardown": int(a["data-teardown"]), "kinds": [], "broke": 0,
                                                    "count": 0, "section": self.current_section, "stack": "",
                                                    "labels": [], "divider_at": None})
            ladder["count"] += 1
            self.current_ladder = name
        elif tag == "g" and "column" in classes and self.current_ladder:
            self.current_column = a["data-column"]
        elif tag == "text" and "address" in classes and self.current_column == "stack":
            self.reading_address = True
        elif tag == "g" and "teardown-divider" in classes and self.current_ladder:
            ladder = self.ladders[self.current_ladder]
            ladder["divider_at"] = len(ladder["kinds"])
        elif tag == "g" and "arrow" in classes and self.current_ladder:
            ladder = self.ladders[self.current_ladder]
            # The teardown's class and kind go together ("teardown" marks both, or neither), and the
            # teardown is never judged, so never broke.
            marked = ("teardown" in classes) == (a["data-kind"] == "teardown")
            kind = a["data-kind"] if marked and not ("teardown" in classes and "broke" in classes) else "mismarked"
            ladder["kinds"].append(kind)
            ladder["labels"].append("")
            ladder["broke"] += "broke" in classes
            self.current_arrow = True
        elif tag == "text" and "label" in classes and self.current_arrow:
            self.reading_label = True

    def handle_data(self, data):
        if self.reading_address:
            self.ladders[self.current_ladder]["stack"] += data
        if self.reading_label:
            self.ladders[self.current_ladder]["labels"][-1] += data

    def handle_endtag(self, tag):
        if tag == "text":
            self.reading_address = False
            self.reading_label = False
        elif tag == "g":
            self.current_column = None
            self.current_arrow = False
        elif tag == "svg":
            self.current_ladder = None
        elif tag == "section":
            self.current_section = None


def pcap_frames(path):
    """(source address, IPv4 or IPv6, FIN or RST set) of every frame."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=,", "-e", "ip.src", "-e",
                          "ipv6.src", "-e", "tcp.flags.fin", "-e", "tcp.flags.reset"], capture_output=True,
                         text=True, check=True).stdout
    frames = []
    for line in out.splitlines():
        src4, src6, fin, rst = line.split(",")
        frames.append((src4 or src6, fin in ("1", "True") or rst in ("1", "True")))
    return frames


def check_teardown(name, ladder):
    """Problems with how a ladder marks its teardown's arrows: after every other arrow and the divider,
    each labelled as teardown and never broke, as many as data-teardown says."""
    kinds, problems = ladder["kinds"], []
    if "mismarked" in kinds:
        problems.append(f"{name}: an arrow's class and data-kind disagree on whether it is the teardown's, "
                        f"or a teardown arrow is broke")
    teardown = [i for i, kind in enumerate(kinds) if kind == "teardown"]
    if len(teardown) != ladder["teardown"]:
        problems.append(f"{name}: {len(teardown)} teardown arrows, but data-teardown says {ladder['teardown']}")
    if teardown:
        if teardown != list(range(len(kinds) - len(teardown), len(kinds))):
            problems.append(f"{name}: the teardown's arrows {teardown} are not the last of {kinds}")
        if ladder["divider_at"] != teardown[0]:
            problems.append(f"{name}: the teardown's divider is at arrow {ladder['divider_at']}, not above its "
                            f"first arrow ({teardown[0]})")
        labels = [ladder["labels"][i] for i in teardown]
        if not all(label.startswith("teardown: ") for label in labels):
            problems.append(f"{name}: teardown arrows labelled {labels}, not 'teardown: ...'")
    elif ladder["divider_at"] is not None:
        problems.append(f"{name}: a teardown divider without teardown arrows")
    return problems


def compare_with_pcap(name, ladder, frames):
    """Problems between a ladder's arrows and its pcap's frames; prints what it compared."""
    arrows = ladder["kinds"]
    directions = ["segment" if src == ladder["stack"] else "injected" for src, _ in frames]
    late = frames[len(arrows):]
    print(f"{name}: {len(arrows)} arrows ({ladder['broke']} broke, {ladder['teardown']} the teardown's), "
          f"data-segments {ladder['segments']}, {len(frames)} frames ({len(late)} after the arrows)")
    if len(arrows) - ladder["teardown"] != ladder["segments"]:
        return [f"{name}: {len(arrows) - ladder['teardown']} arrows besides the teardown's, but data-segments "
                f"says {ladder['segments']}"]
    drawn = [kind if kind != "teardown" else "segment" for kind in arrows]
    if len(frames) < len(arrows) or directions[:len(arrows)] != drawn:
        return [f"{name}: the arrows {arrows} are not the pcap's frames {directions}"]
    if not all(src == ladder["stack"] and fin_or_rst for src, fin_or_rst in late):
        return [f"{name}: the pcap ends with frames that are no teardown FIN/RST from the stack: {late}"]
    return []


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def main():
    dom_path, report_dir, console_path, screenshot = sys.argv[1:5]
    teardown_runs = [p for p in (sys.argv[5] if len(sys.argv) > 5 else "").split(",") if p]
    problems = []
    dom = open(dom_path, encoding="utf-8").read()
    page = open(os.path.join(report_dir, "index.html"), encoding="utf-8").read()
    report = Report()
    report.feed(dom)

    verdicts = {}
    for line in open(console_path, encoding="utf-8"):
        m = re.match(r"(PASS|FAIL|SKIP|ERROR|FLAKY) (\S+) \(", line)
        if m:
            verdicts[m.group(2)] = m.group(1).lower()
    if not verdicts:
        problems.append("the console output names no run")

    for name, verdict in verdicts.items():
        section = report.sections.get(name)
        if not section:
            problems.append(f"{name}: no section")
            continue
        if section["verdict"] != verdict:
            problems.append(f"{name}: section says {section['verdict']}, the console {verdict}")
        # A harness error in the harness's colour, never as the stack's diagnostic; a flaky run with
        # every try. The stack's own failure is a diagnostic, not a harness error.
        pre = section["pre"]
        if verdict == "error" and ("harness" not in pre or "diagnostic" in pre):
            problems.append(f"{name}: an error, shown with {sorted(pre)}, not as the harness's")
        if verdict == "fail" and ("diagnostic" not in pre or "harness" in pre):
            problems.append(f"{name}: a failure, shown with {sorted(pre)}")
        if verdict == "flaky" and "tries" not in pre:
            problems.append(f"{name}: flaky, yet its tries are not shown")
        ladder = report.ladders.get(name)
        if verdict == "skip":
            if ladder:
                problems.append(f"{name}: skipped, yet it has a ladder")
            continue
        if not ladder or ladder["count"] != 1:
            problems.append(f"{name}: {ladder['count'] if ladder else 0} ladders, expected 1")
            continue
        if ladder["section"] != name:
            problems.append(f"{name}: its ladder is outside its section")
        problems += check_teardown(name, ladder)
        if any(name.startswith(prefix) for prefix in teardown_runs) and ladder["teardown"] == 0:
            problems.append(f"{name}: its teardown sends a FIN or RST, yet its ladder draws no teardown arrow")
        if not section["pcap"]:
            problems.append(f"{name}: no pcap link")
            continue
        pcap = os.path.join(report_dir, urllib.parse.unquote(section["pcap"]))
        if not os.path.isfile(pcap):
            problems.append(f"{name}: the pcap link {section['pcap']} leads nowhere from {report_dir}")
            continue
        # A harness error stopped the case where the harness broke, with what the stack sent next
        # still in the capture: its ladder ends early by design.
        if verdict != "error":
            problems += compare_with_pcap(name, ladder, pcap_frames(pcap))
        if verdict == "fail" and ladder["broke"] == 0:
            problems.append(f"{name}: failed, yet no arrow is broke")
        if verdict in ("pass", "flaky") and ladder["broke"]:
            problems.append(f"{name}: passed, yet {ladder['broke']} arrows are broke")
    for prefix in teardown_runs:
        if not any(name.startswith(prefix) for name in verdicts):
            problems.append(f"no run named {prefix}... to show a teardown")
    for name in report.ladders.keys() - verdicts.keys():
        problems.append(f"{name}: a ladder for a run the console does not name")

    for text, what in ((page, "index.html"), (dom, "the DOM")):
        urls = re.findall(r"https?:[^\s\"'<>)]*", text, re.IGNORECASE)
        if urls:
            problems.append(f"{what} references URLs: {sorted(set(urls))}")
    if report.loading:
        problems.append(f"elements that load something: {sorted(set(report.loading))}")
    for fragment in report.fragments:
        if fragment not in report.ids:
            problems.append(f"link #{fragment} has no target")

    size = png_size(screenshot)
    if not size or 0 in size or os.path.getsize(screenshot) < 10000:
        problems.append(f"{screenshot} is not a real screenshot (PNG size {size})")
    else:
        print(f"screenshot: {size[0]}x{size[1]}, {os.path.getsize(screenshot)} bytes")

    for p in problems:
        print("FAIL:", p)
    print(f"html checks: {len(verdicts)} runs, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
