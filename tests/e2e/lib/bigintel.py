#!/usr/bin/python3
"""Intelligence files of N IPv4 /24 relay ranges (PREFIX4.yaml) and N IPv6
/48 ones (PREFIX6.yaml), all distinct: a policy with ~2N prefixes, which
pressure.bats sizes tries with (two files: one would pass the 16 MiB cap
of an intel file). Usage: bigintel.py N PREFIX"""
import sys

n, prefix = int(sys.argv[1]), sys.argv[2]
with open(prefix + "4.yaml", "w") as f:
    f.write("version: 1\nentries:\n")
    for i in range(n):
        a = 11 * 65536 + i  # 11.0.0.0/8 upwards in /24s
        f.write(f"- {{cidr: {a >> 16}.{(a >> 8) & 255}.{a & 255}.0/24, "
                "category: ai-relay, provider: R}\n")
with open(prefix + "6.yaml", "w") as f:
    f.write("version: 1\nentries:\n")
    for i in range(n):
        f.write(f"- {{cidr: \"2001:{0xdb8 + (i >> 16):x}:{i & 0xffff:x}::/48\", "
                "category: ai-relay, "
                "provider: R}\n")
