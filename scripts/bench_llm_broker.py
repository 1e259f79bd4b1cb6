#!/usr/bin/env python3
"""Broker overhead: first sentence and whole turn with instant local LLM servers.

Runs turns through the real SDKs and providers against the fake OpenAI and Gemini
servers of tests/llm_servers.py (which answer at once), so what is measured is the
kiosk's own cost: SDK, HTTP on 127.0.0.1, SSE parsing, sentence cutting. Also the
cost of a fallback after a 500, and the offline responder. Prints medians in ms.

Usage: .venv/bin/python scripts/bench_llm_broker.py [--turns 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk_agent.config import LlmConfig, LlmProviderConfig  # noqa: E402
from kiosk_agent.messages import RedactedText  # noqa: E402
from kiosk_agent.providers.gemini_llm import GeminiLlm  # noqa: E402
from kiosk_agent.providers.local_llm import LocalLlm  # noqa: E402
from kiosk_agent.providers.openai_llm import OpenAiLlm  # noqa: E402
from kiosk_agent.scenario import load_scenario  # noqa: E402
from kiosk_agent.stages.llm_broker import ChatMessage, LlmBroker, TextDelta  # noqa: E402
from tests.llm_servers import FakeGeminiServer, FakeOpenAiServer, Reply, Status  # noqa: E402

TEXT = "Dobrý den. Hned volám kolegu, chvíli prosím počkejte u recepce."


async def measure(broker: LlmBroker, turns: int) -> tuple[list[float], list[float]]:
    firsts, totals = [], []
    history = [
        ChatMessage.user(RedactedText(text="Jdu za <EMPLOYEE_1>.", language="cs"))
    ]
    for _ in range(turns):
        start = time.perf_counter()
        first = None
        async with asyncio.timeout(10):
            async for event in broker.stream(history):
                if first is None and isinstance(event, TextDelta):
                    first = time.perf_counter() - start
        totals.append((time.perf_counter() - start) * 1000)
        firsts.append((first or 0.0) * 1000)
    return firsts, totals


async def main(turns: int) -> None:
    scenario = load_scenario()
    rows = []
    with FakeOpenAiServer() as openai_server, FakeGeminiServer() as gemini_server:
        openai_server.script(Reply(TEXT, pieces=12))
        gemini_server.script(Reply(TEXT, pieces=12))
        config = LlmConfig(
            breaker_failures=100,
            max_retries=0,
            openai=LlmProviderConfig(base_url=openai_server.base_url, model="m"),
            gemini=LlmProviderConfig(base_url=gemini_server.base_url, model="m"),
        )
        cases = {
            "openai answers": [OpenAiLlm(config.openai, api_key="k")],
            "gemini answers": [GeminiLlm(config.gemini, api_key="k")],
            "openai 500 -> gemini": [
                OpenAiLlm(config.openai, api_key="k"),
                GeminiLlm(config.gemini, api_key="k"),
            ],
            "local responder": [LocalLlm(scenario)],
        }
        for name, providers in cases.items():
            openai_server.script(
                Status(500) if "500" in name else Reply(TEXT, pieces=12)
            )
            broker = LlmBroker(
                providers,
                config,
                system_prompt=scenario.system_prompt,
                apology=scenario.per_language("apology"),
            )
            await measure(broker, 3)  # Warm up connections.
            firsts, totals = await measure(broker, turns)
            await broker.aclose()
            rows.append((name, statistics.median(firsts), statistics.median(totals)))
    print(f"{'case':<24}{'first sentence ms':>20}{'whole turn ms':>16}")
    for name, first, total in rows:
        print(f"{name:<24}{first:>20.1f}{total:>16.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    logging.disable(logging.CRITICAL)  # Fallback warnings are expected here.
    asyncio.run(main(parser.parse_args().turns))
