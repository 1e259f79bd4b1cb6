"""KioskError and one subclass per stage, each carrying a stable kebab-case code."""


class KioskError(Exception):
    """An expected failure with a stable code; its message never holds personal data."""

    def __init__(
        self, code: str, message: str = "", *, transient: bool = False
    ) -> None:
        super().__init__(message or code)
        self.code = code
        self.transient = transient

    def __str__(self) -> str:
        text = super().__str__()
        return text if text == self.code else f"{self.code}: {text}"


class ConfigError(KioskError):
    """A configuration file, key or value is wrong."""


class CaptureError(KioskError):
    """A microphone, camera or media file cannot be read."""


class AsrError(KioskError):
    """Speech recognition failed or its model is missing."""


class AnonymizeError(KioskError):
    """Pseudonymization failed; nothing may leave the device."""


class EgressRefused(AnonymizeError):
    """The last check before egress still found personal data in the text."""


class LlmError(KioskError):
    """A language-model provider failed."""


class TtsError(KioskError):
    """Speech synthesis or playback failed."""


class TelephonyError(KioskError):
    """Placing a call through the telephony service failed."""


class DirectoryError(KioskError):
    """The employee directory cannot be read or a row is invalid."""


class TranscriptError(KioskError):
    """An anonymous transcript cannot be stored or delivered."""


class PrivacyError(KioskError):
    """A write outside the allow-list, or another breach of the privacy guard."""


class UpdateError(KioskError):
    """A remote update failed to verify, stage, switch or roll back."""
