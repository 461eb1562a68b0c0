"""`python -m fer train ...` trains with the app's engine; `python -m fer models` lists the runs;
`python -m fer snapshot RUN --epoch N` makes a kept epoch of a run a model of its own.

What it does and its examples are `DESCRIPTION` below, which `--help` shows in the reader's language.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from fer.checkpoints import RULES
from fer.events import shown
from fer.i18n import N_, _
from fer.presets import PRESETS

DESCRIPTION = N_("""Train a network with the app's engine and save it in models/.

    python -m fer train --preset classroom-quick
    python -m fer train --arch report_a_cnn --data fer2013 --epochs 30 --checkpoint lowest_val_loss_above_train_accuracy

    python -m fer train --preset shipped-model --name my-vgg
    python -m fer train --resume my-vgg                  # after a crash, a kill or a closed laptop
    python -m fer train --resume my-vgg --more-epochs 20 # a finished run, longer
    python -m fer train --preset shipped-model --snapshot-epochs 90,120 --name long  # keep two epochs too

The training runs in its own worker process and writes everything into its run folder
(models/NAME/); this command follows it. Ctrl-C stops after the current batch and still
saves the best epoch, like the page's Stop button.""")

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
    "snapshot_epochs": "snapshot_epochs",
}


def epoch_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(_("give epoch numbers separated by commas, such as 90,105,120")) from None


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help=_("train a network and save it in models/"),
                                   description=_(DESCRIPTION), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", help=_("start from a preset: {presets}").format(presets=", ".join(PRESETS)))
    parser.add_argument("--arch", help=_("architecture (fer.nets.ARCHITECTURES), e.g. report_a_cnn or small_cnn"))
    parser.add_argument("--data", help=_("data set: synthetic or an imported name such as fer2013"))
    parser.add_argument("--epochs", type=int, help=_("how many epochs to train"))
    parser.add_argument("--batch-size", type=int, help=_("faces per batch"))
    parser.add_argument("--optimizer", choices=["adam", "sgd_nesterov"])
    parser.add_argument("--lr", type=float, help=_("learning rate"))
    parser.add_argument("--schedule", choices=["constant", "step", "plateau", "cosine"])
    parser.add_argument("--warmup", type=int, help=_("epochs of linear learning-rate warm-up before the schedule"))
    parser.add_argument("--weight-decay", type=float, help=_("decoupled weight decay on kernels (5e-4)"))
    parser.add_argument("--momentum", type=float, help=_("SGD momentum (0.9)"))
    parser.add_argument("--ema", action="store_true", default=None, help=_("keep a moving average of the weights"))
    parser.add_argument("--ema-momentum", type=float, help=_("the average's momentum (0.999)"))
    parser.add_argument("--crop", type=int, choices=[48, 44, 40], help=_("random crops of this size (48 = none)"))
    parser.add_argument("--erasing", type=float, help=_("probability of random erasing (0.25)"))
    parser.add_argument("--flip", action="store_true", default=None, help=_("random horizontal flips"))
    parser.add_argument("--shift", type=float, help=_("random shift, a fraction of the image (0.1)"))
    parser.add_argument("--rotation", type=float, help=_("random rotation in degrees (10)"))
    parser.add_argument("--zoom", type=float, help=_("random zoom, a fraction (0.1)"))
    parser.add_argument("--label-smoothing", type=float, help=_("label smoothing (0.1)"))
    parser.add_argument("--class-weights", choices=["none", "balanced"])
    parser.add_argument("--max-train-images", type=int, help=_("train on at most this many faces (0 = all)"))
    parser.add_argument("--seed", type=int, help=_("random seed: the same seed gives the same run"))
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"])
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"],
                        help=_("Keras backend of the training (the app itself always uses TensorFlow)"))
    parser.add_argument("--mixed-precision", action="store_true", default=None, help=_("float16 on a GPU"))
    parser.add_argument("--checkpoint", choices=list(RULES))
    parser.add_argument("--patience", type=int, help=_("early-stopping patience in epochs"))
    parser.add_argument("--threshold", type=float, help=_("training-accuracy threshold of the report-A rule"))
    parser.add_argument("--snapshot-epochs", type=epoch_list, metavar="N,N,...",
                        help=_("also keep these epochs' weights, each a model of its own for a snapshot ensemble "
                               "(python -m fer snapshot)"))
    parser.add_argument("--name", help=_("run name in models/ (made unique; default: architecture-data-date)"))
    parser.add_argument("--resume", metavar="NAME", help=_("continue the run NAME from its last complete epoch"))
    parser.add_argument("--more-epochs", type=int, help=_("with --resume: train this many epochs more"))
    parser.set_defaults(func=run_train)

    models = subparsers.add_parser("models", help=_("list the trained runs in models/"))
    models.set_defaults(func=run_models)

    snapshot = subparsers.add_parser(
        "snapshot", help=_("make a kept epoch of a run (--snapshot-epochs) a model of its own"))
    snapshot.add_argument("run", help=_("the run that kept the epoch"))
    snapshot.add_argument("--epoch", type=int, required=True, help=_("the kept epoch"))
    snapshot.add_argument("--name", help=_("the new model's name (default: RUN-eEPOCH)"))
    snapshot.set_defaults(func=run_snapshot)


def run_snapshot(args: argparse.Namespace) -> int:
    from fer import snapshots

    path = snapshots.make_model(args.run, args.epoch, args.name)
    print(_("{name}: epoch {epoch} of {run}, a model of its own in {folder}.").format(
        name=path.name, epoch=args.epoch, run=args.run, folder=path))
    return 0


def config_from_args(args: argparse.Namespace):
    from fer.train import TrainConfig, preset

    overrides = {field: getattr(args, flag) for flag, field in FLAGS.items() if getattr(args, flag, None) is not None}
    return preset(args.preset, **overrides) if args.preset else TrainConfig(**overrides)


def progress_line(event: dict, width: int) -> str:
    bar_width = max(10, min(30, width - 70))
    filled = int(round(event["progress"] * bar_width))
    eta = int(event["eta_seconds"])
    return _("epoch {epoch} batch {batch:>4}/{batches} [{bar}] {progress:4.0%} loss {loss:.4f} acc {accuracy:.4f} "
             "{speed:6.0f} img/s ETA {eta}").format(
        epoch=event["epoch"], batch=event["batch"], batches=event["batches"],
        bar="#" * filled + "." * (bar_width - filled), progress=event["progress"], loss=event["loss"],
        accuracy=event["accuracy"], speed=event["images_per_second"], eta=f"{eta // 60}:{eta % 60:02d}",
    )[: width - 1]


def epoch_line(event: dict) -> str:
    chosen = " *" if event["chosen_epoch"] == event["epoch"] else ""
    return _("epoch {epoch:>3}  loss {loss:.4f}  acc {accuracy:.4f}  val_loss {val_loss:.4f}  "
             "val_acc {val_accuracy:.4f}  lr {lr:.2g}  {seconds:.1f} s").format(
        epoch=event["epoch"], loss=event["loss"], accuracy=event["accuracy"], val_loss=event["val_loss"],
        val_accuracy=event["val_accuracy"], lr=event["lr"], seconds=event["seconds"]) + chosen


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
    print(_("Run folder: {folder} (worker log: {log})").format(folder=folder, log=folder / worker.LOG_FILE),
          flush=True)
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
            print("\n" + _("Stopping after this batch, then keeping the best epoch..."), flush=True)
    status = worker.read_status(folder)
    if status.get("state") in (worker.QUEUED, worker.RUNNING):
        status = worker.settle_dead_run(folder, returncode=process.returncode)
    print(worker.status_message(status) or status.get("state"), flush=True)
    metrics = worker.read_json(folder / "metrics.json")
    if status.get("state") in (worker.FINISHED, worker.STOPPED):
        accuracy = _("Accuracy on {split} {accuracy:.4f}.").format(
            split=test_accuracy_split(worker.read_json(folder / "config.json"), metrics),
            accuracy=metrics["test_accuracy"]) + " " if "test_accuracy" in metrics else ""
        print(accuracy + _("{speed:.0f} images/s. Saved to {folder}. Continue later with: python -m fer train --resume "
                           "{name} --more-epochs N").format(speed=metrics.get("images_per_second", 0), folder=folder,
                                                           name=folder.name))
        return 0
    print(_("Continue with: python -m fer train --resume {name}").format(name=folder.name), file=sys.stderr)
    return 1


def print_event(event: dict, config, width: int) -> None:
    if event["kind"] == "start":
        print(
            _("Training {architecture} ({parameters:,} parameters) on {dataset}: {train:,} training / {val:,} "
              "validation faces, {device}, epochs {first}..{last}. Ctrl-C stops after the current batch and keeps "
              "the best epoch.").format(
                architecture=config.architecture, parameters=event["parameters"], dataset=config.dataset,
                train=event["train_images"], val=event["val_images"],
                device=shown(event.get("device_sentence") or event["device"]), first=event["first_epoch"],
                last=event["epochs"]), flush=True)
    elif event["kind"] == "resumed":
        print(_("Continuing from epoch {epoch} of {epochs}.").format(epoch=event["from_epoch"], epochs=event["epochs"]),
              flush=True)
    elif event["kind"] == "batch" and sys.stdout.isatty():
        print("\r" + progress_line(event, width), end="", flush=True)
    elif event["kind"] == "epoch":
        clear = "\r" + " " * (width - 1) + "\r" if sys.stdout.isatty() else ""
        print(clear + epoch_line(event), flush=True)
    elif event["kind"] == "stopping":
        print("\n" + _("Stopping after this batch..."), flush=True)
    elif event["kind"] == "evaluating":
        print(_("Evaluating on {count:,} faces of the test split...").format(count=event["test_images"]), flush=True)
    elif event["kind"] == "error":
        print(shown(event.get("sentence") or event.get("message")), file=sys.stderr, flush=True)


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
        print(_("No trained runs in {folder}: train one with `python -m fer train --preset classroom-quick`.").format(
            folder=registry.models_dir()))
        return 0
    heads = [_("name"), _("kind"), _("architecture"), _("dataset"), _("state"), _("epoch"), _("accuracy"),
             _("measured on")]
    header = (f"{heads[0]:<36} {heads[1]:<9} {heads[2]:<14} {heads[3]:<12} {heads[4]:<11} {heads[5]:>5} "
              f"{heads[6]:>8}  {heads[7]}")
    print(header)
    print("-" * len(header))
    states = {worker.QUEUED: _("queued"), worker.RUNNING: _("running"), worker.FINISHED: _("finished"),
              worker.STOPPED: _("stopped"), worker.FAILED: _("failed"), worker.CANCELLED: _("cancelled"),
              worker.INTERRUPTED: _("interrupted")}
    for run in runs:
        accuracy = run.metrics.get("test_accuracy")
        state = worker.read_status(run.path).get("state", worker.FINISHED)
        state = states.get(state, state)
        print(
            f"{run.name:<36} {run.kind:<9} {str(run.config.get('architecture', '?')):<14} "
            f"{str(run.config.get('dataset', '?')):<12} {state:<11} {str(run.metrics.get('chosen_epoch', '')):>5} "
            f"{'' if accuracy is None else f'{accuracy:.4f}':>8}  "
            f"{test_accuracy_split(run.config, run.metrics) if accuracy is not None else ''}"
        )
    for name in training:
        print(_("Training now: {name} (follow it with the Train page, or stop it there)").format(name=name))
    for job in left_behind:
        print(_("Can be continued: {name}: {message} -> python -m fer train --resume {name}").format(
            name=job.id, message=job.message))
    return 0
