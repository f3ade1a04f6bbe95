#!/usr/bin/env python3
"""List every ONNX op type used in each .onnx file under the given directories.

No onnx package needed: a minimal protobuf reader walks ModelProto.graph (field 7) →
GraphProto.node (field 1) → NodeProto.op_type (field 4), domain (field 7).
Usage: python3 scripts/onnx_ops.py DIR…   (prints one line per file, then a total count per op)
"""
import collections, os, sys

def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield num, v

def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]; i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i

def ops(path):
    data = open(path, "rb").read()
    counts = collections.Counter()
    for num, graph in fields(data):
        if num != 7:
            continue
        for gnum, node in fields(graph):
            if gnum != 1:
                continue
            op, domain = "?", ""
            for nnum, v in fields(node):
                if nnum == 4: op = v.decode()
                if nnum == 7: domain = v.decode()
            counts[(domain + "::" if domain else "") + op] += 1
    return counts

total = collections.Counter()
for root in sys.argv[1:]:
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if f.endswith(".onnx"):
                c = ops(os.path.join(d, f))
                total.update(c.keys())
                print(os.path.join(d, f) + ": " + ", ".join(f"{k}×{v}" for k, v in sorted(c.items())))
print("op types (number of files using each): " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
