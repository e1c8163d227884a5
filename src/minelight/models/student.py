"""Net-S: the student / enhancer, with hybrid dilated convolutions and improved RIR groups."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .blocks import HybridDilatedConv, ResidualBlock, ResidualInResidual, conv_act
from .encoder_decoder import EncoderDecoder


@dataclass
class StudentConfig:
    widths: tuple[int, ...] = (16, 32, 64, 80)  # channels per level; must equal the teacher's
    rates: tuple[int, ...] = (1, 2, 5)  # HDC dilation rates (no common factor: no gridding)
    hdc: bool = True  # False: plain 3x3 convs in the encoder (ablation)
    rir_groups: int = 2  # RIR groups at the coarsest level
    blocks_per_group: int = 2  # residual blocks inside each group
    attention: bool = True  # channel-attention gate inside each group ("improved" RIR)
    rir: bool = True  # False: the same number of plain residual blocks, no groups (ablation)
    output: str = "affine"  # "affine": per-pixel gain + offset with a global exposure term; "residual": x + r


class Student(EncoderDecoder):
    """Net-S. Encoder levels: stride-2 conv then an HDC block; bottleneck: RIR groups."""

    def __init__(self, config: StudentConfig | None = None):
        config = config or StudentConfig()

        def encoder_block(level: int, ch: int) -> nn.Module:
            return HybridDilatedConv(ch, config.rates) if config.hdc else conv_act(ch, ch)

        def bottleneck(ch: int) -> nn.Module:
            if not config.rir:
                return nn.Sequential(*[ResidualBlock(ch) for _ in range(config.rir_groups * config.blocks_per_group)])
            groups = [
                ResidualInResidual(ch, config.blocks_per_group, config.attention) for _ in range(config.rir_groups)
            ]
            return nn.Sequential(*groups)

        super().__init__(config.widths, encoder_block, bottleneck, config.output)
        self.config = config
