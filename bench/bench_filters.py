"""Benchmark: a 64-filter activation-maximisation gallery, 200 ascent steps, report-A CNN, on this CPU.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/bench_filters.py [--layer conv2] [--filters 64] [--steps 200]

The network is freshly initialised (timing does not depend on the weights). All filters are
optimised together in one batch, as the Filter visualisation page does; the first step (which
traces the TensorFlow graph) is timed separately from the rest.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="conv2", help="a conv layer of the report-A CNN (conv1..conv4)")
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--fourier", action="store_true")
    arguments = parser.parse_args()

    import keras
    import tensorflow as tf

    from fer.explain import AscentSettings, maximise_activations
    from fer.nets import build_report_a_cnn

    keras.utils.set_random_seed(0)
    model = build_report_a_cnn()
    settings = AscentSettings(steps=arguments.steps, fourier=arguments.fourier, seed=0)
    step_times = []
    last = [time.perf_counter()]

    def progress(done, total):
        now = time.perf_counter()
        step_times.append(now - last[0])
        last[0] = now

    start = time.perf_counter()
    last[0] = start
    units = range(arguments.filters)
    gallery = maximise_activations(model, arguments.layer, units=units, settings=settings, progress=progress)
    total = time.perf_counter() - start
    gained = float((gallery.activations - gallery.start_activations).mean())
    print(
        f"report_a_cnn {arguments.layer}: {arguments.filters} filters x {len(step_times)} steps "
        f"({'fourier' if arguments.fourier else 'pixel'} parametrisation, {settings.regulariser}) "
        f"in {total:.1f} s total; first step {step_times[0]:.2f} s (graph tracing), "
        f"then {1000 * sum(step_times[1:]) / max(1, len(step_times) - 1):.0f} ms per step; "
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores; mean activation gain {gained:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
