"""Makes the generated fixtures of this folder (run once; the outputs are committed).

Needs numpy, scipy and onnx (PyPI). Copies of real files (see SOURCES.md) are not touched.
- mat/random_weights_compressed.mat: random_weights.mat re-saved by scipy with zlib
  compression (miCOMPRESSED elements) and a `biases` cell array.
- npz/variants_*.npz: small nets in float32/float64, C/Fortran order, stored/deflated.
- onnx/synthetic_*.onnx: graphs exercising BatchNorm, AveragePool with padding, grouped and
  dilated Conv, Gemm alpha/beta/transA, Pad, Transpose, Div/Sub, LeakyRelu, Sigmoid/Tanh.
- onnx_expected.json: outputs of every ONNX fixture at two seeded inputs, computed by
  onnx.reference.ReferenceEvaluator on a float64 copy of the model (so 1e-9 comparisons hold).
"""
import json
import numpy as np
import scipy.io
import onnx
from onnx import helper, numpy_helper, TensorProto
from onnx.reference import ReferenceEvaluator

rng = np.random.default_rng(7)

# --- .mat with compression and biases
w = scipy.io.loadmat("mat/random_weights.mat")["weights"]
biases = np.empty((1, w.shape[1]), dtype=object)
for k in range(w.shape[1]):
    biases[0, k] = rng.standard_normal((w[0, k].shape[0], 1))
scipy.io.savemat("mat/random_weights_compressed.mat", {"weights": w, "biases": biases}, do_compression=True)

# --- .npz variants: a 3-4-2 net
W1 = rng.standard_normal((4, 3)); b1 = rng.standard_normal(4)
W2 = rng.standard_normal((2, 4)); b2 = rng.standard_normal(2)
np.savez("npz/variants_f64_c.npz", W1=W1, b1=b1, W2=W2, b2=b2)
np.savez_compressed("npz/variants_f32_fortran_deflated.npz",
                    **{"fc1.weight": np.asfortranarray(W1.astype(np.float32)), "fc1.bias": b1.astype(np.float32),
                       "fc2.weight": np.asfortranarray(W2.astype(np.float32)), "fc2.bias": b2.astype(np.float32)})
np.savez("npz/variants_in_out.npz", weights_0=W1.T.copy(), biases_0=b1, weights_1=W2.T.copy(), biases_1=b2)
A = 0.1 * rng.standard_normal((5, 5)); B = rng.standard_normal((5, 3)); C = rng.standard_normal((2, 5))
np.savez("npz/implicit_abcd.npz", A=A, B=B, C=C, D=np.zeros((2, 3)), bias=rng.standard_normal(5))
json.dump({"W1": W1.tolist(), "b1": b1.tolist(), "W2": W2.tolist(), "b2": b2.tolist()},
          open("npz/variants_expected.json", "w"))

# --- synthetic ONNX graphs
def t(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)

def model(nodes, inits, in_shape, out_shape, name, opset=13):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    onnx.save(m, f"onnx/{name}.onnx")

c = 3
model([helper.make_node("Sub", ["x", "mean"], ["a"]),
       helper.make_node("Div", ["a", "std"], ["b"]),
       helper.make_node("Conv", ["b", "k1", "kb1"], ["c"], pads=[1, 0, 2, 1], strides=[2, 1], dilations=[1, 2]),
       helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["d"], epsilon=1e-3),
       helper.make_node("LeakyRelu", ["d"], ["e"], alpha=0.1),
       helper.make_node("Conv", ["e", "k2"], ["f"], group=2, pads=[1, 1, 1, 1]),
       helper.make_node("Relu", ["f"], ["g"]),
       helper.make_node("AveragePool", ["g"], ["h"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
       helper.make_node("Flatten", ["h"], ["i"], axis=1),
       helper.make_node("Gemm", ["i", "fw", "fb"], ["y"], transB=1, alpha=0.5, beta=2.0)],
      [t("mean", rng.standard_normal((c, 1, 1))), t("std", 0.5 + rng.random((1, c, 1, 1))),
       t("k1", rng.standard_normal((4, c, 3, 2))), t("kb1", rng.standard_normal(4)),
       t("s", rng.standard_normal(4)), t("bb", rng.standard_normal(4)), t("m", rng.standard_normal(4)), t("v", rng.random(4) + 0.1),
       t("k2", rng.standard_normal((6, 2, 3, 3))),
       t("fw", rng.standard_normal((5, 6 * 2 * 3))), t("fb", rng.standard_normal(5))],
      [1, c, 7, 6], [1, 5], "synthetic_conv_bn_pool", opset=15)
# (opset 15: the reference evaluator's BatchNormalization for opsets 9-13 uses batch statistics)

model([helper.make_node("Transpose", ["x"], ["a"], perm=[0, 3, 1, 2]),
       helper.make_node("Pad", ["a", "pads", "pv"], ["b"], mode="constant"),
       helper.make_node("GlobalAveragePool", ["b"], ["c"]),
       helper.make_node("Reshape", ["c", "shape"], ["d"]),
       helper.make_node("Transpose", ["d"], ["e"], perm=[1, 0]),
       helper.make_node("MatMul", ["wl", "e"], ["f"]),
       helper.make_node("Tanh", ["f"], ["g"]),
       helper.make_node("Transpose", ["g"], ["h"], perm=[1, 0]),
       helper.make_node("Gemm", ["h", "w2"], ["i"], transA=0),
       helper.make_node("Sigmoid", ["i"], ["y"])],
      [numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 0, 1], dtype=np.int64), "pads"), t("pv", 0.75),
       numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape"),
       t("wl", rng.standard_normal((4, 3))), t("w2", rng.standard_normal((4, 2)))],
      [1, 5, 4, 3], [1, 2], "synthetic_layout")

# A residual connection and a Softmax, for refusal messages.
model([helper.make_node("MatMul", ["x", "w"], ["a"], name="lin"),
       helper.make_node("Relu", ["a"], ["b"], name="act"),
       helper.make_node("Add", ["a", "b"], ["y"], name="skip")],
      [t("w", np.eye(3))], [1, 3], [1, 3], "synthetic_residual")
model([helper.make_node("MatMul", ["x", "w"], ["a"]), helper.make_node("Softmax", ["a"], ["y"], name="probs")],
      [t("w", np.eye(3))], [1, 3], [1, 3], "synthetic_softmax")

# --- expected outputs in float64
def as_double(m):
    m = onnx.load(m) if isinstance(m, str) else m
    for init in m.graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float64), init.name))
    for node in m.graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64)))
    for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.DOUBLE
    return m

import glob, os
expected = {}
for path in sorted(glob.glob("onnx/*.onnx")):
    name = os.path.basename(path)
    if "residual" in name or "softmax" in name or "mp1" in name:
        continue
    m = as_double(path)
    inits = {i.name for i in m.graph.initializer}
    inp = [i for i in m.graph.input if i.name not in inits][0]
    shape = [d.dim_value if d.dim_value > 0 else 1 for d in inp.type.tensor_type.shape.dim]
    ev = ReferenceEvaluator(m)
    cases = []
    for k in range(2):
        x = rng.uniform(-1, 1, size=shape)
        y = ev.run(None, {inp.name: x})[0]
        cases.append({"input": x.reshape(-1).tolist(), "output": np.asarray(y, dtype=np.float64).reshape(-1).tolist()})
    expected[name] = cases
json.dump(expected, open("onnx_expected.json", "w"))
print("ok", list(expected))

# --- GLipSDP cnn2 seed0: forward passes by the documented PyTorch semantics (independent of
# the Swift reader): conv (kh, kw, c_in, c_out), stride 1, pad 1, ReLU, (C, H, W) flatten,
# fc (in, out).
d = scipy.io.loadmat("mat/cnn2_seed0_weights.mat")
k = d["conv1_weight"].astype(np.float64); kb = d["conv1_bias"].astype(np.float64).reshape(-1)
fw = d["fc1_weight"].astype(np.float64); fb = d["fc1_bias"].astype(np.float64).reshape(-1)
cases = []
for _ in range(3):
    x = rng.uniform(-2, 2, size=(1, 8, 8))
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    h = np.zeros((k.shape[3], 8, 8))
    for o in range(k.shape[3]):
        for yy in range(8):
            for xx in range(8):
                h[o, yy, xx] = kb[o] + np.sum(k[:, :, :, o].transpose(2, 0, 1) * xp[:, yy:yy + 3, xx:xx + 3])
    h = np.maximum(h, 0).reshape(-1)
    cases.append({"input": x.reshape(-1).tolist(), "output": (h @ fw + fb).tolist()})
json.dump({"cnn2_seed0_weights.mat": cases}, open("mat/cnn2_expected.json", "w"))
print("cnn2 ok")

# --- tiny seeds for the mutation fuzz tests (small inputs keep 10^5 mutations fast)
tw = np.empty((1, 2), dtype=object); tb = np.empty((1, 2), dtype=object)
tw[0, 0] = rng.standard_normal((3, 2)); tw[0, 1] = rng.standard_normal((2, 3))
tb[0, 0] = rng.standard_normal((3, 1)); tb[0, 1] = rng.standard_normal((2, 1))
scipy.io.savemat("mat/tiny_weights_compressed.mat", {"weights": tw, "biases": tb}, do_compression=True)
scipy.io.savemat("mat/tiny_weights.mat", {"weights": tw})
scipy.io.savemat("mat/tiny_glipsdp.mat", {"conv1_weight": rng.standard_normal((3, 3, 1, 2)).astype(np.float32),
                                          "conv1_bias": rng.standard_normal((1, 2)).astype(np.float32),
                                          "fc1_weight": rng.standard_normal((8, 2)).astype(np.float32),
                                          "input_mean": np.zeros((1, 4), dtype=np.float32)})
print("tiny ok")
