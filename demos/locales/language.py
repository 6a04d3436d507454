# ruff: noqa: E501
"""The Text tab's fill-the-blanks and scoring sections, and LoRA fine-tuning in the Training tab (issue 16)."""

EN = {
    "fill.intro": (
        "A **masked language model** (BERT's objective) learns to fill in hidden characters from **both sides**; a "
        "GPT learns to predict the **next** character from the **left** only. Write text with blanks: each `_` (or "
        "`[MASK]`) hides one character, several in a row hide a longer span. The masked model "
        "(`maskedlm-shakespeare`, trained here on Tiny Shakespeare like `chargpt-shakespeare`, with the same "
        "characters and split) fills every blank at once; the char-GPT fills them left to right, each from the "
        "characters before it. SmolLM2 joins as a third column, but it is **not a masked model**: it *scores* each "
        "candidate by how likely the whole passage is with that character in place."
    ),
    "score.intro": (
        "Pick a held-out passage (or paste a prompt and its true continuation). The model in the picker above "
        "continues the prompt at each temperature, with as many new tokens as the true text has, and each "
        "continuation is scored against the true text: **BLEU** (shared word 1- to 4-grams, times a penalty for "
        "being short; sacrebleu, with one word per character for Chinese) and **chrF** (shared character 1- to "
        "6-grams, recall weighted twice). Beside them: how surprised the model is by the true text itself, its "
        "**perplexity** $\\exp\\big(-\\frac{1}{N}\\sum_i \\log p(x_i \\mid x_{<i})\\big)$. A continuation can be "
        "good writing and score near 0 BLEU: the scores reward overlap with one reference, not sense."
    ),
    "learn.fill.idea": (
        "**Two ways to learn from text.** A GPT (autoregressive) reads left to right and is trained to predict each "
        "token from the ones before it:\n\n"
        "$$\\mathcal{L}_{\\text{AR}} = -\\sum_{t=1}^{T} \\log p_\\theta(x_t \\mid x_{<t})$$\n\n"
        "A masked model (autoencoding, as BERT) sees the whole text with a random set $M$ of positions hidden, and "
        "is trained to restore them from everything that is left, on both sides:\n\n"
        "$$\\mathcal{L}_{\\text{MLM}} = -\\,\\mathbb{E}_{M}\\sum_{t \\in M} \\log p_\\theta(x_t \\mid x_{\\setminus M})$$\n\n"
        "The only difference in the network is the attention mask: causal (position $t$ attends to $1..t$) for the "
        "GPT, full for the masked model. So the masked model is better at a blank whose answer depends on what "
        "follows, and it cannot write text left to right: it has no $p(x_t \\mid x_{<t})$ to sample from."
    ),
    "learn.fill.derivation": (
        "1. **The GPT's loss is the text's likelihood.** By the chain rule $p(x_1..x_T) = \\prod_t p(x_t \\mid x_{<t})$, "
        "so $\\mathcal{L}_{\\text{AR}} = -\\log p_\\theta(x)$: minimising it fits a full generative model.\n"
        "2. **The masked loss is not.** Each hidden $x_t$ is predicted given the visible ones, independently of the "
        "other hidden ones: $\\prod_{t \\in M} p(x_t \\mid x_{\\setminus M})$ is not $p(x_M \\mid x_{\\setminus M})$ when "
        "two hidden characters depend on each other (a blank span `__` filled position by position can mix two "
        "words).\n"
        "3. **Why 15%, and why spans.** Hide too little and each window teaches little; hide too much and too "
        "little context is left. Here about 15% of the characters are hidden in spans of mean length 2.5, so a "
        "whole syllable or short word must be restored, not just one letter between its neighbours.\n"
        "4. **BERT's 80/10/10.** Of the hidden positions, 80% show the mask token, 10% a random character and 10% "
        "the true one. At use time there are no random characters, but the model has learned that every visible "
        "character might need checking, not only the masked ones.\n"
        "5. **Scoring with a GPT.** A left-to-right model can still judge a blank: put each candidate $c$ in place "
        "and compare $\\log p(x_{1..T} \\text{ with } c)$, which includes how well the text *after* the blank follows. "
        "That is what the SmolLM2 column does: one pass over the passage per candidate, so it is far slower than "
        "one pass of the masked model for all blanks.\n"
        "6. **Where the neighbours are.** A GPT gets its own character for free at every position, so a bigram model "
        "needs no attention at all. A blank has no character of its own: everything must come through attention, "
        "and with positions only in a learned embedding a small masked model spent its first hundreds of steps "
        "guessing character frequencies. So each head subtracts $s_h\\,|i-j|$ from its attention scores (ALiBi's "
        "distance bias, slopes $s_h = 2^{-(h+1)}$): from the first step the nearest characters count most."
    ),
    "exp.fill.right_context.title": "A blank only the right side explains",
    "exp.fill.right_context.question": (
        "“A man well _nown throughout all Italy.” (a held-out line, never trained on). The hidden character is the "
        "first letter of the word after “well ”. Which model puts the right character first?"
    ),
    "exp.fill.right_context.option1": "only the masked model",
    "exp.fill.right_context.option2": "only the char-GPT",
    "exp.fill.right_context.option3": "both",
    "exp.fill.right_context.option4": "neither",
    "exp.fill.right_context.explain": (
        "From the left, “A man well ” can go on with almost any word, so the char-GPT spreads its probability over "
        "many first letters and gives the right one well under 1%. The masked model also sees “nown” and the only "
        "word that fits is *known*, whose k is silent: nothing on the left could have told. The same network with a "
        "causal mask could never use the right side: that is the difference between the two objectives."
    ),
    "exp.fill.line_start.title": "A blank at the start of a line",
    "exp.fill.line_start.question": (
        "In a play, a new speaker's name starts a line: “…citizens.↵↵_ll:↵Speak, speak.” Which model puts the right "
        "first letter of the name first?"
    ),
    "exp.fill.line_start.option1": "only the masked model",
    "exp.fill.line_start.option2": "only the char-GPT",
    "exp.fill.line_start.option3": "both",
    "exp.fill.line_start.option4": "neither",
    "exp.fill.line_start.explain": (
        "After a blank line the char-GPT knows a speaker's name comes, in capitals, but not which one: it guesses "
        "the names it saw most. The masked model reads “ll:” after the blank, and in Tiny Shakespeare a speaker "
        "“?ll:” is almost always *All*. The first position of anything is where a left-to-right model knows least."
    ),
    "training.curve.held-out perplexity": "held-out perplexity",
    "training.curve.held-out perplexity before fine-tuning": "held-out perplexity before fine-tuning",
    "training.curve.held-out loss (nats/token)": "held-out loss (nats/token)",
}

ZH = {
    # The fill-the-blanks section
    "Fill the blanks: a masked model against a left-to-right one": "填空：掩码模型对比从左到右的模型",
    "fill.intro": (
        "**掩码语言模型**（BERT 的训练目标）学习根据**两侧**的上下文补全被遮住的字符；GPT 只根据**左侧**预测**下一个**字符。"
        "写一段带空格的文字：每个 `_`（或 `[MASK]`）遮住一个字符，连续几个遮住更长的一段。掩码模型"
        "（`maskedlm-shakespeare`，和 `chargpt-shakespeare` 一样在这里用 Tiny Shakespeare 训练，字符表和数据划分相同）"
        "一次填好所有空格；字符级 GPT 从左到右逐个填写，每个只看它前面的字符。SmolLM2 作为第三列加入，但它**不是掩码模型**："
        "它把每个候选字符放进去，按整段文字的可能性给候选*打分*。"
    ),
    "Masked model": "掩码模型",
    "Text with blanks (_ or [MASK], one character each)": "带空格的文字（_ 或 [MASK]，每个代表一个字符）",
    "The text": "文字",
    "Blank to chart": "绘图的空格编号",
    "Score with SmolLM2": "用 SmolLM2 打分",
    "Fill the blanks": "填空",
    "One blank's candidates": "一个空格的候选字符",
    "blank": "空格",
    "context": "上下文",
    "masked model (both sides)": "掩码模型（看两侧）",
    "char-GPT (left only)": "字符级 GPT（只看左侧）",
    "SmolLM2 (scores)": "SmolLM2（打分）",
    "Unknown masked model: {error}.": "未知的掩码模型：{error}。",
    "SmolLM2 is not ready yet, so its column is empty; try again in a moment.": "SmolLM2 还没准备好，所以它那一列是空的；请稍后再试。",
    "{count} blank(s). **Masked model, seeing both sides:** {both}\n\n**char-GPT, seeing only the left (each blank filled before the next):** {left}": (
        "{count} 个空格。**掩码模型，看两侧：**{both}\n\n**字符级 GPT，只看左侧（先填好前一个空格再填下一个）：**{left}"
    ),
    "(no char-GPT with the same characters)": "（没有字符表相同的字符级 GPT）",
    "SmolLM2 scored the first {scored} blanks (each candidate costs it a pass over the passage).": (
        "SmolLM2 只给前 {scored} 个空格打分（每个候选字符都要它把整段读一遍）。"
    ),
    "The chart: blank {index} of {count}.": "图中显示：第 {index} 个空格（共 {count} 个）。",
    "**{name}**: {layers} layers, {width} wide, {parameters:,} parameters, a {block}-character window. It learned by filling in hidden characters (about {rate:.0%} of each window, in short spans).": (
        "**{name}**：{layers} 层，宽 {width}，{parameters:,} 个参数，{block} 个字符的窗口。它通过补全被遮住的字符来学习"
        "（每个窗口约 {rate:.0%} 的字符被遮住，成小段出现）。"
    ),
    "On held-out text it puts the right character first at {single:.1%} of single blanks and {spans:.1%} of characters hidden in spans.": (
        "在留出文本上，单个空格有 {single:.1%} 的时候它把正确字符排在第一；成段遮住的字符则是 {spans:.1%}。"
    ),
    "On the same single blanks the char-GPT, from the left only, gets {left:.1%}.": (
        "在同样的单个空格上，只看左侧的字符级 GPT 为 {left:.1%}。"
    ),
    "How the blanks are drawn while training: spans of a few characters, about 15% of all.": (
        "训练时如何挑选空格：几个字符长的小段，约占全部字符的 15%。"
    ),
    "One training step: hide, corrupt as BERT does, predict the hidden.": "一个训练步：遮住字符，像 BERT 那样加扰，预测被遮住的字符。",
    "learn.fill.idea": (
        "**从文本中学习的两种方式。** GPT（自回归）从左往右读，训练它根据前面的词元预测每一个词元：\n\n"
        "$$\\mathcal{L}_{\\text{AR}} = -\\sum_{t=1}^{T} \\log p_\\theta(x_t \\mid x_{<t})$$\n\n"
        "掩码模型（自编码式，如 BERT）看到整段文字，其中随机一组位置 $M$ 被遮住，训练它根据剩下的所有内容（两侧都有）恢复这些位置：\n\n"
        "$$\\mathcal{L}_{\\text{MLM}} = -\\,\\mathbb{E}_{M}\\sum_{t \\in M} \\log p_\\theta(x_t \\mid x_{\\setminus M})$$\n\n"
        "网络里唯一的区别是注意力掩码：GPT 是因果的（位置 $t$ 只关注 $1..t$），掩码模型是完全的。所以当空格的答案取决于后文时，"
        "掩码模型更强；但它不能从左到右写文字：它没有可以采样的 $p(x_t \\mid x_{<t})$。"
    ),
    "learn.fill.derivation": (
        "1. **GPT 的损失就是文本的似然。** 由链式法则 $p(x_1..x_T) = \\prod_t p(x_t \\mid x_{<t})$，"
        "所以 $\\mathcal{L}_{\\text{AR}} = -\\log p_\\theta(x)$：最小化它就拟合了一个完整的生成模型。\n"
        "2. **掩码损失不是。** 每个被遮住的 $x_t$ 都是在可见字符的条件下、与其他被遮住的字符相互独立地预测的："
        "当两个被遮住的字符相互依赖时，$\\prod_{t \\in M} p(x_t \\mid x_{\\setminus M})$ 并不等于 $p(x_M \\mid x_{\\setminus M})$"
        "（一段空格 `__` 逐个位置填写，可能拼出两个不同单词的混合）。\n"
        "3. **为什么是 15%，为什么成段。** 遮得太少，每个窗口学到的太少；遮得太多，剩下的上下文又太少。"
        "这里约 15% 的字符被遮住，成平均长度 2.5 的小段，所以模型要恢复整个音节或短词，而不只是夹在两个邻居之间的一个字母。\n"
        "4. **BERT 的 80/10/10。** 被遮住的位置中，80% 显示掩码符号，10% 显示一个随机字符，10% 显示真实字符。"
        "使用时没有随机字符，但模型学会了每个可见字符都可能需要检查，而不只是被遮住的那些。\n"
        "5. **用 GPT 打分。** 从左到右的模型也能评判一个空格：把每个候选字符 $c$ 放进去，比较 "
        "$\\log p(x_{1..T} \\text{ 含 } c)$，其中包括空格*之后*的文字接得好不好。SmolLM2 那一列就是这样做的："
        "每个候选字符读一遍整段，所以比掩码模型一次读完填好所有空格慢得多。\n"
        "6. **邻居在哪里。** GPT 在每个位置都免费拿到自己的字符，所以一个二元模型根本不需要注意力。空格没有自己的字符："
        "一切都得通过注意力得来；如果位置信息只在学出来的嵌入里，小的掩码模型在最初几百步里只会猜字符频率。"
        "所以每个注意力头从它的注意力分数里减去 $s_h\\,|i-j|$（ALiBi 的距离偏置，斜率 $s_h = 2^{-(h+1)}$）："
        "从第一步起，最近的字符就最重要。"
    ),
    "exp.fill.right_context.title": "只有右侧能说明的空格",
    "exp.fill.right_context.question": (
        "“A man well _nown throughout all Italy.”（一行留出文本，从未训练过）。被遮住的是 “well ” 后面那个单词的第一个字母。"
        "哪个模型把正确字符排在第一？"
    ),
    "exp.fill.right_context.option1": "只有掩码模型",
    "exp.fill.right_context.option2": "只有字符级 GPT",
    "exp.fill.right_context.option3": "两个都对",
    "exp.fill.right_context.option4": "两个都不对",
    "exp.fill.right_context.explain": (
        "只看左侧，“A man well ” 后面几乎可以接任何单词，所以字符级 GPT 把概率分散到许多首字母上，给正确字母的远不到 1%。"
        "掩码模型还看到了 “nown”，唯一合适的单词是 *known*，而它的 k 不发音：左侧什么也提示不了。"
        "同一个网络如果用因果掩码，就永远用不上右侧：这就是两种训练目标的区别。"
    ),
    "exp.fill.line_start.title": "行首的空格",
    "exp.fill.line_start.question": (
        "剧本里，新说话人的名字写在一行的开头：“…citizens.↵↵_ll:↵Speak, speak.” 哪个模型把名字的正确首字母排在第一？"
    ),
    "exp.fill.line_start.option1": "只有掩码模型",
    "exp.fill.line_start.option2": "只有字符级 GPT",
    "exp.fill.line_start.option3": "两个都对",
    "exp.fill.line_start.option4": "两个都不对",
    "exp.fill.line_start.explain": (
        "空行之后，字符级 GPT 知道接下来是一个大写的说话人名字，但不知道是哪一个：它只能猜它见得最多的名字。"
        "掩码模型读到了空格后面的 “ll:”，而在 Tiny Shakespeare 里，形如 “?ll:” 的说话人几乎总是 *All*。"
        "任何东西的第一个位置，都是从左到右的模型知道得最少的地方。"
    ),
    "Text: “{text}”; the hidden character is `{answer}`.\n\n**Masked model (both sides):** {both} · the right character {both_answer:.1%}\n\n**char-GPT (left only):** {left} · the right character {left_answer:.1%}": (
        "文字：“{text}”；被遮住的字符是 `{answer}`。\n\n**掩码模型（看两侧）：**{both} · 正确字符 {both_answer:.1%}\n\n"
        "**字符级 GPT（只看左侧）：**{left} · 正确字符 {left_answer:.1%}"
    ),
    "probability of the right character": "正确字符的概率",
    # The scoring section
    "Score a continuation: BLEU, chrF and perplexity": "给续写打分：BLEU、chrF 和困惑度",
    "score.intro": (
        "选一段留出文本（或粘贴提示词和它真实的后续）。上面选中的模型在每个温度下续写提示词，新词元的数量与真实文本相同，"
        "每段续写都与真实文本比较打分：**BLEU**（共有的 1 到 4 元词组，再乘以一个对过短的惩罚；用 sacrebleu，中文按每个字算一个词）"
        "和 **chrF**（共有的 1 到 6 元字符组，召回率的权重是精确率的两倍）。旁边是模型对真实文本本身有多意外，即它的**困惑度** "
        "$\\exp\\big(-\\frac{1}{N}\\sum_i \\log p(x_i \\mid x_{<i})\\big)$。一段续写可以写得很好，BLEU 却接近 0："
        "这些分数奖励的是与一份参考文本的重合，而不是意义。"
    ),
    "Passage #": "段落编号",
    "Use this held-out passage": "使用这段留出文本",
    "True continuation": "真实的后续",
    "Temperatures": "温度",
    "Samples per temperature": "每个温度的样本数",
    "Continue and score": "续写并打分",
    "Scores": "分数",
    "temperature": "温度",
    "sample": "样本",
    "BLEU": "BLEU",
    "chrF": "chrF",
    "mean log-probability (nats/token)": "平均对数概率（nats/词元）",
    "continuation": "续写",
    "Tiny Shakespeare is not on this server: paste a prompt and its true continuation.": (
        "这台服务器上没有 Tiny Shakespeare：请粘贴提示词和它真实的后续。"
    ),
    "Held-out passage {index} of {count} (Tiny Shakespeare's last tenth, never trained on): the first part is the prompt, the rest is the true continuation.": (
        "留出文本第 {index} 段（共 {count} 段，来自 Tiny Shakespeare 最后十分之一，从未训练过）：前半部分是提示词，其余是真实的后续。"
    ),
    "Write or pick a prompt first.": "请先写一个提示词或选一段文本。",
    "Give the true continuation to score against.": "请给出用来比较打分的真实后续。",
    "Pick at least one temperature.": "请至少选一个温度。",
    "At most {count} temperatures at once.": "一次最多 {count} 个温度。",
    "The prompt was too long for the model: its first {cut} tokens were left out.": "提示词对模型来说太长：省略了它开头的 {cut} 个词元。",
    "**The true continuation under {name}:** {nats:.3f} nats per token, perplexity **{perplexity:.2f}** ({per_char:.3f} nats per character, {tokens} tokens). Each continuation has {new} new tokens, as many as the true text. Highest BLEU: temperature {best_t:g} ({best_bleu:.1f}). BLEU tokenisation: {tokenizer}.": (
        "**{name} 眼中的真实后续：**每个词元 {nats:.3f} nats，困惑度 **{perplexity:.2f}**（每个字符 {per_char:.3f} nats，"
        "{tokens} 个词元）。每段续写有 {new} 个新词元，与真实文本一样多。BLEU 最高的是温度 {best_t:g}（{best_bleu:.1f}）。"
        "BLEU 分词方式：{tokenizer}。"
    ),
    "one word per Chinese character (zh)": "每个汉字算一个词（zh）",
    # LoRA in the Training tab
    "LoRA fine-tune of SmolLM2 (text)": "LoRA 微调 SmolLM2（文本）",
    "char-GPT and LoRA": "字符级 GPT 和 LoRA",
    "Context (characters; LoRA: tokens)": "上下文长度（字符；LoRA：词元）",
    "training.curve.held-out perplexity": "留出文本的困惑度",
    "training.curve.held-out perplexity before fine-tuning": "微调前留出文本的困惑度",
    "training.curve.held-out loss (nats/token)": "留出文本的损失（nats/词元）",
    # genmodels messages
    "the mask character {mask} cannot be in the vocabulary": "掩码字符 {mask} 不能出现在词表里",
    "the two models need the same vocabulary": "两个模型需要相同的词表",
    "there is no text around the blanks": "空格周围没有文字",
    "mark at least one blank with {mask} or {word}": "请用 {mask} 或 {word} 至少标出一个空格",
    "at most {count} blanks at once (the text has {found})": "一次最多 {count} 个空格（这段文字有 {found} 个）",
    "the reference text is empty": "参考文本是空的",
    "the experiment's text needs exactly one blank": "实验的文字必须正好有一个空格",
    "the text is too short: its first 90% must be over {count} tokens and its last 10% at least 16 tokens (paste a few hundred words or more)": (
        "文本太短：它的前 90% 必须超过 {count} 个词元，后 10% 至少 16 个词元（请粘贴几百个单词或更多）"
    ),
    "the training text must be longer than {count} tokens": "训练文本必须超过 {count} 个词元",
    "these weights are not part of the adapter: {keys}": "这些权重不属于适配器：{keys}",
    "{name} is not a GenLab LoRA adapter": "{name} 不是 GenLab 的 LoRA 适配器",
    "{name}: the adapter's weights do not fit SmolLM2": "{name}：适配器的权重与 SmolLM2 不匹配",
    "a LoRA run takes at most {count} steps on this server": "在这台服务器上，一次 LoRA 训练最多 {count} 步",
    "a LoRA run's batch is at most {count} sequences": "LoRA 训练的一批最多 {count} 个序列",
    "a LoRA run's sequences are 16 to 256 tokens": "LoRA 训练的序列长度为 16 到 256 个词元",
    "SmolLM2 is not prepared on this server yet (make setup converts it once)": "这台服务器上还没有准备好 SmolLM2（make setup 会把它转换一次）",
    "{name} is a {family} adapter: load it through the Text tab's models": "{name} 是一个 {family} 适配器：请通过文本标签页的模型加载它",
}
