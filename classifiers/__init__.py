"""The classifier of compactwatch: corpus, features, training, evaluation, evidence, language.

Entry points: `classifiers.model.load_classifier(model_dir).classify(pairs)` (or
`classify_texts`) for the pipeline; `classifiers.train.train_model` and
`classifiers.evaluate.evaluate` for `make train` / `make eval`; `classifiers.commands` for the
CLI. Modules import lazily from here on purpose: loading scikit-learn is not free.
"""
