"""The transformer back end on a tiny classifier built here (no download, no network)."""

from __future__ import annotations

import numpy as np
import pytest

from whuffie.errors import WhuffieError
from whuffie.voice.sentiment import get_analyzer
from whuffie.voice.transformer import TransformerAnalyzer, label_polarity

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ["good", "bad", "great", "awful", "service", "the", "is", "was", "very", "not"]


def _tiny_model(folder, id2label):
    """A two-layer BERT with random weights and a word-level vocabulary, saved like a real model."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    config = BertConfig(vocab_size=len(WORDS) + 5, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                        num_labels=len(id2label), id2label=id2label,
                        label2id={v: k for k, v in id2label.items()})
    torch.manual_seed(7)
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


def _expected(model, tokenizer, texts, polarity):
    """Scores computed directly with the model, one text at a time (no padding)."""
    scores, labels = [], []
    for text in texts:
        with torch.no_grad():
            p = torch.softmax(model(**tokenizer(text, return_tensors="pt")).logits, dim=-1)[0].numpy()
        scores.append(p[polarity == 1].sum() - p[polarity == -1].sum())
        labels.append(polarity[p.argmax()])
    return np.array(scores), np.array(labels)


@pytest.mark.slow
def test_matches_the_model_run_directly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, tokenizer = _tiny_model(tmp_path, {0: "negative", 1: "neutral", 2: "positive"})
    texts = ["the service was very bad", "great", None, "not good", "", "the service is awful not great"]
    analyzer = get_analyzer("transformer", model=str(tmp_path), batch_size=4)
    scores, labels = analyzer.analyse(texts, ["en"] * len(texts))
    real = [i for i, t in enumerate(texts) if t]
    want_scores, want_labels = _expected(model, tokenizer, [texts[i] for i in real], np.array([-1, 0, 1]))
    # Batching pads short texts; the attention mask must make that invisible.
    np.testing.assert_allclose(scores[real], want_scores, atol=1e-5)
    assert labels[real].tolist() == want_labels.tolist()
    assert scores[2] == 0 and labels[2] == 0 and scores[4] == 0
    assert analyzer.version.endswith("(bert, 3 labels)")


@pytest.mark.slow
def test_binary_model_with_upper_case_labels(tmp_path):
    model, tokenizer = _tiny_model(tmp_path, {0: "NEGATIVE", 1: "POSITIVE"})
    analyzer = TransformerAnalyzer(model=tmp_path)
    scores, labels = analyzer.analyse(["good", "bad service"], [None, None])
    want_scores, want_labels = _expected(model, tokenizer, ["good", "bad service"], np.array([-1, 1]))
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    assert labels.tolist() == want_labels.tolist()


def test_refuses_what_is_not_a_model(tmp_path):
    with pytest.raises(WhuffieError, match="needs a local model folder"):
        TransformerAnalyzer()
    with pytest.raises(WhuffieError, match=r"holds no config\.json"):
        TransformerAnalyzer(model=tmp_path)
    with pytest.raises(WhuffieError, match="cannot tell the polarity"):
        label_polarity({0: "sports", 1: "politics"})
