// onnx.pb.swift is generated code, committed so that builds never need protoc or the
// protoc-gen-swift plugin. It was generated once, from onnx/onnx.proto of the onnx 1.23.2
// PyPI wheel (IR version 12, proto2, package onnx), with protoc 3.21.12 and protoc-gen-swift
// from swift-protobuf 1.39.0:
//
//   protoc --plugin=protoc-gen-swift=PATH/TO/protoc-gen-swift \
//          --swift_out=Visibility=Public:OUT --proto_path=DIR_WITH_onnx/ onnx/onnx.proto
//
// To regenerate (for a newer opset's fields), build protoc-gen-swift in a scratch directory
// outside this repository, run the command above and replace onnx.pb.swift. Do not edit it.
