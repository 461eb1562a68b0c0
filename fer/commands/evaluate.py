"""`python -m fer evaluate --model NAME --data NAME [--split test] [--tta [MODE]]`.

Prints accuracy, precision / recall / F1 per emotion and the confusion matrix (true label
down, predicted across) of a registry model or ensemble on one split of a data set, and names
that split: train, val (validation, 10 % of Training), PublicTest, PrivateTest, or test, which
is the data set's test split: PublicTest where FER2013 names one, else its own test faces.
"""

from __future__ import annotations

# The same names as fer.evaluate.TTA_MODES (a test keeps them equal); listed here so that `--help`
# does not have to load the evaluation code.
TTA_CHOICES = ("none", "flip", "crops", "flip+crops", "ten-crop")
# The same names as fer.face_dataset.SPLIT_NAMES (a test keeps them equal).
SPLIT_CHOICES = ("train", "val", "PublicTest", "PrivateTest", "test")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy, per-class metrics and confusion matrix of a trained model",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--model", required=True, help="registry run or ensemble name (python -m fer models lists them)"
    )
    parser.add_argument("--data", default="synthetic", help="data set name: 'synthetic' or an imported cache")
    parser.add_argument(
        "--split", default="test", choices=SPLIT_CHOICES,
        help="test (the default) is the data set's test split: PublicTest where FER2013 names one",
    )
    parser.add_argument(
        "--tta",
        nargs="?",
        const="flip+crops",
        default="none",
        choices=TTA_CHOICES,
        help="test-time augmentation; --tta alone means flip+crops; ten-crop: centre and four corner crops "
        "of the model's training crop size, each also mirrored",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.set_defaults(func=run)


def run(args) -> int:
    from fer import data, evaluate

    dataset = data.load_dataset(args.data)
    images, labels = dataset.split(args.split)
    if len(images) == 0:
        raise evaluate.EvaluationError(
            f"{args.data!r} has no {args.split} faces: pick one of its splits ({', '.join(dataset.split_names)})."
        )
    predictor = evaluate.load_predictor(args.model, tta=args.tta, batch_size=args.batch_size)
    split = dataset.split_label(args.split)
    print(f"{args.model} on {args.data}, split {split} ({len(images)} faces), TTA: {args.tta}")
    probabilities = evaluate.predict_faces(predictor, images, batch_size=args.batch_size)
    print(evaluate.format_report(evaluate.evaluate_probabilities(probabilities, labels)))
    return 0
