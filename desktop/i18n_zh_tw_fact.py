"""English → 繁體中文 for the one-fact experiment in the Edit tab; merged into ``ZH_TW`` by i18n_zh_tw.py."""

from __future__ import annotations

ZH_TW_FACT = {
    "The lecture's comparison, measured: the fact above is taught four ways (a system-prompt line, a LoRA "
    "fine-tuned on it and a few paraphrases, the ROME edit, and Base unchanged) and each is scored from "
    "the model's own log-probabilities of the new and the old answer. It takes a few minutes.": (
        "把講課裡的比較實際量出來：用四種方式教模型上面這個事實（系統提示裡的一句話、"
        "用這個事實及幾個改寫微調的 LoRA、ROME 編輯，以及完全不改的基礎模型），"
        "再用模型自己對新答案與舊答案的對數機率為每一種評分。需要幾分鐘。"
    ),
    "One-fact experiment": "單一事實實驗",
    "Run experiment": "執行實驗",
    "Teach the fact four ways and score them (several minutes)": "用四種方式教這個事實並評分（需要幾分鐘）",
    "Stop the experiment; the last result stays": "停止實驗；保留上一次的結果",
    "No result yet: run the experiment.": "還沒有結果：請執行實驗。",
    "Starting the experiment…": "正在啟動實驗…",
    "The chart appears after the first run.": "第一次執行後會在這裡顯示圖表。",
    "efficacy": "有效性",
    "generalisation": "泛化",
    "specificity": "專一性",
    "general ability": "一般能力",
    "fluency": "流暢度",
    "Prompt line": "提示句",
    "Fine-tuned": "微調",
    "ROME edit": "ROME 編輯",
    "ROME edit (C from self text)": "ROME 編輯（C 取自模型自己寫的文字）",
    "Fine-tuning on the fact: step {step}/{steps}": "用這個事實微調：第 {step}/{steps} 步",
    "Computing the ROME edit ({detail}): step {step}/{steps}": (
        "計算 ROME 編輯（{detail}）：第 {step}/{steps} 步"
    ),
    "Scoring the personas: {step}/{steps}": "為各人設評分：{step}/{steps}",
    "General-skill probes: {step}/{steps}": "一般技能測試題：{step}/{steps}",
    "{method} (paper, GPT-2 XL)": "{method}（論文，GPT-2 XL）",
    "ROME (paper, GPT-2 XL)": "ROME（論文，GPT-2 XL）",
    "Last result ({created}), {s} s: '{prompt}' → '{target}'.": (
        "上一次的結果（{created}），用時 {s} 秒：「{prompt}」→「{target}」。"
    ),
    "ROME edit ({cov} covariance) at layer {layer}": "ROME 編輯（{cov} 共變異數）在第 {layer} 層",
    "Efficacy: the new answer is more likely than the old on the prompt; generalisation: on paraphrases; "
    "specificity: the old answers still win on neighbouring prompts; general ability: general-skill probes "
    "passed; fluency: n-gram entropy of its own text (bits). {edits}. Load average {load}.": (
        "有效性：在提示句上新答案比舊答案更可能；泛化：在改寫的句子上也是如此；專一性：在相鄰的提示句上舊答案"
        "仍然勝出；一般能力：通過的一般技能測試題比例；流暢度：模型自己生成文字的 n-gram 熵（位元）。"
        "{edits}。負載平均 {load}。"
    ),
    "Fix the fact first: {error}": "請先修正事實：{error}",
    "The experiment did not finish: {error}": "實驗未完成：{error}",
    "Cancelled. The last result is unchanged.": "已取消。上一次的結果不變。",
    "The experiment finished but its result could not be read.": "實驗已完成，但無法讀取結果。",
}
