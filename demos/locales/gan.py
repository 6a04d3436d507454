# ruff: noqa: E501
"""The GAN tab."""

EN = {
    "gan.directions_note": (
        "**Latent directions** (GANSpace): the principal components of the generator's early activations "
        "(after its first upsampling block) over 1,024 random latents, mapped back to the latent space by least "
        "squares. Direction 1 explains the most variation. Each slider moves *every* sample the same distance "
        "along its direction, in standard deviations of the prior. In the unconditional model the first directions "
        "mostly change width and roundness (a thin 1 becomes a 9, then a 0) and morph between 7, 9 and 4; with the "
        "digit fixed (conditional model) they change style instead: slant, stroke width, loops."
    ),
}

ZH = {
    "Against real digits (`python -m genmodels.evaluate`): Fréchet distance with 500 images **{fd:.1f} ± {spread:.1f}** over 5 seeds, where two halves of the held-out digits are {floor:.1f} apart (the floor, with as many images) · Inception score with 1,000 images **{score:.2f}**, {percent:.0%} of the real digits' {real:.2f}.": "与真实数字对比（`python -m genmodels.evaluate`）：用 500 张图像、5 个种子测得的 Fréchet 距离为 **{fd:.1f} ± {spread:.1f}**，而留出数字的两半之间相距 {floor:.1f}（同样数量图像下的下限）· 用 1,000 张图像测得的 Inception 分数为 **{score:.2f}**，是真实数字 {real:.2f} 的 {percent:.0%}。",
    "The diversity meter needs the judge.": "多样性仪表需要评判器（数字分类器）。",
    "these samples": "这些样本",
    "real digits": "真实数字",
    "What the judge reads: share of each digit": "评判器读到的结果：各数字所占比例",
    "**Diversity meter** ({count} samples): class entropy **{entropy:.2f}** bits of 3.32 · Inception score **{score:.2f}**, {percent:.0%} of real held-out digits' {real:.2f} with as many images.": "**多样性仪表**（{count} 个样本）：类别熵 **{entropy:.2f}** 比特（满分 3.32）· Inception 分数 **{score:.2f}**，是同样数量的真实留出数字（{real:.2f}）的 {percent:.0%}。",
    "**Diversity meter** ({count} samples): class entropy **{entropy:.2f}** bits of 3.32 · Inception score **{score:.2f}**.": "**多样性仪表**（{count} 个样本）：类别熵 **{entropy:.2f}** 比特（满分 3.32）· Inception 分数 **{score:.2f}**。",
    "GAN": "生成对抗网络 GAN",
    "Generate digits with GANs trained on MNIST. Same seed, same images, on every machine.": (
        "用在 MNIST 上训练的生成对抗网络（GAN）生成数字。同一个种子，在任何机器上都得到同样的图像。"
    ),
    "Model": "模型",
    "Seed": "随机种子",
    "New random seed": "换一个随机种子",
    "Grid size": "网格大小",
    "0-9 in turn": "0-9 轮流",
    "Digit (conditional model)": "数字（条件模型）",
    "Digit": "数字",
    "Truncation ψ": "截断 ψ",
    "lower: more typical, less varied": "越低：越典型，越缺少变化",
    "Show discriminator score on each sample": "在每个样本上显示判别器得分",
    "Show discriminator score": "显示判别器得分",
    "Latent directions": "潜在方向",
    "gan.directions_note": (
        "**潜在方向**（GANSpace）：在 1,024 个随机潜变量上，对生成器早期激活（第一个上采样模块之后）做主成分分析，"
        "再用最小二乘法映射回潜在空间。方向 1 解释的变化最多。每个滑块把*所有*样本沿该方向移动相同的距离，"
        "单位是先验分布的标准差。在无条件模型中，前几个方向主要改变笔画的粗细和圆润程度（细的 1 变成 9，再变成 0），"
        "并在 7、9、4 之间渐变；在数字固定的条件模型中，它们改变的是书写风格：倾斜、笔画粗细、圈的形状。"
    ),
    **{f"Direction {i}": f"方向 {i}" for i in range(1, 6)},
    "Direction {index}": "方向 {index}",
    "Generate": "生成",
    "Samples": "样本",
    "Seed-to-seed interpolation": "种子到种子的插值",
    "Seed A": "种子 A",
    "Seed B": "种子 B",
    "Frames": "帧数",
    "Path": "路径",
    "spherical (slerp)": "球面插值（slerp）",
    "linear (lerp)": "线性插值（lerp）",
    "Interpolate": "插值",
    "Interpolation": "插值结果",
    "Animated GIF": "GIF 动画",
    # Results and messages
    "Unknown GAN model: {error}.": "未知的 GAN 模型：{error}。",
    "This model is unconditional: it cannot be told which digit to draw.": "这是无条件模型：无法指定它画哪个数字。",
    "This model has categories 0 to {last}.": "这个模型的类别是 0 到 {last}。",
    "An InfoGAN: it never saw a label, but it was trained so that a category in its latent (one of "
    "{codes}: the largest of z's first {codes} values) can be read back from each image. Pick a "
    "category to see what it found; with “0-9 in turn” each column of the grid is one category.": (
        "这是 InfoGAN：它从未见过标签，但训练时要求能从每张图像读回潜变量中的类别（共 {codes} 个："
        "z 的前 {codes} 个值中最大者的位置）。选择一个类别，看看它自己发现了什么；选“0-9 轮流”时，网格的每一列是一个类别。"
    ),
    "Category (InfoGAN, found without labels)": "类别（InfoGAN，无标签自行发现）",
    "A self-conditioned GAN: it never saw a label. Its training digits were split into {codes} "
    "clusters of equal size by a VAE's codes, and its discriminator judged each image against its "
    "cluster. A category in its latent (the largest of z's first {codes} values) picks the cluster to "
    "draw from. Pick a category to see what it found; with “0-9 in turn” each column of the grid is "
    "one category.": (
        "这是自条件 GAN：它从未见过标签。它的训练数字按一个 VAE 的编码被分成 {codes} 个大小相同的簇，"
        "判别器对照每张图像所属的簇来打分。潜变量中的类别（z 的前 {codes} 个值中最大者的位置）决定从哪个簇生成。"
        "选择一个类别，看看它自己发现了什么；选“0-9 轮流”时，网格的每一列是一个类别。"
    ),
    "Category (clusters found without labels)": "类别（无标签自行发现的簇）",
    "class-conditional": "类别条件",
    "unconditional": "无条件",
    "**{name}**: {kind}, z is {z_dim}-d.": "**{name}**：{kind}，z 为 {z_dim} 维。",
    "Inception score **{score:.2f}**": "Inception 分数 **{score:.2f}**",
    " (real held-out digits: {score:.2f})": "（真实留出数字：{score:.2f}）",
    " · Fréchet distance **{value:.1f}** to held-out digits": " · 与留出数字的 Fréchet 距离 **{value:.1f}**",
    " · class accuracy **{value:.1%}**": " · 类别准确率 **{value:.1%}**",
    " · {count} samples, classifier-based.": " · {count} 个样本，基于分类器。",
    "Per-digit accuracy: {values}.": "各数字准确率：{values}。",
    "Directions 1-5 explain {values} of the early activations' variance.": "方向 1-5 分别解释了早期激活方差的 {values}。",
    "Expected {expected} direction values, got {count}.": "应有 {expected} 个方向值，收到 {count} 个。",
    "{count} samples · seed {seed} · ψ {psi:.2f}": "{count} 个样本 · 种子 {seed} · ψ {psi:.2f}",
    " · discriminator score on each tile (+ blue: looks real to it, − orange: looks fake)": (
        " · 每个格子上是判别器得分（+ 蓝色：它认为像真的，− 橙色：它认为是假的）"
    ),
    "{count} GAN samples": "{count} 个 GAN 样本",
    "{count} GAN sample": "{count} 个 GAN 样本",
    "{count} sample · seed {seed} · ψ {psi:.2f}": "{count} 个样本 · 种子 {seed} · ψ {psi:.2f}",
    "; discriminator scores: {scores}": "；判别器得分：{scores}",
    "{frames} frames from seed {seed_a} to seed {seed_b}, {mode}": "从种子 {seed_a} 到种子 {seed_b} 的 {frames} 帧，{mode}",
    "{frames} frames from seed {seed_a} to seed {seed_b}": "从种子 {seed_a} 到种子 {seed_b} 的 {frames} 帧",
}
