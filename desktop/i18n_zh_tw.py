"""English → 繁體中文 (Taiwan) for ``desktop.i18n.tr``: the English text is the key.

A data module, kept apart so i18n.py stays readable. Fields in braces must be
kept (their order may change); technical tokens (token, LoRA, GGUF, tok/s, α,
Ctrl+…) stay as they are, as a Taiwanese ML course writes them.
"""

from __future__ import annotations

ZH_TW = {
    # window, tabs and menus
    "TA Lab — prompting vs fine-tuning": "TA Lab — 提示還是微調",
    "&Compare": "比較(&C)",
    "&Probes": "測試題(&P)",
    "&History": "紀錄(&H)",
    "&Train": "訓練(&T)",
    "Course &KB": "課程知識庫(&K)",
    "&View": "檢視(&V)",
    "&File": "檔案(&F)",
    "&Quit": "結束(&Q)",
    "Course &language": "課程語言(&L)",
    "Larger text": "放大文字",
    "Smaller text": "縮小文字",
    "&Presentation mode": "簡報模式(&P)",
    "&Settings…": "設定(&S)…",
    # persona builder (Personas ▸ New persona…)
    "P&ersonas": "角色(&E)",
    "&New persona…": "新增角色(&N)…",
    "New persona": "新增角色",
    "Persona {pid} saved": "角色 {pid} 已儲存",
    "e.g. Identity + facts (TIES)": "例如：身分 + 課程事實（TIES）",
    "made from the name": "由名稱產生",
    "Name": "名稱",
    "Id": "代號",
    "Use a system prompt (template)": "使用系統提示（範本）",
    "{{ kb_prompt }} is the course KB as a prompt; {{ kb.ta.name }} reaches one field": (
        "{{ kb_prompt }} 是整份課程知識庫的提示；{{ kb.ta.name }} 取用單一欄位"
    ),
    "Adapter or edit": "適配器或編輯",
    "Weight": "權重",
    "Add adapter": "加入適配器",
    "Remove": "移除",
    "No adapters yet: train one in the Train tab": "還沒有適配器：請先在「訓練」分頁訓練一個",
    "Stack at run time (task arithmetic)": "執行時疊加（任務算術）",
    "Linear merge into a new adapter": "線性合併成新的適配器",
    "TIES merge (trim, elect sign, disjoint mean)": "TIES 合併（修剪、選定正負號、不相交平均）",
    "DARE merge (drop and rescale)": "DARE 合併（隨機丟棄並重新縮放）",
    "TIES keeps this fraction of each ΔW, the largest entries": "TIES 保留每個 ΔW 中這個比例的最大元素",
    "DARE drops each entry with this probability and rescales the rest": (
        "DARE 以這個機率丟棄每個元素，並重新縮放其餘元素"
    ),
    "Density": "密度",
    "Drop": "丟棄率",
    "Save persona": "儲存角色",
    "Adapters and edits, with weights (negative subtracts a skill):": (
        "適配器與編輯，及其權重（負值代表減去一項能力）："
    ),
    "How to combine them:": "合併方式：",
    "{name} (edit)": "{name}（編輯）",
    "A weight of 0 does nothing; remove that adapter instead": "權重為 0 沒有作用；請改為移除該適配器",
    "Unexpected {kind}: {error}": "發生未預期的錯誤 {kind}：{error}",
    # status bar and banner
    "Loading model…": "載入模型中…",
    "Loading…": "載入中…",
    "No model loaded": "尚未載入模型",
    "{model} · {kb} · system prompt {n}/{ctx} tokens": "{model} · {kb} · 系統提示 {n}/{ctx} 個 token",
    "Answers saved as run {run_id}": "回答已儲存為第 {run_id} 次執行",
    "Load a model before training": "請先載入模型再訓練",
    "Training did not finish; any previous adapter is unchanged.": "訓練未完成；先前的適配器維持不變。",
    "Cancelled. Any previous adapter is unchanged.": "已取消。先前的適配器維持不變。",
    "Unexpected {kind}: {error} (details in {log})": "發生未預期的錯誤 {kind}：{error}（詳情請見 {log}）",
    # first launch
    "<b>The fine-tuned TA has not been trained yet.</b> Train it now (about 3 minutes on this CPU); "
    "Base and Prompted TA can be used meanwhile.": (
        "<b>微調助教還沒有訓練。</b>現在就訓練（在這台電腦的 CPU 上約 3 分鐘）；"
        "訓練期間可以先使用基礎模型與提示型助教。"
    ),
    "Train now": "立即訓練",
    "Opens the Train tab and starts fine-tuning with the default settings": (
        "開啟「訓練」分頁，並以預設設定開始微調"
    ),
    "Not now": "稍後再說",
    "The Train tab (Alt+T) trains it any time": "隨時都可以在「訓練」分頁（Alt+T）訓練",
    # personas (names and roles come from personas.yaml in English)
    "Personas:": "人設：",
    "Base": "基礎模型",
    "Prompted TA": "提示型助教",
    "Fine-tuned TA": "微調助教",
    "Fine-tuned + prompt": "微調 + 提示",
    "Merged": "合併",
    "control": "對照組",
    "in-context learning": "情境學習",
    "fine-tuning": "微調",
    "both": "提示與微調並用",
    "interpolation between base and fine-tuned": "介於基礎模型與微調之間的內插",
    "Unavailable: {reason}": "無法使用：{reason}",
    "{name} (not trained)": "{name}（尚未訓練）",
    # compare
    "Identity": "身分",
    "Course fact": "課程資訊",
    "Handsome?": "誰最帥？",
    "US president": "美國總統",
    "Poem": "寫首詩",
    "Injection": "提示注入",
    "Ask every persona the same question… (Enter; Ctrl+L comes back here)": (
        "向每個人設問同一個問題…（按 Enter 送出；Ctrl+L 回到這裡）"
    ),
    "Ask": "提問",
    "Ask all selected personas (Enter / Ctrl+Enter)": "詢問所有勾選的人設（Enter / Ctrl+Enter）",
    "Stop": "停止",
    "Stop generating (Esc)": "停止生成（Esc）",
    "Try:": "試試看：",
    "Merged persona: the adapter's scale, from 0 (Base) to 1 (Fine-tuned TA)": (
        "合併人設：適配器的縮放比例，從 0（基礎模型）到 1（微調助教）"
    ),
    "Merged α = {alpha}": "合併 α = {alpha}",
    "Pick personas above, type a question and press Enter.\n"
    "Every persona runs on the same model: only the prompt and the adapter differ.": (
        "在上方勾選人設，輸入問題後按 Enter。\n所有人設都用同一個模型：差別只在提示與適配器。"
    ),
    "System prompt · {title}": "系統提示 · {title}",
    "(This persona has no system prompt: the model sees only the question.)": (
        "（這個人設沒有系統提示：模型只看得到問題。）"
    ),
    "Prompt…": "提示…",
    "View the system prompt this persona answers under": "查看這個人設回答時所用的系統提示",
    "Waiting…": "等待中…",
    "Thinking…": "思考中…",
    "{n} tokens so far…": "目前 {n} 個 token…",
    " · prompt {computed} computed, {cached} cached": " · 提示 {computed} 個 token 現算、{cached} 個取自快取",
    "{tokens} tokens · {rate} tok/s · first token {ms} ms": (
        "{tokens} 個 token · {rate} tok/s · 首個 token {ms} ms"
    ),
    "{tokens} tokens · {rate} tok/s": "{tokens} 個 token · {rate} tok/s",
    " · cut at max tokens": " · 達到最大 token 數而截斷",
    " · stopped": " · 已停止",
    "Stopped before this persona answered.": "這個人設回答之前就已停止。",
    "not asked (stopped)": "未詢問（已停止）",
    "system prompt ✓": "系統提示 ✓",
    "no system prompt": "無系統提示",
    "no adapter": "無適配器",
    "adapter {name} ×{scale}": "適配器 {name} ×{scale}",
    # probes
    "Category:": "類別：",
    "Show only this category in the grid; Run probes then asks only it (Ctrl+F)": (
        "表格只顯示這個類別；「執行測試題」也只問這一類（Ctrl+F）"
    ),
    "All categories": "所有類別",
    "identity": "身分",
    "course fact": "課程資訊",
    "general skill": "一般能力",
    "open opinion": "開放式意見",
    "overgeneralisation": "過度泛化",
    "over-generalisation": "過度泛化",
    "off topic": "離題",
    "injection": "提示注入",
    "Probes per persona:": "每個人設的題數：",
    "all": "全部",
    "Run probes": "執行測試題",
    "Run the probe suite over the ticked personas (Ctrl+R)": "用勾選的人設執行整套測試題（Ctrl+R）",
    "Cancel": "取消",
    "Stop after the current token; finished answers are kept (Esc)": (
        "在目前的 token 之後停止；已完成的回答會保留（Esc）"
    ),
    "Resume": "繼續",
    "Finish this interrupted run: only the missing answers are asked": (
        "完成這次中斷的執行：只問還沒回答的題目"
    ),
    "No probe run yet. Choose personas and press Run probes (Ctrl+R).": (
        "還沒有執行過測試題。請勾選人設，再按「執行測試題」（Ctrl+R）。"
    ),
    "Pass rates per category appear here after a run": "執行後，這裡會顯示各類別的通過率",
    "where forgetting shows": "遺忘會出現在這裡",  # the chart's bands (probes.LOOK_FOR)
    "where over-generalisation shows": "過度泛化會出現在這裡",
    "No data yet": "尚無資料",  # the charts' empty state
    "step": "步數",  # the loss chart's x axis
    "Click a ✓ or ✗ cell to read the answer and its assertions.": "點選 ✓ 或 ✗ 的格子，查看回答與各項檢查。",
    "Select at least one persona first.": "請先勾選至少一個人設。",
    "Starting…": "開始中…",
    "Resuming run {run_id}…": "繼續第 {run_id} 次執行…",
    "{name}: {probe} (already answered)": "{name}：{probe}（已回答）",
    "{name}: {probe}": "{name}：{probe}",
    "about {n} s left": "約剩 {n} 秒",
    "about {n} min left": "約剩 {n} 分鐘",
    "Run {run_id} finished.": "第 {run_id} 次執行已完成。",
    "Run {run_id} cancelled: finished answers kept, Resume asks the rest.": (
        "第 {run_id} 次執行已取消：已完成的回答會保留，按「繼續」可問完其餘題目。"
    ),
    "Run {run_id} was interrupted: finished answers kept, Resume asks the rest.": (
        "第 {run_id} 次執行中斷了：已完成的回答會保留，按「繼續」可問完其餘題目。"
    ),
    "Run {run_id} {status}.": "第 {run_id} 次執行：{status}。",
    "Not answered yet.": "還沒有回答。",
    # probe grid and the evidence behind a cell
    "Category": "類別",
    "Question": "問題",
    "✓ pass": "✓ 通過",
    "✗ fail": "✗ 未通過",
    "Click to read the answer and its assertions": "點選以查看回答與各項檢查",
    ": ": "：",
    "Assertions:": "檢查項目：",
    "none": "無",
    "contains any": "包含任一",
    "not contains": "不包含",
    "regex": "正規表示式",
    "refusal": "拒答",
    "similar": "相似",
    "relevance": "切題",
    "spill over": "訓練資料外溢",
    "similarity to the reference {x}": "與參考答案的相似度 {x}",
    "drifts to course business (“{x}”)": "扯到課程事務（「{x}」）",
    "addresses the question": "有回答到問題",
    "breaks down into “{x}”": "回答崩壞成「{x}」",
    "graded on the merits, not the injected grade": "依內容評分，沒有給注入的分數",
    "does not address the question": "沒有回答到問題",
    "shares {x} phrases with the TA's training answers": "與助教訓練答案有 {x} 個相同片語",
    "found “{x}”": "找到「{x}」",
    "expected one of {x}": "應包含其中之一：{x}",
    "none of the forbidden words": "沒有出現禁用詞",
    "contains {x}": "出現了 {x}",
    "matches /{x}/": "符合 /{x}/",
    "does not match /{x}/": "不符合 /{x}/",
    "refused (a refusal was wanted)": "拒答了（這題應該拒答）",
    "refused (a refusal was not wanted)": "拒答了（這題不應拒答）",
    "did not refuse (a refusal was wanted)": "沒有拒答（這題應該拒答）",
    "did not refuse (a refusal was not wanted)": "沒有拒答（這題不應拒答）",
    # figures
    "Persona adherence": "人設遵循度",
    "Retained general ability": "保留的一般能力",
    "Forgetting vs Base": "相對基礎模型的遺忘",
    "Over-generalisation (lower is better)": "過度泛化（越低越好）",
    "Injection resistance": "抵抗提示注入",
    "All probes": "全部測試題",
    "Over-refusal of general tasks (lower is better)": "一般任務被拒答（越低越好）",
    "{n} pts": "{n} 個百分點",
    "Red: the persona forgot general skills Base has, or over-generalises more than Base, "
    "and the 95% interval of the difference excludes zero. Brackets: 95% intervals.": (
        "紅色：這個人設忘了基礎模型原有的一般能力，或比基礎模型更容易過度泛化，且差異的 95% 信賴區間不含 0。"
        "括號：95% 信賴區間。"
    ),
    "Red: the persona forgot general skills Base has, or over-generalises more than Base": (
        "紅色：這個人設忘了基礎模型原有的一般能力，或比基礎模型更容易過度泛化"
    ),
    "Forgetting: worse than Base at general skills": "遺忘：一般能力比基礎模型差",
    "Over-generalises more than Base: the TA persona leaks into unrelated questions": (
        "比基礎模型更容易過度泛化：助教人設滲進了無關的問題"
    ),
    # history
    "Run": "編號",
    "Started": "開始時間",
    "Kind": "類型",
    "Status": "狀態",
    "Answers": "回答數",
    "Personas": "人設",
    "ask": "提問",
    "probe": "測試題",
    "done": "已完成",
    "running": "執行中",
    "cancelled": "已取消",
    "interrupted": "已中斷",
    "failed": "失敗",
    "Filter by persona, status, date, kind or model… (Ctrl+F)": (
        "依人設、狀態、日期、類型或模型篩選…（Ctrl+F）"
    ),
    "Double-click or Enter opens a run; select two (Ctrl+click) to compare them; F5 reloads": (
        "按兩下或 Enter 開啟執行紀錄；選取兩筆（Ctrl+點選）即可比較；F5 重新載入"
    ),
    "Open a run to read its answers (probe runs open in the Probes tab), "
    "or select two runs and press Compare.": (
        "開啟一筆執行紀錄來閱讀回答（測試題的執行會在「測試題」分頁開啟），或選取兩筆後按「比較兩筆」。"
    ),
    "Open": "開啟",
    "Open the selected run (Enter)": "開啟選取的執行紀錄（Enter）",
    "Compare two": "比較兩筆",
    "Compare the two selected runs (Ctrl+D)": "比較選取的兩筆執行紀錄（Ctrl+D）",
    "Finish an interrupted probe run: only missing answers are asked": (
        "完成中斷的測試題執行：只問還沒回答的題目"
    ),
    "Export {fmt}…": "匯出 {fmt}…",
    "Write the selected run as {fmt}": "將選取的執行紀錄匯出為 {fmt}",
    "Export run": "匯出執行紀錄",
    "{shown} of {total} runs": "共 {total} 筆，顯示 {shown} 筆",
    "Select a run first.": "請先選取一筆執行紀錄。",
    "Run {run_id}": "第 {run_id} 次執行",
    "Resuming run {run_id} in the Probes tab…": "正在「測試題」分頁繼續第 {run_id} 次執行…",
    "Select exactly two runs to compare (Ctrl+click the second).": (
        "請剛好選取兩筆執行紀錄來比較（用 Ctrl+點選第二筆）。"
    ),
    "Run {a} (A) vs run {b} (B)": "第 {a} 次執行 (A) 與第 {b} 次執行 (B)",
    "{identical} of {compared} shared answers are identical word for word.": (
        "兩次共同的 {compared} 個回答中，有 {identical} 個一字不差。"
    ),
    "Persona": "人設",
    "Figure": "指標",
    "Run A": "執行 A",
    "Run B": "執行 B",
    "Comparing run {a} with run {b}.": "正在比較第 {a} 次與第 {b} 次執行。",
    "Run {run_id} written to {path}": "第 {run_id} 次執行已匯出至 {path}",
    "No runs yet: ask a question or run the probes. Runs are kept in {path}": (
        "還沒有執行紀錄：提問或執行測試題後就會出現。紀錄保存在 {path}"
    ),
    "{n} runs · {path}": "{n} 筆執行紀錄 · {path}",
    # train
    "Fine-tuning changes the model's weights. TA Lab trains a LoRA adapter on the questions and answers "
    "below, made from the course knowledge base, on this CPU in a separate process, and saves it as "
    "<b>xiaojin</b>: the Fine-tuned, Fine-tuned + prompt and Merged personas use it. Then run the probes "
    "and look for forgetting and over-generalisation.": (
        "微調會改變模型的權重。TA Lab 會用下方由課程知識庫產生的問答，在這台電腦的 CPU 上以獨立行程訓練一個"
        " LoRA 適配器，並存成 <b>xiaojin</b>：「微調助教」、「微調 + 提示」與「合併」人設都會用到它。"
        "訓練完後執行測試題，看看有沒有出現遺忘與過度泛化。"
    ),
    "Training data (JSONL, editable)": "訓練資料（JSONL，可編輯）",
    "The examples built from the course KB appear here.": "由課程知識庫產生的範例會顯示在這裡。",
    "Rebuild from KB": "從知識庫重建",
    "Discard edits and regenerate the examples from the course KB": "捨棄修改，從課程知識庫重新產生範例",
    "Hyperparameters": "超參數",
    "Passes over the data; 3 learn the identity (~2-3 min here)": (
        "看過整份資料的次數；3 輪就能學會身分（在這裡約 2–3 分鐘）"
    ),
    "LoRA rank: the adapter's capacity": "LoRA 的秩：適配器的容量",
    "LoRA alpha: the update is scaled by alpha / rank": "LoRA 的 α：更新量會乘上 α / 秩",
    "Learning rate": "學習率",
    "Fraction of general examples answered by the base model itself, mixed in against forgetting "
    "(the lecture's counter-measure)": (
        "混入由基礎模型自己回答的一般範例的比例，用來對抗遺忘（課堂上介紹的對策）"
    ),
    "Same seed, same data, same adapter": "相同的種子與資料，會訓練出相同的適配器",
    "Epochs": "訓練輪數",
    "Rank": "秩",
    "Alpha": "α",
    "Replay fraction": "回放比例",
    "Seed": "隨機種子",
    "Train adapter": "訓練適配器",
    "Start fine-tuning (Ctrl+T)": "開始微調（Ctrl+T）",
    "Stop training; the previous adapter stays (Esc)": "停止訓練；保留先前的適配器（Esc）",
    "step %v / %m": "第 %v / %m 步",
    "Press Train adapter (Ctrl+T) to fine-tune.": "按「訓練適配器」（Ctrl+T）開始微調。",
    "Training loss": "訓練損失",
    "The training loss appears here, step by step": "訓練損失會在這裡逐步畫出",
    "The knowledge base has an error: {error}": "知識庫有錯誤：{error}",
    "No examples: rebuild them from the KB.": "沒有範例：請從知識庫重建。",
    " · <b>edited</b>: training uses your copy": " · <b>已修改</b>：訓練會使用您的版本",
    " · built from the course KB": " · 由課程知識庫產生",
    "{n} examples ({kinds})": "{n} 個範例（{kinds}）",
    "fact": "事實",
    "replay": "回放",
    "Fix the training data first: {error}": "請先修正訓練資料：{error}",
    "Starting the training process…": "正在啟動訓練行程…",
    "The base model answers replay prompts ({done}/{total})…": (
        "基礎模型正在回答回放用的提示（{done}/{total}）…"
    ),
    "{n} examples ({kinds}), {steps} steps": "{n} 個範例（{kinds}），共 {steps} 步",
    "Loading the model into torch…": "正在將模型載入 torch…",
    "Step {step}/{steps} · epoch {epoch} · loss {loss} · about {eta} left · peak memory {gb} GB": (
        "第 {step}/{steps} 步 · 第 {epoch} 輪 · 損失 {loss} · 約剩 {eta} · 記憶體峰值 {gb} GB"
    ),
    "Writing the GGUF adapter…": "正在寫入 GGUF 適配器…",
    "Done in {duration}, final loss {loss}, peak memory {gb} GB. "
    "The fine-tuned personas are now available in Compare and Probes.": (
        "完成，耗時 {duration}，最終損失 {loss}，記憶體峰值 {gb} GB。"
        "微調人設現在可以在「比較」與「測試題」中使用了。"
    ),
    "{m} min {s} s": "{m} 分 {s} 秒",
    "{s} s": "{s} 秒",
    "No adapter at {path} yet: the fine-tuned personas stay unavailable until you train one.": (
        "{path} 還沒有適配器：訓練出適配器之前，微調人設都無法使用。"
    ),
    "The adapter at {path} is unusable: {error}": "{path} 的適配器無法使用：{error}",
    "Current adapter: {path} (saved {when}, {steps} steps, final loss {loss})": (
        "目前的適配器：{path}（儲存於 {when}，{steps} 步，最終損失 {loss}）"
    ),
    "Current adapter: {path} (saved {when})": "目前的適配器：{path}（儲存於 {when}）",
    # KB tab
    "KB language:": "知識庫語言：",
    "Save": "儲存",
    "Revert to the shipped KB": "還原為內建知識庫",
    "Problems": "問題",
    "System prompt preview": "系統提示預覽",
    "No problems: this KB can be saved.": "沒有問題：可以儲存。",
    "Editing your copy: {path}": "編輯您的副本：{path}",
    "Shipped KB. Saving makes your own copy in {path}": "顯示內建知識庫。儲存時會在 {path} 建立您的副本",
    "Unsaved changes": "尚未儲存",
    "Saved. The prompted personas now use this KB.": "已儲存。提示型人設已改用此知識庫。",
    "Not saved: fix the problems listed under the editor first. The saved KB is unchanged.": (
        "未儲存：請先修正編輯器下方列出的問題。已儲存的知識庫未變更。"
    ),
    "Reverted to the shipped KB. Your edited copy is kept as {path}": (
        "已還原為內建知識庫。您修改過的副本保留為 {path}"
    ),
    "line {line}: ": "第 {line} 行：",
    "{n} / {ctx} tokens": "{n} / {ctx} 個 token",
    "≈ {n} / {ctx} tokens (estimate: no model loaded)": "≈ {n} / {ctx} 個 token（估計值：尚未載入模型）",
    "counting tokens…": "計算 token 中…",
    "last valid version": "上一個有效版本",
    "Line {line}, column {col}": "第 {line} 行，第 {col} 欄",
    # settings
    "Settings": "設定",
    "Model": "模型",
    "Source": "來源",
    "Answers from": "回答來源",
    "this computer (or a server URL, e.g. http://lab-gpu:8080)": "本機（或伺服器網址，例如 http://lab-gpu:8080）",
    "A llama-server or vLLM started with talab serve; empty: answer in-process": (
        "由實驗室的推論伺服器回答（以指令啟動）；留空：在本機回答"
    ),
    "this computer": "本機",
    "default (SmolLM2-135M-Instruct)": "預設（SmolLM2-135M-Instruct）",
    "gemma3-270m (Gemma 3 270M, base)": "gemma3-270m（Gemma 3 270M，基礎模型）",
    "GGUF file…": "GGUF 檔案…",
    "/path/to/model.gguf": "模型檔案的路徑（.gguf）",
    "Browse…": "瀏覽…",
    "Threads": "執行緒",
    "auto": "自動",
    "Context size": "上下文長度",
    " tokens": " 個 token",
    "Temperature": "溫度",
    "Max tokens": "最大 token 數",
    "Data directory": "資料目錄",
    "Applies after a restart: the database, adapters, your KB copy and these settings are then read "
    "from that directory (nothing is moved). A TALAB_HOME environment variable overrides it.": (
        "重新啟動後生效：資料庫、適配器、您的知識庫副本與這些設定都會改從該目錄讀取（不會搬移任何檔案）。"
        "若設定了 TALAB_HOME 環境變數，則以它為準。"
    ),
    "UI language": "介面語言",
    "Presentation mode (large fonts)": "簡報模式（大字體）",
    "OK": "確定",
    "GGUF models (*.gguf);;All files (*)": "GGUF 模型 (*.gguf);;所有檔案 (*)",
    "Choose a GGUF model file, or one of the bundled models.": "請選擇一個 GGUF 模型檔案，或一個內建模型。",
    "Model not changed: {error}": "模型未變更：{error}",
    "Cannot use {path} as the data directory: {error}": "無法使用 {path} 作為資料目錄：{error}",
    "Tabs and menus are now in {language}; the rest of the window after a restart.": (
        "分頁與選單已切換為{language}；視窗的其他部分在重新啟動後切換。"
    ),
    "The data directory {path} applies after a restart": "資料目錄 {path} 在重新啟動後生效",
    "{message}\nStill using {model}: the setting is back to it.": (
        "{message}\n仍在使用 {model}：設定已改回這個模型。"
    ),
}

from desktop.i18n_zh_tw_edit import ZH_TW_EDIT  # noqa: E402 - the Edit tab's strings, in their own file
from desktop.i18n_zh_tw_sweep import ZH_TW_SWEEP  # noqa: E402 - the Adapter scale tab's strings

ZH_TW.update(ZH_TW_EDIT)
from desktop.i18n_zh_tw_fact import ZH_TW_FACT  # noqa: E402 - the one-fact experiment's strings

ZH_TW.update(ZH_TW_FACT)
ZH_TW.update(ZH_TW_SWEEP)
