"""The one way text leaves the device for a cloud model: pseudonymize, then check.

``prepare_egress`` fails closed. If redaction raises, or the last check still finds a
phone number, an e-mail address or an employee's name in the redacted text, it raises
and nothing is sent. Error messages name the kind of data, never the data.
"""

from __future__ import annotations

import logging

from kiosk_agent.errors import AnonymizeError, EgressRefused
from kiosk_agent.messages import RedactedText
from kiosk_agent.pseudonyms import PseudonymTable
from kiosk_agent.stages.anonymize import Pseudonymizer

logger = logging.getLogger(__name__)


def prepare_egress(
    text: str, language: str, pseudonymizer: Pseudonymizer, table: PseudonymTable
) -> RedactedText:
    """Pseudonymize ``text`` and make sure the result is fit to leave the device.

    Raises:
        AnonymizeError: redaction itself failed (code ``anonymize-failed``).
        EgressRefused: the last check still found personal data (code
            ``egress-refused``; the message is only the kind: "phone", "email" or
            "directory-name").
    """
    try:
        redacted = pseudonymizer.redact(text, language, table)
        residue = pseudonymizer.find_residue(redacted.text, language)
    except Exception as err:  # noqa: BLE001 - fail closed on any fault in redaction.
        logger.error(
            "anonymize.failed",
            extra={
                "fields": {
                    "error_code": "anonymize-failed",
                    "error_type": type(err).__name__,
                }
            },
        )
        raise AnonymizeError("anonymize-failed", "redaction failed") from None
    if residue is not None:
        logger.warning(
            "egress.refused",
            extra={
                "fields": {
                    "error_code": "egress-refused",
                    "reason": residue,
                    "language": language,
                }
            },
        )
        raise EgressRefused("egress-refused", residue)
    return redacted
