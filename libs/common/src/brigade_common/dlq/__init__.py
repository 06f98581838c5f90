"""The dead-letter stream (`DLQ`): messages no consumer could process, kept with their error for a human.

- `letters`: what an entry is, writing a dead letter (the consumer runner's `dead_letter`), reading;
- `replay`: sending entries back to their original subject, exactly once;
- `python -m brigade_common.dlq` (`cli`): list, show, replay and drop, for an operator.
"""

from brigade_common.dlq.letters import (
    DLQ_STREAM,
    ERROR,
    ORIGINAL_SEQ,
    ORIGINAL_STREAM,
    ORIGINAL_SUBJECT,
    DeadLetter,
    dead_letter,
    dlq_subject,
    read_dead_letters,
)

__all__ = [
    "DLQ_STREAM",
    "ERROR",
    "ORIGINAL_SEQ",
    "ORIGINAL_STREAM",
    "ORIGINAL_SUBJECT",
    "DeadLetter",
    "dead_letter",
    "dlq_subject",
    "read_dead_letters",
]
