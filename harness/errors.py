"""One error tree: every failure a user can cause is one of these, printed as one line.

Exit codes: 2 for any HarnessError except RegressionFailed, which is 1.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base: the message says what, where and what to do."""

    exit_code = 2


class ConfigError(HarnessError):
    """A target/config YAML file is missing, malformed or has a wrong key or type."""


class ModelError(HarnessError):
    """A model file is missing, not a .tflite, corrupt, or of the wrong kind."""


class UnsupportedModel(ModelError):
    """The model is valid but the target cannot run it (op, size, arena)."""


class InputError(HarnessError):
    """An input set or label file does not fit the model."""


class TargetError(HarnessError):
    """The target refused or failed a request."""


class LinkError(TargetError):
    """The byte stream to the target is broken (framing, CRC, closed port)."""


class TargetTimeout(TargetError):
    """The target did not answer within its deadline."""


class ResultsError(HarnessError):
    """The results directory cannot be written or read."""


class RegressionFailed(HarnessError):
    """A tolerance against a baseline run was broken."""

    exit_code = 1
