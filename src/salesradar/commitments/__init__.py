"""The vendor commitment tracker and the diagnostic a serious vendor runs first.

>>> from salesradar.commitments import parse_commitment, track, value_of
"""

from salesradar.commitments.checks import Concern, check
from salesradar.commitments.model import Commitment, parse_commitment
from salesradar.commitments.tracker import Tracking, track
from salesradar.commitments.value import Fee, Roi, value_of

__all__ = ["Commitment", "Concern", "Fee", "Roi", "Tracking", "check", "parse_commitment",
           "track", "value_of"]
