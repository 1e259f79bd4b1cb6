"""Test media made at test time, in memory: speech from espeak-ng, noise, silence."""

from __future__ import annotations

import io
import subprocess
import wave

import numpy as np
import numpy.typing as npt

RATE_HZ = 16000


def speak(text: str, *, lang: str = "en", wpm: int = 150) -> npt.NDArray[np.int16]:
    """Speech for ``text`` from espeak-ng, resampled by sox to 16 kHz mono int16."""
    voice = "en-us" if lang == "en" else lang
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    raw = subprocess.run(
        [
            "sox",
            "-q",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-r",
            str(RATE_HZ),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-",
        ],
        input=wav,
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16).copy()


def silence(seconds: float) -> npt.NDArray[np.int16]:
    """Digital silence."""
    return np.zeros(int(seconds * RATE_HZ), dtype=np.int16)


def noise(
    seconds: float, *, kind: str = "pink", dbfs: float = -30.0, seed: int = 0
) -> npt.NDArray[np.int16]:
    """Stationary noise at an RMS level in dBFS: white, pink, brown, fan or hum."""
    n = int(seconds * RATE_HZ)
    rng = np.random.default_rng(seed)
    if kind == "hum":
        t = np.arange(n) / RATE_HZ
        x = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 4, 5))
    else:
        white = rng.standard_normal(n)
        spectrum = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1 / RATE_HZ)
        f[0] = f[1]
        if kind == "pink":
            spectrum /= np.sqrt(f)
        elif kind == "brown":
            spectrum /= f
        elif kind == "fan":
            # A broad low hump around 120 Hz plus blade-rate harmonics.
            spectrum *= 1.0 / (1.0 + ((f - 120.0) / 80.0) ** 2)
        x = np.fft.irfft(spectrum, n)
    x = np.asarray(x, dtype=np.float64)
    x /= np.sqrt(np.mean(x**2)) + 1e-12
    x *= 32768.0 * 10 ** (dbfs / 20)
    return np.clip(x, -32768, 32767).astype(np.int16)


def to_wav_bytes(
    samples: npt.NDArray[np.int16], rate_hz: int = RATE_HZ, channels: int = 1
) -> bytes:
    """A WAV file image in memory."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()
