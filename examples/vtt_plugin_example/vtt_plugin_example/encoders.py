import torch
from torch import nn

from vtt.registry import MODELS


@MODELS.register_module()
class GRUSequenceEncoder(nn.Module):
    """A trainable GRU in place of TimesCLIP's frozen CLIP text tower.

    It follows the same interface as ``CLIPTextEncoder``: ``hidden_size`` (the token size the
    patch tokenizer must produce), ``output_dim``, and
    ``forward(inputs_embeds [N, L, hidden_size]) -> [N, output_dim]``.

    Args:
        hidden_size (int): Token size. Defaults to 64.
        output_dim (int): Embedding size. Defaults to 64.
        num_layers (int): GRU layers. Defaults to 1.
    """

    def __init__(self, hidden_size: int = 64, output_dim: int = 64, num_layers: int = 1):
        super().__init__()
        self.hidden_size = hidden_size
        self.output_dim = output_dim
        self.gru = nn.GRU(hidden_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.proj = nn.Linear(hidden_size, output_dim)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        _, last = self.gru(inputs_embeds)
        return self.proj(last[-1])
