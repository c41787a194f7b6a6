#!/usr/bin/env python3
"""The conversion side of `harness recipes`: one Keras model -> fp32, fp16, dynamic-range,
int8 PTQ, 16x8 PTQ and int8 QAT .tflite files, each with its converter settings recorded.

Runs in the TensorFlow venv (.venv-recipes, tools/requirements-recipes.txt), as a child process
of the harness, which never imports TensorFlow itself:

    python tools/recipes_convert.py --out DIR --digits
    python tools/recipes_convert.py --out DIR --keras model.keras --train train.npz --eval eval.npz

Writes DIR/<recipe>.tflite, DIR/recipes.json (settings, sizes, TensorFlow's own interpreter's
accuracy on the evaluation set, errors per recipe) and, with --digits, DIR/eval.npz (x, y).
A recipe that cannot be made (QAT of a Keras 3 model, say) is recorded with its reason and the
others go on. Exit 2 with one line on bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.keras = tf_keras: what tfmot's QAT needs
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402

RECIPES = ("fp32", "fp16", "dynamic_range", "int8", "int16x8", "int8_qat")
REPR_SAMPLES = 200
tf = None  # imported in main(): --help works without TensorFlow


class BadInput(Exception):
    """One line for the user, exit 2."""


def load_xy(path: Path, what: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        d = np.load(path)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read the {what} (.npz with x and y): {e}") from None
    if "x" not in d or "y" not in d:
        raise BadInput(f"{path}: the {what} needs arrays x (float inputs) and y (labels); has {', '.join(d.files)}")
    x, y = np.asarray(d["x"], np.float32), np.asarray(d["y"]).reshape(-1)
    if len(x) != len(y) or not len(x):
        raise BadInput(f"{path}: {len(x)} samples and {len(y)} labels")
    return x, y.astype(np.int64)


def digits_model(out: Path):
    """tools/make_models.py's digits network, trained by its own code under tf_keras; its test
    split is written as the evaluation set."""
    import make_models  # a sibling script: this one runs as `python tools/recipes_convert.py` in the TF venv

    make_models.tf = tf
    x_tr, x_te, y_tr, y_te = make_models.load_digits_split()
    model = make_models.train_digits(x_tr, y_tr)
    np.savez_compressed(out / "eval.npz", x=x_te.astype(np.float32), y=y_te.astype(np.int64))
    return model, (x_tr, y_tr), (x_te, y_te), "tools/make_models.py digits (trained under tf_keras)"


def keras_model(path: Path):
    """A tf_keras model when the file allows it (QAT needs one), else Keras 3 (QAT refused)."""
    if not path.exists():
        raise BadInput(f"{path}: model not found (.keras, .h5 or a SavedModel folder)")
    try:
        return tf.keras.models.load_model(path, compile=False), "tf_keras"
    except Exception as legacy_error:  # a Keras 3 file, say
        try:
            import keras

            return keras.models.load_model(path, compile=False), "keras3"
        except Exception as e:
            raise BadInput(f"{path}: neither tf_keras nor Keras 3 can load it ({_line(e)}; {_line(legacy_error)})") \
                from None


def _line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[-1][:200]


def concrete(model, shape):
    """A frozen concrete function with batch 1 (the calibration path needs frozen weights)."""
    return tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, *shape], tf.float32, name="input"))


SETTINGS = {  # recipe -> converter settings, as recorded in recipes.json
    "fp32": {},
    "fp16": {"optimizations": ["DEFAULT"], "target_spec.supported_types": ["float16"]},
    "dynamic_range": {"optimizations": ["DEFAULT"]},
    "int8": {"optimizations": ["DEFAULT"], "representative_dataset": REPR_SAMPLES,
             "target_spec.supported_ops": ["TFLITE_BUILTINS_INT8"], "inference_input_type": "int8",
             "inference_output_type": "int8"},
    "int16x8": {"optimizations": ["DEFAULT"], "representative_dataset": REPR_SAMPLES,
                "target_spec.supported_ops": ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"],
                "inference_input_type": "int16", "inference_output_type": "int16"},
}
SETTINGS["int8_qat"] = dict(SETTINGS["int8"])


def convert(fn, recipe: str, x_repr: np.ndarray) -> bytes:
    s = SETTINGS[recipe]
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn])
    if "optimizations" in s:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if "target_spec.supported_types" in s:
        conv.target_spec.supported_types = [tf.float16]
    if "representative_dataset" in s:
        n = min(len(x_repr), s["representative_dataset"])
        conv.representative_dataset = lambda: ([x_repr[i:i + 1]] for i in range(n))
    if "target_spec.supported_ops" in s:
        conv.target_spec.supported_ops = [getattr(tf.lite.OpsSet, s["target_spec.supported_ops"][0])]
    for key in ("inference_input_type", "inference_output_type"):
        if key in s:
            setattr(conv, key, tf.as_dtype(s[key]))
    return conv.convert()


def qat_friendly(model):
    """tfmot's QAT wraps only some fused activations (linear, relu, softmax, sigmoid, tanh): in a
    plain chain of layers, a fused relu6 becomes the layer plus a ReLU(6) layer (same weights; the
    converter fuses them back). Other graphs are returned as they are."""
    layers = model.layers[1:]
    chain = all(len(ly._inbound_nodes) == 1 and ly._inbound_nodes[0].inbound_layers is prev
                for prev, ly in zip(model.layers, layers))
    if not chain or not any(ly.get_config().get("activation") == "relu6" for ly in layers):
        return model
    x = inp = tf.keras.Input(model.inputs[0].shape[1:], name=model.inputs[0].name.split(":")[0])
    for ly in layers:
        cfg = ly.get_config()
        relu6 = cfg.get("activation") == "relu6"
        if relu6:
            cfg["activation"] = "linear"
        new = ly.__class__.from_config(cfg)
        x = new(x)
        new.set_weights(ly.get_weights())
        if relu6:
            x = tf.keras.layers.ReLU(max_value=6.0, name=f"{ly.name}_relu6")(x)
    return tf.keras.Model(inp, x, name=model.name)


def qat(model, train, epochs: int, shape):
    """tfmot's default 8-bit QAT wrappers, a short fine-tune on the training data."""
    import tensorflow_model_optimization as tfmot

    q = tfmot.quantization.keras.quantize_model(qat_friendly(model))
    q.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    q.fit(train[0], train[1], epochs=epochs, batch_size=32, shuffle=True, verbose=0)
    return q, concrete(q, shape)


def tf_accuracy(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy in TensorFlow's own interpreter (it runs every recipe, dynamic range included)."""
    it = tf.lite.Interpreter(model_content=model)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    scale, zp = i["quantization"]
    hits = 0
    for xi, yi in zip(x, y):
        v = xi[None]
        if np.issubdtype(i["dtype"], np.integer):
            info = np.iinfo(i["dtype"])
            v = np.clip(np.sign(v / scale) * np.floor(np.abs(v / scale) + 0.5) + zp, info.min, info.max)
        it.set_tensor(i["index"], v.astype(i["dtype"]))
        it.invoke()
        hits += int(np.argmax(it.get_tensor(o["index"])[0]) == yi)
    return 100.0 * hits / len(y)


def make_all(a, out: Path) -> dict:
    if a.digits:
        model, train, ev, source = digits_model(out)
        flavour = "tf_keras"
    else:
        (model, flavour), source = keras_model(a.keras), str(a.keras)
        train, ev = load_xy(a.train or a.eval, "training data"), load_xy(a.eval, "evaluation data")
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    xs = train[0].reshape((-1, *shape)).astype(np.float32)
    train = (xs, train[1])
    ev = (ev[0].reshape((-1, *shape)).astype(np.float32), ev[1])
    fn = concrete(model, shape)
    res = {"source": source, "keras": flavour, "input_shape": list(shape), "train_samples": len(xs),
           "eval_samples": len(ev[1]), "recipes": {}}
    for recipe in a.recipes:
        try:
            if recipe == "int8_qat":
                if flavour != "tf_keras":
                    raise RuntimeError("QAT through tensorflow-model-optimization needs a tf_keras model; this one "
                                       "loads only in Keras 3 (rebuild it with tf_keras, or pass --from-tflite)")
                _, qfn = qat(model, train, a.qat_epochs, shape)
                data = convert(qfn, recipe, xs)
            else:
                data = convert(fn, recipe, xs)
        except Exception as e:  # the converter's own failure: recorded, the other recipes go on
            res["recipes"][recipe] = {"error": f"cannot make it: {_line(e)}"}
            continue
        (out / f"{recipe}.tflite").write_bytes(data)
        settings = dict(SETTINGS[recipe])
        if recipe == "int8_qat":
            settings["qat"] = {"wrapper": "tfmot.quantization.keras.quantize_model (fused relu6 split into ReLU(6))",
                               "epochs": a.qat_epochs,
                               "optimizer": "Adam(1e-4)", "batch": 32, "train_samples": len(xs)}
        res["recipes"][recipe] = {"file": f"{recipe}.tflite", "size": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest(), "settings": settings,
                                  "tf_accuracy_pct": tf_accuracy(data, *ev)}
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--digits", action="store_true", help="tools/make_models.py's digits model")
    src.add_argument("--keras", type=Path, help=".keras / .h5 file or SavedModel folder")
    ap.add_argument("--eval", type=Path, help=".npz with x, y: the evaluation set (with --keras)")
    ap.add_argument("--train", type=Path, help=".npz with x, y: calibration and QAT data (default: --eval)")
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    ap.add_argument("--qat-epochs", type=int, default=3)
    a = ap.parse_args(argv)
    global tf
    try:
        if a.keras and not a.eval:
            raise BadInput("--keras needs --eval (a labelled .npz with x and y)")
        import tensorflow

        tf = tensorflow
        tf.keras.utils.set_random_seed(0)
        a.out.mkdir(parents=True, exist_ok=True)
        res = make_all(a, a.out)
        res["versions"] = {"tensorflow": tf.__version__, "tf_keras": _version("tf_keras"),
                           "tensorflow_model_optimization": _version("tensorflow_model_optimization")}
        (a.out / "recipes.json").write_text(json.dumps(res, indent=1))
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception:
        return "not installed"


if __name__ == "__main__":
    raise SystemExit(main())
