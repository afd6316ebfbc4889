#!/usr/bin/env python3
"""Writes the seeds of fuzz/corpus/snapshot_file/ (deterministic; rerun after changing the format).

The input format is in targets.h (snapshot_file); the snapshot format in src/snapshot/snapshot_file.h,
vcpu_state_codec.cpp and vm_state.cpp. tests/unit/snapshot_fuzz_replay_test.cpp checks that the
valid seeds still decode, so this file cannot drift from the C++ silently.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "snapshot_file")

FILE, FILE_NO_CRC, VCPU, VM, LAYOUT = 0, 1, 2, 3, 4


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def pod(data, size):
    assert len(data) <= size
    return u32(size) + data + bytes(size - len(data))


def cpuid(function, index, flags, eax, ebx, ecx, edx):
    return pod(struct.pack("<7I", function, index, flags, eax, ebx, ecx, edx), 40)


def vcpu_state(mp_state=3, msrs=((0x10, 123456789), (0xc0000082, 0xffffffff81a00000), (0x4b564d01, 0x3001))):
    out = u32(2)
    out += cpuid(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69)  # GenuineIntel
    out += cpuid(1, 0, 0, 0x50657, 0x800, 0x80000001, 0x178bfbff)
    out += u32(2100000)  # TSC kHz
    out += pod(u32(mp_state), 4)
    regs = [0] * 18
    regs[0], regs[16], regs[17] = 0x1111, 0xffffffff81000000, 0x246  # rax, rip, rflags
    out += pod(struct.pack("<18Q", *regs), 144)
    out += pod(b"", 312)  # sregs
    out += pod(struct.pack("<128xH", 0x37f), 416)  # fpu: fcw after the 8 x 16-byte fpr
    out += u32(4096) + bytes(4096)  # xsave
    out += pod(struct.pack("<IIIIQ", 1, 0, 0, 0, 7), 392)  # xcrs: one XCR0 = 7
    out += pod(struct.pack("<6Q", 0x1234, 0, 0, 0, 0xffff0ff0, 0x400), 128)  # debugregs
    out += pod(bytes((i * 3) & 0xff for i in range(1024)), 1024)  # lapic
    out += u32(len(msrs)) + b"".join(u32(i) + u64(v) for i, v in msrs)
    out += pod(struct.pack("<20xI", 4), 64)  # events: flags = VALID_SHADOW
    return out


def irqchip(chip_id, body=b""):
    return pod(struct.pack("<II", chip_id, 0) + body, 520)


def vm_state(ioapic_base=0xfec00000):
    out = irqchip(0, bytes(2) + b"\xfb") + irqchip(1) + irqchip(2, u64(ioapic_base))
    channel = struct.pack("<IHBBBBBBBBBBq", 0x10000, 0, 0, 0, 0, 0, 0, 0, 3, 2, 0, 1, 0)
    out += pod(channel * 3 + u32(1), 112)  # PIT: flags HPET_LEGACY
    out += pod(u64(987654321) + u32(2), 48)  # clock, TSC_STABLE
    return out


def layout(regions):
    return u32(len(regions)) + b"".join(u64(s) + u64(n) for s, n in regions)


def snapshot_body(sections, version=2):
    out = b"KILNSNAP" + u32(version) + u32(len(sections))
    out += u32(12) + b"GenuineIntel" + u32(6) + u32(85) + u32(7) + u32(3) + b"0.1"
    for tag, payload in sections:
        out += u32(tag) + u64(len(payload)) + payload
    return out


def seal(body):
    return body + u32(zlib.crc32(body) & 0xffffffff)


def write(name, mode, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([mode]) + data)


FULL = [(1, b"machine config"), (2, vm_state()), (3, layout([(0, 0xc0000000), (0x100000000, 0x40000000)])),
        (5, b"devices"), (0x100, vcpu_state()), (0x101, vcpu_state(mp_state=1, msrs=()))]

write("file_valid", FILE, seal(snapshot_body(FULL)))
write("file_valid_body", FILE_NO_CRC, snapshot_body(FULL))
write("file_empty", FILE_NO_CRC, snapshot_body([]))
write("file_version_3", FILE, seal(snapshot_body([(2, vm_state())], version=3)))
write("file_version_1", FILE, seal(snapshot_body([(4, b"devices")], version=1)))
write("file_duplicate_section", FILE_NO_CRC, snapshot_body([(2, b"a"), (2, b"b")]))
write("file_vcpu_gap", FILE_NO_CRC, snapshot_body([(0x100, vcpu_state()), (0x102, vcpu_state())]))
write("file_optional_section", FILE_NO_CRC, snapshot_body([(0x80000077, b"x"), (2, vm_state())]))
write("vcpu_valid", VCPU, vcpu_state())
write("vcpu_bad_mp_state", VCPU, vcpu_state(mp_state=77))
write("vm_valid", VM, vm_state())
write("vm_moved_ioapic", VM, vm_state(ioapic_base=0xfee00000))
write("layout_valid", LAYOUT, layout([(0, 0xc0000000), (0x100000000, 0x40000000)]))
write("layout_overlap", LAYOUT, layout([(0, 0x2000), (0x1000, 0x1000)]))
