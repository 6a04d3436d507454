# ruff: noqa: E501
"""The Text tab."""

EN = {
    "text.intro": (
        "Continue text with a language model, token by token, and see the choices it weighs at each step. "
        "SmolLM2 and the Shakespeare char-GPT work offline; `distilgpt2`, `gpt2` and `SmolLM2-135M` are "
        "listed too when the Hugging Face Hub is reachable (or they are already cached)."
    ),
}

ZH = {
    "Text": "文本",
    "text.intro": (
        "用语言模型逐个词元地续写文本，并查看它在每一步权衡的候选。SmolLM2 和莎士比亚（Shakespeare）字符级 GPT 可离线使用；"
        "能连上 Hugging Face Hub（或模型已缓存）时，列表中还会出现 `distilgpt2`、`gpt2` 和 `SmolLM2-135M`。"
    ),
    "Prompt": "提示词",
    "Examples": "示例",
    "Apply the chat template (instruct model)": "套用对话模板（指令模型）",
    "Max new tokens": "最多生成的新词元数",
    "Temperature": "温度",
    "Temperature (0 = greedy)": "温度（0 = 贪心解码）",
    "Top-k": "top-k",
    "Top-k (0 = off)": "top-k（0 = 关闭）",
    "Top-p": "top-p（核采样）",
    "Repetition penalty": "重复惩罚",
    "Repetition penalty (1 = off)": "重复惩罚（1 = 关闭）",
    "Alternatives": "续写条数",
    "Stop": "停止",
    **{f"Continuation {i}": f"续写 {i}" for i in range(1, 4)},
    "Surprise: continuation 1 coloured by each token's probability": "意外程度：按每个词元的概率为续写 1 着色",
    "expected (> 50%)": "意料之中（> 50%）",
    "plausible (10-50%)": "说得通（10-50%）",
    "surprising (1-10%)": "出人意料（1-10%）",
    "very surprising (< 1%)": "非常出人意料（< 1%）",
    "Next-token view: step (0 = the last)": "下一个词元视图：第几步（0 = 最后一步）",
    "Show candidates": "显示候选词元",
    "Top-10 next tokens": "概率最高的 10 个下一个词元",
    "model": "模型",
    "after sampling filters": "经过采样过滤后",
    # Names in the argument checks' messages
    "The prompt": "提示词",
    "The continuation": "续写内容",
    "Chat template": "对话模板",
    "Step": "步骤",
    # Model loading (the status messages come from genmodels.text_models)
    "waiting for the server to start": "正在等待服务器启动",
    "fetching and converting SmolLM2 (once per machine)": "正在获取并转换 SmolLM2（每台机器只需一次）",
    "loading the weights and choosing the fastest accurate kernel": "正在加载权重，并挑选最快且结果准确的计算内核",
    "could not be loaded: {error}": "无法加载：{error}",
    "⚠️ **{name}** {message}. The other models work.": "⚠️ **{name}** {message}。其他模型仍可使用。",
    "⏳ **{name}** is getting ready: {message}. {elapsed:.0f} s of about {expected:.0f} s ({percent:.0f}%); about {left:.0f} s left. Press Generate now and your text starts as soon as it is ready.": (
        "⏳ **{name}** 正在准备：{message}。已用 {elapsed:.0f} 秒，预计共约 {expected:.0f} 秒（{percent:.0f}%）；"
        "大约还剩 {left:.0f} 秒。现在就可以按“生成”，模型一准备好就开始续写你的文本。"
    ),
    "{name} {message}. Pick another model.": "{name} {message}。请换一个模型。",
    # Results and messages
    "Write a prompt first: the model continues your text.": "请先写一段提示词：模型会续写你的文本。",
    "Unknown language model.": "未知的语言模型。",
    "Unknown language model: {error}.": "未知的语言模型：{error}。",
    "{name} has no chat template; continuing the plain text.": "{name} 没有对话模板；按普通文本续写。",
    "Dropped {count} characters this model never saw in training.": "已删除 {count} 个这个模型在训练中从未见过的字符。",
    "None of the prompt's characters are in this model's vocabulary.": "提示词中没有一个字符在这个模型的词表里。",
    "The prompt was longer than the context window; its first {count:,} tokens were dropped.": (
        "提示词超出了上下文窗口；已丢弃它开头的 {count:,} 个词元。"
    ),
    "{count} tokens, {rate:.1f} tokens/s": "{count} 个词元，{rate:.1f} 词元/秒",
    " · prompt perplexity {perplexity:.2f} over {count} tokens": " · 提示词困惑度 {perplexity:.2f}（共 {count} 个词元）",
    "Candidates for token {index} of the continuation.": "续写中第 {index} 个词元的候选。",
}
