"""How much does the engine cost? Images/s of `fer.train.train` against a bare train_on_batch loop.

    nice -n 5 .venv/bin/python bench/bench_train.py              # engine vs bare, then FER2013 epoch
    nice -n 5 .venv/bin/python bench/bench_train.py --skip-fer2013

1. The same network and batch size, the same faces, trained (a) by the engine with its event
   log and a page-like reader thread that, like the Train page's fragment, wakes every 1.5 s,
   turns the events into a table and builds the altair charts; (b) by `model.train_on_batch`
   on ready-made float batches, nothing else. Both skip their first epoch (tracing) and time
   the next ones. The engine should keep at least 90 % of the bare speed.
2. One FER2013 epoch of the report-A CNN through the engine (when the shared npz exists).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from fer.data import FaceDataset, to_model_input  # noqa: E402

FER2013_NPZ = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fer2013" / "fer2013.npz"


def page_like_reader(events, stop: threading.Event, interval: float = 1.5) -> threading.Thread:
    """What the Train page's fragment does every tick: read new events, tabulate, chart."""
    import altair as alt
    import pandas as pd

    def loop():
        while not stop.wait(interval):
            rows = [
                {"epoch": e["epoch"] - 1 + e["batch"] / e["batches"], "loss": e["loss"], "accuracy": e["accuracy"]}
                for e in events.since(0)
                if e["kind"] == "batch"
            ][-400:]
            frame = pd.DataFrame(rows)
            if len(frame):
                alt.Chart(frame).mark_line().encode(x="epoch:Q", y="loss:Q").to_dict()
                alt.Chart(frame).mark_line().encode(x="epoch:Q", y="accuracy:Q").to_dict()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def random_faces(count: int, seed: int = 0) -> FaceDataset:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, count).astype(np.uint8)
    images = rng.integers(0, 256, (count, 48, 48), dtype=np.uint8)
    splits = np.array(["train"] * (count - 256) + ["val"] * 128 + ["test"] * 128)
    return FaceDataset("bench", images, labels, splits, synthetic=True, description="random pixels")


def engine_speed(architecture: str, dataset: FaceDataset, batch_size: int, epochs: int) -> float:
    from fer.events import EventLog
    from fer.train import TrainConfig, train

    events, stop = EventLog(), threading.Event()
    reader = page_like_reader(events, stop)
    config = TrainConfig(architecture=architecture, dataset="bench", epochs=epochs, batch_size=batch_size, device="cpu")
    result = train(config, dataset=dataset, events=events)
    stop.set()
    reader.join()
    timed = result.history[1:]  # epoch 1 includes tracing
    per_epoch = int((dataset.splits == "train").sum())
    seconds = sum(per_epoch / row["images_per_second"] for row in timed)  # batch time, not validation
    return len(timed) * per_epoch / seconds


def bare_speed(architecture: str, dataset: FaceDataset, batch_size: int, epochs: int) -> float:
    import keras

    from fer.nets import ARCHITECTURES

    keras.utils.set_random_seed(0)
    model = ARCHITECTURES[architecture](num_classes=7, input_shape=(48, 48, 1))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    images, labels = dataset.split("train")
    inputs = to_model_input(images)
    targets = keras.utils.to_categorical(labels, 7)
    starts = range(0, len(inputs), batch_size)
    for start in starts:  # epoch 1: tracing and warm-up, not timed
        model.train_on_batch(inputs[start : start + batch_size], targets[start : start + batch_size])
    began = time.perf_counter()
    for _ in range(epochs - 1):
        for start in starts:
            model.train_on_batch(inputs[start : start + batch_size], targets[start : start + batch_size])
    return (epochs - 1) * len(inputs) / (time.perf_counter() - began)


def fer2013_epoch(batch_size: int, sample_images: int) -> None:
    """One full epoch; or, with `sample_images`, two epochs of that many faces, the second timed
    and scaled to the full training split (for a busy machine where a full epoch takes too long)."""
    from fer.data import load_npz
    from fer.events import EventLog
    from fer.train import TrainConfig, train

    dataset = load_npz(FER2013_NPZ, name="fer2013")
    full = int((dataset.splits == "train").sum())
    config = TrainConfig(
        architecture="report_a_cnn", dataset="fer2013", batch_size=batch_size, device="cpu",
        epochs=2 if sample_images else 1, max_train_images=sample_images,
    )
    result = train(config, dataset=dataset, events=EventLog())
    row = result.history[-1]
    if sample_images:
        print(
            f"FER2013, report_a_cnn, batch {batch_size}: {row['images_per_second']:.0f} training images/s over "
            f"{sample_images:,} faces (second epoch) -> one epoch of {full:,} faces ~ "
            f"{full / row['images_per_second']:.0f} s of training (validation not included)"
        )
    else:
        print(
            f"FER2013, report_a_cnn, batch {batch_size}, one epoch of {full:,} faces: {row['seconds']:.1f} s "
            f"including validation of {result.run_config['val_images']:,} faces; training "
            f"{row['images_per_second']:.0f} images/s (tracing included); val_accuracy {row['val_accuracy']:.3f}"
        )


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", default="report_a_cnn")
    parser.add_argument("--images", type=int, default=2304, help="training faces per epoch (+256 val/test)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="the first is not timed")
    parser.add_argument("--skip-fer2013", action="store_true")
    parser.add_argument("--fer2013-sample", type=int, default=0,
                        help="time this many FER2013 faces and scale to an epoch (0 = a real full epoch)")
    args = parser.parse_args()

    dataset = random_faces(args.images + 256)
    bare = bare_speed(args.architecture, dataset, args.batch_size, args.epochs)
    engine = engine_speed(args.architecture, dataset, args.batch_size, args.epochs)
    print(f"{args.architecture}, batch {args.batch_size}, {args.images} faces, epochs 2..{args.epochs}:")
    print(f"  bare train_on_batch loop : {bare:7.1f} images/s")
    print(f"  engine + events + reader : {engine:7.1f} images/s  ({engine / bare:.0%} of bare)")
    if args.skip_fer2013:
        return
    if FER2013_NPZ.exists():
        fer2013_epoch(args.batch_size, args.fer2013_sample)
    else:
        print(f"FER2013 not found at {FER2013_NPZ}: skipped the one-epoch timing.")


if __name__ == "__main__":
    main()
