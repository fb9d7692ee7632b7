"""Clips made by ffmpeg from nothing: moving test patterns with a product's name on them.

The demo renders its feed from these (720p + 360p + poster in one ffmpeg pass, the same outputs a
transcode writes), and the tests upload them as real camera files would be uploaded.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from etalage.content.media import FONT, MediaFile, ffmpeg_bin, plan, sha256_of

# Cheap sources (a clip costs well under a CPU-second); gradients/life/mandelbrot look nicer but cost 2-5x.
PATTERNS = ("testsrc2", "smptehdbars", "rgbtestsrc", "testsrc", "smptebars", "yuvtestsrc")


def _pattern_source(pattern: str, w: int, h: int, rate: int, seconds: float, seed: int) -> str:
    del seed  # the sources are deterministic; the moving bar and the text make each clip its own
    return f"{pattern}=size={w}x{h}:rate={rate}:duration={seconds}"


def _motion(seed: int) -> str:
    """A bar sweeping across the frame, so even a still test card plays as video."""
    speed = 150 + (seed * 53) % 250
    return f"drawbox=x='mod(t*{speed},w)':y=ih*0.88:w=iw/6:h=ih/50:color=white@0.85:t=fill"


def _drawtext(text: str, size: int, y: str) -> str:
    safe = re.sub(r"[^\w .,&+-]", "", text, flags=re.UNICODE)[:40].replace(":", " ")
    return (
        f"drawtext=fontfile={FONT}:text='{safe}':fontsize={size}:fontcolor=white:box=1:"
        f"boxcolor=black@0.55:boxborderw={size // 3}:x=(w-tw)/2:y={y}"
    )


def render_clip(
    out_dir: Path,
    *,
    title: str,
    subtitle: str = "",
    seconds: float = 4.0,
    pattern: str = "testsrc2",
    seed: int = 1,
    size: tuple[int, int] = (720, 1280),
    renditions: bool = True,
    vcodec: str = "libx264",
    audio: bool = True,
    file_name: str = "clip.mp4",
    rate: int = 24,
    preset: str = "ultrafast",
) -> list[MediaFile] | Path:
    """A moving test pattern with a product name on it, made by ffmpeg from nothing.

    With ``renditions`` it writes the same outputs as :func:`transcode` (720p/360p + poster) in one pass,
    for the demo; without, one source file (for tests that upload it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    w, h = size
    pattern_src = _pattern_source(pattern, w, h, rate, seconds, seed)
    text = _drawtext(title, max(24, w // 12), "h*0.62")
    if subtitle:
        text += "," + _drawtext(subtitle, max(16, w // 22), "h*0.62+th*2.2")
    motion = _motion(seed)
    cmd = [
        ffmpeg_bin(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        pattern_src,
    ]
    if audio:
        freq = 220 + (seed * 37) % 660
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}:sample_rate=48000"]
    if not renditions:
        cmd += ["-vf", f"{motion},{text},format=yuv420p", "-c:v", vcodec]
        if vcodec == "libx264":
            cmd += ["-preset", preset]
        if audio:
            cmd += ["-c:a", "aac", "-b:a", "64k", "-shortest"]
        cmd += [str(out_dir / file_name)]
        _run(cmd)
        return out_dir / file_name
    targets = plan(w, h)
    graph = f"[0:v]{motion},{text},format=yuv420p,split={len(targets) + 1}"
    graph += "".join(f"[s{i}]" for i in range(len(targets))) + "[p]"
    for i, (_n, tw, th, _c, _a) in enumerate(targets):
        graph += f";[s{i}]scale={tw}:{th}[v{i}]"
    graph += f";[p]trim=start={min(1.0, seconds / 4)},setpts=PTS-STARTPTS[pp]"
    cmd += ["-filter_complex", graph]
    for i, (name, _w, _h, crf, abr) in enumerate(targets):
        cmd += ["-map", f"[v{i}]"]
        if audio:
            cmd += ["-map", "1:a", "-c:a", "aac", "-b:a", abr]
        cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf + 3), "-g", str(rate * 2)]
        cmd += ["-movflags", "+faststart", str(out_dir / f"{name}.mp4")]
    cmd += ["-map", "[pp]", "-frames:v", "1", "-q:v", "3", "-update", "1", str(out_dir / "poster.jpg")]
    _run(cmd)
    files = []
    for name, tw, th, _c, _a in targets:
        path = out_dir / f"{name}.mp4"
        files.append(
            MediaFile(name, path.name, tw, th, path.stat().st_size, sha256_of(path), round(seconds * 1000))
        )
    poster = out_dir / "poster.jpg"
    files.append(
        MediaFile(
            "poster", poster.name, targets[0][1], targets[0][2], poster.stat().st_size, sha256_of(poster)
        )
    )
    return files


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr[-500:]}")
