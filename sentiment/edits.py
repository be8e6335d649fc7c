"""Edit a word, watch the verdict: align two readings, score many edits of one review in one batched
pass, and measure each word's leave-one-out effect.

    align(["not", "bad"], ["not", "good"])      # [("equal", 0, 1, 0, 1), ("replace", 1, 2, 1, 2)]
    found = suggest_edits(predictor, text)      # the one-word edits that move P(positive) most
    found.suggestions[0].text, found.leave_one_out   # an edited review; P without each word

A unidirectional network has read the same thing up to the first token an edit changes, so every
edited review is scored from the original's states at that token: only the rest is run, all
candidates side by side in right-padded batches (no packing). The answer is the model's own, exactly:
the pooled features are the running max and mean over the whole edited review.
"""
from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from .model import SentimentRNN, running_max, running_sum
from .text import clean_text, spacy_tokens, tokenize_many

NEGATORS = ("not", "never", "n't")
AUXILIARIES = ("is", "was", "are", "were", "do", "does", "did", "could", "would", "should", "can", "will", "has",
               "have", "had", "am", "be")  # "was" -> "was not": where a negator fits in English
ANTONYMS = [("good", "bad"), ("best", "worst"), ("great", "terrible"), ("love", "hate"), ("loved", "hated"),
            ("like", "dislike"), ("liked", "disliked"), ("enjoyed", "hated"), ("wonderful", "awful"),
            ("excellent", "poor"), ("brilliant", "dull"), ("beautiful", "ugly"), ("funny", "unfunny"),
            ("interesting", "boring"), ("exciting", "boring"), ("better", "worse"), ("amazing", "awful"),
            ("fantastic", "horrible"), ("perfect", "awful"), ("superb", "dreadful"), ("fun", "tedious"),
            ("strong", "weak"), ("smart", "stupid"), ("always", "never"), ("recommend", "avoid"),
            ("masterpiece", "disaster"), ("success", "failure"), ("positive", "negative"), ("right", "wrong")]
OPPOSITE = {**{a: b for a, b in ANTONYMS}, **{b: a for a, b in ANTONYMS}}
NEIGHBOUR_TOKENS = 12  # the tokens that moved P(positive) most get a nearest-neighbour swap each
COMMON_WORDS = 5000  # neighbours come from the most frequent words (the vocabulary is in order of frequency)
STEP_BUDGET = 1500  # token-steps a search may run (an edit at token t of T costs T - t): 6 reads of 250
BATCH = 64  # the most candidates scored together; a batch also holds only tails of like length


def align(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes between two token lists: (tag, a from, a to, b from, b to), tag one of equal,
    replace, delete, insert. Unchanged tokens line up even where an insertion shifted their position."""
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()


def changed(opcodes, side: str) -> set[int]:
    """Positions of the tokens an edit touched, on side "a" (the original) or "b" (the edit)."""
    k = 1 if side == "a" else 3
    return {i for op in opcodes if op[0] != "equal" for i in range(op[k], op[k + 1])}


def aligned_positions(opcodes, n_b: int) -> np.ndarray:
    """(n_b,) where each token of the edit lines up on the original's axis: an unchanged token at its
    original position; replacing tokens spread over the span they replaced; inserted ones in the gap
    before the original token they precede."""
    x = np.zeros(n_b)
    for tag, i1, i2, j1, j2 in opcodes:
        span = j2 - j1
        for k in range(span):
            if tag == "equal":
                x[j1 + k] = i1 + k
            elif tag == "replace":
                x[j1 + k] = i1 + k * (i2 - i1) / span
            else:  # insert
                x[j1 + k] = i1 - 1 + (k + 1) / (span + 1)
    return x


# --- scoring many continuations of one review ------------------------------------------------------

@dataclass
class Reading:
    """One review read token by token, with what every later edit needs to start from any token."""
    ids: torch.Tensor  # (T,)
    states: list  # per layer: (T, H) h after each token; for an LSTM, a tuple (h, c) of two (T, H)
    read_max: torch.Tensor | None  # (T, R*H) running max of the pooled layers' outputs
    read_sum: torch.Tensor  # (T, R*H) running sum of them
    read: torch.Tensor  # (T, R*H) the pooled layers' outputs


@torch.inference_mode()
def read_states(model: SentimentRNN, ids: torch.Tensor) -> Reading:
    """Read (T,) ids once (eval mode), keeping each layer's state after every token. An RNN's or GRU's
    state is its output; an LSTM's cell state c_t is rebuilt from its gates, which depend only on x_t and
    h_{t-1} (both known), then a cheap elementwise scan c_t = f_t * c_{t-1} + i_t * g_t."""
    x = model.embedding(ids[None, :])  # (1, T, E)
    states, outputs = [], []
    for layer in model.layers:
        out, _ = layer(x)  # (1, T, H)
        h = out[0]  # (T, H)
        if isinstance(layer, nn.LSTM):
            states.append((h, lstm_cell_states(layer, x[0], h)))
        else:
            states.append(h)
        outputs.append(h)
        x = out
    read = torch.cat(outputs[-model.n_read_layers:], dim=-1)  # (T, R*H)
    return Reading(ids, states, running_max(read), running_sum(read), read)


def lstm_cell_states(layer: nn.LSTM, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """(T, E) inputs and (T, H) outputs of a one-layer nn.LSTM started from zeros -> (T, H) cell states."""
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]])  # (T, H) h_{t-1}
    n = 3 * h.shape[1]  # torch's gate order: input, forget, cell candidate, output; c needs the first three
    gates = (x @ layer.weight_ih_l0[:n].T + h_prev @ layer.weight_hh_l0[:n].T
             + layer.bias_ih_l0[:n] + layer.bias_hh_l0[:n])  # (T, 3H)
    i, f, g = gates.chunk(3, dim=-1)
    return linear_scan(torch.sigmoid(f), torch.sigmoid(i) * torch.tanh(g))  # c_t = f_t * c_{t-1} + i_t * g_t


def linear_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(T, H) a and b -> (T, H) c with c_t = a_t * c_{t-1} + b_t from c_{-1} = 0, in log2(T) whole-tensor
    steps, not T small ones (a parallel prefix scan, Hillis and Steele 1986): after the step with shift s,
    row t holds the recurrence over rows t-2s+1..t as one map c -> a c + b, and maps compose as
    (a2, b2) after (a1, b1) = (a2 a1, a2 b1 + b2)."""
    shift = 1
    while shift < len(a):
        b = torch.cat([b[:shift], a[shift:] * b[:-shift] + b[shift:]])  # (T, H)
        a = torch.cat([a[:shift], a[shift:] * a[:-shift]])  # (T, H)
        shift *= 2
    return b


@torch.inference_mode()
def continuation_logits(model: SentimentRNN, base: Reading, candidates: list[torch.Tensor]) -> torch.Tensor:
    """(n,) logits of "positive" for each candidate (T_i,) ids, each read from the base's states at the
    first token where it differs: the same numbers as reading it whole, at the cost of its changed tail."""
    T = len(base.ids)
    logits = torch.zeros(len(candidates))
    starts = []
    for cand in candidates:
        n = min(len(cand), T)
        same = (cand[:n] == base.ids[:n]).long()
        starts.append(int(same.cumprod(0).sum()))  # the length of the common prefix
    tail = lambda i: len(candidates[i]) - starts[i]
    order = sorted(range(len(candidates)), key=tail)
    while order:  # a batch: tails of like length, so that padding adds little (the shortest sets the bound)
        bound = 1.5 * tail(order[0]) + 8
        rows = [i for i in order[:BATCH] if tail(i) <= bound]
        logits[rows] = _score_rows(model, base, [candidates[i] for i in rows], [starts[i] for i in rows])
        order = order[len(rows):]
    return logits


def _score_rows(model: SentimentRNN, base: Reading, cands: list[torch.Tensor], starts: list[int]) -> torch.Tensor:
    B = len(cands)
    tails = [c[s:] for c, s in zip(cands, starts)]
    S = max(1, max(len(t) for t in tails))
    tail_ids = torch.zeros(B, S, dtype=torch.long)  # (B, S) right-padded with <pad>
    for b, t in enumerate(tails):
        tail_ids[b, :len(t)] = t
    tail_len = torch.tensor([len(t) for t in tails])  # (B,)
    prefix = torch.tensor(starts)  # (B,) tokens shared with the base
    x = model.embedding(tail_ids)  # (B, S, E)
    outputs = []
    for layer, state in zip(model.layers, base.states):
        if isinstance(layer, nn.LSTM):
            h0 = _at(state[0], prefix)[None]  # (1, B, H)
            init = (h0, _at(state[1], prefix)[None])
        else:
            init = _at(state, prefix)[None]
        x, _ = layer(x, init)  # (B, S, H)
        outputs.append(x)
    read = torch.cat(outputs[-model.n_read_layers:], dim=-1)  # (B, S, R*H)
    total = (prefix + tail_len).clamp_min(1)  # (B,) tokens of each whole candidate
    mask = (torch.arange(S)[None, :] < tail_len[:, None])[..., None]  # (B, S, 1)
    has_prefix = (prefix > 0)[:, None]  # (B, 1)
    pooled = []
    for name in model.pool_parts:
        if name == "last":
            last_tail = read[torch.arange(B), (tail_len - 1).clamp_min(0)]  # (B, R*H)
            pooled.append(torch.where((tail_len > 0)[:, None], last_tail, _at(base.read, prefix)))
        elif name == "max":
            tail_max = read.masked_fill(~mask, float("-inf")).amax(dim=1)  # (B, R*H)
            pooled.append(torch.where(has_prefix, torch.maximum(tail_max, _at(base.read_max, prefix)), tail_max))
        else:  # mean
            tail_sum = (read * mask).sum(dim=1)  # (B, R*H)
            prefix_sum = torch.where(has_prefix, _at(base.read_sum, prefix), torch.zeros_like(tail_sum))
            pooled.append((prefix_sum + tail_sum) / total[:, None].to(read.dtype))
    return model.classifier(torch.cat(pooled, dim=-1)).squeeze(-1)  # (B,)


def _at(per_token: torch.Tensor, prefix: torch.Tensor) -> torch.Tensor:
    """(T, D) values after each token -> (B, D) the values after token prefix-1 (zeros where prefix is 0)."""
    picked = per_token[(prefix - 1).clamp_min(0)]
    return torch.where((prefix > 0)[:, None], picked, torch.zeros_like(picked))


# --- the edits worth trying -------------------------------------------------------------------------

@dataclass
class Edit:
    kind: str  # delete, remove a negator, add a negator, antonym, neighbour
    description: str  # e.g. 'delete "not"' or '"good" → "bad"'
    position: int  # the first token it changes
    ids: list[int]  # the edited review's token ids, as the model reads them
    span: tuple[int, int, str]  # the edited text is the cleaned text with [lo, hi) replaced by this
    deletes: int | None = None  # the token it leaves out (a leave-one-out edit), else None

    def text(self, cleaned: str) -> str:
        lo, hi, new = self.span
        return cleaned[:lo] + new + cleaned[hi:]


@dataclass
class Suggestion:
    kind: str
    description: str
    text: str  # the edited review
    prob: float  # its P(positive)
    delta: float  # its P(positive) minus the original's
    flips: bool  # the label changes


@dataclass
class EditSearch:
    original_prob: float
    tokens: list[str]  # the original's tokens, as read
    running_deltas: np.ndarray  # (T,) how much each token moved P(positive) when it was read
    leave_one_out: np.ndarray  # (T,) P(positive) without each token; NaN where the search did not try it
    suggestions: list[Suggestion]  # the k that move P(positive) most, largest move first
    n_candidates: int  # edits scored
    n_positions: int  # tokens whose edits were tried (all of a short review; the most moving ones of a long)


def edits_at(i: int, cleaned: str, words, ids: list[int], vocab, lowercase: bool, neighbour: str | None
             ) -> list[Edit]:
    """Every one-word edit at token ``i`` of ``cleaned`` (``words``: its spaCy tokens, with offsets)."""
    tok = words[i]
    lo, hi = tok.idx, tok.idx + len(tok.text)
    low = tok.text.lower()
    word_id = lambda w: vocab.stoi.get(w if lowercase else w, 1)
    deleted = "remove" if low in NEGATORS else "delete"
    found = [Edit("remove a negator" if low in NEGATORS else "delete", f'{deleted} "{tok.text}"', i,
                  ids[:i] + ids[i + 1:], _cut(cleaned, lo, hi), deletes=i)]
    following = words[i + 1].text.lower() if i + 1 < len(words) else ""
    if low in AUXILIARIES and following not in NEGATORS:
        for neg in ("not", "never"):
            found.append(Edit("add a negator", f'"{tok.text}" → "{tok.text} {neg}"', i + 1,
                              ids[:i + 1] + [word_id(neg)] + ids[i + 1:], (hi, hi, f" {neg}")))
    glued = not tok.whitespace_ and i + 1 < len(words) and words[i + 1].text[:1].isalnum()  # "ca" of "can't"
    for kind, word in (("antonym", OPPOSITE.get(low)), ("neighbour", neighbour)):
        if word and not glued:
            swap = word.capitalize() if tok.text[:1].isupper() else word
            note = " (nearest in the model's embedding)" if kind == "neighbour" else ""
            found.append(Edit(kind, f'"{tok.text}" → "{swap}"{note}', i,
                              ids[:i] + [word_id(swap.lower() if lowercase else swap)] + ids[i + 1:], (lo, hi, swap)))
    return found


def _cut(text: str, lo: int, hi: int) -> tuple[int, int, str]:
    """The span that removes [lo, hi); a word also takes one space next to it, so no double space is left
    (punctuation goes alone: "terrible, it's" loses its comma, not the space after it)."""
    # a piece of a word ("ca" or "n't" of "can't") goes alone, so that no two words are joined
    attached = (lo > 0 and text[lo - 1] != " ") or text[hi:hi + 1].isalnum()
    if text[lo:hi][:1].isalnum() and not attached:
        if hi < len(text) and text[hi] == " ":
            hi += 1
        elif lo > 0 and text[lo - 1] == " ":
            lo -= 1
    return lo, hi, ""


def nearest_neighbours(model: SentimentRNN, vocab, tokens: list[str], positions: list[int]) -> dict[int, str]:
    """For tokens at ``positions``: the alphabetic common word nearest in the model's embedding (cosine)."""
    normed = lambda w: w / w.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    asked = {}  # position -> token id, for the alphabetic tokens the vocabulary knows
    for i in positions:
        token_id = vocab.stoi.get(tokens[i])
        if token_id is not None and token_id >= 2 and tokens[i].isalpha():
            asked[i] = token_id
    if not asked:
        return {}
    common = normed(model.embedding.weight[:COMMON_WORDS])  # (COMMON_WORDS, E)
    similarity = normed(model.embedding.weight[list(asked.values())]) @ common.T  # (n, COMMON_WORDS)
    nearest = similarity.topk(min(20, similarity.shape[1]), dim=1).indices.tolist()  # n x 20, nearest first
    found = {}
    for (i, token_id), candidates in zip(asked.items(), nearest):
        for j in candidates:
            word = vocab.itos[j]
            if j != token_id and j >= 2 and word.isalpha() and word != tokens[i]:
                found[i] = word
                break
    return found


@torch.inference_mode()
def suggest_edits(predictor, text: str, k: int = 10) -> EditSearch:
    """Try one-word edits of ``text`` (delete a token, add or remove a negator, swap a word for its
    antonym or for its nearest neighbour in the embedding) and return the ``k`` that move P(positive)
    most, with the leave-one-out P of the tokens tried, all scored in one batched pass from the
    original's states. A long review's edits are tried at the tokens that moved P(positive) most,
    within a budget of STEP_BUDGET token-steps: every edit costs the tokens after it."""
    cleaned = clean_text(text, predictor.keep_html)
    words = spacy_tokens(cleaned)
    tokens = [t.lower_ if predictor.lowercase else t.text for t in words]
    if sum(any(ch.isalnum() for ch in t) for t in tokens) < 2:
        raise ValueError("Suggestions need a review of at least two words: one word alone has no context to edit.")
    T = min(len(tokens), predictor.max_len)  # what the model reads
    read, _ = predictor.read(tokens[:T])  # misspellings read as meant, as the Predict view reads them
    ids = predictor.vocab.encode(read)
    base = read_states(predictor.model, torch.tensor(ids))
    model = predictor.model
    running = torch.sigmoid(model.running_logits(base.read[None])[0]).numpy()  # (T,)
    deltas = np.diff(running, prepend=0.5)  # what each token did to P(positive) when it was read
    by_move = np.argsort(-np.abs(deltas), kind="stable").tolist()  # (T,) most moving token first
    neighbours = nearest_neighbours(predictor.model, predictor.vocab, read, by_move[:NEIGHBOUR_TOKENS])
    edits, spent, tried = [], 0, 0
    budget = max(STEP_BUDGET, 2 * T)
    for i in by_move:
        here = edits_at(i, cleaned, words, ids, predictor.vocab, predictor.lowercase, neighbours.get(i))
        cost = sum(T - edit.position + 1 for edit in here)
        if spent + cost > budget and tried:
            continue  # too dear from here; a token further on may still fit
        edits += here
        spent += cost
        tried += 1
    logits = continuation_logits(predictor.model, base, [torch.tensor(edit.ids or [0]) for edit in edits])
    probs = torch.sigmoid(logits).numpy()  # (n,)
    p0 = float(running[-1])
    loo = np.full(T, np.nan)
    for edit, p in zip(edits, probs):
        if edit.deletes is not None:
            loo[edit.deletes] = p
    ranked = sorted(range(len(edits)), key=lambda j: -abs(probs[j] - p0))
    chosen, seen = [], set()
    for j in ranked:
        edited = edits[j].text(cleaned)
        if edited not in seen and edited != cleaned:
            seen.add(edited)
            chosen.append((edits[j], edited, float(probs[j])))
        if len(chosen) == k:
            break
    # the model reads the edited text anew; where its tokens are not the edit's ids (rare), score the text
    if clean_text(cleaned, predictor.keep_html) == cleaned:  # cleaning the edited text again changes nothing
        starts = [w.idx for w in words]
        edited_tokens = [tokens_after(cleaned, starts, tokens, edit.span, predictor.lowercase) for edit, _, _ in chosen]
    else:
        edited_tokens = tokenize_many((t for _, t, _ in chosen), predictor.lowercase, keep_html=predictor.keep_html)
    edited_ids = [predictor.encode(toks[:predictor.max_len]) for toks in edited_tokens]
    differ = [n for n, (edit, _, _) in enumerate(chosen) if edited_ids[n] != edit.ids]
    if differ:
        fixed = torch.sigmoid(torch.from_numpy(predictor.logits([chosen[n][1] for n in differ]))).numpy()
        for n, p in zip(differ, fixed):
            chosen[n] = (chosen[n][0], chosen[n][1], float(p))
    suggestions = [Suggestion(edit.kind, edit.description, edited, p, p - p0, (p >= 0.5) != (p0 >= 0.5))
                   for edit, edited, p in sorted(chosen, key=lambda c: -abs(c[2] - p0))]
    return EditSearch(p0, read, deltas, loo, suggestions, len(edits), tried)


def tokens_after(cleaned: str, starts: list[int], tokens: list[str], span: tuple[int, int, str], lowercase: bool
                 ) -> list[str]:
    """The tokens of ``cleaned`` with ``span`` (lo, hi, new) put in, given its own ``tokens`` and where each
    starts. spaCy splits a text at whitespace first and reads each piece alone, so only the stretch between
    the whitespace around the edit is tokenized again; the tokens on either side are the original's."""
    lo, hi, new = span
    a = lo - 1
    while a > 0 and not cleaned[a].isspace():
        a -= 1
    a = max(a, 0)  # whitespace before the edit, or the start
    b = hi
    while b < len(cleaned) and not cleaned[b].isspace():
        b += 1  # whitespace after it, or the end
    middle = [t.lower_ if lowercase else t.text for t in spacy_tokens(cleaned[a:lo] + new + cleaned[hi:b])]
    return tokens[:bisect.bisect_left(starts, a)] + middle + tokens[bisect.bisect_left(starts, b):]


@dataclass
class EditComparison:
    original: object  # Explanation of the original review
    edited: object  # Explanation of the edited review
    opcodes: list  # align(original tokens, edited tokens)

    @property
    def delta(self) -> float:
        return self.edited.prob_positive - self.original.prob_positive


def compare_texts(predictor, original: str, edited: str) -> EditComparison:
    """Both reviews explained by one model, and their tokens aligned (unchanged tokens matched)."""
    a, b = predictor.explain(original), predictor.explain(edited)
    return EditComparison(a, b, align(a.tokens, b.tokens))
