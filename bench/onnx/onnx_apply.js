// ONNX Runtime's side of bench/run.py's apply-onnx rows (see bench/README.md):
// time one forward pass of the style network exported by
// `torch_feedforward.py onnx` in ONNX Runtime's CPU provider and print one
// JSON line like `torch_feedforward.py apply`.
//
// usage: node bench/onnx/onnx_apply.js --model ONNX --image PPM [--out PPM]
//          [--threads 2] [--warmup 1] [--steps 5]
//
// --image is a binary PPM (P6, maxval 255), as Node reads no PNG; --out gets
// the first (warm-up) pass's output, rounded, for run.py's check.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

function options(argv) {
  const o = { threads: 2, warmup: 1, steps: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!["model", "image", "out", "threads", "warmup", "steps"].includes(key) || i + 1 >= argv.length)
      throw new Error(`onnx_apply.js: bad argument ${argv[i]}`);
    o[key] = ["threads", "warmup", "steps"].includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!o.model || !o.image) throw new Error("usage: onnx_apply.js --model ONNX --image PPM [--out PPM] ...");
  return o;
}

// 1 x 3 x H x W float32 in 0..255, as fast_style.py takes it
function readPpm(path) {
  const buf = fs.readFileSync(path);
  const m = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(buf.subarray(0, 64).toString("latin1"));
  if (!m) throw new Error(`${path}: not a binary PPM with maxval 255`);
  const [w, h] = [Number(m[1]), Number(m[2])];
  const px = buf.subarray(m[0].length), plane = w * h;
  const x = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) x[c * plane + i] = px[3 * i + c];
  return new ort.Tensor("float32", x, [1, 3, h, w]);
}

function writePpm(path, y) {
  const [, , h, w] = y.dims, plane = w * h;
  const px = Buffer.alloc(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) px[3 * i + c] = Math.round(y.data[c * plane + i]);
  fs.writeFileSync(path, Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), px]));
}

async function main() {
  const o = options(process.argv.slice(2));
  const baseline = process.resourceUsage().maxRSS;
  // the thread count of the other sides on one intra-op pool; one graph, so no inter-op threads
  const session = await ort.InferenceSession.create(o.model, {
    executionProviders: ["cpu"], intraOpNumThreads: o.threads, interOpNumThreads: 1,
    executionMode: "sequential", graphOptimizationLevel: "all",
  });
  const x = readPpm(o.image);
  const feeds = { [session.inputNames[0]]: x };
  const pass = async () => (await session.run(feeds))[session.outputNames[0]];
  const first = await pass();
  if (o.out) writePpm(o.out, first);
  for (let i = 1; i < o.warmup; i++) await pass();
  const times = [];
  for (let i = 0; i < o.steps; i++) {
    const t0 = process.hrtime.bigint();
    await pass();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(JSON.stringify({
    side: "onnxruntime", bench: "apply", version: ort.env.versions.node, w: x.dims[3], h: x.dims[2],
    threads: o.threads, maxrss_kb: process.resourceUsage().maxRSS, baseline_kb: baseline, times,
  }));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
