"""VAD engines: webrtcvad as the cheap first gate, Silero (bundled with faster-whisper)
deciding.

webrtcvad alone stays "on" for good in stationary noise 10 dB below speech, so it only
decides when Silero need not run: while webrtcvad hears nothing, the frame is silence.
Silero runs on 512-sample windows (32 ms at 16 kHz) with its recurrent state carried
from window to window, through onnxruntime with one thread and no telemetry.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiosk_agent.config import VadConfig
from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import AudioFrame

WINDOW_SAMPLES: Final = 512
CONTEXT_SAMPLES: Final = 64
RESET_AFTER_MS: Final = 600
"""Silero's state restarts after this long without a webrtcvad speech frame."""
RELEASE_MARGIN: Final = 0.15
"""Hysteresis: once speaking, a frame stays speech down to threshold minus this."""


def silero_model_path() -> Path:
    """The Silero VAD ONNX file that faster-whisper ships in its assets."""
    from faster_whisper.utils import get_assets_path  # Vendor import, here only.

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SileroModel:
    """Streaming Silero VAD: speech probability per 512-sample window, with state."""

    def __init__(self, path: Path | None = None) -> None:
        # Set before the first session exists; onnxruntime reads it at start-up.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime  # Vendor import, here only.

        model = path or silero_model_path()
        if not model.is_file():
            raise CaptureError(
                "vad-model-missing", f"{model}: Silero VAD model not found"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.enable_profiling = False
        options.log_severity_level = 3
        self._session: Any = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        if hasattr(onnxruntime, "disable_telemetry_events"):
            onnxruntime.disable_telemetry_events()
        self.reset()

    def reset(self) -> None:
        """Forget the recurrent state and the carried samples."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: npt.NDArray[np.int16]) -> list[float]:
        """Feed samples; the probabilities of the windows they completed, in order."""
        audio = np.concatenate([self._pending, samples.astype(np.float32) / 32768])
        probabilities = []
        count = len(audio) // WINDOW_SAMPLES
        for i in range(count):
            window = audio[i * WINDOW_SAMPLES : (i + 1) * WINDOW_SAMPLES]
            probabilities.append(self._run(window))
        self._pending = audio[count * WINDOW_SAMPLES :].copy()
        audio.fill(0)
        return probabilities

    def _run(self, window: npt.NDArray[np.float32]) -> float:
        batch = np.concatenate([self._context, window])[np.newaxis, :]
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = window[-CONTEXT_SAMPLES:].copy()
        return float(np.asarray(out).reshape(-1)[0])


class WebrtcGate:
    """webrtcvad on one 10, 20 or 30 ms frame."""

    def __init__(self, aggressiveness: int) -> None:
        import webrtcvad  # Vendor import, here only.

        self._vad: Any = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: AudioFrame) -> bool:
        """True when webrtcvad hears speech in the frame."""
        return bool(self._vad.is_speech(frame.samples.tobytes(), frame.sample_rate_hz))


class SpeechGate:
    """The VAD decision per frame: webrtcvad first, then Silero with hysteresis."""

    def __init__(self, config: VadConfig, *, silero: SileroModel | None = None) -> None:
        self._webrtc = WebrtcGate(config.webrtc_aggressiveness)
        self._silero = silero or SileroModel()
        self._threshold = config.speech_threshold
        self._quiet_ms = float(RESET_AFTER_MS)
        self._is_speaking = False
        self.speech_probability = 0.0
        """Silero's latest probability (0 while webrtcvad hears nothing)."""
        self.silero_s = 0.0
        """Seconds spent in Silero, for the benchmark."""
        self.webrtc_s = 0.0
        """Seconds spent in webrtcvad, for the benchmark."""

    def is_speech(self, frame: AudioFrame) -> bool:
        """True when the frame holds speech."""
        started = time.perf_counter()
        heard = self._webrtc.is_speech(frame)
        self.webrtc_s += time.perf_counter() - started
        if not heard:
            self._quiet_ms += frame.duration_s * 1000
            if self._quiet_ms >= RESET_AFTER_MS:
                # Long quiet: Silero starts afresh, as on a new recording.
                if self._quiet_ms - frame.duration_s * 1000 < RESET_AFTER_MS:
                    self._silero.reset()
                self.speech_probability = 0.0
                self._is_speaking = False
                return False
        else:
            self._quiet_ms = 0.0
        started = time.perf_counter()
        probabilities = self._silero.push(frame.samples)
        self.silero_s += time.perf_counter() - started
        if probabilities:
            self.speech_probability = max(probabilities)
        floor = (
            self._threshold - RELEASE_MARGIN if self._is_speaking else self._threshold
        )
        self._is_speaking = (
            heard
            and self.speech_probability >= floor
            or (self._is_speaking and self.speech_probability >= floor)
        )
        return self._is_speaking

    def reset(self) -> None:
        """Forget all state (a new session)."""
        self._silero.reset()
        self._quiet_ms = float(RESET_AFTER_MS)
        self._is_speaking = False
        self.speech_probability = 0.0
