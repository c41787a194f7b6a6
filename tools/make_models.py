#!/usr/bin/env python3
"""Generate the project's own example models under models/ (dev only).

Needs the packages in tools/requirements-models.txt (tensorflow-cpu, scikit-learn);
never imported by the harness or the tests, which only read the committed outputs.

    python tools/make_models.py [--out models]            # needs TensorFlow
    python tools/make_models.py --verify [--out models]   # tflite-runtime + TFLM only

Writes:
  digits_float.tflite / digits_int8.tflite  small CNN on sklearn's 8x8 digits
  digits_test.npz                           held-out labelled split (x, x_int8, y)
  ops/<op>.tflite                           one tiny int8 model per firmware operator
  README.md                                 ops, IO, quantisation, sha256 of every file

Everything is seeded (two runs give byte-identical files with the pinned versions). The
converter emits the lowest op version each op needs (CONV_2D v3, FULLY_CONNECTED v4, …),
so the models also load in tflite-runtime 2.14 and in the TFLM interpreter.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402

tf = None  # imported in main(): --verify must run where TensorFlow is not installed

SEED = 0
TEST_FRACTION = 0.3
REPR_SAMPLES = 200


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # older TF: best effort
        pass


# --------------------------------------------------------------------------- conversion
def convert(concrete_fn, representative, *, int8: bool = True,
            in_type="int8", out_type="int8") -> bytes:
    """Convert one concrete function; full-integer int8 unless int8=False.

    No trackable_obj on purpose: that path keeps Keras weights as resource variables
    (READ_VARIABLE ops) and calibration fails; without it the graph is frozen first.
    """
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete_fn])
    if int8:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.as_dtype(in_type)
        conv.inference_output_type = tf.as_dtype(out_type)
    return conv.convert()


def op_names(model: bytes) -> list[str]:
    it = tf.lite.Interpreter(model_content=model)
    return [d["op_name"] for d in it._get_ops_details()]


def op_summary(model: bytes) -> list[str]:
    """'CONV_2D v3 (SAME s2 RELU6)' per operator, read from the flatbuffer itself."""
    from tensorflow.lite.python import schema_py_generated as fb

    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    acts = {v: k for k, v in vars(fb.ActivationFunctionType).items()
            if not k.startswith("_")}
    m = fb.ModelT.InitFromPackedBuf(model, 0)
    out = []
    for op in m.subgraphs[0].operators:
        code = m.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        o = vars(op.builtinOptions) if op.builtinOptions is not None else {}
        extra = []
        if "padding" in o:
            extra.append("SAME" if o["padding"] == fb.Padding.SAME else "VALID")
        if "strideW" in o:
            extra.append(f"s{o['strideH']}x{o['strideW']}")
        if "filterWidth" in o:
            extra.append(f"k{o['filterHeight']}x{o['filterWidth']}")
        if o.get("depthMultiplier", 0) > 1:
            extra.append(f"dm{o['depthMultiplier']}")
        if o.get("fusedActivationFunction"):
            extra.append(acts[o["fusedActivationFunction"]])
        tail = f" ({' '.join(extra)})" if extra else ""
        out.append(f"{names[builtin]} v{code.version}{tail}")
    return out


def io_details(model: bytes):
    it = tf.lite.Interpreter(model_content=model)
    return it.get_input_details(), it.get_output_details()


# --------------------------------------------------------------------------- digits
def load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[..., None]  # [N,8,8,1] in [0,1]
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=TEST_FRACTION, random_state=SEED,
                            stratify=y)


def build_digits_model():
    k = tf.keras.layers
    inp = k.Input(shape=(8, 8, 1), name="image")
    h = k.Conv2D(8, 3, padding="same", activation="relu6", name="conv")(inp)
    h = k.DepthwiseConv2D(3, padding="same", activation="relu", name="dwconv")(h)
    h = k.Conv2D(16, 1, activation="relu", name="pwconv")(h)
    h = k.MaxPooling2D(2, name="pool")(h)
    h = k.Flatten(name="flatten")(h)
    h = k.Dense(32, activation="relu", name="fc1")(h)
    h = k.Dense(10, name="logits")(h)
    out = k.Softmax(name="probs")(h)
    return tf.keras.Model(inp, out, name="digits")


def train_digits(x_tr, y_tr):
    seed_everything()
    model = build_digits_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=60, batch_size=32, shuffle=True, verbose=0)
    return model


def digits_models(out: Path) -> dict:
    x_tr, x_te, y_tr, y_te = load_digits_split()
    model = train_digits(x_tr, y_tr)

    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, 8, 8, 1], tf.float32, name="image"))

    def representative():
        for i in range(min(REPR_SAMPLES, len(x_tr))):
            yield [x_tr[i:i + 1]]

    f32 = convert(fn, None, int8=False)
    i8 = convert(fn, representative)
    (out / "digits_float.tflite").write_bytes(f32)
    (out / "digits_int8.tflite").write_bytes(i8)

    (inp,), _ = io_details(i8)
    scale, zp = inp["quantization"]
    x_q = np.clip(np.round(x_te / scale) + zp, -128, 127).astype(np.int8)
    np.savez_compressed(out / "digits_test.npz", x=x_te.astype(np.float32),
                        x_int8=x_q, y=y_te.astype(np.int64))
    return {"float": accuracy(f32, x_te, y_te), "int8": accuracy(i8, x_q, y_te),
            "n_test": int(len(y_te)), "n_train": int(len(y_tr))}


def accuracy(model: bytes, x, y) -> float:
    it = tf.lite.Interpreter(model_content=model)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    hits = 0
    for xi, yi in zip(x, y):
        it.set_tensor(i, xi[None])
        it.invoke()
        hits += int(np.argmax(it.get_tensor(o)[0]) == yi)
    return hits / len(y)


# --------------------------------------------------------------------------- op models
def _w(rng, *shape, scale=0.5):
    return tf.constant(rng.uniform(-scale, scale, size=shape).astype(np.float32))


def _rep(shapes_ranges, n=64, seed=SEED):
    """Representative dataset: uniform samples per input, each with its own range."""
    def gen():
        rng = np.random.default_rng(seed)
        for _ in range(n):
            yield [rng.uniform(lo, hi, size=s).astype(np.float32)
                   for s, (lo, hi) in shapes_ranges]
    return gen


def op_specs():
    """name -> (function, [(shape, (lo, hi)) per input], convert kwargs, required ops)."""
    rng = np.random.default_rng(SEED)
    specs = {}

    def add(name, fn, inputs, required, **kw):
        specs[name] = (fn, inputs, kw, required)

    w = _w(rng, 3, 3, 3, 4)
    b = _w(rng, 4)
    add("conv2d_same_s2",
        lambda x: tf.nn.relu6(tf.nn.conv2d(x, w, 2, "SAME") + b),
        [([1, 8, 8, 3], (-1, 1))], ["CONV_2D"])
    w2 = _w(rng, 3, 3, 3, 4)
    b2 = _w(rng, 4)
    add("conv2d_valid_s1",
        lambda x: tf.nn.relu(tf.nn.conv2d(x, w2, 1, "VALID") + b2),
        [([1, 8, 8, 3], (-1, 1))], ["CONV_2D"])
    wd = _w(rng, 3, 3, 4, 2)
    bd = _w(rng, 8)
    add("depthwise_conv2d",
        lambda x: tf.nn.depthwise_conv2d(x, wd, [1, 1, 1, 1], "SAME") + bd,
        [([1, 6, 6, 4], (-1, 1))], ["DEPTHWISE_CONV_2D"])
    wf = _w(rng, 16, 8)
    bf = _w(rng, 8)
    add("fully_connected", lambda x: tf.matmul(x, wf) + bf,
        [([1, 16], (-1, 1))], ["FULLY_CONNECTED"])
    add("average_pool_2d", lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID"),
        [([1, 8, 8, 4], (-1, 1))], ["AVERAGE_POOL_2D"])
    add("max_pool_2d", lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"),
        [([1, 8, 8, 4], (-1, 1))], ["MAX_POOL_2D"])
    add("add", lambda a, c: a + c,
        [([1, 4, 4, 8], (-1, 1)), ([1, 1, 1, 8], (-3, 3))], ["ADD"])
    add("mul", lambda a, c: a * c,
        [([1, 4, 4, 8], (-1, 1)), ([1, 1, 1, 8], (-3, 3))], ["MUL"])
    add("reshape", lambda x: tf.reshape(x, [1, 32]),
        [([1, 4, 4, 2], (-1, 1))], ["RESHAPE"])
    add("softmax", lambda x: tf.nn.softmax(x),
        [([1, 10], (-4, 4))], ["SOFTMAX"])
    add("logistic", lambda x: tf.sigmoid(x),
        [([1, 16], (-6, 6))], ["LOGISTIC"])
    add("pad", lambda x: tf.pad(x, [[0, 0], [1, 1], [2, 0], [0, 0]]),
        [([1, 4, 4, 3], (-1, 1))], ["PAD"])
    add("mean", lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=True),
        [([1, 4, 4, 8], (-1, 1))], ["MEAN"])
    add("concatenation", lambda a, c: tf.concat([a, c], axis=3),
        [([1, 4, 4, 4], (-1, 1)), ([1, 4, 4, 2], (-1, 1))], ["CONCATENATION"])
    # float32 in -> QUANTIZE -> int8 graph -> int8 out
    add("quantize", lambda x: tf.reshape(x, [1, 4, 4]),
        [([1, 16], (-1, 1))], ["QUANTIZE"], in_type="float32")
    # int8 in -> ... -> DEQUANTIZE -> float32 out
    add("dequantize", lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"),
        [([1, 4, 4, 2], (-1, 1))], ["DEQUANTIZE"], out_type="float32")
    # int8 -> int8 requantise: LOGISTIC's output scale is fixed (1/256, zp -128) and
    # CONCATENATION needs one scale, so the converter inserts a QUANTIZE between them.
    add("requantize", lambda a: tf.concat([tf.sigmoid(a), a], axis=1),
        [([1, 8], (-8, 8))], ["QUANTIZE", "LOGISTIC", "CONCATENATION"])
    return specs


def op_models(out: Path) -> dict:
    d = out / "ops"
    d.mkdir(parents=True, exist_ok=True)
    missing = {}
    for name, (fn, inputs, kw, required) in op_specs().items():
        sig = [tf.TensorSpec(s, tf.float32, name=f"in{i}") for i, (s, _) in enumerate(inputs)]
        cf = tf.function(fn).get_concrete_function(*sig)
        model = convert(cf, _rep(inputs), **kw)
        ops = op_names(model)
        lacking = [r for r in required if r not in ops]
        if lacking:
            missing[name] = (lacking, ops)
        (d / f"{name}.tflite").write_bytes(model)
    return missing


# --------------------------------------------------------------------------- README
def describe(path: Path) -> str:
    b = path.read_bytes()
    ins, outs = io_details(b)

    def fmt(t):
        s, z = t["quantization"]
        q = f"scale={s:.6g} zp={z}" if s else "not quantised"
        return f"{np.dtype(t['dtype']).name}{[int(v) for v in t['shape']]} ({q})"

    return (f"| `{path.relative_to(path.parents[1] if path.parent.name == 'ops' else path.parent)}` "
            f"| {len(b)} | {', '.join(op_summary(b))} | {'; '.join(fmt(t) for t in ins)} "
            f"| {'; '.join(fmt(t) for t in outs)} | `{hashlib.sha256(b).hexdigest()}` |")


def write_readme(out: Path, acc: dict, missing: dict) -> None:
    files = sorted(out.glob("*.tflite")) + sorted((out / "ops").glob("*.tflite"))
    npz = out / "digits_test.npz"
    rows = "\n".join(describe(p) for p in files)
    text = f"""# models/ — the project's own example models

Generated by `tools/make_models.py` (run `make models`, i.e. `python tools/make_models.py`,
in a venv with `pip install -r tools/requirements-models.txt`), then checked with
`python tools/make_models.py --verify` in the harness's own environment (tflite-runtime +
tflite-micro, no TensorFlow). Dev-only: the harness and the tests only read these
committed files. Seeds are fixed (`SEED = {SEED}`); converter
output can still differ in bytes across TensorFlow versions, so the sha256 below is the
one of the committed files, produced with TensorFlow {tf.__version__}.

All int8 models are full-integer post-training quantised (per-channel weights, the
converter default) with int8 input and output unless the table says otherwise. Every model
here was checked (`--verify`) to load and run in tflite-runtime 2.14 (default optimised kernels and
`BUILTIN_REF`) and in the TFLM Python interpreter on seeded random inputs: TFLM and
`BUILTIN_REF` agree bit-exactly on all of them, and the optimised kernels agree with both
except `ops/mean.tflite` (max 1 LSB: tflite-runtime's optimised MEAN rounds differently) —
a real, expected drift the harness should report, not a bug in the model.

## digits (scikit-learn `load_digits`, 8×8 grayscale, 10 classes)

- Input: `image` [1,8,8,1], float range [0,1] = pixel / 16. Output: softmax probabilities [1,10].
- Net: Conv2D(8,3,same,relu6) → DepthwiseConv2D(3,same,relu) → Conv2D(16,1,relu) →
  MaxPool(2) → Flatten → Dense(32,relu) → Dense(10) → Softmax; Adam, 60 epochs.
- Split: stratified `train_test_split(test_size={TEST_FRACTION}, random_state={SEED})`:
  {acc['n_train']} train / {acc['n_test']} test. The int8 representative dataset is the
  first {REPR_SAMPLES} training images.
- Test accuracy: float **{acc['float'] * 100:.2f} %**, int8 **{acc['int8'] * 100:.2f} %**
  (TensorFlow's interpreter at generation; `--verify` recomputes both in tflite-runtime
  and TFLM).
- `digits_test.npz`: `x` float32 [N,8,8,1] (pixel/16), `x_int8` int8 [N,8,8,1] quantised
  with `digits_int8.tflite`'s input scale/zero point, `y` int64 [N];
  sha256 `{hashlib.sha256(npz.read_bytes()).hexdigest()}`, {npz.stat().st_size} bytes.

## ops/ — one tiny model per firmware operator

Each model contains the operator it is named after (checked after conversion with the
interpreter's op list). `conv2d_same_s2` carries a fused RELU6, `conv2d_valid_s1` a fused
RELU. `add`/`mul` broadcast [1,4,4,8] with [1,1,1,8] and their inputs have different
scales. `quantize` has a float32 input (its first op is QUANTIZE); `dequantize` has a float32
output (its last op is DEQUANTIZE); `requantize` contains an int8→int8 QUANTIZE that the
converter inserts between LOGISTIC (fixed output scale 1/256) and CONCATENATION (one scale
on all its inputs and output).
{missing_text(missing)}
## Files

| file | bytes | ops (execution order, version, options) | inputs | outputs | sha256 |
|---|---|---|---|---|---|
{rows}
"""
    (out / "README.md").write_text(text)


def missing_text(missing: dict) -> str:
    if not missing:
        return ""
    lines = ["", "**Operators not produced** (the converter removed or fused them):", ""]
    for name, (lacking, ops) in missing.items():
        lines.append(f"- `{name}`: wanted {', '.join(lacking)}, got {', '.join(ops)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- verify
def _run_all(make, model: bytes, inputs):
    it = make(model)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).astype(np.float64) for d in it.get_output_details()]


def _random_inputs(interp, rng):
    out = []
    for d in interp.get_input_details():
        if d["dtype"] == np.int8:
            out.append(rng.integers(-128, 128, size=d["shape"]).astype(np.int8))
        else:
            out.append(rng.uniform(-1, 1, size=d["shape"]).astype(np.float32))
    return out


def verify(out: Path) -> int:
    """Run every model in tflite-runtime (optimised and BUILTIN_REF) and in TFLM.

    Needs tflite-runtime and tflite-micro, not TensorFlow. Returns the number of failures.
    """
    from tflite_runtime.interpreter import Interpreter, OpResolverType
    from tflite_micro.python.tflite_micro import runtime as tflm

    def ref(b):
        return Interpreter(model_content=b,
                           experimental_op_resolver_type=OpResolverType.BUILTIN_REF)

    def micro(b, inputs):
        m = tflm.Interpreter.from_bytes(b)
        for i, x in enumerate(inputs):
            m.set_input(x, i)
        m.invoke()
        n = len(Interpreter(model_content=b).get_output_details())
        return [m.get_output(i).astype(np.float64) for i in range(n)]

    failures = 0
    for p in sorted(out.glob("*.tflite")) + sorted((out / "ops").glob("*.tflite")):
        b = p.read_bytes()
        try:
            xs = _random_inputs(Interpreter(model_content=b), np.random.default_rng(SEED))
            opt = _run_all(lambda m: Interpreter(model_content=m), b, xs)
            r, u = _run_all(ref, b, xs), micro(b, xs)
            dev = [max(float(np.abs(a - c).max()) for a, c in zip(x, y))
                   for x, y in ((opt, r), (r, u))]
            print(f"ok   {p.name:28s} max|opt-ref| {dev[0]:g}  max|ref-tflm| {dev[1]:g}")
        except Exception as e:  # report every model, then fail
            failures += 1
            print(f"FAIL {p.name}: {type(e).__name__}: {e}")
    failures += _verify_digits(out, Interpreter, tflm)
    return failures


def _verify_digits(out: Path, Interpreter, tflm) -> int:
    d = np.load(out / "digits_test.npz")
    for name, x in (("digits_float", d["x"]), ("digits_int8", d["x_int8"])):
        b = (out / f"{name}.tflite").read_bytes()
        it, m = Interpreter(model_content=b), tflm.Interpreter.from_bytes(b)
        it.allocate_tensors()
        i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
        hits = np.zeros(2)
        for xi, yi in zip(x, d["y"]):
            it.set_tensor(i, xi[None])
            it.invoke()
            m.set_input(xi[None], 0)
            m.invoke()
            hits += [np.argmax(it.get_tensor(o)) == yi, np.argmax(m.get_output(0)) == yi]
        acc = hits / len(x)
        print(f"acc  {name:28s} tflite-runtime {acc[0]:.4f}  tflm {acc[1]:.4f}")
        if acc.min() < 0.9:
            return 1
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[1] / "models")
    ap.add_argument("--verify", action="store_true",
                    help="only run the existing models in tflite-runtime and TFLM "
                         "(needs tflite-runtime + tflite-micro, not TensorFlow)")
    args = ap.parse_args()
    if args.verify:
        raise SystemExit(1 if verify(args.out) else 0)
    global tf
    import tensorflow
    tf = tensorflow
    args.out.mkdir(parents=True, exist_ok=True)
    seed_everything()
    acc = digits_models(args.out)
    print(f"digits: float {acc['float']:.4f}  int8 {acc['int8']:.4f}  (n={acc['n_test']})")
    missing = op_models(args.out)
    for name, (lacking, ops) in missing.items():
        print(f"WARNING {name}: {lacking} not in {ops}")
    write_readme(args.out, acc, missing)


if __name__ == "__main__":
    main()
