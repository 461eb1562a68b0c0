"""How much does the engine cost, and what does each Keras backend give? Images/s, printed.

    .venv/bin/python bench/bench_train.py                 # bare vs engine, every backend, FER2013 epoch
    .venv/bin/python bench/bench_train.py --skip-fer2013 --backends tensorflow

1. The machine's own figure: the report-A CNN trained by a bare `model.train_on_batch` loop on
   ready-made float batches, nothing else (TensorFlow). Quote it with every timing: machines
   of this kind differ by up to five times.
2. The same network, batch size and faces trained by the engine in its worker process
   (`fer.worker`, as the Train page and the CLI run it), while this process follows the run
   folder like the Train page's fragment: every 1.5 s it reads the new events, tabulates them and
   builds the altair charts. The engine should keep at least 95 % of the bare speed.
3. The same engine run on each installed backend (TensorFlow, JAX, PyTorch), beside TensorFlow.
4. One FER2013 epoch of the report-A CNN through the engine (when the shared npz exists).
Every figure skips the first epoch (tracing, compilation) and times the next ones.
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


from fer.backends import installed_backends  # noqa: E402
from fer.data import to_model_input  # noqa: E402

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


def engine_speed(architecture: str, images: int, batch_size: int, epochs: int, backend: str) -> float:
    """Images/s of epochs 2.. of a worker-process training, followed like the Train page follows it."""
    import tempfile

    from fer import jobs, worker
    from fer.events import EventFile
    from fer.train import TrainConfig

    with tempfile.TemporaryDirectory() as models:
        os.environ["FER_MODELS_DIR"] = models
        config = TrainConfig(architecture=architecture, dataset="synthetic", epochs=epochs, batch_size=batch_size,
                             max_train_images=images, device="cpu", backend=backend)
        manager = jobs.JobManager(max_running=1)
        job = manager.submit(config, owner="bench", name=f"bench-{backend}")
        stop = threading.Event()
        reader = page_like_reader(EventFile(job.folder / worker.EVENTS_FILE), stop)
        manager.wait(job.id)
        stop.set()
        reader.join()
        if job.state != jobs.FINISHED:
            raise SystemExit(f"The {backend} run did not finish: {job.message}")
        history = job.events.of_kind("epoch")[1:]
        return sum(images for _ in history) / sum(images / row["images_per_second"] for row in history)


def bare_speed(architecture: str, count: int, batch_size: int, epochs: int) -> float:
    import keras

    from fer.data import load_dataset
    from fer.nets import ARCHITECTURES

    keras.utils.set_random_seed(0)
    model = ARCHITECTURES[architecture](num_classes=7, input_shape=(48, 48, 1))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    images, labels = load_dataset("synthetic").split("train")
    images, labels = images[:count], labels[:count]
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
    parser.add_argument("--images", type=int, default=2304, help="training faces per epoch (synthetic)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="the first is not timed")
    parser.add_argument("--backends", default=",".join(installed_backends()),
                        help="comma-separated: tensorflow, jax, torch (default: every installed one)")
    parser.add_argument("--skip-fer2013", action="store_true")
    parser.add_argument("--fer2013-sample", type=int, default=0,
                        help="time this many FER2013 faces and scale to an epoch (0 = a real full epoch)")
    args = parser.parse_args()

    bare = bare_speed(args.architecture, args.images, args.batch_size, args.epochs)
    print(f"{args.architecture}, batch {args.batch_size}, {args.images} faces, epochs 2..{args.epochs}, this CPU:")
    print(f"  bare train_on_batch loop (TensorFlow)       : {bare:7.1f} images/s   <- this machine's figure")
    for backend in args.backends.split(","):
        speed = engine_speed(args.architecture, args.images, args.batch_size, args.epochs, backend)
        print(f"  engine in a worker + page reader, {backend:<10}: {speed:7.1f} images/s  ({speed / bare:.0%} of bare)")
    if args.skip_fer2013:
        return
    if FER2013_NPZ.exists():
        fer2013_epoch(args.batch_size, args.fer2013_sample)
    else:
        print(f"FER2013 not found at {FER2013_NPZ}: skipped the one-epoch timing.")


if __name__ == "__main__":
    main()
