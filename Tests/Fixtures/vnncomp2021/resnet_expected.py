# Expected outputs of resnet_2b.onnx (VNN-COMP 2021 cifar10_resnet) at two seeded inputs, by
# the ONNX reference evaluator (onnx.reference, float64 copies of the weights) — independent of
# lipscope's importer. Run from this directory: python3 resnet_expected.py
import json
import numpy as np
import onnx
from onnx import TensorProto, numpy_helper
from onnx.reference import ReferenceEvaluator

m = onnx.load("resnet_2b.onnx")
for init in m.graph.initializer:
    if init.data_type == TensorProto.FLOAT:
        init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float64), init.name))
for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
    if v.type.tensor_type.elem_type == TensorProto.FLOAT:
        v.type.tensor_type.elem_type = TensorProto.DOUBLE
ev = ReferenceEvaluator(m)
rng = np.random.default_rng(20261206)
cases = []
for _ in range(2):
    x = rng.uniform(0, 1, size=(1, 3, 32, 32))
    y = ev.run(None, {m.graph.input[0].name: x})[0]
    cases.append({"input": x.reshape(-1).tolist(), "output": np.asarray(y, dtype=np.float64).reshape(-1).tolist()})
json.dump({"resnet_2b.onnx": cases}, open("resnet_expected.json", "w"))
print([c["output"][:3] for c in cases])
