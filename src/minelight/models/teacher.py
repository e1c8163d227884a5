"""Net-T: the teacher, a plain pix2pix-style encoder-decoder trained to autoencode well-lit images."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .blocks import ResidualBlock, conv_act
from .encoder_decoder import EncoderDecoder


@dataclass
class TeacherConfig:
    widths: tuple[int, ...] = (16, 32, 64, 80)  # channels per level; must equal the student's
    bottleneck_blocks: int = 4  # plain residual blocks at the coarsest level


class Teacher(EncoderDecoder):
    """Net-T. Encoder levels are stride-2 3x3 convs followed by one plain 3x3 conv."""

    def __init__(self, config: TeacherConfig | None = None):
        config = config or TeacherConfig()
        super().__init__(
            config.widths,
            encoder_block=lambda level, ch: conv_act(ch, ch),
            bottleneck=lambda ch: nn.Sequential(*[ResidualBlock(ch) for _ in range(config.bottleneck_blocks)]),
        )
        self.config = config
