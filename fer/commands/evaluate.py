"""`python -m fer evaluate --model NAME --data NAME [--split test] [--tta [MODE]]`.

Prints accuracy, precision / recall / F1 per emotion and the confusion matrix (true label
down, predicted across) of a registry model or ensemble on one split of a data set, and names
that split: train, val (validation, 10 % of Training), PublicTest, PrivateTest, or test, which
is the data set's test split: PublicTest where FER2013 names one, else its own test faces.
"""

from __future__ import annotations

from fer.i18n import _

# The same names as fer.evaluate.TTA_MODES (a test keeps them equal); listed here so that `--help`
# does not have to load the evaluation code.
TTA_CHOICES = ("none", "flip", "crops", "flip+crops", "ten-crop")
# The same names as fer.face_dataset.SPLIT_NAMES (a test keeps them equal).
SPLIT_CHOICES = ("train", "val", "PublicTest", "PrivateTest", "test")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help=_("accuracy, per-class metrics and confusion matrix of a trained model"),
        description=__doc__.splitlines()[0],  # the usage line: code, the same in every language
    )
    parser.add_argument(
        "--model", required=True, help=_("registry run or ensemble name (python -m fer models lists them)")
    )
    parser.add_argument("--data", default="synthetic", help=_("data set name: 'synthetic' or an imported cache"))
    parser.add_argument(
        "--split", default="test", choices=SPLIT_CHOICES,
        help=_("test (the default) is the data set's test split: PublicTest where FER2013 names one"),
    )
    parser.add_argument(
        "--tta",
        nargs="?",
        const="flip+crops",
        default="none",
        choices=TTA_CHOICES,
        help=_(
            "test-time augmentation; --tta alone means flip+crops; ten-crop: centre and four corner crops "
            "of the model's training crop size, each also mirrored"
        ),
    )
    parser.add_argument("--batch-size", type=int, default=256, help=_("faces predicted at once (default 256)"))
    parser.set_defaults(func=run)


def run(args) -> int:
    from fer import data, evaluate

    dataset = data.load_dataset(args.data)
    images, labels = dataset.split(args.split)
    if len(images) == 0:
        raise evaluate.EvaluationError(
            _("{data} has no {split} faces: pick one of its splits ({splits}).").format(
                data=repr(args.data), split=args.split, splits=", ".join(dataset.split_names)
            )
        )
    predictor = evaluate.load_predictor(args.model, tta=args.tta, batch_size=args.batch_size)
    split = evaluate.split_title(dataset, args.split)
    print(_("{model} on {data}, split {split} ({count} faces), TTA: {tta}").format(
        model=args.model, data=args.data, split=split, count=len(images), tta=args.tta
    ))
    probabilities = evaluate.predict_faces(predictor, images, batch_size=args.batch_size)
    print(evaluate.format_report(evaluate.evaluate_probabilities(probabilities, labels)))
    return 0
