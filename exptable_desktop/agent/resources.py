"""What a worker's heartbeat carries: CPU, memory, network and (with nvidia-smi) GPU use."""
from __future__ import annotations

import shutil
import subprocess
import time
from typing import Any, Sequence

NVIDIA_SMI_TIMEOUT_S = 5.0
_GPU_QUERY = "index,utilization.gpu,memory.used,memory.total,temperature.gpu"


def parse_nvidia_smi(text: str, wanted: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of ``nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu
    --format=csv,noheader,nounits`` (memory in MiB) as dicts in bytes and percent; only ``wanted`` indexes."""
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4 or (wanted is not None and parts[0] not in wanted):
            continue

        def number(value: str) -> float | None:
            try:
                return float(value)
            except ValueError:
                return None  # "[N/A]" on some boards
        used, total = number(parts[2]), number(parts[3])
        out.append({"index": parts[0], "usage": number(parts[1]),
                    "memory_used": used * 2**20 if used is not None else None,
                    "memory_total": total * 2**20 if total is not None else None,
                    "temperature": number(parts[4]) if len(parts) > 4 else None})
    return out


class ResourceSampler:
    """One sample per call; network rates are over the time since the previous call."""

    def __init__(self, gpus: Sequence[str] | None = None, cpu_only: bool = False):
        import psutil

        self._psutil = psutil
        self._gpus = None if gpus is None or list(gpus) == ["all"] else [str(g) for g in gpus]
        self._nvidia_smi = None if cpu_only else shutil.which("nvidia-smi")
        psutil.cpu_percent(None)  # the first call only starts the measurement
        self._last_net = (time.monotonic(), psutil.net_io_counters())

    def gpu_sample(self) -> list[dict[str, Any]]:
        if not self._nvidia_smi:
            return []
        try:
            done = subprocess.run([self._nvidia_smi, f"--query-gpu={_GPU_QUERY}", "--format=csv,noheader,nounits"],
                                  capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return []
        return parse_nvidia_smi(done.stdout, self._gpus) if done.returncode == 0 else []

    def sample(self) -> dict[str, Any]:
        psutil = self._psutil
        memory = psutil.virtual_memory()
        now, net = time.monotonic(), psutil.net_io_counters()
        then, previous = self._last_net
        self._last_net = (now, net)
        elapsed = max(now - then, 1e-6)
        data: dict[str, Any] = {
            "cpu_usage": psutil.cpu_percent(None), "cpu_count": psutil.cpu_count(),
            "memory_used": memory.total - memory.available, "memory_total": memory.total,
            "memory_usage": memory.percent,
            "network_rx": max(0.0, (net.bytes_recv - previous.bytes_recv) / elapsed) if net and previous else None,
            "network_tx": max(0.0, (net.bytes_sent - previous.bytes_sent) / elapsed) if net and previous else None,
        }
        gpus = self.gpu_sample()
        if gpus:
            usages = [g["usage"] for g in gpus if g["usage"] is not None]
            data["gpus"] = gpus
            data["gpu_usage"] = sum(usages) / len(usages) if usages else None
            data["gpu_memory_used"] = sum(g["memory_used"] or 0 for g in gpus)
            data["gpu_memory_total"] = sum(g["memory_total"] or 0 for g in gpus)
        return data
