"""vPDQ hashing speed: seconds of video hashed per CPU-second, beside decoding alone.

Clips are made with ffmpeg (cached in the temp folder): synthetic motion (testsrc2) and a
zooming fractal (mandelbrot) as H.264 at 640x360 and 1280x720, 30 fps, 20 s each, the
sizes messengers send. For each clip, CPU time (user + system, parent and children, all
threads; the hashers pinned to one thread) of:

- `decode`: `ffmpeg -threads 1 -i clip -f null -`, decoding every frame and nothing else:
  the floor that any hasher reading every frame pays, and the named baseline (less the
  CPU of starting ffmpeg, `ffmpeg -version`, measured apart and printed);
- `vpdq`: the vpdq package in this process (`vpdq.computeHash`, one thread, one hash per
  second), what python-threatexchange's `VPDQSignal.hash_from_file` calls;
- `trustdesk`: `signals.video.hash_video`, the same in a time- and memory-limited child
  process, as an upload is hashed (its start costs ~60 ms of CPU per video);
- `threatexchange`: python-threatexchange's `VPDQSignal.hash_from_file` (vpdq's default
  threads, one per core), where installed.

Each is the best of `--repeat` (3) runs. Rates are seconds of video per CPU-second; the
ratio is against decoding alone (1.0 = as fast as decoding). The last line is `key=value`.

    .venv/bin/python benchmarks/video.py
    .venv/bin/python benchmarks/video.py --quick     # 640x360 clips only, 10 s
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from trustdesk.safety.signals import video  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "trustdesk-bench-clips-v1"
SOURCES = {"motion": "testsrc2=size={w}x{h}:rate=30", "fractal": "mandelbrot=size={w}x{h}:rate=30"}


def clip(source: str, w: int, h: int, seconds: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{source}-{w}x{h}-{seconds}s.mp4"
    if not path.exists():
        tmp = path.with_suffix(".partial.mp4")
        spec = SOURCES[source].format(w=w, h=h)
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", spec, "-t", str(seconds)]
            + ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", str(tmp)],
            check=True,
        )
        tmp.replace(path)
    return path


def cpu_seconds(run: Callable[[], object]) -> float:
    """CPU time of `run`: this process's (all threads) plus its finished children's."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    run()
    me2, kids2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(getattr(b, f) - getattr(a, f) for a, b in ((me, me2), (kids, kids2)) for f in ("ru_utime", "ru_stime"))


def best(run: Callable[[], object], repeat: int) -> float:
    return min(cpu_seconds(run) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="640x360 clips of 10 s only")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None or not video.available():
        sys.exit("needs ffmpeg and the vpdq package (make install builds it where FFmpeg's libraries are)")
    import vpdq

    try:
        from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    except ImportError:
        VPDQSignal = None  # noqa: N806
    sizes = [(640, 360)] if args.quick else [(640, 360), (1280, 720)]
    seconds = 10 if args.quick else 20
    ffmpeg_start = best(lambda: subprocess.run(["ffmpeg", "-version"], check=True, capture_output=True), args.repeat)
    child_start = best(lambda: subprocess.run([sys.executable, "-I", "-c", "import vpdq"], check=True), args.repeat)
    print(
        f"process starts (CPU, taken off nothing but decode): ffmpeg {ffmpeg_start * 1000:.0f} ms, hashing child {child_start * 1000:.0f} ms"
    )
    totals = {"decode": 0.0, "vpdq": 0.0, "trustdesk": 0.0, "threatexchange": 0.0}
    video_seconds = 0.0
    print(f"{'clip':<24} {'decode':>9} {'vpdq':>9} {'trustdesk':>10} {'pytx':>9}   (seconds of video per CPU-second)")
    for w, h in sizes:
        for source in SOURCES:
            path = clip(source, w, h, seconds)
            data = path.read_bytes()
            decode = ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", str(path), "-f", "null", "-"]
            costs = {
                "decode": max(1e-6, best(lambda: subprocess.run(decode, check=True), args.repeat) - ffmpeg_start),  # noqa: B023
                "vpdq": best(lambda: vpdq.computeHash(str(path), seconds_per_hash=1.0, thread_count=1), args.repeat),  # noqa: B023
                "trustdesk": best(lambda: video.hash_video(data), args.repeat),  # noqa: B023
            }
            if VPDQSignal is not None:
                costs["threatexchange"] = best(lambda: VPDQSignal.hash_from_file(path), args.repeat)  # noqa: B023
            for key, cost in costs.items():
                totals[key] += cost
            video_seconds += seconds
            rates = {k: seconds / v for k, v in costs.items()}
            print(
                f"{source + f' {w}x{h}':<24} {rates['decode']:>9.1f} {rates['vpdq']:>9.1f} {rates['trustdesk']:>10.1f} "
                f"{rates.get('threatexchange', float('nan')):>9.1f}"
            )
    rate = {k: video_seconds / v for k, v in totals.items() if v}
    print(
        f"overall: trustdesk {rate['trustdesk']:.1f} s of video per CPU-second, decoding alone {rate['decode']:.1f} "
        f"(hashing costs {totals['trustdesk'] / totals['decode']:.2f}x decoding), vpdq in-process {rate['vpdq']:.1f}"
        + (f", python-threatexchange {rate['threatexchange']:.1f}" if "threatexchange" in rate else "")
    )
    fields = {
        "video_seconds": f"{video_seconds:g}",
        "video_s_per_cpu_s": f"{rate['trustdesk']:.2f}",
        "decode_s_per_cpu_s": f"{rate['decode']:.2f}",
        "vpdq_s_per_cpu_s": f"{rate['vpdq']:.2f}",
        "pytx_s_per_cpu_s": f"{rate.get('threatexchange', float('nan')):.2f}",
        "ratio_to_decode": f"{rate['trustdesk'] / rate['decode']:.3f}",
        "child_start_ms": f"{child_start * 1000:.0f}",
        "cpus": str(os.cpu_count()),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(" ".join(f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
