#!/usr/bin/env python3
"""Resident pages of a running binary, by ELF section (issue 20): reads /proc/PID/pagemap (root)
for the mappings of BINARY and maps each present page to the `readelf -S` section it lies in.
Usage: sudo python3 Benchmarks/resident_sections.py PID BINARY"""
import struct, subprocess, sys, re
pid, binary = int(sys.argv[1]), sys.argv[2]
secs = []
for line in subprocess.run(["readelf", "-S", "-W", binary], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
    if m:
        name, addr, off, size = m.group(1), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)
        if addr and size: secs.append((addr, addr + size, name))
base = None
maps = []
for line in open(f"/proc/{pid}/maps"):
    p = line.split()
    if len(p) >= 6 and p[5].endswith(binary.split("/")[-1]):
        a, b = (int(x, 16) for x in p[0].split("-"))
        off = int(p[2], 16)
        if base is None: base = a - off
        maps.append((a, b, p[1]))
pm = open(f"/proc/{pid}/pagemap", "rb")
count = {}
for a, b, perm in maps:
    pm.seek(a // 4096 * 8)
    data = pm.read((b - a) // 4096 * 8)
    for i in range((b - a) // 4096):
        entry = struct.unpack_from("<Q", data, i * 8)[0]
        if entry >> 63 & 1:
            vaddr = a + i * 4096 - base
            name = next((n for s, e, n in secs if s <= vaddr < e), "?")
            count[(name, perm)] = count.get((name, perm), 0) + 1
for (name, perm), n in sorted(count.items(), key=lambda x: -x[1])[:15]:
    print(f"{n*4/1024:7.1f} MiB  {perm}  {name}")
