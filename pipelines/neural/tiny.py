"""Tiny models built from the real transformers / diffusers classes, saved the way discovery expects.

They let the tests and benchmarks run every neural code path end to end (discovery, loading with
``local_files_only=True``, preprocessing, inference, decoding) without downloading weights.
Nothing here is used by the product paths. The tokenizers are written from a small byte-level
vocabulary, so nothing is fetched for them either.

`save_tiny_whisper` is not random: its decoder is wired so that greedy decoding spells a chosen
text whatever the audio (the position embeddings select one output token per step, the layers
add nothing), which lets a test check the transcript exactly.
"""

from __future__ import annotations

from pathlib import Path

WHISPER_SPECIALS = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|transcribe|>",
    "<|translate|>",
    "<|notimestamps|>",
)


def _byte_vocab(specials: tuple[str, ...]) -> dict[str, int]:
    """A byte-level BPE vocabulary: the 256 byte symbols, then `specials`."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {c: i for i, c in enumerate(bytes_to_unicode().values())}
    for s in specials:
        vocab[s] = len(vocab)
    return vocab


def save_tiny_whisper(folder: Path, *, text: str = "hi tidepool", d_model: int = 32) -> Path:
    """A Whisper checkpoint (model, feature extractor, tokenizer) in `folder` that says `text`."""
    import torch
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = _byte_vocab(WHISPER_SPECIALS)
    byte_sym = bytes_to_unicode()
    targets = [vocab[byte_sym[b]] for b in text.encode()] + [vocab["<|endoftext|>"]]
    if len(targets) > d_model:
        raise ValueError(f"text of {len(targets) - 1} bytes needs d_model > {len(targets)}")
    tok = WhisperTokenizer(vocab=dict(vocab), merges=[])
    tok.add_special_tokens({"additional_special_tokens": list(WHISPER_SPECIALS[1:])})
    processor = WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=16), tokenizer=tok
    )
    eot, sot = vocab["<|endoftext|>"], vocab["<|startoftranscript|>"]
    cfg = WhisperConfig(
        vocab_size=len(vocab), num_mel_bins=16, d_model=d_model,
        encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, max_source_positions=1500,
        max_target_positions=128, decoder_start_token_id=sot, eos_token_id=eot,
        pad_token_id=eot, bos_token_id=eot, begin_suppress_tokens=None, suppress_tokens=None,
        tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg)
    dec = model.model.decoder
    with torch.no_grad():
        # Layers add nothing (zeroed output projections), so the decoder's last hidden state at
        # step i is layer_norm(pos[i]); pos[i] = 10 e_i and proj_out[targets[i]] = e_i make
        # targets[i] the greedy choice at step i.
        for layer in dec.layers:
            for lin in (layer.self_attn.out_proj, layer.encoder_attn.out_proj, layer.fc2):
                lin.weight.zero_()
                if lin.bias is not None:
                    lin.bias.zero_()
        dec.embed_tokens.weight.zero_()
        dec.embed_positions.weight.zero_()
        model.proj_out.weight.zero_()
        for i, t in enumerate(targets):
            dec.embed_positions.weight[i, i] = 10.0
            model.proj_out.weight[t, i] = 1.0
    model.generation_config.decoder_start_token_id = sot
    model.generation_config.no_timestamps_token_id = vocab["<|notimestamps|>"]
    model.generation_config.suppress_tokens = None
    model.generation_config.begin_suppress_tokens = None
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return Path(folder)


def save_tiny_depth(folder: Path, *, size: int = 56) -> Path:
    """A Depth-Anything model (tiny DINOv2 backbone, random weights) and its image processor."""
    import torch
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    backbone = Dinov2Config(
        image_size=size, patch_size=14, hidden_size=16, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=32, out_features=["stage1", "stage2"],
        reshape_hidden_states=False,
    )  # fmt: skip
    cfg = DepthAnythingConfig(
        backbone_config=backbone, patch_size=14, reassemble_hidden_size=16,
        reassemble_factors=[2, 1], neck_hidden_sizes=[8, 16], fusion_hidden_size=8,
        head_hidden_size=8,
    )  # fmt: skip
    torch.manual_seed(0)
    model = DepthAnythingForDepthEstimation(cfg)
    with torch.no_grad():  # random heads end in a ReLU that leaves ~0; lift it to ~1 + texture
        model.head.conv3.bias.fill_(1.0)
        model.head.conv3.weight.mul_(5e4)
    model.save_pretrained(folder)
    DPTImageProcessor(
        size={"height": size, "width": size}, keep_aspect_ratio=False, do_pad=False
    ).save_pretrained(folder)
    return Path(folder)


def save_tiny_text2image(folder: Path) -> Path:
    """A StableDiffusionPipeline (tiny UNet, VAE, CLIP text encoder, Euler scheduler)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
        norm_num_groups=2, attention_head_dim=2,
    )  # fmt: skip
    vae = AutoencoderKL(  # four blocks: latents 8x smaller than the image, as in Stable Diffusion
        block_out_channels=(4, 4, 4, 4), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4, norm_num_groups=2, layers_per_block=1,
    )  # fmt: skip
    specials = ("<|startoftext|>", "<|endoftext|>")
    vocab = _byte_vocab(())
    vocab.update({c + "</w>": len(vocab) + i for i, c in enumerate(list(vocab)[:256])})
    for s in specials:
        vocab[s] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=vocab[specials[0]], eos_token_id=vocab[specials[1]],
            pad_token_id=vocab[specials[1]], hidden_size=16, intermediate_size=32,
            num_attention_heads=2, num_hidden_layers=1, vocab_size=len(vocab),
            max_position_embeddings=16, projection_dim=16,
        )
    )  # fmt: skip
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text, tokenizer=tokenizer,
        scheduler=EulerDiscreteScheduler(steps_offset=1), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    pipe.save_pretrained(folder)
    return Path(folder)
