# ruff: noqa: E501
"""The VAE tab."""

EN = {
    # Gradio's own sketchpad strings, which its zh-CN pack lacks (same keys as Gradio's, so they fill the gap)
    "image_editor.add_layer": "Add Layer",
    "image_editor.brush": "Brush",
    "image_editor.brush_size": "Brush Size",
    "image_editor.clear_canvas": "Clear canvas",
    "image_editor.color": "Color",
    "image_editor.confirm_crop": "Confirm crop",
    "image_editor.crop": "Crop",
    "image_editor.erase": "Erase",
    "image_editor.eraser_size": "Eraser Size",
    "image_editor.fit_to_screen": "Fit to screen",
    "image_editor.layer": "Layer",
    "image_editor.layers": "Layers",
    "image_editor.pan": "Pan",
    "image_editor.paste": "Paste",
    "image_editor.redo": "Redo",
    "image_editor.resize": "Resize",
    "image_editor.save_changes": "Save changes",
    "image_editor.select_draw_tool": "select the draw tool to start",
    "image_editor.show_layers": "Show Layers",
    "image_editor.upload": "Upload",
    "image_editor.upload_image": "Upload an image",
    "image_editor.webcam": "Webcam",
    "image_editor.zoom_in": "Zoom in",
    "image_editor.zoom_out": "Zoom out",
    "vae.intro": (
        "Encode real, drawn or uploaded digits, then walk between them in the latent space. Drawings and "
        "uploads are cropped, fitted to 20x20 and centred by mass in 28x28, exactly as MNIST was made."
    ),
    **{
        f"vae.input_{side}": (
            f"### Input {side}\nPick a held-out digit, draw one, or upload a picture: the last one you use counts."
        )
        for side in "AB"
    },
}

ZH = {
    " Its decoder has a pixel head: each pixel also sees the pixels above it and to its left "
    "({kernel}×{kernel} window), so its pictures are drawn pixel by pixel, in reading order.": "它的解码器带有像素头：每个像素还能看到"
    "它上方和左边的像素（{kernel}×{kernel} 窗口），所以它的图像按阅读顺序逐个像素画出。",
    " With each digit's code refined by {steps} gradient steps on its own ELBO (the same decoder): **{refined:.1f}**, so the encoder's one-pass guess leaves {gap:.1f} nats on the table (the amortization gap).": " 如果对每个数字的编码再用 {steps} 步梯度下降按它自己的 ELBO 细化（解码器不变）：**{refined:.1f}**。也就是说，编码器一次前向的猜测少拿了 {gap:.1f} nats（摊销差距）。",
    "Prior samples against real digits (`python -m genmodels.evaluate`): Fréchet distance with 500 images **{fd:.1f} ± {spread:.1f}** over 5 seeds, where two halves of the held-out digits are {floor:.1f} apart (the floor) · Inception score **{score:.2f}**, {percent:.0%} of real digits' {real:.2f} with as many images.": "先验采样与真实数字对比（`python -m genmodels.evaluate`）：用 500 张图像、5 个种子测得的 Fréchet 距离为 **{fd:.1f} ± {spread:.1f}**，而留出数字的两半之间相距 {floor:.1f}（下限）· Inception 分数 **{score:.2f}**，是同样数量真实数字 {real:.2f} 的 {percent:.0%}。",
    # Gradio's own sketchpad strings, which its zh-CN pack lacks (same keys as Gradio's, so they fill the gap)
    "image_editor.add_layer": "添加图层",
    "image_editor.brush": "画笔",
    "image_editor.brush_size": "画笔大小",
    "image_editor.clear_canvas": "清空画布",
    "image_editor.color": "颜色",
    "image_editor.confirm_crop": "确认裁剪",
    "image_editor.crop": "裁剪",
    "image_editor.erase": "橡皮擦",
    "image_editor.eraser_size": "橡皮擦大小",
    "image_editor.fit_to_screen": "适应屏幕",
    "image_editor.layer": "图层",
    "image_editor.layers": "图层",
    "image_editor.pan": "平移",
    "image_editor.paste": "粘贴",
    "image_editor.redo": "重做",
    "image_editor.resize": "调整大小",
    "image_editor.save_changes": "保存更改",
    "image_editor.select_draw_tool": "选择画笔工具开始绘制",
    "image_editor.show_layers": "显示图层",
    "image_editor.upload": "上传",
    "image_editor.upload_image": "上传图像",
    "image_editor.webcam": "摄像头",
    "image_editor.zoom_in": "放大",
    "image_editor.zoom_out": "缩小",
    "VAE": "变分自编码器 VAE",
    "vae.intro": (
        "把真实的、手绘的或上传的数字编码到潜在空间，再在潜在空间中从一个数字走到另一个。手绘和上传的图片会按 MNIST 的制作方式处理："
        "裁剪、缩放到 20x20，再按质心居中放进 28x28。"
    ),
    **{
        f"vae.input_{side}": f"### 输入 {side}\n选一个留出数字、手绘一个，或上传一张图片：以你最后使用的那个为准。"
        for side in "AB"
    },
    "Held-out digit # (0-999)": "留出数字编号（0-999）",
    "Use this digit": "使用这个数字",
    "Draw a digit": "手绘一个数字",
    "Upload an image": "上传图片",
    **{f"{side}: what the model sees": f"{side}：模型看到的输入" for side in "AB"},
    **{f"{side}: reconstruction": f"{side}：重构" for side in "AB"},
    **{f"{side}: latent code (posterior mean)": f"{side}：潜在编码（后验均值）" for side in "AB"},
    "Steps": "步数",
    "Show the pixel cross-fade too": "同时显示像素交叉淡入淡出",
    "Interpolate A → B": "插值 A → B",
    "Latent interpolation": "潜在空间插值",
    "Pixel cross-fade (for contrast)": "像素交叉淡入淡出（作对比）",
    "Latent map (2-D model)": "潜在空间地图（二维模型）",
    "Map size (cells per side)": "地图大小（每边格数）",
    "Draw the map": "绘制地图",
    "Click a point to decode it": "点击一个点来解码它",
    "Decoded point": "解码出的点",
    "Explore around A and sample the prior": "在 A 附近探索，并从先验中采样",
    "Refine A's code (the amortization gap)": "细化 A 的编码（摊销差距）",
    "Refine A's code: 50 gradient steps on its own ELBO": "细化 A 的编码：在它自己的 ELBO 上走 50 步梯度",
    "Input A · from the encoder's code · from the refined code": "输入 A · 由编码器的编码重建 · 由细化后的编码重建",
    "Input A, then its reconstruction from the encoder's code, then from the refined code": (
        "输入 A，然后是由编码器的编码得到的重建，再是由细化后的编码得到的重建"
    ),
    "Left to right: input A, the reconstruction from the encoder's one-pass code, and from the code refined by "
    "{steps} gradient steps on this digit's own ELBO (the decoder and prior unchanged; the code moved "
    "{moved:.2f}). Negative ELBO of this digit (mean of {draws} posterior draws): **{before:.1f}** nats from "
    "the encoder, **{after:.1f}** refined: **{gap:.1f}** nats of amortization gap.": (
        "从左到右：输入 A、由编码器一次推断的编码得到的重建、以及在这个数字自己的 ELBO 上走 {steps} 步梯度细化后的编码得到的重建"
        "（解码器和先验不变；编码移动了 {moved:.2f}）。这个数字的负 ELBO（{draws} 次后验抽样的平均）：编码器 **{before:.1f}** 奈特，"
        "细化后 **{after:.1f}**：摊销差距 **{gap:.1f}** 奈特。"
    ),
    **{f"z{i} offset": f"z{i} 偏移" for i in range(1, 7)},
    "A moved in latent space": "在潜在空间中移动后的 A",
    "Prior seed": "先验采样种子",
    "Sample from the prior": "从先验中采样",
    "Prior samples": "先验样本",
    # Names in the argument checks' messages
    "Held-out digit": "留出数字编号",
    "Show pixel cross-fade": "显示像素交叉淡入淡出",
    "Map size": "地图大小",
    **{f"z{i}": f"z{i}" for i in range(1, 7)},
    "Count": "数量",
    # Results and messages
    "Expected an image file.": "需要一个图像文件。",
    "Prepare input A and input B first (pick, draw or upload a digit).": "请先准备好输入 A 和输入 B（选择、手绘或上传一个数字）。",
    "An input must be an image.": "输入必须是图像。",
    "Unknown VAE model: {error}.": "未知的 VAE 模型：{error}。",
    "Input: {label}, 28 by 28 pixels": "输入：{label}，28×28 像素",
    "Input: {label}, normalised to 28x28 as MNIST was made.": "输入：{label}，已按 MNIST 的制作方式归一化为 28x28。",
    "The MNIST digits are not available on this server: draw or upload instead.": "此服务器上没有 MNIST 数字：请改为手绘或上传。",
    "held-out digit #{position} (a {digit})": "留出数字 #{position}（数字 {digit}）",
    "The sketchpad is empty: draw a digit first.": "画板是空的：请先画一个数字。",
    "your sketch": "你的手绘",
    "No file uploaded yet.": "还没有上传文件。",
    "your upload": "你上传的图片",
    "The reconstruction": "重构结果",
    "Pixel cross-fade from A to B in {steps} steps": "从 A 到 B 的像素交叉淡入淡出，共 {steps} 步",
    "{steps} steps from A to B through the latent space ({mode}).": "在潜在空间中从 A 到 B 插值，共 {steps} 步（{mode}）。",
    "Latent walk from A to B in {steps} steps": "在潜在空间中从 A 走到 B，共 {steps} 步",
    "The latent map needs a model with a 2-D latent space (pick vae-2d).": "潜在空间地图需要潜在空间为二维的模型（请选择 vae-2d）。",
    "Latent plane from -{extent:g} to {extent:g} on both axes.": "潜在平面，两个坐标轴的范围都是 -{extent:g} 到 {extent:g}。",
    "A {cells} by {cells} map of the latent plane, rows from top to bottom": "{cells}×{cells} 的潜在平面地图，各行从上到下排列",
    "A {cells} by {cells} map of the latent plane, rows from top to bottom, with A and B marked": (
        "{cells}×{cells} 的潜在平面地图，各行从上到下排列，标出了 A 和 B"
    ),
    "A {cells} by {cells} map of the latent plane, rows from top to bottom, with {point} marked": (
        "{cells}×{cells} 的潜在平面地图，各行从上到下排列，标出了 {point}"
    ),
    "Decoding a map point needs a model with a 2-D latent space.": "解码地图上的点需要潜在空间为二维的模型。",
    "The digit decoded at z = {code}": "在 z = {code} 处解码出的数字",
    "decoded z = {code}": "已解码 z = {code}",
    "Expected {expected} offsets, got {count}.": "应有 {expected} 个偏移值，收到 {count} 个。",
    "This model has {dims} latent dimensions; the other sliders do nothing.": "这个模型只有 {dims} 个潜变量维度；其余滑块不起作用。",
    "{count} samples from the prior": "从先验中采样的 {count} 个样本",
    "{count} samples from the prior, seed {seed}": "从先验中采样的 {count} 个样本，种子 {seed}",
    "**{name}**: {dims}-D latent space, β = {beta:g}.": "**{name}**：{dims} 维潜在空间，β = {beta:g}。",
    " Held-out, nats per image: reconstruction **{reconstruction:.1f}**, KL **{kl:.1f}**, negative ELBO **{elbo:.1f}**.": (
        "留出数据上每张图像的 nats：重构 **{reconstruction:.1f}**，KL **{kl:.1f}**，负 ELBO **{elbo:.1f}**。"
    ),
    " The floor under these numbers: the held-out digits' grey pixels have **{floor:.1f}** nats of entropy of their own, which no Bernoulli decoder can go below, so the negative ELBO is **{above:.1f}** nats above it.": (
        " 这些数字的下限：留出数字的灰度像素自身有 **{floor:.1f}** nats 的熵，任何伯努利解码器都无法低于它，"
        "所以负 ELBO 比它高 **{above:.1f}** nats。"
    ),
}
