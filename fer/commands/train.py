"""`python -m fer train ...` trains with the app's engine; `python -m fer models` lists the runs.

    python -m fer train --preset classroom-quick
    python -m fer train --arch report_a_cnn --data fer2013 --epochs 30 --checkpoint lowest_val_loss_above_train_accuracy

    python -m fer train --preset shipped-model --name my-vgg
    python -m fer train --resume my-vgg                  # after a crash, a kill or a closed laptop
    python -m fer train --resume my-vgg --more-epochs 20 # a finished run, longer

The training runs in its own worker process and writes everything into its run folder
(models/NAME/); this command follows it. Ctrl-C stops after the current batch and still
saves the best epoch, like the page's Stop button.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from fer.checkpoints import RULES
from fer.presets import PRESETS

# Command-line flag -> TrainConfig field. Flags left out keep the preset's (or the default) value.
FLAGS = {
    "arch": "architecture",
    "data": "dataset",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "optimizer": "optimizer",
    "lr": "learning_rate",
    "schedule": "schedule",
    "warmup": "warmup_epochs",
    "weight_decay": "weight_decay",
    "momentum": "momentum",
    "ema": "ema",
    "ema_momentum": "ema_momentum",
    "crop": "crop_size",
    "erasing": "random_erasing",
    "flip": "augment_flip",
    "shift": "augment_shift",
    "rotation": "augment_rotation",
    "zoom": "augment_zoom",
    "label_smoothing": "label_smoothing",
    "class_weights": "class_weights",
    "max_train_images": "max_train_images",
    "seed": "seed",
    "device": "device",
    "backend": "backend",
    "mixed_precision": "mixed_precision",
    "checkpoint": "checkpoint_rule",
    "patience": "early_stopping_patience",
    "threshold": "train_accuracy_threshold",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a network and save it in models/", description=__doc__)
    parser.add_argument("--preset", help="start from a preset: " + ", ".join(PRESETS))
    parser.add_argument("--arch", help="architecture (fer.nets.ARCHITECTURES), e.g. report_a_cnn or small_cnn")
    parser.add_argument("--data", help="data set: synthetic or an imported name such as fer2013")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--optimizer", choices=["adam", "sgd_nesterov"])
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--schedule", choices=["constant", "step", "plateau", "cosine"])
    parser.add_argument("--warmup", type=int, help="epochs of linear learning-rate warm-up before the schedule")
    parser.add_argument("--weight-decay", type=float, help="decoupled weight decay on kernels (5e-4)")
    parser.add_argument("--momentum", type=float, help="SGD momentum (0.9)")
    parser.add_argument("--ema", action="store_true", default=None, help="keep a moving average of the weights")
    parser.add_argument("--ema-momentum", type=float, help="the average's momentum (0.999)")
    parser.add_argument("--crop", type=int, choices=[48, 44, 40], help="random crops of this size (48 = none)")
    parser.add_argument("--erasing", type=float, help="probability of random erasing (0.25)")
    parser.add_argument("--flip", action="store_true", default=None, help="random horizontal flips")
    parser.add_argument("--shift", type=float, help="random shift, a fraction of the image (0.1)")
    parser.add_argument("--rotation", type=float, help="random rotation in degrees (10)")
    parser.add_argument("--zoom", type=float, help="random zoom, a fraction (0.1)")
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--class-weights", choices=["none", "balanced"])
    parser.add_argument("--max-train-images", type=int, help="train on at most this many faces (0 = all)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"])
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"],
                        help="Keras backend of the training (the app itself always uses TensorFlow)")
    parser.add_argument("--mixed-precision", action="store_true", default=None, help="float16 on a GPU")
    parser.add_argument("--checkpoint", choices=list(RULES))
    parser.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    parser.add_argument("--threshold", type=float, help="training-accuracy threshold of the report-A rule")
    parser.add_argument("--name", help="run name in models/ (made unique; default: architecture-data-date)")
    parser.add_argument("--resume", metavar="NAME", help="continue the run NAME from its last complete epoch")
    parser.add_argument("--more-epochs", type=int, help="with --resume: train this many epochs more")
    parser.set_defaults(func=run_train)

    models = subparsers.add_parser("models", help="list the trained runs in models/")
    models.set_defaults(func=run_models)


def config_from_args(args: argparse.Namespace):
    from fer.train import TrainConfig, preset

    overrides = {field: getattr(args, flag) for flag, field in FLAGS.items() if getattr(args, flag, None) is not None}
    return preset(args.preset, **overrides) if args.preset else TrainConfig(**overrides)


def progress_line(event: dict, width: int) -> str:
    bar_width = max(10, min(30, width - 70))
    filled = int(round(event["progress"] * bar_width))
    eta = int(event["eta_seconds"])
    return (
        f"epoch {event['epoch']} batch {event['batch']:>4}/{event['batches']} "
        f"[{'#' * filled}{'.' * (bar_width - filled)}] {event['progress']:4.0%} "
        f"loss {event['loss']:.4f} acc {event['accuracy']:.4f} "
        f"{event['images_per_second']:6.0f} img/s ETA {eta // 60}:{eta % 60:02d}"
    )[: width - 1]


def epoch_line(event: dict) -> str:
    chosen = " *" if event["chosen_epoch"] == event["epoch"] else ""
    return (
        f"epoch {event['epoch']:>3}  loss {event['loss']:.4f}  acc {event['accuracy']:.4f}  "
        f"val_loss {event['val_loss']:.4f}  val_acc {event['val_accuracy']:.4f}  "
        f"lr {event['lr']:.2g}  {event['seconds']:.1f} s{chosen}"
    )


def run_train(args: argparse.Namespace) -> int:
    """Start (or continue) a training in its own worker process and follow its run folder."""
    from fer import jobs, worker

    if args.resume:
        try:
            folder, config = jobs.prepare_resume(args.resume, more_epochs=args.more_epochs or 0, epochs=args.epochs)
        except jobs.ResumeError as error:
            print(error, file=sys.stderr)
            return 2
    else:
        config = config_from_args(args)
        folder = jobs.create_run_folder(config, args.name)
    worker.write_request(folder, config.to_dict(), owner="command line", resume=bool(args.resume))
    (folder / worker.STOP_FILE).unlink(missing_ok=True)
    worker.write_status(folder, worker.QUEUED, pid=None, pid_started=None, message=None)
    process = worker.start_worker(folder)
    return follow(folder, config, process)


def follow(folder, config, process) -> int:
    """Print the run's events as they come; Ctrl-C asks the worker to stop after the batch."""
    from fer import worker
    from fer.data import test_accuracy_split
    from fer.events import EventFile

    events = EventFile(folder / worker.EVENTS_FILE)
    index = len(events)
    width = shutil.get_terminal_size((100, 20)).columns
    print(f"Run folder: {folder} (worker log: {folder / worker.LOG_FILE})", flush=True)
    while True:
        try:
            fresh = events.wait(index, timeout=0.5)
            index += len(fresh)
            for event in fresh:
                print_event(event, config, width)
            if process.poll() is not None and not events.since(index):
                break
        except KeyboardInterrupt:
            worker.request_stop(folder)
            print("\nStopping after this batch, then keeping the best epoch...", flush=True)
    status = worker.read_status(folder)
    if status.get("state") in (worker.QUEUED, worker.RUNNING):
        status = worker.settle_dead_run(folder, returncode=process.returncode)
    print(status.get("message") or status.get("state"), flush=True)
    metrics = worker.read_json(folder / "metrics.json")
    if status.get("state") in (worker.FINISHED, worker.STOPPED):
        print(
            (f"Accuracy on {test_accuracy_split(worker.read_json(folder / 'config.json'), metrics)} "
             f"{metrics['test_accuracy']:.4f}. " if "test_accuracy" in metrics else "")
            + f"{metrics.get('images_per_second', 0):.0f} images/s. Saved to {folder}. "
            + f"Continue later with: python -m fer train --resume {folder.name} --more-epochs N"
        )
        return 0
    print(f"Continue with: python -m fer train --resume {folder.name}", file=sys.stderr)
    return 1


def print_event(event: dict, config, width: int) -> None:
    if event["kind"] == "start":
        print(
            f"Training {config.architecture} ({event['parameters']:,} parameters) on {config.dataset}: "
            f"{event['train_images']:,} training / {event['val_images']:,} validation faces, "
            f"{event['device']}, epochs {event['first_epoch']}..{event['epochs']}. "
            "Ctrl-C stops after the current batch and keeps the best epoch.", flush=True)
    elif event["kind"] == "resumed":
        print(f"Continuing from epoch {event['from_epoch']} of {event['epochs']}.", flush=True)
    elif event["kind"] == "batch" and sys.stdout.isatty():
        print("\r" + progress_line(event, width), end="", flush=True)
    elif event["kind"] == "epoch":
        clear = "\r" + " " * (width - 1) + "\r" if sys.stdout.isatty() else ""
        print(clear + epoch_line(event), flush=True)
    elif event["kind"] == "stopping":
        print("\nStopping after this batch...", flush=True)
    elif event["kind"] == "evaluating":
        print(f"Evaluating on {event['test_images']:,} faces of the test split...", flush=True)
    elif event["kind"] == "error":
        print(event.get("message"), file=sys.stderr, flush=True)


def run_models(args: argparse.Namespace) -> int:
    from fer import jobs, registry, worker
    from fer.data import test_accuracy_split

    runs = registry.list_runs()
    left_behind = jobs.JobManager(max_running=1).interrupted_runs()
    training = [
        folder.name for folder in sorted(registry.models_dir().glob("*"))
        if worker.read_status(folder).get("state") == worker.RUNNING and worker.worker_alive(worker.read_status(folder))
    ] if registry.models_dir().is_dir() else []
    if not runs and not left_behind and not training:
        print(f"No trained runs in {registry.models_dir()}: "
              "train one with `python -m fer train --preset classroom-quick`.")
        return 0
    header = (f"{'name':<36} {'kind':<9} {'architecture':<14} {'dataset':<12} {'state':<11} {'epoch':>5} "
              f"{'accuracy':>8}  measured on")
    print(header)
    print("-" * len(header))
    for run in runs:
        accuracy = run.metrics.get("test_accuracy")
        state = worker.read_status(run.path).get("state", "finished")
        print(
            f"{run.name:<36} {run.kind:<9} {str(run.config.get('architecture', '?')):<14} "
            f"{str(run.config.get('dataset', '?')):<12} {state:<11} {str(run.metrics.get('chosen_epoch', '')):>5} "
            f"{'' if accuracy is None else f'{accuracy:.4f}':>8}  "
            f"{test_accuracy_split(run.config, run.metrics) if accuracy is not None else ''}"
        )
    for name in training:
        print(f"Training now: {name} (follow it with the Train page, or stop it there)")
    for job in left_behind:
        print(f"Can be continued: {job.id}: {job.message} -> python -m fer train --resume {job.id}")
    return 0
