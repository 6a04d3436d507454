# ruff: noqa: E501
"""The lesson bar's frame (a lesson's own title and steps stay in the language its teacher wrote them in)."""

EN = {
    "lesson.list_separator": ", ",
}

# What the class sees each lockable control as (genmodels.lessons.CONTROLS), in the bar and in lock messages.
CONTROL_NAMES = {
    "the GAN model": "GAN 模型",
    "the GAN grid size": "GAN 网格大小",
    "the diffusion model": "扩散模型",
    "the diffusion grid size": "扩散模型网格大小",
    "the sampling steps": "采样步数",
    "the truncation ψ": "截断 ψ",
    "the interpolation frames": "插值帧数",
    "the VAE model": "VAE 模型",
    "the language model": "语言模型",
    "the new tokens per generation": "每次生成的新词元数",
    "the temperature": "温度",
    "the model family to train": "要训练的模型类型",
    "the training steps": "训练步数",
}

ZH = {
    "Lesson": "课程",
    "← Previous step": "← 上一步",
    "Next step →": "下一步 →",
    "Step {number} of {total}: **{title}**": "第 {number} 步（共 {total} 步）：**{title}**",
    "Step {number} of {total} · in the **{tab}** tab: **{title}**": "第 {number} 步（共 {total} 步）· 在 **{tab}** 标签页：**{title}**",
    "🔒 Fixed for this lesson: {controls}.": "🔒 本课固定：{controls}。",
    "lesson.list_separator": "、",
    "This lesson link cannot be used: {error}.": "这个课程链接无法使用：{error}。",
    **CONTROL_NAMES,
}
