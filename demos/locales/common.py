# ruff: noqa: E501
"""The page's frame and the messages every tab shares (argument checks, queues, errors)."""

ZH = {
    # The page
    "See and steer generative models: pick a model, move a control, watch the samples change.": (
        "观察并操控生成模型：选一个模型，拖动一个控件，看样本如何变化。"
    ),
    "Language": "语言",
    # Argument checks
    "{name} must be text.": "{name}必须是文本。",
    "Removed {count:,} control or invalid characters from {name}.": "已从{name}中删除 {count:,} 个控制字符或无效字符。",
    "{name} has {count:,} characters; using its last {limit:,}.": "{name}有 {count:,} 个字符；只使用最后 {limit:,} 个。",
    "{name} has {count:,} characters; using its first {limit:,}.": "{name}有 {count:,} 个字符；只使用前 {limit:,} 个。",
    "{name} must be a number, not {value}.": "{name}必须是数字，而不是 {value}。",
    "{name} must be a finite number, not {value}.": "{name}必须是有限的数字，而不是 {value}。",
    "{name} {value} is outside {low} to {high}; using {clamped}.": "{name} {value} 超出 {low} 到 {high} 的范围；改用 {clamped}。",
    "{name} must be a whole number; rounding {value} to {rounded}.": "{name}必须是整数；已将 {value} 取整为 {rounded}。",
    "{name} must be true or false.": "{name}必须是 true 或 false。",
    "{name} must be one of: {options}.": "{name}必须是以下之一：{options}。",
    # Queues and failures
    "One text generation at a time per page: your previous one is still running. Wait for it (or stop it).": (
        "每个页面一次只能生成一段文本：上一次生成仍在进行。请等它结束（或停止它）。"
    ),
    "One request at a time per page: your previous one is still running. Wait for it.": (
        "每个页面一次只能发出一个请求：上一个请求仍在进行，请稍候。"
    ),
    "Too many requests at once from this page (at most {limit}); wait for one to finish.": (
        "此页面同时发出的请求过多（最多 {limit} 个）；请等其中一个完成。"
    ),
    "Something went wrong on the server; the error was logged. Please try again.": (
        "服务器出错了；错误已记入日志。请再试一次。"
    ),
}
