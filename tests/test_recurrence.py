"""The step-through numbers are the cells' own: equal to nn.RNN / nn.GRU / nn.LSTM at every token."""
import pytest
import torch

from sentiment.model import ModelConfig, SentimentRNN
from sentiment.recurrence import step_through


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_step_through_equals_the_cells_outputs_at_every_token(cell):
    torch.manual_seed(0)
    model = SentimentRNN(ModelConfig(50, cell, embed_dim=8, hidden_size=6)).eval()
    ids = torch.randint(2, 50, (12,))
    states = [s[0] for s in model.encode(ids[None])]  # num_layers x (T, H)
    cell_states = None
    if cell == "lstm":  # the cell state at every token, from torch, one step at a time
        x, cell_states = model.embedding(ids[None]), []
        for layer in model.layers:
            c, cs, h = None, [], None
            for t in range(len(ids)):
                out, (h, c) = layer(x[:, t:t + 1], None if h is None else (h, c))
                cs.append(c[0, 0])
            cell_states.append(torch.stack(cs))
            x = layer(x)[0]
    for t in range(len(ids)):
        steps = step_through(model, ids, t)
        for layer, step in enumerate(steps):
            torch.testing.assert_close(step["h_t"], states[layer][t], atol=1e-5, rtol=0)
            if cell == "lstm":
                torch.testing.assert_close(step["c_t"], cell_states[layer][t], atol=1e-5, rtol=0)
            if cell == "rnn":
                torch.testing.assert_close(step["sum"], step["W_x x_t"] + step["W_h h_{t-1}"] + step["b"])


def test_step_view_shows_the_top_units_and_the_picked_one(app_env):
    from sentiment.predict import Predictor
    from sentiment.ui import step_view
    shown, table, chart = step_view.step("The film was great fun.", "default", 2)
    assert [bar.name for bar in chart.data] == [c for c in table.columns if c not in ("layer", "unit")]
    assert list(chart.data[-1].y) == pytest.approx(list(table["h_t"]))  # the chart draws the table's numbers
    assert "Token 2: “was”" in shown and "c_t" in table.columns and set(table["layer"]) == {1, 2}
    _, e, _ = step_view.explained("The film was great fun.", "default")
    for row in table.itertuples():  # the output column is the hidden state the heatmap shows
        assert row.h_t == pytest.approx(e.hidden_states[row.layer - 1, 2, row.unit], abs=1e-3)
    shown, table, _ = step_view.step("The film was great fun.", "rnn", 99, 1, 3)  # past the end: the last token
    assert "Token 5" in shown and table.iloc[len(table) // 2]["unit"] == 3 and "W_h h_{t-1}" in table.columns
    assert step_view.advance("The film was great fun.", "rnn", 5) == 0  # Play wraps around
    fitted = step_view.fit_slider("The film was great fun.", "rnn", 40)  # 6 tokens: the slider ends at token 5
    assert (fitted.maximum, fitted.value) == (5, 5)
    assert step_view.fit_slider("", "rnn", 3).maximum == 1
    assert "Type a review" in step_view.step("", "rnn")[0]
