"""The daemon: builds the stages from config, runs them, restarts them, tells systemd.

This is the only module that knows the pipeline order and passes providers into
stages. ``build_kiosk`` wires the conversation (used by ``run``, ``simulate`` and
``demo``); ``run_daemon`` adds the live microphone, camera and delivery loops, each a
named long-lived task in one ``asyncio.TaskGroup`` joined by bounded queues. A failing
stage is restarted with capped exponential backoff; after ``MAX_FAILURES`` failures in a
row the daemon exits non-zero so systemd restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from kiosk_agent.config import AudioConfig, Config, read_secret
from kiosk_agent.dialog import Dialog, DialogPorts, EventSink, Heard
from kiosk_agent.directory import Directory
from kiosk_agent.errors import CaptureError, ConfigError, TtsError
from kiosk_agent.messages import AudioFrame, Employee, PresenceEvent, Samples
from kiosk_agent.privacy_ports import PrivacyPorts, build_privacy_ports
from kiosk_agent.scenario import Scenario, load_scenario
from kiosk_agent.session import SessionMachine
from kiosk_agent.stages.capture import AudioSource
from kiosk_agent.stages.llm_broker import ChatMessage, LlmBroker, LlmProvider, Role
from kiosk_agent.stages.telephony import CallOutcome, TelephonyProvider, TelephonyStage
from kiosk_agent.stages.transcript_sink import TranscriptSink
from kiosk_agent.stages.tts import AudioOutput, TtsStage
from kiosk_agent.supervisor import run_stages, watchdog, watchdog_interval_s

logger = logging.getLogger(__name__)

QUEUE_FRAMES: Final = 200
"""Bound of the queue between the mic gate and VAD (6 s of 30 ms frames)."""
MIC_FIRST_BACKOFF_S: Final = 0.5
"""Wait before looking again for a microphone that is missing at start."""
SPEAKER_FIRST_BACKOFF_S: Final = 1.0
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
"""Signals that stop the daemon cleanly (systemd stops with SIGTERM)."""
SPEAKER_MAX_BACKOFF_S: Final = 10.0


@dataclass(slots=True)
class Kiosk:
    """The wired conversation: what run, simulate and demo drive."""

    config: Config
    scenario: Scenario
    directory: Directory
    machine: SessionMachine[Any]
    dialog: Dialog[Any]
    tts: TtsStage
    broker: LlmBroker
    privacy: PrivacyPorts
    transcripts: TranscriptSink | None

    async def aclose(self) -> None:
        """Close the providers."""
        await self.broker.aclose()


class DryRunTelephony:
    """Telephony that rings nobody: simulate and demo (answers at once)."""

    def __init__(self, outcome: CallOutcome = CallOutcome.ANSWERED) -> None:
        self.outcome = outcome
        self.dialed = 0

    async def dial(
        self, number: str, *, ring_timeout_s: float, call_id: str
    ) -> CallOutcome:
        """Count the call and return the fixed outcome."""
        self.dialed += 1
        return self.outcome


def build_providers(
    config: Config, scenario: Scenario, is_ambiguous: Callable[[str], bool]
) -> list[LlmProvider]:
    """The LLM providers in ``[llm] order``; keys from credentials or environment."""
    providers: list[LlmProvider] = []
    for name in config.llm.order:
        if name == "openai":
            from kiosk_agent.providers.openai_llm import OpenAiLlm

            key = read_secret("openai-api-key", "OPENAI_API_KEY")
            if key or _keep_without_key(name):
                providers.append(OpenAiLlm(config.llm.openai, api_key=key))
        elif name == "gemini":
            from kiosk_agent.providers.gemini_llm import GeminiLlm

            key = read_secret("gemini-api-key", "GEMINI_API_KEY")
            if key or _keep_without_key(name):
                providers.append(GeminiLlm(config.llm.gemini, api_key=key))
        else:
            from kiosk_agent.providers.local_llm import LocalLlm

            providers.append(LocalLlm(scenario, is_ambiguous=is_ambiguous))
    if not providers:
        raise ConfigError(
            "config-invalid", "[llm] order: no usable provider (no API key, no local)"
        )
    return providers


def _keep_without_key(name: str) -> bool:
    # A cloud provider without a key can only fail; leaving it out saves each turn
    # the SDK's import and the failed attempt.
    logger.warning(
        "daemon.provider_disabled",
        extra={"fields": {"provider": name, "reason": "no-key"}},
    )
    return False


def build_kiosk(
    config: Config,
    *,
    directory: Directory,
    output: AudioOutput,
    telephony: TelephonyProvider,
    transcripts: TranscriptSink | None,
    on_event: EventSink | None = None,
    on_local: EventSink | None = None,
    scenario: Scenario | None = None,
) -> Kiosk:
    """Wire TTS, broker, privacy, telephony and transcripts into a dialog."""
    from kiosk_agent.providers.tts_engine import EspeakEngine

    scenario = scenario or load_scenario(
        config.resolve_path(config.dialog.scenario) if config.dialog.scenario else None
    )
    privacy = build_privacy_ports(config, directory)
    machine: SessionMachine[Any] = SessionMachine(
        privacy.new_table, timeout_s=config.dialog.session_timeout_s
    )

    def is_ambiguous(pseudonym: str) -> bool:
        session = machine.session
        return (
            session is not None
            and len(privacy.candidates(session.table, pseudonym)) > 1
        )

    broker = LlmBroker(
        build_providers(config, scenario, is_ambiguous),
        config.llm,
        system_prompt=scenario.system_prompt,
        apology=scenario.per_language("apology"),
    )
    tts = TtsStage(EspeakEngine(config.tts), output)
    phone = TelephonyStage(telephony, directory, config=config.telephony)

    async def place_call(employee: Employee) -> str:
        return (await phone.place_call(employee)).value

    async def store(session_id: str, history: Sequence[ChatMessage]) -> None:
        if transcripts is not None:
            await transcripts.close_visit(_visit(transcripts, history))

    ports: DialogPorts[Any] = DialogPorts(
        redact=privacy.redact,
        reidentify=privacy.reidentify,
        candidates=privacy.candidates,
        place_call=place_call,
        store_transcript=store,
    )
    dialog: Dialog[Any] = Dialog(
        machine,
        broker,
        tts,
        scenario,
        ports,
        config.dialog,
        **{k: v for k, v in (("on_event", on_event), ("on_local", on_local)) if v},
    )
    return Kiosk(
        config=config,
        scenario=scenario,
        directory=directory,
        machine=machine,
        dialog=dialog,
        tts=tts,
        broker=broker,
        privacy=privacy,
        transcripts=transcripts,
    )


def _visit(sink: TranscriptSink, history: Sequence[ChatMessage]) -> Any:
    from kiosk_agent.messages import Reply

    visit = sink.open_visit()
    for message in history:
        if message.role is Role.USER and message.redacted is not None:
            visit.add_visitor(message.redacted)
        elif message.role is Role.ASSISTANT and message.text:
            visit.add_kiosk(Reply(text=message.text, provider=""))
    return visit


# TODO(#5): echo cancellation and barge-in; until then the mic is muted during speech.
def mute_frame(frame: AudioFrame, is_muted: bool) -> AudioFrame:
    """The frame, or digital silence of its length while the avatar speaks.

    Silence keeps VAD's stream time running, so an utterance the avatar interrupted
    simply ends; the avatar's own voice never reaches VAD.
    """
    if not is_muted:
        return frame
    frame.samples.fill(0)
    return frame


# -- the live daemon --------------------------------------------------------------


class ForgivingSpeaker:
    """A speaker whose faults cost the visitor the sound, never the visit.

    A failed block (speaker unplugged, device busy) is dropped and reported once; for a
    backoff that doubles up to ``SPEAKER_MAX_BACKOFF_S`` blocks are dropped unplayed,
    then the device is tried again (the output reopens itself). Without this a missing
    speaker fails the dialog stage at the greeting, and the supervisor restarts it
    until the daemon exits.
    """

    def __init__(
        self, output: AudioOutput, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._output = output
        self._clock = clock
        self._retry_at_s = 0.0
        self._backoff_s = 0.0
        self.failures = 0
        """Failed blocks since the last one that played."""

    def play(self, samples: Samples, sample_rate_hz: int) -> None:
        """Play the block, or drop it while the speaker is failing."""
        if self._clock() < self._retry_at_s:
            return
        try:
            self._output.play(samples, sample_rate_hz)
        except TtsError as err:
            self.failures += 1
            self._backoff_s = min(
                SPEAKER_MAX_BACKOFF_S, self._backoff_s * 2 or SPEAKER_FIRST_BACKOFF_S
            )
            self._retry_at_s = self._clock() + self._backoff_s
            log = logger.warning if self.failures == 1 else logger.debug
            log(
                "tts.output_failed",
                extra={
                    "fields": {
                        "error_code": err.code,
                        "attempt": self.failures,
                        "backoff_s": self._backoff_s,
                        "state": "reconnecting",
                    }
                },
            )
            return
        if self.failures:
            logger.info("tts.output_ok", extra={"fields": {"attempt": self.failures}})
        self.failures = 0
        self._backoff_s = 0.0

    def abort(self) -> None:
        """Interrupt playback; thread-safe."""
        self._output.abort()

    def resume(self) -> None:
        """Allow playback again after an abort."""
        self._output.resume()


def run_daemon(config: Config) -> int:
    """``kiosk-agent run``: every stage until one gives up or SIGTERM/SIGINT.

    Install the guard first. Returns 0 after a stop signal (stages cancelled, the
    outbox left as it is on disk), 1 when a stage gave up.
    """
    return asyncio.run(_serve(config))


async def _serve(config: Config) -> int:
    # Signals are caught from the start, so a stop during the model load is clean too.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        return await _serve_until(config, stop)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def _serve_until(config: Config, stop: asyncio.Event) -> int:
    from kiosk_agent.audio_path import load_engine
    from kiosk_agent.directory import keep_fresh, open_directory
    from kiosk_agent.outbox import Outbox, outbox_folder
    from kiosk_agent.providers.telephony_http import HttpTelephony
    from kiosk_agent.providers.transcripts_http import HttpTranscriptPlatform
    from kiosk_agent.providers.tts_engine import PyAudioOutput

    directory, source = open_directory(config)
    platform = HttpTranscriptPlatform(
        config.transcripts.url,
        token=read_secret("transcripts-token", "KIOSK_TRANSCRIPTS_TOKEN"),
        timeout_s=config.transcripts.timeout_s,
    )
    outbox = Outbox(
        outbox_folder(config.transcripts), max_items=config.transcripts.outbox_max
    )
    transcripts = TranscriptSink(
        outbox, platform, kiosk_id=config.transcripts.kiosk_id or "kiosk"
    )
    telephony = HttpTelephony(
        config.telephony.url,
        token=read_secret("telephony-token", "KIOSK_TELEPHONY_TOKEN"),
        timeout_s=config.telephony.timeout_s,
    )
    # TODO(#5): tested end to end on ALSA file pcms and a video file, not on hardware.
    output = PyAudioOutput(config.tts.output_device)
    kiosk = build_kiosk(
        config,
        directory=directory,
        output=ForgivingSpeaker(output),
        telephony=telephony,
        transcripts=transcripts,
    )
    engine = await asyncio.to_thread(load_engine, config)
    inbox: asyncio.Queue[PresenceEvent | Heard] = asyncio.Queue(maxsize=64)

    stages: dict[str, Callable[[], Awaitable[None]]] = {
        "audio": lambda: _listen(kiosk, engine, inbox),
        "dialog": lambda: converse(kiosk.dialog, kiosk.machine, inbox),
        "transcripts": transcripts.run,
        "directory": lambda: keep_fresh(source, config.directory.poll_s),
    }
    if config.presence.enabled:
        stages["presence"] = lambda: _watch(config, inbox)
    interval_s = watchdog_interval_s()
    if interval_s is not None:
        stages["watchdog"] = lambda: watchdog(interval_s)
    try:
        return await run_stages(stages, stop=stop)
    finally:
        await kiosk.aclose()
        output.close()


async def converse(
    dialog: Dialog[Any],
    machine: SessionMachine[Any],
    inbox: asyncio.Queue[PresenceEvent | Heard],
) -> None:
    """The dialog stage; a failure ends the visit in progress before the restart.

    Otherwise the restarted dialog would find the session stuck where it failed (say,
    greeting) and refuse every later step. The session is wiped, nothing is stored.
    """
    try:
        await dialog.run(inbox)
    except Exception:
        machine.close("failed")
        raise


async def _listen(kiosk: Kiosk, engine: Any, inbox: asyncio.Queue[Any]) -> None:
    """Microphone -> mute gate -> VAD -> ASR -> the dialog's inbox."""
    from kiosk_agent.audio_path import build_segmenter
    from kiosk_agent.providers.audio_device import MicrophoneSource
    from kiosk_agent.stages.asr import AsrStage
    from kiosk_agent.stages.capture import CaptureStage, queue_frames

    config = kiosk.config
    capture = CaptureStage(
        await open_microphone(config.audio, MicrophoneSource),
        max_frames=queue_frames(config.audio),
    )
    segmenter = build_segmenter(config)
    asr = AsrStage(engine, config.asr)
    try:
        async for frame in capture.frames():
            frame = mute_frame(frame, kiosk.tts.is_muted())
            try:
                utterances = segmenter.push(frame)
            finally:
                frame.samples.fill(0)
            for utterance in utterances:
                decided_ns = time.monotonic_ns()
                transcript = await asr.on_utterance(utterance)
                if transcript is not None:
                    await inbox.put(
                        Heard(transcript=transcript, end_of_utterance_ns=decided_ns)
                    )
    finally:
        capture.stop()
        asr.close()


async def open_microphone(
    config: AudioConfig,
    open_source: Callable[[AudioConfig], AudioSource],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AudioSource:
    """The microphone, looked for again with capped backoff while there is none.

    A kiosk started before its microphone is plugged in (or with a wrong
    ``audio.device``) keeps its other stages running and reports, as it does for a
    microphone unplugged later: restarting the daemon would not bring the device back.
    """
    backoff_s = MIC_FIRST_BACKOFF_S
    attempt = 0
    while True:
        attempt += 1
        try:
            return await asyncio.to_thread(open_source, config)
        except CaptureError as err:
            # Reported at attempts 1, 10, 100, ...: visible, but never a flood.
            report = logger.warning if str(attempt).rstrip("0") == "1" else logger.debug
            report(
                "audio.device_missing",
                extra={
                    "fields": {
                        "attempt": attempt,
                        "error_code": err.code,
                        "state": "reconnecting",
                        "backoff_s": backoff_s,
                    }
                },
            )
        await sleep(backoff_s)
        backoff_s = min(backoff_s * 2, config.reopen_max_backoff_s)


async def _watch(config: Config, inbox: asyncio.Queue[Any]) -> None:
    """Camera (or a video file standing in for it) -> presence -> the dialog's inbox."""
    from kiosk_agent.providers.camera import open_camera
    from kiosk_agent.providers.face_detector import HaarFaceDetector
    from kiosk_agent.stages.presence import PresenceStage, run_presence

    stage = PresenceStage(config.presence, HaarFaceDetector())
    await run_presence(open_camera(config.camera), stage, inbox)
