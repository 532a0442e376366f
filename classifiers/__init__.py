"""The classifier of compactwatch: corpus, features, training, evaluation, evidence, language.

Entry points: `classifiers.model.load_classifier(model_dir).classify(pairs)` (or
`classify_texts`) for the pipeline; `classifiers.train.train_model` and
`classifiers.evaluate.evaluate` for `make train` / `make eval`; `classifiers.timing` for
`make bench`'s classify line; `classifiers.commands` for the CLI. Modules import lazily from
here on purpose: loading scikit-learn is not free.

Layout (one responsibility each): lexicon → aboutness → features (the shared featurization);
examples, fitting, scoring, card, train (training); heldout, evaluate (the test set);
model, sentences, evidence, language (the live classifier); corpus, baseline, metrics, persist.
"""
