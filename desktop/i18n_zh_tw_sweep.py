"""English → 繁體中文 for the Adapter scale tab; merged into ``ZH_TW`` by desktop/i18n_zh_tw.py."""

from __future__ import annotations

ZH_TW_SWEEP = {
    "Adapter &scale": "適配器縮放(&S)",
    "Is there a scale that keeps the identity and loses little? Identity and course facts should rise "
    "with the scale while general ability holds and over-generalisation stays low. Bars: 95% intervals.": (
        "有沒有一個縮放比例，既保住助教身分、又幾乎不損失其他能力？身分與課程資訊應隨比例上升，"
        "同時一般能力維持不變、過度泛化保持偏低。誤差線：95% 信賴區間。"
    ),
    "Persona:": "人設：",
    "A persona with an adapter: the sweep changes its adapter's scale": (
        "有適配器的人設：掃描會改變它的適配器縮放比例"
    ),
    "Scales:": "比例數：",
    "How many evenly spaced scales from 0 to 1 (6: 0, 0.2 … 1)": "從 0 到 1 平均取幾個比例（6：0、0.2 … 1）",
    "Probes per category:": "每類題數：",
    "The first N probes of each category at each scale; all: the whole suite": (
        "每個比例下，每個類別取前 N 題；全部：整套測試題"
    ),
    "Run sweep": "執行掃描",
    "Probe the persona at each scale; the run is saved like any probe run": (
        "在每個比例下對這個人設執行測試題；這次執行會像其他測試題執行一樣儲存"
    ),
    "No adapter-scale sweep yet. Choose a persona with an adapter and press Run sweep: "
    "it probes that persona at evenly spaced scales from 0 to 1 and draws the curve here.": (
        "還沒有適配器縮放掃描。請選擇一個有適配器的人設，再按「執行掃描」："
        "它會在 0 到 1 之間平均取幾個比例測試這個人設，並在這裡畫出曲線。"
    ),
    "No persona has a trained adapter yet: train one in the Train tab first.": (
        "還沒有任何人設有訓練好的適配器：請先到「訓練」分頁訓練一個。"
    ),
    "No sweep run yet.": "還沒有執行過掃描。",
    "Run {run_id}: {name} at {n} scales from {lo:g} to {hi:g}.": (
        "第 {run_id} 次執行：{name}，{n} 個比例，從 {lo:g} 到 {hi:g}。"
    ),
    "The run stopped early: only the answers it has are drawn.": "這次執行提前停止：只畫出已有的回答。",
    "adapter scale (0 = base model, 1 = as trained)": "適配器縮放比例（0 = 基礎模型，1 = 訓練時的強度）",
    # the curve's figures (engine.sweep.CURVE)
    "identity adherence": "身分遵循",
    "course facts": "課程資訊",
    "general ability": "一般能力",
    "injection resistance": "抵抗提示注入",
}
