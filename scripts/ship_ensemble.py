"""Ship an ensemble of shipped networks beside them (maintainers only).

    .venv/bin/python scripts/ship_ensemble.py pretrained-ensemble pretrained-vgg-narrow pretrained-vgg-wide \\
        pretrained-vgg-narrow-long [--fer2013 PATH] [--tta flip] [--models-dir DIR]

Fits the members' weights on FER2013's validation faces (carved from Training: never PublicTest),
from their test-time-augmented probabilities, saves the ensemble into the models folder (default:
the repository's models/, where the members must already be shipped), then measures it on
PublicTest in every TTA mode with `bench/bench_evaluate.py --write-metrics`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_FER2013 = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.npz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the ensemble's name")
    parser.add_argument("members", nargs="+", help="two or more runs in the models folder")
    parser.add_argument("--fer2013", type=Path, default=DEFAULT_FER2013, help="FER2013 as our .npz")
    parser.add_argument("--tta", default="flip", help="the TTA mode the weights are fitted with")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    arguments = parser.parse_args()
    os.environ["FER_MODELS_DIR"] = str(arguments.models_dir.expanduser())

    from fer import data, ensemble, evaluate

    if not arguments.fer2013.exists():
        raise SystemExit(f"{arguments.fer2013} does not exist: pass --fer2013 with FER2013 as an .npz.")
    images, labels = data.load_npz(arguments.fer2013, name="fer2013").split("val")
    probabilities = []
    for member in arguments.members:
        predictor = evaluate.load_predictor(member, tta=arguments.tta)
        probabilities.append(evaluate.predict_faces(predictor, images))
        print(f"{member}: validation accuracy {ensemble.accuracy(probabilities[-1], labels):.4f} "
              f"(TTA {arguments.tta}, {len(labels):,} faces)", flush=True)
    weights = ensemble.fit_weights(probabilities, labels)
    mixed = ensemble.combine(probabilities, weights)
    print("weights: " + ", ".join(f"{member} {weight:.3f}" for member, weight in zip(arguments.members, weights))
          + f"; validation accuracy {ensemble.accuracy(mixed, labels):.4f}", flush=True)
    ensemble.save_ensemble(arguments.name, arguments.members, weights, dataset="fer2013", overwrite=True, metrics={
        "validation": {
            "tta": arguments.tta,
            "faces": int(len(labels)),
            "accuracy": ensemble.accuracy(mixed, labels),
            "log_loss": ensemble.log_loss(mixed, labels),
            "weights_fitted_on": "FER2013 validation (carved from Training), members' probabilities with TTA "
                                 + arguments.tta,
        },
    })
    return subprocess.call([sys.executable, str(ROOT / "bench" / "bench_evaluate.py"), "--model", arguments.name,
                            "--fer2013", str(arguments.fer2013), "--write-metrics"])


if __name__ == "__main__":
    raise SystemExit(main())
