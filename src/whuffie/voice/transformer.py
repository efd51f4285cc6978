"""An optional sentiment back end: a transformer classifier from a folder the user provides.

The model is never downloaded: ``model`` must be a local folder written by
``save_pretrained`` (a sequence-classification model and its tokenizer), and it is loaded
with ``local_files_only=True`` and the Hugging Face hub switched off. Install the extra
with ``pip install 'whuffie[transformers]'``.

The model's labels are read from its ``id2label``: names containing ``neg``, ``neu`` and
``pos`` (any case) map to negative, neutral and positive; unnamed labels (``LABEL_0``...)
follow the common conventions, 0/1/2 = negative/neutral/positive for three classes and
0/1 = negative/positive for two. The score is P(positive) - P(negative).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from whuffie.errors import WhuffieError


def label_polarity(id2label: dict[int, str]) -> list[int]:
    """The polarity (-1, 0, 1) of each class of a classifier, from its label names.

    Examples
    --------
    >>> label_polarity({0: "NEGATIVE", 1: "POSITIVE"})
    [-1, 1]
    >>> label_polarity({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    [-1, 0, 1]
    >>> label_polarity({0: "joy", 1: "anger"})
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: cannot tell the polarity of the model's label 'joy' (labels: joy, anger); \
a sentiment model names its labels negative / neutral / positive
    """
    names = [str(id2label[i]) for i in range(len(id2label))]
    out = []
    for i, name in enumerate(names):
        low = name.lower()
        if "neg" in low:
            out.append(-1)
        elif "neu" in low:
            out.append(0)
        elif "pos" in low:
            out.append(1)
        elif low == f"label_{i}" and len(names) in (2, 3):
            out.append((-1, 1)[i] if len(names) == 2 else i - 1)
        else:
            raise WhuffieError(f"cannot tell the polarity of the model's label {name!r} (labels: "
                               f"{', '.join(names)}); a sentiment model names its labels negative / "
                               "neutral / positive")
    return out


class TransformerAnalyzer:
    """Sentiment from a local transformer sequence classifier.

    Parameters
    ----------
    model : str or Path
        The folder of the model and its tokenizer (``save_pretrained`` output).
    batch_size : int
        Texts per forward pass.
    max_length : int
        Tokens kept per text (longer texts are truncated).

    Examples
    --------
    >>> TransformerAnalyzer(model="/nonexistent")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: sentiment model folder /nonexistent does not exist; give the folder \
a transformers model was saved to (it is never downloaded)
    """

    name = "transformer"
    #: The model decides what it reads: every message is scored.
    languages = None

    def __init__(self, model: str | Path | None = None, batch_size: int = 32, max_length: int = 256) -> None:
        if model is None:
            raise WhuffieError("the transformer analyzer needs a local model folder: "
                               "--analyzer transformer --model PATH")
        folder = Path(model)
        if not folder.is_dir():
            raise WhuffieError(f"sentiment model folder {folder} does not exist; give the folder a "
                               "transformers model was saved to (it is never downloaded)")
        if not (folder / "config.json").is_file():
            raise WhuffieError(f"{folder} holds no config.json: not a saved transformers model")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError:
            raise WhuffieError("the transformer analyzer needs PyTorch and transformers: "
                               "pip install 'whuffie[transformers]'") from None
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self._model = AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise WhuffieError(f"cannot load the sentiment model in {folder}: {exc}") from None
        self._torch = torch
        config = self._model.config
        self._polarity = np.array(label_polarity({int(k): v for k, v in config.id2label.items()}))
        self.batch_size = batch_size
        self.max_length = max_length
        self.version = f"{folder.resolve().name} ({config.model_type}, {len(self._polarity)} labels)"

    def analyse(self, texts, langs):
        scores = np.zeros(len(texts), dtype=np.float32)
        labels = np.zeros(len(texts), dtype=np.int8)
        todo = [i for i, t in enumerate(texts) if t]
        pos, neg = self._polarity == 1, self._polarity == -1
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start:start + self.batch_size]
            batch = self._tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt")
            with self._torch.inference_mode():
                probs = self._torch.softmax(self._model(**batch).logits, dim=-1).numpy()
            scores[idx] = probs[:, pos].sum(axis=1) - probs[:, neg].sum(axis=1)
            labels[idx] = self._polarity[probs.argmax(axis=1)]
        return scores, labels
