"""What survives a restart: the window layout (splitters too), ticked personas, the last question."""

from __future__ import annotations

from desktop.app import MainWindow
from tests.ggufs import write_model_lora


def test_splitters_and_persona_ticks_survive_a_restart(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.show()
    qtbot.waitExposed(window)
    window.probes.split.setSizes([150, 450])
    window.history.split.setSizes([900, 300])
    sizes = window.probes.split.sizes(), window.history.split.sizes()
    window.compare.picker.boxes["base"].setChecked(False)
    # saved on the click itself: a crash or a pulled plug before closing keeps the choice
    assert "base" not in window.settings.value("personas") and "prompted" in window.settings.value("personas")
    window.compare.question.setText("Who is the US president?")
    window.close()
    again = MainWindow(window.worker._factory)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    qtbot.waitUntil(lambda: bool(again.names), timeout=10_000)
    assert (again.probes.split.sizes(), again.history.split.sizes()) == sizes
    assert again.compare.picker.selected() == ["prompted"]
    assert again.compare.question.text() == "Who is the US president?"
    again.close()


def test_untrained_personas_stay_ticked_for_when_the_adapter_exists(window, qtbot, talab_home) -> None:  # type: ignore[no-untyped-def]
    """Unticking Base must not forget that the fine-tuned columns were wanted before training."""
    window.compare.picker.boxes["base"].setChecked(False)
    window.close()
    (talab_home / "adapters").mkdir(parents=True, exist_ok=True)
    write_model_lora(talab_home / "adapters" / "xiaojin.gguf")
    again = MainWindow(window.worker._factory)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: bool(again.names), timeout=10_000)
    assert again.compare.picker.selected() == ["prompted", "finetuned", "finetuned-prompted", "merged"]
    again.close()
