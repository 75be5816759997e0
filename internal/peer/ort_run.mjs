// Runs an ONNX file with ONNX Runtime (onnxruntime-node, CPU) on one input
// and writes its first output; used by peer.RunORT.
//
// usage: NODE_PATH=<ORTDir>/node_modules node ort_run.mjs MODEL IN.bin DIMS OUT.bin
//   IN.bin: float32 little-endian values of shape DIMS (comma-separated);
//   OUT.bin: the first output's float32 values; prints its dims as JSON.
import { createRequire } from "module";
import fs from "fs";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const [model, inPath, dims, outPath] = process.argv.slice(2);
const shape = dims.split(",").map(Number);
const buf = fs.readFileSync(inPath);
const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"], graphOptimizationLevel: "all" });
const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(data), shape) };
const out = await session.run(feeds);
const y = out[session.outputNames[0]];
fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
console.log(JSON.stringify({ output: session.outputNames[0], dims: y.dims }));
