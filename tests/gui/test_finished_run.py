"""A finished run is drawn at once: when run_finished is handled, the loss plot already shows every point the
run sent, not whatever the throttled redraw had reached (it used to catch up over the next half second)."""

from __future__ import annotations

from gui.panels.loss_panel import LossPanel
from gui.session import TrainingSession


class _Context:
    def __init__(self, session):
        self.session = session


def test_loss_plot_holds_the_final_points_the_moment_the_run_finishes(qtbot, fake_trainer, monkeypatch):
    session = TrainingSession(fake_trainer(steps=40, dt=0.001))
    panel = LossPanel(_Context(session))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    monkeypatch.setattr(panel._timer, "start", lambda *a: None)  # the throttled redraw never comes
    drawn = []
    session.run_finished.connect(
        lambda done: drawn.append((panel.raw_curve.getData(), panel.val_curve.getData(), done.metrics))
    )
    with qtbot.waitSignal(session.state_changed, check_params_cb=lambda s: s == "idle", timeout=10_000):
        session.start(None, None)
    (train_x, train_y), (val_x, val_y), metrics = drawn[0]
    assert list(train_x) == list(range(1, metrics["steps"] + 1))  # every Step, the last one included
    assert train_y[-1] == 4.0 / (1 + 0.01 * 40)
    assert list(val_x) == [10, 20, 30, 40]
