"""What one instance of a SageMaker instance type is: its vCPUs, memory and GPUs.

A cluster executor reserves these for each host of a job, as SageMaker gives each host a
whole instance. The figures are AWS's published specifications of the EC2 instances the
ml.* types run on. A type missing from the table (SageMaker adds families often) is
estimated from its size name: an N-xlarge has 4N vCPUs, a large 2, with 4 GiB a vCPU and
no GPU, which is what the general-purpose families have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class InstanceResources:
    vcpus: float
    memory_gib: float
    gpus: int = 0

    def scaled(self, factor: float) -> InstanceResources:
        """The same shape shrunk (or grown) by `factor`; GPUs are whole devices, never scaled
        below one when the type has any."""
        gpus = max(1, round(self.gpus * factor)) if self.gpus else 0
        return InstanceResources(self.vcpus * factor, self.memory_gib * factor, gpus)

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * GIB)


def _family(
    prefix: str, sizes: dict[str, tuple[float, float] | tuple[float, float, int]]
) -> dict[str, InstanceResources]:
    return {f"ml.{prefix}.{size}": InstanceResources(*spec) for size, spec in sizes.items()}


INSTANCE_TYPES: dict[str, InstanceResources] = {
    **_family("t2", {"medium": (2, 4), "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32)}),
    **_family("t3", {"medium": (2, 4), "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32)}),
    **_family(
        "m4",
        {
            "xlarge": (4, 16),
            "2xlarge": (8, 32),
            "4xlarge": (16, 64),
            "10xlarge": (40, 160),
            "16xlarge": (64, 256),
        },
    ),
    **_family(
        "m5",
        {
            "large": (2, 8),
            "xlarge": (4, 16),
            "2xlarge": (8, 32),
            "4xlarge": (16, 64),
            "12xlarge": (48, 192),
            "24xlarge": (96, 384),
        },
    ),
    **_family(
        "m5d",
        {
            "large": (2, 8),
            "xlarge": (4, 16),
            "2xlarge": (8, 32),
            "4xlarge": (16, 64),
            "12xlarge": (48, 192),
            "24xlarge": (96, 384),
        },
    ),
    **_family(
        "m6i",
        {
            "large": (2, 8),
            "xlarge": (4, 16),
            "2xlarge": (8, 32),
            "4xlarge": (16, 64),
            "8xlarge": (32, 128),
            "12xlarge": (48, 192),
            "16xlarge": (64, 256),
            "24xlarge": (96, 384),
            "32xlarge": (128, 512),
        },
    ),
    **_family(
        "c4", {"xlarge": (4, 7.5), "2xlarge": (8, 15), "4xlarge": (16, 30), "8xlarge": (36, 60)}
    ),
    **_family(
        "c5",
        {
            "large": (2, 4),
            "xlarge": (4, 8),
            "2xlarge": (8, 16),
            "4xlarge": (16, 32),
            "9xlarge": (36, 72),
            "18xlarge": (72, 144),
        },
    ),
    **_family(
        "c6i",
        {
            "large": (2, 4),
            "xlarge": (4, 8),
            "2xlarge": (8, 16),
            "4xlarge": (16, 32),
            "8xlarge": (32, 64),
            "12xlarge": (48, 96),
            "16xlarge": (64, 128),
            "24xlarge": (96, 192),
            "32xlarge": (128, 256),
        },
    ),
    **_family(
        "r5",
        {
            "large": (2, 16),
            "xlarge": (4, 32),
            "2xlarge": (8, 64),
            "4xlarge": (16, 128),
            "12xlarge": (48, 384),
            "24xlarge": (96, 768),
        },
    ),
    **_family("p2", {"xlarge": (4, 61, 1), "8xlarge": (32, 488, 8), "16xlarge": (64, 732, 16)}),
    **_family("p3", {"2xlarge": (8, 61, 1), "8xlarge": (32, 244, 4), "16xlarge": (64, 488, 8)}),
    **_family("p3dn", {"24xlarge": (96, 768, 8)}),
    **_family("p4d", {"24xlarge": (96, 1152, 8)}),
    **_family("p4de", {"24xlarge": (96, 1152, 8)}),
    **_family("p5", {"48xlarge": (192, 2048, 8)}),
    **_family(
        "g4dn",
        {
            "xlarge": (4, 16, 1),
            "2xlarge": (8, 32, 1),
            "4xlarge": (16, 64, 1),
            "8xlarge": (32, 128, 1),
            "12xlarge": (48, 192, 4),
            "16xlarge": (64, 256, 1),
        },
    ),
    **_family(
        "g5",
        {
            "xlarge": (4, 16, 1),
            "2xlarge": (8, 32, 1),
            "4xlarge": (16, 64, 1),
            "8xlarge": (32, 128, 1),
            "12xlarge": (48, 192, 4),
            "16xlarge": (64, 256, 1),
            "24xlarge": (96, 384, 4),
            "48xlarge": (192, 768, 8),
        },
    ),
    **_family(
        "g6",
        {
            "xlarge": (4, 16, 1),
            "2xlarge": (8, 32, 1),
            "4xlarge": (16, 64, 1),
            "8xlarge": (32, 128, 1),
            "12xlarge": (48, 192, 4),
            "16xlarge": (64, 256, 1),
            "24xlarge": (96, 384, 4),
            "48xlarge": (192, 768, 8),
        },
    ),
    **_family("trn1", {"2xlarge": (8, 32), "32xlarge": (128, 512)}),
    **_family(
        "inf2",
        {"xlarge": (4, 16), "8xlarge": (32, 128), "24xlarge": (96, 384), "48xlarge": (192, 768)},
    ),
}

_SIZE = re.compile(r"^ml\.[a-z0-9-]+\.(?:(\d+)?xlarge|(large|medium))$")
_DEFAULT = INSTANCE_TYPES["ml.m5.xlarge"]


def instance_resources(instance_type: str | None) -> InstanceResources:
    """One instance's resources; a type not in the table is estimated from its size name,
    and no type at all (a host with none, such as a setup step) is an ml.m5.xlarge."""
    if not instance_type:
        return _DEFAULT
    known = INSTANCE_TYPES.get(instance_type)
    if known is not None:
        return known
    match = _SIZE.match(instance_type)
    if match is None:
        return _DEFAULT
    multiple, small = match.groups()
    vcpus = 2.0 if small else 4.0 * int(multiple or 1)
    return InstanceResources(vcpus, vcpus * 4)
