"""Export a compiled model to TransformerLens (needs the ``tl`` extra).

:func:`to_transformer_lens` builds a TransformerLens model that computes the
same activations as :meth:`rasplab.model.CompiledModel.forward`, hook by hook:
``hook_embed``, ``hook_pos_embed``, ``blocks.{i}.hook_resid_pre``,
``blocks.{i}.attn.hook_pattern``, ``blocks.{i}.hook_attn_out``,
``blocks.{i}.hook_resid_mid``, ``blocks.{i}.hook_mlp_out``,
``blocks.{i}.hook_resid_post`` and the logits.

* TransformerLens 3.x: a ``HookedTransformer`` (pass ``bridge=True`` for a
  ``TransformerBridge`` instead; 3.5 and later have one).
* TransformerLens 4.x, which has no ``HookedTransformer``: a
  ``TransformerBridge`` around TransformerLens's own native model
  (``model_bridge.sources.native``), built offline from a config.

Nothing is downloaded and no tokenizer is attached: feed token ids from
:meth:`CompiledModel.encode` (BOS, id 0, first; never prepended for you).
TransformerLens uses one head count, ``d_head`` and ``d_mlp`` for every
layer, so smaller layers are padded with zero weights: a padded head attends
uniformly and writes nothing, a padded MLP unit is always 0.
:func:`reference_activations` gives our activations under the same hook
names (patterns only for the compiled heads) and
:func:`activation_differences` compares the two.

The weights are loaded as compiled, with no TransformerLens weight
processing. Keep it that way: centring the unembedding (the default of
``TransformerBridge.enable_compatibility_mode()`` and of
``HookedTransformer`` weight processing) shifts every logit and erases a
numerical output. Call ``enable_compatibility_mode(no_processing=True)`` if
you want the bridge's legacy hook aliases.

>>> from rasplab.compiler import compile_program
>>> from rasplab.errors import RaspError
>>> from rasplab.library import sort
>>> model = compile_program(sort(), "abc", 4, verify=0)
>>> try:
...     tl_model = to_transformer_lens(model)
... except RaspError:  # TransformerLens is not installed
...     tl_model = None
>>> tl_model is None or run_decoded(model, tl_model, ["cab", "bba"]) == model.run(["cab", "bba"])
True
>>> tl_model is None or max(activation_differences(model, tl_model, ["cab"]).values()) < 1e-5
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RaspError
from .activations import activations as reference_activations
from .activations import token_ids as _ids
from .inputs import as_batch
from .io import load
from .model import CompiledModel

__all__ = [
    "to_transformer_lens",
    "load_transformer_lens",
    "transformer_lens_state_dict",
    "require_transformer_lens",
    "padded_weights",
    "reference_activations",
    "activation_differences",
    "run_decoded",
]

_MISSING = "TransformerLens is not installed; install the tl extra: pip install 'rasplab[tl]'"


def require_transformer_lens() -> Any:
    """The ``transformer_lens`` module, or a RaspError naming the extra that installs it."""
    try:
        import transformer_lens
    except ImportError:
        raise RaspError(_MISSING) from None
    return transformer_lens


def _torch() -> Any:
    from .torch import require_torch

    return require_torch()


# ------------------------------------------------------------------ shapes


def _sizes(model: CompiledModel) -> tuple[int, int, int]:
    """``(n_heads, d_head, d_mlp)``: the widest layer's, at least 1 each."""
    heads = max(model.heads_per_layer, default=0)
    d_head = max((b.attn.W_Q.shape[2] for b in model.blocks), default=0)
    d_mlp = max(model.d_mlp_per_layer, default=0)
    return max(heads, 1), max(d_head, 1), max(d_mlp, 1)


def _pad(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` in the top-left corner of a zero array of ``shape``."""
    out = np.zeros(shape, dtype=np.float64)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


def _padded_shapes(model: CompiledModel) -> dict[str, tuple[int, ...]]:
    """The shape of each block weight (by its last name part) padded to the widest layer."""
    h, e, m = _sizes(model)
    d = model.d_model
    return {
        "W_Q": (h, d, e),
        "W_K": (h, d, e),
        "W_V": (h, d, e),
        "W_O": (h, e, d),
        "b_Q": (h, e),
        "b_K": (h, e),
        "b_V": (h, e),
        "b_O": (d,),
        "W_in": (d, m),
        "b_in": (m,),
        "W_out": (m, d),
        "b_out": (d,),
    }


def padded_weights(model: CompiledModel) -> dict[str, np.ndarray]:
    """Every weight under its TransformerLens name, padded to the widest layer.

    ``blocks.{i}.attn.W_Q`` is ``[n_heads, d_model, d_head]`` for the largest
    ``n_heads`` and ``d_head`` of any layer, ``blocks.{i}.mlp.W_in``
    ``[d_model, d_mlp]`` for the largest ``d_mlp``; the extra entries are 0.
    """
    shapes = _padded_shapes(model)
    out = {}
    for name, a in model.arrays().items():
        out[name] = _pad(a, shapes[name.rsplit(".", 1)[1]]) if name.startswith("blocks.") else a
    return out


# ------------------------------------------------------------------ export


def to_transformer_lens(
    model: CompiledModel, dtype: Any = None, device: Any = "cpu", bridge: bool | None = None
) -> Any:
    """A TransformerLens model computing ``model`` (float32 unless ``dtype`` says otherwise).

    ``bridge=None`` picks ``HookedTransformer`` where the installed
    TransformerLens has it (3.x) and ``TransformerBridge`` otherwise (4.x);
    ``True`` or ``False`` asks for one. Scores are not divided by
    ``sqrt(d_head)``, as in our model. For per-head outputs
    (``blocks.{i}.attn.hook_result``) call ``set_use_attn_result(True)`` on a
    ``HookedTransformer``.
    """
    tl = require_transformer_lens()
    torch = _torch()
    dtype = dtype or torch.float32
    hooked = _has_hooked_transformer(tl)
    if bridge is False and not hooked:
        raise RaspError(
            "this TransformerLens release has no HookedTransformer (4.x removed it); "
            "use bridge=True or install a 3.x release"
        )
    if bridge or not hooked:
        return _bridge(model, dtype, device)
    return _hooked(model, dtype, device)


def load_transformer_lens(path: str | Path, **options: Any) -> Any:
    """A TransformerLens model from a saved ``.safetensors`` model file.

    The file is checked as :func:`rasplab.model.load` checks it (checksum,
    shapes, finite weights) before TransformerLens sees it; ``options`` are
    those of :func:`to_transformer_lens` (``dtype``, ``device``, ``bridge``).
    """
    return to_transformer_lens(load(path), **options)


def transformer_lens_state_dict(path: str | Path, dtype: Any = None) -> dict[str, Any]:
    """A model file's weights as a ``HookedTransformer`` ``state_dict`` (float32 unless
    ``dtype`` says otherwise), read by ``safetensors.torch`` (no pickle, no ``torch.load``).

    The file's tensors already carry TransformerLens names; each block's are
    zero-padded to the widest layer, as :func:`padded_weights` pads them.
    Load it with ``load_state_dict(state, strict=False)``: the attention
    masks are TransformerLens's own buffers, not weights.
    """
    import safetensors.torch

    torch = _torch()
    sizes = _padded_shapes(load(path))  # the file is checked before its tensors are used
    tensors = safetensors.torch.load_file(str(path))
    state = {}
    for name, t in tensors.items():
        shape = sizes[name.rsplit(".", 1)[1]] if name.startswith("blocks.") else tuple(t.shape)
        padded = torch.zeros(shape, dtype=dtype or torch.float32)
        padded[tuple(slice(0, n) for n in t.shape)] = t
        state[name] = padded
    return state


def _has_hooked_transformer(tl: Any) -> bool:
    """Whether ``tl`` has ``HookedTransformer`` (4.x raises ImportError on the lookup)."""
    try:
        return getattr(tl, "HookedTransformer", None) is not None
    except ImportError:
        return False


def _config_fields(model: CompiledModel) -> dict[str, Any]:
    """Config fields shared by HookedTransformerConfig and TransformerBridgeConfig."""
    h, e, m = _sizes(model)
    return {
        "n_layers": model.n_layers,
        "d_model": model.d_model,
        "n_ctx": model.W_pos.shape[0],  # max_seq_len + 1 (BOS)
        "d_head": e,
        "n_heads": h,
        "d_mlp": m,
        "d_vocab": model.W_E.shape[0],  # input vocab + BOS
        "d_vocab_out": model.W_U.shape[1],
        "act_fn": "relu",
        "normalization_type": None,
        "positional_embedding_type": "standard",
        "attention_dir": "causal" if model.causal else "bidirectional",
        "use_attn_scale": False,  # scores are q . k, not q . k / sqrt(d_head)
        "default_prepend_bos": False,
        "init_weights": False,
    }


def _hooked(model: CompiledModel, dtype: Any, device: Any) -> Any:
    """A ``HookedTransformer`` with our (padded) weights in its state dict."""
    import transformer_lens as tl

    torch = _torch()
    cfg = tl.HookedTransformerConfig(
        **_config_fields(model), tokenizer_name=None, dtype=dtype, device=str(device)
    )
    with warnings.catch_warnings():  # 3.x says it is going away; 4.x takes the bridge path
        warnings.filterwarnings("ignore", "HookedTransformer is deprecated", DeprecationWarning)
        tl_model = tl.HookedTransformer(cfg, tokenizer=None)
    state = tl_model.state_dict()
    for name, a in padded_weights(model).items():
        state[name] = torch.tensor(a, dtype=dtype)
    tl_model.load_state_dict(state)
    return tl_model.eval()


def _bridge(model: CompiledModel, dtype: Any, device: Any) -> Any:
    """A ``TransformerBridge`` around a TransformerLens-native model holding our weights."""
    try:
        from transformer_lens.config import TransformerBridgeConfig
        from transformer_lens.model_bridge.sources._bridge_builder import (
            build_bridge_from_module,
        )
        from transformer_lens.model_bridge.sources.native import NativeModel
    except ImportError:
        raise RaspError(
            "this TransformerLens release cannot build a TransformerBridge from a config "
            "(needs 3.5 or later); use bridge=False or upgrade transformer-lens"
        ) from None
    cfg = TransformerBridgeConfig(**_config_fields(model), dtype=dtype)
    native = NativeModel(cfg).to(device=device, dtype=dtype)
    _load_native(native, model)
    cfg.use_attn_scale, cfg.attn_scale = True, 1.0  # what the bridge's config reports
    return build_bridge_from_module(
        native, "TransformerLensNative", tl_config=cfg, dtype=dtype, device=device
    ).eval()


def _load_native(native: Any, model: CompiledModel) -> None:
    """Copy our weights into a native model (``nn.Linear`` stores ``[out, in]``)."""
    torch = _torch()
    w = padded_weights(model)
    h, e, _ = _sizes(model)

    def put(param: Any, a: np.ndarray) -> None:
        with torch.no_grad():
            param.copy_(torch.tensor(np.ascontiguousarray(a), dtype=param.dtype))  # same device

    put(native.tok_embed.weight, w["embed.W_E"])  # [d_vocab, d_model]
    put(native.pos.weight, w["pos_embed.W_pos"])  # [n_ctx, d_model]
    for i, block in enumerate(native.layers):
        p = f"blocks.{i}."
        attn = block.attn
        for name, linear in (("Q", attn.q), ("K", attn.k), ("V", attn.v)):
            put(linear.weight, w[p + f"attn.W_{name}"].transpose(0, 2, 1).reshape(h * e, -1))
            put(linear.bias, w[p + f"attn.b_{name}"].reshape(h * e))
        put(attn.o.weight, w[p + "attn.W_O"].reshape(h * e, -1).T)  # [d_model, heads * d_head]
        put(attn.o.bias, w[p + "attn.b_O"])
        attn.scale = 1.0  # the native model refuses attn_scale 1 in its config
        put(block.mlp.fc_in.weight, w[p + "mlp.W_in"].T)  # [d_mlp, d_model]
        put(block.mlp.fc_in.bias, w[p + "mlp.b_in"])
        put(block.mlp.fc_out.weight, w[p + "mlp.W_out"].T)  # [d_model, d_mlp]
        put(block.mlp.fc_out.bias, w[p + "mlp.b_out"])
    like = native.tok_embed.weight
    native.head = torch.nn.Linear(  # the native head has no bias; ours may
        model.d_model, model.W_U.shape[1], bias=True, dtype=like.dtype, device=like.device
    )
    put(native.head.weight, w["unembed.W_U"].T)  # [d_out, d_model]
    put(native.head.bias, w["unembed.b_U"])


# ------------------------------------------------------------------ checking


def _tl_activations(tl_model: Any, ids: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """TransformerLens's activations (torch tensors) for ``names``, and ``logits``."""
    torch = _torch()
    device = next(tl_model.parameters()).device
    tokens = torch.tensor(ids, dtype=torch.long, device=device)
    hooks = [n for n in names if n != "logits"]
    with torch.no_grad():
        logits, cache = tl_model.run_with_cache(tokens, names_filter=lambda n: n in hooks)
    return {"logits": logits, **{n: cache[n] for n in hooks}}


def activation_differences(
    model: CompiledModel, tl_model: Any, inputs: Any, dtype: Any = None
) -> dict[str, float]:
    """Largest absolute difference per activation between ``tl_model`` and ours.

    Compared in the TransformerLens model's dtype (``dtype`` overrides our
    side's); patterns only over the heads the compiled layer has.
    """
    ids = _ids(model, inputs)
    param = next(tl_model.parameters())
    np_dtype = np.dtype(dtype) if dtype is not None else np.dtype(str(param.dtype).split(".")[-1])
    ref = reference_activations(model, ids, np_dtype)
    got = _tl_activations(tl_model, ids, list(ref))
    diffs = {}
    for name, want in ref.items():
        have = got[name].detach().cpu().numpy().astype(np.float64)
        if name.endswith("hook_pattern"):
            have = have[:, : want.shape[1]]  # drop padded heads
        diffs[name] = float(np.abs(have - want).max(initial=0.0))
    return diffs


def run_decoded(
    model: CompiledModel, tl_model: Any, inputs: Sequence[Any], *, check_domain: bool = True
) -> list[list[Any]]:
    """Decoded outputs of ``tl_model`` for a batch (a list of inputs), like
    :meth:`CompiledModel.run` (grouped by length)."""
    torch = _torch()
    device = next(tl_model.parameters()).device
    batch = as_batch(inputs, "run_decoded")
    encoded = [model.encode(xs, check_domain=check_domain) for xs in batch]
    groups: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        groups.setdefault(len(ids), []).append(i)
    out: list[Any] = [None] * len(encoded)
    with torch.no_grad():
        for members in groups.values():
            tokens = torch.tensor(np.stack([encoded[i] for i in members]), device=device)
            logits = tl_model(tokens).detach().cpu().numpy()  # [batch, pos, d_out]
            for i, row in zip(members, model.decode(logits), strict=True):
                out[i] = row
    return out
