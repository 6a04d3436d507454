"""The Training tab."""

import os

# The intro names the server's limit on runs at once (demos/training.py's MAX_JOBS), set when the server starts:
# fixed text has no placeholders, so the catalogue holds the sentence for this server's limit.
_MAX_JOBS = int(os.environ.get("GENLAB_MAX_TRAINING_JOBS", "1"))

EN = {
    "training.intro": (
        f"Train a model live and watch it learn. At most {_MAX_JOBS} run{'s' * (_MAX_JOBS > 1)} at a time on this "
        "server (others wait in a queue), one per page; closing the page stops its run. Stopped or finished "
        "runs are saved and appear in the other tabs' model pickers. A diffusion run trains a U-Net of 32 channels "
        "(the shipped model's architecture, narrower, with its objective: predict v, weighted by min-SNR) and is "
        "slow to learn: expect blobs for the first few hundred "
        "steps and digits after a few thousand. A VQ-VAE run trains the autoencoder for the first 60% of its steps "
        "(reconstructions in the preview), then the GPT prior over its codes (new digits in the preview). A LoRA run "
        "fine-tunes SmolLM2 on Tiny Shakespeare or your own text (steps, seed, batch of sequences, learning rate, and "
        "the context slider as tokens per sequence): the quality plot shows the held-out perplexity before and "
        "during, the text box a sample from the same prompt and seed before and after, and the result joins the "
        "Text tab's model picker."
    ),
    # The curves' names as the plots show them (the data keeps the trainers' names).
    "training.curve.reconstruction": "reconstruction",
    "training.curve.kl": "kl",
    "training.curve.loss": "loss",
    "training.curve.train": "train",
    "training.curve.cross_entropy": "cross_entropy",
    "training.curve.Inception score": "Inception score",
    "training.curve.Fréchet distance": "Fréchet distance",
    "training.curve.held-out negative ELBO (nats)": "held-out negative ELBO (nats)",
    "training.curve.validation loss (nats/char)": "validation loss (nats/char)",
    "training.curve.class entropy (bits)": "class entropy (bits)",
    "training.curve.most common digit": "most common digit",
    "training.curve.class accuracy": "class accuracy",
    "training.curve.commitment": "commitment",
    "training.curve.perplexity": "perplexity",
    "training.curve.nats_per_code": "nats_per_code",
    "training.curve.held-out reconstruction (nats)": "held-out reconstruction (nats)",
    "training.curve.codes used": "codes used",
    # The plots' axes
    "training.axis.step": "step",
    "training.axis.loss": "loss",
    "training.axis.value": "value",
}

ZH = {
    "This page has no finished or stopped run with previews to look back through.": (
        "此页面没有已完成或已停止、且保存了预览的训练可供回看。"
    ),
    "Preview": "预览",
    "step {step}": "第 {step} 步",
    "Preview {position} of {total}: step {step}.": "预览 {position} / {total}：第 {step} 步。",
    "Look back: the preview at an earlier step": "回看：较早步数时的预览",
    "Training": "训练",
    "training.intro": (
        f"现场训练一个模型，看着它学习。这台服务器同时最多运行 {_MAX_JOBS} 个训练任务（其余的排队等候），每个页面一个；"
        "关闭页面会停止它的训练任务。已停止或已完成的训练任务会被保存，并出现在其他标签页的模型列表中。"
        "扩散模型的训练任务训练一个 32 通道的 U-Net"
        "（与发布的模型结构和训练目标相同：预测 v，按截断的信噪比加权；只是更窄），学得较慢："
        "前几百步只会看到模糊的团块，几千步之后才会出现数字。"
        "VQ-VAE 的训练任务用前 60% 的步数训练自编码器（预览显示重构），然后训练编码上的 GPT 先验（预览显示新的数字）。"
        "LoRA 训练任务在 Tiny Shakespeare 或你自己的文本上微调 SmolLM2"
        "（步数、随机种子、每批序列数、学习率，上下文滑块表示每个序列的词元数）："
        "质量图显示微调前和微调中留出文本的困惑度，文本框显示微调前后用同一提示词和随机种子生成的样本，结果会出现在文本标签页的模型列表中。"
    ),
    # Settings
    "Model family": "模型类型",
    "GAN (MNIST digits)": "生成对抗网络 GAN（MNIST 数字）",
    "VAE (MNIST digits)": "变分自编码器 VAE（MNIST 数字）",
    "char-GPT (text)": "字符级 GPT（文本）",
    "Diffusion (MNIST digits)": "扩散模型（MNIST 数字）",
    "VQ-VAE (MNIST digits)": "VQ-VAE（MNIST 数字）",
    "training.curve.commitment": "承诺损失",
    "training.curve.perplexity": "码本困惑度",
    "training.curve.nats_per_code": "每个编码的 nats（先验）",
    "training.curve.held-out reconstruction (nats)": "留出数据上的重构（nats）",
    "training.curve.codes used": "用到的编码数",
    "training.curve.class accuracy": "类别准确率",
    "Run name (lowercase letters, digits, dashes)": "训练任务名称（小写字母、数字、短横线）",
    "Steps": "步数",
    "Seed": "随机种子",
    "Batch size": "批大小",
    "Learning rate": "学习率",
    "Loss": "损失函数",
    "hinge": "铰链损失（hinge）",
    "nonsaturating": "非饱和损失",
    "lsgan": "最小二乘损失（LSGAN）",
    "wgan-gp": "Wasserstein 损失 + 梯度惩罚（WGAN-GP）",
    "Discriminator learning rate": "判别器学习率",
    "Class-conditional": "类别条件（可指定数字）",
    "GAN and VAE": "GAN 和 VAE",
    "Latent size": "潜变量维度",
    "VAE β": "VAE 的 β",
    "char-GPT": "字符级 GPT",
    "Layers": "层数",
    "Heads": "注意力头数",
    "Width": "宽度",
    "Context (characters)": "上下文长度（字符）",
    "Text": "文本",
    "Tiny Shakespeare": "Tiny Shakespeare（莎士比亚作品选段）",
    "text pasted below": "下面粘贴的文本",
    "uploaded text file": "上传的文本文件",
    "Text to train on": "用于训练的文本",
    "Text file (up to 2 MB)": "文本文件（最大 2 MB）",
    "Start": "开始",
    "Stop": "停止",
    "Resume": "继续",
    "Your runs": "你的训练任务",
    "Your saved runs": "你保存的训练任务",
    "Shared with everyone on this server": "与这台服务器上的所有人共享",
    "Apply sharing": "应用共享设置",
    "Delete this run": "删除这个训练任务",
    # Results
    "Losses": "损失",
    "Quality": "质量",
    "Quality: distances and nats": "质量：距离与 nats",
    "Samples from fixed noise": "固定噪声生成的样本",
    "Text sample": "文本样本",
    "training.curve.reconstruction": "重建损失",
    "training.curve.kl": "KL 散度",
    "training.curve.loss": "总损失",
    "training.curve.train": "训练损失",
    "training.curve.cross_entropy": "交叉熵",
    "training.curve.Inception score": "Inception 分数",
    "training.curve.Fréchet distance": "Fréchet 距离",
    "training.curve.held-out negative ELBO (nats)": "留出数据上的负 ELBO（nats）",
    "training.curve.validation loss (nats/char)": "验证损失（nats/字符）",
    "training.curve.class entropy (bits)": "类别熵（比特）",
    "training.curve.most common digit": "最常见的数字",
    "training.axis.step": "训练步数",
    "training.axis.loss": "损失",
    "training.axis.value": "数值",
    # Names the argument checks use in their messages
    "The pasted text": "粘贴的文本",
    "The uploaded text": "上传的文本",
    "The run name": "训练任务名称",
    "GAN loss": "GAN 损失函数",
    "Conditional": "类别条件",
    "β": "β",
    "Context": "上下文长度",
    "Shared": "共享",
    # Messages
    "There is no stopped run of yours called {name} to resume.": "你没有名为 {name} 的已停止训练任务，无法继续。",
    "{name} is another student's run: pick another name.": "{name} 是另一位同学的训练任务：请换一个名称。",
    "There is no stopped run called {name} to resume.": "没有名为 {name} 的已停止训练任务，无法继续。",
    "A run called {name} exists: press Resume to continue it, or pick a new name.": (
        "已经有名为 {name} 的训练任务：按“继续”接着训练它，或者换一个新名称。"
    ),
    "Paste some text to train on first.": "请先粘贴一些用于训练的文本。",
    "Upload a text file first.": "请先上传一个文本文件。",
    "The file is over {size} MB; upload a shorter text.": "文件超过了 {size} MB；请上传短一些的文本。",
    "That file is not plain text (it looks like a binary file); upload a .txt file.": (
        "这个文件不是纯文本（看起来是二进制文件）；请上传 .txt 文件。"
    ),
    "The uploaded file has no readable text.": "上传的文件里没有可读的文本。",
    "This page already has a training run going: stop it first.": "这个页面已经有一个训练任务在运行：请先停止它。",
    "Expected {expected} settings, got {count}.": "应有 {expected} 项设置，收到 {count} 项。",
    "{name} is training already.": "{name} 已经在训练了。",
    "Removed the oldest run, {name}, to keep this server's runs within their limits.": (
        "已删除最早的训练任务 {name}，使这台服务器上的训练任务不超出限额。"
    ),
    "{count} samples from fixed noise at step {step}": "第 {step} 步时由固定噪声生成的 {count} 个样本",
    "Waiting for a free trainer: position {position} in the queue.": "正在等待空闲的训练器：排在队列第 {position} 位。",
    "Starting the trainer (loading the data and the model)…": "正在启动训练器（加载数据和模型）…",
    "Step {step} of {total} · {rate:.1f} steps/s": "第 {step} 步，共 {total} 步 · 每秒 {rate:.1f} 步",
    "Step {step} of {total} · {rate:.1f} steps/s · about {seconds:.0f} s left": (
        "第 {step} 步，共 {total} 步 · 每秒 {rate:.1f} 步 · 大约还剩 {seconds:.0f} 秒"
    ),
    "Finished at step {step}. Saved as **{name}**: pick it in the other tabs.": (
        "在第 {step} 步完成。已保存为 **{name}**：可以在其他标签页中选用它。"
    ),
    "Stopped at step {step}. Saved as **{name}**: pick it in the other tabs.": (
        "在第 {step} 步停止。已保存为 **{name}**：可以在其他标签页中选用它。"
    ),
    " Only you see it until you share it with the class (Your runs, below).": (
        "在你把它共享给全班之前，只有你能看到它（见下方“你的训练任务”）。"
    ),
    "**{name}** is shared with everyone on this server.": "**{name}** 已与这台服务器上的所有人共享。",
    "**{name}** is private again: only you see it.": "**{name}** 已恢复为私有：只有你能看到它。",
    "{name} is training: stop it first.": "{name} 正在训练：请先停止它。",
    "Deleted **{name}**.": "已删除 **{name}**。",
    "There is no run of yours called {name}.": "你没有名为 {name} 的训练任务。",
    "Stopping after the current step; saving…": "将在当前这一步之后停止；正在保存…",
    "Nothing is training.": "当前没有正在进行的训练。",
}
