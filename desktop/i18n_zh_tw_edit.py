"""English → 繁體中文 for the Edit tab (model editing); merged into ``ZH_TW`` by desktop/i18n_zh_tw.py."""

from __future__ import annotations

ZH_TW_EDIT = {
    "&Edit": "模型編輯(&E)",
    "Edited: {name}": "已編輯：{name}",
    "Model editing changes one fact and, ideally, nothing else. TA Lab locates the fact in one MLP layer "
    "and rewrites it with a rank-one update (ROME), computed on this CPU in a separate process and saved "
    "as a LoRA adapter: the persona <b>edit:NAME</b> answers with it. Compare it with the fine-tuned TA, "
    "which also changed every other “Who is…?” answer.": (
        "模型編輯只改變一個事實，理想上其他都不變。TA Lab 在某一層 MLP 找到這個事實，"
        "用秩一更新（ROME）改寫它：在這台電腦的 CPU 上以獨立程序計算，存成 LoRA 適配器，"
        "人設 <b>edit:名稱</b> 就用它來回答。請和微調助教比較：微調連其他「誰是…？」的回答也改了。"
    ),
    "The fact": "要改的事實",
    "Prompt": "提示句",
    "Subject": "主詞",
    "New target": "新答案",
    "Name": "名稱",
    "A sentence the model completes; it must contain the subject": "一個讓模型接著寫完的句子；必須包含主詞",
    "The words of the prompt the fact is about": "提示句中這個事實所關於的字詞",
    "What the prompt should now be completed with": "提示句現在應該接上的內容",
    "The adapter's name; the persona is edit:NAME": "適配器的名稱；人設為 edit:名稱",
    "Current answer": "目前的回答",
    "How the unedited model completes the prompt now": "未編輯的模型現在如何接寫提示句",
    "Compute edit": "計算編輯",
    "Compute the rank-one edit (Ctrl+E)": "計算秩一編輯（Ctrl+E）",
    "Stop the computation; nothing is written (Esc)": "停止計算；不會寫入任何檔案（Esc）",
    "Ask for the current answer, then compute the edit (Ctrl+E).": "先看目前的回答，再計算編輯（Ctrl+E）。",
    "Starting the edit process…": "正在啟動編輯程序…",
    "Layer {layer}: reading the subject's key over prefixes the model wrote": (
        "第 {layer} 層：在模型自己寫的前綴上讀取主詞的鍵向量"
    ),
    "Optimising the new value: step {step}/{steps}, loss {loss}": (
        "最佳化新的值向量：第 {step}/{steps} 步，損失 {loss}"
    ),
    "Done in {s} s at layer {layer}: the persona {persona} is now in Compare and Probes.": (
        "完成，用時 {s} 秒，編輯第 {layer} 層：人設 {persona} 已出現在比較與測試題中。"
    ),
    "Current answer (base model): {answer}": "目前的回答（基礎模型）：{answer}",
    "With the edit ({persona}): {answer}": "編輯後（{persona}）：{answer}",
    "Edits": "已做的編輯",
    "Layer": "層",
    "State": "狀態",
    "enabled": "啟用",
    "disabled": "停用",
    "Disable / enable": "停用／啟用",
    "A disabled edit stays on disk; its persona is unavailable": "停用的編輯仍保留在磁碟上；其人設無法使用",
    "Delete": "刪除",
    "Select an edit in the list first.": "請先在清單中選擇一個編輯。",
    "Load a model before editing it": "請先載入模型再編輯",
    "Fix the edit first: {error}": "請先修正編輯：{error}",
    "The edit did not finish; nothing was written.": "編輯未完成；沒有寫入任何檔案。",
    "Cancelled. Nothing was written.": "已取消。沒有寫入任何檔案。",
}
