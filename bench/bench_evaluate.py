"""Benchmark: a registry model's accuracy on FER2013 PublicTest, without and with test-time augmentation.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/bench_evaluate.py [--model NAME] [--fer2013 PATH] [--write-metrics]
                                                             [--train-split]

PATH is any FER2013 form `python -m fer data import` reads (the Kaggle CSV, the image folders,
our .npz); default: the development copy in ../shared/data/fer2013/. The model defaults to the one
the app uses by default (the shipped pretrained model on a fresh checkout). Prints accuracy per TTA
mode with its time, speed and the process's peak resident memory so far (predictions and their
augmented copies are made a batch at a time, so the peak should not grow with the number of looks),
then the per-class report of the plain model. --train-split also predicts the 28,709 Training
faces with ten-crop (287,090 looks), the case that once built all ten copies at once (2.4 GB).
--write-metrics stores the PublicTest numbers (accuracy per TTA mode, per-class metrics, confusion
matrix) in the run's metrics.json: that is how the shipped model's claims were written.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_FER2013 = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.npz"
TTA_MODES = ("none", "flip", "flip+crops", "ten-crop")


def public_test(path: Path):
    """FER2013's PublicTest faces and labels from any form the importers read."""
    from fer import data, importers

    if path.suffix == ".npz":
        dataset = data.load_npz(path, name="fer2013")
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            os.environ["FER_DATA_DIR"] = scratch
            report = importers.import_path(path, name="fer2013-bench")
            dataset = data.load_dataset(report.dataset_name)
    return dataset.split("test")


def train_faces(path: Path):
    from fer import data

    if path.suffix != ".npz":
        raise SystemExit("--train-split reads the .npz copy of FER2013: pass --fer2013 with it.")
    dataset = data.load_npz(path, name="fer2013")
    import numpy as np

    training = np.isin(dataset.splits, ("train", "val"))  # Training: never PublicTest or PrivateTest
    return dataset.images[training], dataset.labels[training]


def peak_memory_mb() -> float:
    """This process's largest resident set so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="registry run or ensemble (default: the app's default model)")
    parser.add_argument("--fer2013", type=Path, default=DEFAULT_FER2013, help="FER2013 file or folder")
    parser.add_argument("--write-metrics", action="store_true", help="store the results in the run's metrics.json")
    parser.add_argument("--train-split", action="store_true", help="also ten-crop the whole Training split")
    arguments = parser.parse_args()

    from fer import data, evaluate, registry

    name = arguments.model or registry.default_model_name()
    if not name:
        raise SystemExit("No model in the registry: train one, or pass --model NAME.")
    if not arguments.fer2013.exists():
        raise SystemExit(f"{arguments.fer2013} does not exist: pass --fer2013 with your copy of FER2013.")
    images, labels = public_test(arguments.fer2013)
    if len(labels) == 0:
        raise SystemExit(f"{arguments.fer2013} has no PublicTest faces: this benchmark needs FER2013's own split.")
    print(f"{name} on FER2013 PublicTest ({len(labels):,} faces), {os.cpu_count()} CPU cores", flush=True)
    print(f"  peak resident memory before predicting: {peak_memory_mb():,.0f} MB", flush=True)

    results = {}
    for mode in TTA_MODES:
        predictor = evaluate.load_predictor(name, tta=mode)
        looks = len(evaluate.tta_looks(mode))
        started = time.perf_counter()
        probabilities = evaluate.predict_faces(predictor, images)
        seconds = time.perf_counter() - started
        results[mode] = evaluate.evaluate_probabilities(probabilities, labels)
        print(
            f"  TTA {mode:<11} accuracy {results[mode].accuracy:.4f}   ({seconds:.1f} s, "
            f"{looks * len(labels) / seconds:,.0f} looks/s, peak memory {peak_memory_mb():,.0f} MB)",
            flush=True,
        )
    if arguments.train_split:
        train_images, _ = train_faces(arguments.fer2013)
        predictor = evaluate.load_predictor(name, tta="ten-crop")
        started = time.perf_counter()
        evaluate.predict_faces(predictor, train_images)
        seconds = time.perf_counter() - started
        print(
            f"  ten-crop of {len(train_images):,} Training faces: {seconds:.1f} s, "
            f"peak memory {peak_memory_mb():,.0f} MB",
            flush=True,
        )
    print()
    print(evaluate.format_report(results["none"]))

    if arguments.write_metrics:
        plain = results["none"]
        registry.write_metrics(name, {
            "public_test": {
                "data": "FER2013 PublicTest",
                "faces": int(len(labels)),
                "accuracy": plain.accuracy,
                "accuracy_by_tta": {mode: result.accuracy for mode, result in results.items()},
                "per_class": [vars(row) for row in plain.per_class()],
                "confusion_matrix": plain.matrix.tolist(),
                "labels": list(data.EMOTIONS),
                "command": "python bench/bench_evaluate.py --model " + name + " --write-metrics",
            }
        })
        print(f"\nWrote the PublicTest numbers into {registry.read_run(name).path / 'metrics.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
