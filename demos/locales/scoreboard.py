# ruff: noqa: E501
"""The Scoreboard tab."""

EN = {
    "scoreboard.intro": (
        "**Every image model, judged the same way.** GANs, VAEs, the VQ-VAE and the diffusion model each draw digits "
        "from fixed seeds; GenLab's digit classifier (the judge) reads them. The **Fréchet distance** compares the "
        "judge's features of 500 generated digits with 500 real held-out ones (lower is closer; read it against the "
        "floor, two sets of real digits compared the same way). The **Inception score** is high when samples are "
        "confident and spread over all ten digits (read it as a share of real digits' score). **Class accuracy**: "
        "how often a conditional model draws the digit it was asked for. **Class entropy**: the diversity meter, "
        "3.32 bits when all ten digits are equally common. **ms per image**: the price of a sample on this CPU; "
        "a diffusion model pays one network pass per step."
    ),
}

ZH = {
    "{name}, {steps} sampling steps": "{name}，{steps} 个采样步",
    "diffusion model": "扩散模型",
    "Scoreboard": "排行榜",
    "scoreboard.intro": "**所有图像模型，用同一种方式评判。** GAN、VAE、VQ-VAE 和扩散模型都从固定的种子生成数字；GenLab 的数字分类器（评判器）读取它们。**Fréchet 距离**比较 500 个生成数字与 500 个真实留出数字在评判器特征上的差异（越低越接近；要对照下限来读：两组真实数字用同样方式比较的结果）。**Inception 分数**在样本清晰且分布在全部十个数字上时高（把它读作真实数字得分的一个比例）。**类别准确率**：条件模型画出所要求数字的频率。**类别熵**：多样性仪表，十个数字同样多时为 3.32 比特。**每张图像毫秒数**：在这台 CPU 上生成一个样本的代价；扩散模型每一步都要做一次网络前向计算。",
    "Score my saved runs": "为我保存的训练结果打分",
    "Refresh": "刷新",
    "model": "模型",
    "family": "模型类型",
    "Fréchet distance (500 images)": "Fréchet 距离（500 张图像）",
    "± spread over seeds": "± 种子间的波动",
    "floor: real against real": "下限：真实对真实",
    "Inception score (500)": "Inception 分数（500）",
    "share of real digits' score": "占真实数字得分的比例",
    "class entropy (bits of 3.32)": "类别熵（满分 3.32 比特）",
    "ms per image": "每张图像毫秒数",
    "unconditional": "无条件",
    "No scoreboard has been computed here: run `python -m genmodels.evaluate`.": "这里还没有计算排行榜：请运行 `python -m genmodels.evaluate`。",
    "{count} models, each with {samples:,} samples judged by GenLab's digit classifier against the 1,000 held-out digits it never trained on. Floor: two halves of the real held-out digits are {floor:.1f} apart with 500 images each, the closest any generator can be expected to come. Ceiling: real digits score {real:.2f} on the Inception score with 500 images. Milliseconds per image on the machine that computed the table.": "{count} 个模型，每个用 {samples:,} 个样本，由 GenLab 的数字分类器对照它从未训练过的 1,000 个留出数字来评判。下限：真实留出数字的两半（各 500 张）之间相距 {floor:.1f}，这是任何生成器能期望达到的最近距离。上限：真实数字用 500 张图像的 Inception 分数是 {real:.2f}。每张图像毫秒数是在计算此表的机器上测得的。",
    "Each diffusion model is listed twice: with the Diffusion tab's default {few} sampling steps, and with {many}, which cost more network passes per image: compare what they buy.": "每个扩散模型列出两次：一次用“扩散”标签页默认的 {few} 个采样步，一次用 {many} 个。后者每张图像需要更多次网络计算：比较一下它们换来了什么。",
    "You have no saved image-model runs yet: train one in the Training tab.": "你还没有保存的图像模型训练结果：请在“训练”标签页训练一个。",
    "The scoreboard needs the judge.": "排行榜需要评判器（数字分类器）。",
    "{count} of your runs, each with 1,000 samples (two seeds).": "你的 {count} 个训练结果，每个用 1,000 个样本（两个种子）。",
    "Only the first {limit} are scored.": "只为前 {limit} 个打分。",
    "your run": "你的训练结果",
}
