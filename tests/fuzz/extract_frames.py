#!/usr/bin/env python3
"""Writes frames of the given pcap files (classic format, micro- or nanosecond stamps, either byte
order) to OUT_DIR, one raw file per frame named by its SHA-1: seeds for fuzz_segment_decode.
Only the first frame of each shape is kept (TCP flags, option kinds in order, payload or not), so a
whole catalogue's captures give a few dozen seeds that differ where the decoder branches, not
hundreds that differ only in numbers. Usage: extract_frames.py OUT_DIR FILE.pcap..."""
import hashlib
import os
import struct
import sys

MAGICS = {0xA1B2C3D4, 0xA1B23C4D}  # microsecond, nanosecond


def frames(path):
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) < 24:
            raise SystemExit(f"{path}: not a pcap file (short header)")
        for order in ("<", ">"):
            if struct.unpack(order + "I", header[:4])[0] in MAGICS:
                break
        else:
            raise SystemExit(f"{path}: not a classic pcap file")
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            caplen = struct.unpack(order + "IIII", record)[2]
            data = f.read(caplen)
            if len(data) < caplen:
                raise SystemExit(f"{path}: truncated record")
            yield data


def shape(frame):
    """(IP version, flags, option kinds, has payload) of an Ethernet/IPv4/TCP or Ethernet/IPv6/TCP frame
    (no extension headers); the frame itself otherwise."""
    if len(frame) >= 54 and frame[12:14] == b"\x86\xdd" and frame[20] == 6:
        version, tcp = 6, frame[54:54 + struct.unpack(">H", frame[18:20])[0]]
    elif len(frame) >= 34 and frame[12:14] == b"\x08\x00":
        ihl = (frame[14] & 0x0F) * 4
        total = struct.unpack(">H", frame[16:18])[0]
        version, tcp = 4, frame[14 + ihl:14 + total]
    else:
        return frame
    if len(tcp) < 20:
        return frame
    offset = (tcp[12] >> 4) * 4
    options, kinds, at = tcp[20:offset], [], 0
    while at < len(options) and options[at] != 0:
        kinds.append(options[at])
        at += 1 if options[at] == 1 else max(2, options[at + 1] if at + 1 < len(options) else 2)
    return (version, tcp[13], tuple(kinds), len(tcp) > offset)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen, written = set(), 0
    for path in sys.argv[2:]:
        for data in frames(path):
            key = shape(data)
            if key in seen:
                continue
            seen.add(key)
            name = os.path.join(out, hashlib.sha1(data).hexdigest())
            if not os.path.exists(name):
                with open(name, "wb") as f:
                    f.write(data)
                written += 1
    print(f"{written} new frames in {out}")


if __name__ == "__main__":
    main()
