#!/usr/bin/env python3
"""Writes the seed corpus in fuzz/corpus/ (deterministic; rerun after changing an input format).

Input formats are described in targets.h. Seeds are small valid (and a few deliberately broken)
requests, so the fuzzers and the unit-test replay start from inputs that reach deep code.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
NEXT, WRITE, INDIRECT = 1, 2, 4
T_IN, T_OUT, T_FLUSH, T_GET_ID = 0, 1, 4, 8


class Ram:
    def __init__(self, size=0x1000):
        self.b = bytearray(size)

    def put(self, addr, data):
        if addr + len(data) > len(self.b):
            self.b.extend(bytes(addr + len(data) - len(self.b)))
        self.b[addr:addr + len(data)] = data

    def desc(self, table, i, addr, length, flags, nxt=0):
        self.put(table + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- chain_walker: [log2 size | indirect << 4][head LE16][RAM from 0, table at 0] ---
def walker(name, log2, indirect, head, ram):
    write("chain_walker", name, bytes([log2 | (0x10 if indirect else 0)]) + struct.pack("<H", head) + bytes(ram.b))


r = Ram(0x800)
r.desc(0, 0, 0x400, 16, NEXT, 1); r.desc(0, 1, 0x500, 512, WRITE | NEXT, 2); r.desc(0, 2, 0x410, 1, WRITE)
walker("three_descriptors", 4, False, 0, r)
r = Ram(0x800)
r.desc(0, 3, 0x300, 48, INDIRECT)
r.desc(0x300, 0, 0x400, 16, NEXT, 1); r.desc(0x300, 1, 0x500, 512, WRITE | NEXT, 2); r.desc(0x300, 2, 0x410, 1, WRITE)
walker("indirect", 4, True, 3, r)
r = Ram(0x100)
r.desc(0, 0, 0x80, 8, NEXT, 1); r.desc(0, 1, 0x88, 8, NEXT, 0)
walker("loop", 3, False, 0, r)
r = Ram(0x100)
r.desc(0, 0, 0x80, 8, WRITE | NEXT, 1); r.desc(0, 1, 0x88, 8, 0)
walker("readable_after_writable", 3, False, 0, r)
r = Ram(0x400)
r.desc(0, 0, 0x200, 16, INDIRECT); r.desc(0x200, 0, 0x300, 16, INDIRECT)
walker("nested_indirect", 2, True, 0, r)
r = Ram(0x100)
r.desc(0, 0, 0xF000, 0x2000, 0)  # runs into the hole after the first RAM region
walker("across_the_hole", 1, False, 0, r)
r = Ram(0x100)
r.desc(0, 0, 0x20000, 0x1000, NEXT, 1); r.desc(0, 1, 0x80, 4, WRITE)  # second region
walker("second_region", 2, False, 0, r)


# --- blk_request: [flags][log2 size][RAM from 0: legacy layout at PFN 0] ---
def layout(size):
    avail = 16 * size
    used = (avail + 6 + 2 * size + 4095) & ~4095
    return 0, avail, used


class Blk:
    def __init__(self, size):
        self.size = size
        self.ram = Ram(0x1000)
        self.desc_base, self.avail, _ = layout(size)
        self.next_desc = 0
        self.idx = 0

    def chain(self, bufs, table=None):
        """bufs: (addr, len, writable); returns the head."""
        if table is not None:
            for i, (a, n, w) in enumerate(bufs):
                last = i + 1 == len(bufs)
                self.ram.desc(table, i, a, n, (WRITE if w else 0) | (0 if last else NEXT), 0 if last else i + 1)
            head = self.next_desc
            self.ram.desc(0, head, table, 16 * len(bufs), INDIRECT)
            self.next_desc += 1
        else:
            head = self.next_desc
            for i, (a, n, w) in enumerate(bufs):
                last = i + 1 == len(bufs)
                self.ram.desc(0, self.next_desc, a, n, (WRITE if w else 0) | (0 if last else NEXT),
                              0 if last else self.next_desc + 1)
                self.next_desc += 1
        self.ram.put(self.avail + 4 + 2 * (self.idx % self.size), struct.pack("<H", head))
        self.idx += 1
        self.ram.put(self.avail + 2, struct.pack("<H", self.idx))
        return head

    def request(self, slot, rtype, sector, data, table=None):
        hdr = 0x100 + 0x20 * slot
        self.ram.put(hdr, struct.pack("<IIQ", rtype, 0, sector))
        self.ram.put(hdr + 16, b"\xee")
        return self.chain([(hdr, 16, False)] + data + [(hdr + 16, 1, True)], table)

    def save(self, name, flags):
        log2 = self.size.bit_length() - 1
        write("blk_request", name, bytes([flags, log2]) + bytes(self.ram.b))


ALL = 0x02 | 0x04 | 0x08 | 0x70  # EVENT_IDX, INDIRECT, FLUSH, 8 slots
for name, rtype, sector, data in [
        ("read", T_IN, 2, [(0x400, 1024, True)]),
        ("write", T_OUT, 3, [(0x400, 1024, False)]),
        ("flush", T_FLUSH, 0, []),
        ("get_id", T_GET_ID, 0, [(0x400, 20, True)]),
        ("unsupported", 2, 0, [(0x400, 512, True)]),
        ("beyond_the_end", T_IN, 127, [(0x400, 1024, True)]),
        ("odd_length", T_OUT, 0, [(0x400, 100, False)]),
]:
    b = Blk(4)
    b.ram.put(0x400, bytes((i * 7) & 0xff for i in range(1024)))
    b.request(0, rtype, sector, data)
    b.save(name, ALL)
b = Blk(4)
b.request(0, T_OUT, 0, [(0x400, 512, False)])
b.save("write_readonly", ALL | 0x01)
b = Blk(8)
b.request(0, T_OUT, 5, [(0x400, 512, False), (0x800, 512, False)], table=0xC00)
b.request(1, T_IN, 5, [(0x600, 1024, True)], table=0xD00)
b.request(2, T_FLUSH, 0, [])
b.request(3, T_GET_ID, 0, [(0xA00, 8, True)])
b.save("mixed_batch_indirect", ALL)
b = Blk(8)
for slot in range(6):
    b.request(slot, T_IN, slot, [(0x400 + 0x200 * slot, 512, True)], table=0x800 + 0x40 * slot)
b.save("throttled_one_slot", 0x02 | 0x04 | 0x08)  # one slot: six requests queue behind it
b = Blk(4)
b.ram.put(0x100, struct.pack("<IIQ", T_OUT, 0, 0))
b.chain([(0x100, 16, False), (0x400, 512, False)])
b.save("no_status_byte", ALL)
b = Blk(4)
b.ram.put(0x100, struct.pack("<IIQ", T_IN, 0, 1))
b.chain([(0x100, 10, False), (0x10A, 6, False), (0x400, 513, True)])
b.save("split_header_shared_status", 0x00)  # no features: write-through, one slot
print("corpus written under", os.path.join(HERE, "corpus"))
