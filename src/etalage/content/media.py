"""ffprobe and ffmpeg: what a file really is, and turning it into the renditions we serve.

Content is sniffed, never trusted from its name or declared type. Transcoding writes H.264/AAC MP4
renditions (720p and 360p on the short side, never upscaled, fast-start so playback begins before the
download ends) and a JPEG poster into a fresh folder, then hashes them; the caller moves the folder into
place, so a half-written rendition is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from etalage.core.errors import InvalidInput

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
# Containers and codecs we accept from uploaders (what phones, cameras and editors produce).
CONTAINERS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts"}
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "prores"}
AUDIO_CODECS = {"aac", "mp3", "opus", "vorbis", "ac3", "eac3", "alac", "flac"}
MAX_DIMENSION = 4096  # 4K is plenty for a phone screen; larger frames are decompression bombs
MIN_DIMENSION = 144
RENDITIONS = (("720p", 720, 23, "128k"), ("360p", 360, 26, "96k"))  # name, short side, CRF, audio


def ffmpeg_bin() -> str:
    return shutil.which("ffmpeg") or "ffmpeg"


def ffprobe_bin() -> str:
    return shutil.which("ffprobe") or "ffprobe"


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


class MediaRejected(InvalidInput):
    """The file is not a video we accept; ``reason`` is a stable slug, ``detail`` says why in words."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


class TranscodeFailed(Exception):
    """The input cannot be transcoded (corrupt, truncated): retrying will not help."""


@dataclass(frozen=True)
class Probe:
    container: str
    duration: float
    size: int
    bit_rate: int | None
    video_codec: str
    width: int  # as displayed, after rotation
    height: int
    rotation: int
    fps: float | None
    audio_codec: str | None

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def _clean_stderr(text: str, path: Path) -> str:
    """ffmpeg's last complaints (at most two), without our file paths or memory addresses."""
    lines = []
    for raw in text.replace(str(path), "the file").splitlines():
        line = re.sub(r"\[[\w,]+ @ 0x[0-9a-f]+\]\s*", "", raw.strip()).removeprefix("the file: ")
        if line and line not in lines:
            lines.append(line)
    return "; ".join(lines[-2:])[:300] or "unreadable"


def probe(path: Path, *, min_seconds: float, max_seconds: float) -> Probe:
    """Describe the file or raise :class:`MediaRejected` with the reason a person can act on."""
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("empty", "The file is empty (0 bytes).")
    cmd = [ffprobe_bin(), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise MediaRejected(
            "unreadable", "The file could not be read in time; it is not a usable video."
        ) from None
    if proc.returncode != 0:
        raise MediaRejected(
            "not-a-video",
            f"The file is not a video we can read: {_clean_stderr(proc.stderr, path)}.",
        )
    info = json.loads(proc.stdout or "{}")
    fmt = info.get("format") or {}
    formats = set((fmt.get("format_name") or "").split(","))
    if not formats & CONTAINERS:
        raise MediaRejected(
            "unsupported-container",
            f"The file is '{fmt.get('format_name') or 'unknown'}', not a video container we accept "
            "(MP4/MOV, WebM/Matroska, AVI, MPEG-TS).",
        )
    streams = info.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    if video is None:
        raise MediaRejected("no-video-stream", "The file has no video stream.")
    vcodec = video.get("codec_name") or "unknown"
    if vcodec not in VIDEO_CODECS:
        raise MediaRejected(
            "unsupported-codec",
            f"The video codec '{vcodec}' is not supported; use H.264, HEVC, VP8, VP9, AV1, MPEG-4 or ProRes.",
        )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    acodec = audio.get("codec_name") if audio else None
    if acodec is not None and acodec not in AUDIO_CODECS and not acodec.startswith("pcm_"):
        raise MediaRejected(
            "unsupported-codec",
            f"The audio codec '{acodec}' is not supported; use AAC, MP3, Opus, Vorbis, AC-3, FLAC or PCM.",
        )
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    if duration is None:
        raise MediaRejected("no-duration", "The video's duration cannot be determined.")
    if duration < min_seconds:
        raise MediaRejected(
            "too-short", f"The video lasts {duration:.2f} s; the minimum is {min_seconds:g} s."
        )
    if duration > max_seconds:
        raise MediaRejected(
            "too-long", f"The video lasts {duration:.0f} s; the maximum is {max_seconds:g} s."
        )
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    rotation = _rotation(video)
    if rotation in (90, 270):
        width, height = height, width
    if min(width, height) < MIN_DIMENSION:
        raise MediaRejected(
            "resolution-too-small",
            f"The video is {width}x{height}; at least {MIN_DIMENSION} pixels are needed.",
        )
    if max(width, height) > MAX_DIMENSION:
        raise MediaRejected(
            "resolution-too-large", f"The video is {width}x{height}; at most {MAX_DIMENSION} pixels per side."
        )
    return Probe(
        container=(fmt.get("format_name") or "")[:40],
        duration=round(duration, 3),
        size=size,
        bit_rate=int(fmt["bit_rate"]) if str(fmt.get("bit_rate", "")).isdigit() else None,
        video_codec=vcodec,
        width=width,
        height=height,
        rotation=rotation,
        fps=_rate(video.get("avg_frame_rate")),
        audio_codec=acodec,
    )


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result == result and result >= 0 else None  # NaN is not a duration


def _rate(value: Any) -> float | None:
    try:
        num, den = str(value).split("/")
        return round(int(num) / int(den), 3) if int(den) else None
    except ValueError:
        return None


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(float(side["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag and str(tag).lstrip("-").isdigit() else 0


# --- transcoding ------------------------------------------------------------------------------------------


@dataclass
class MediaFile:
    name: str
    file: str  # file name inside the version folder
    width: int
    height: int
    bytes: int
    sha256: str
    duration_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan(width: int, height: int) -> list[tuple[str, int, int, int, str]]:
    """(name, width, height, crf, audio bit rate) per rendition: 720p and 360p on the short side, never
    upscaled; a source smaller than 360p gets one rendition at its own size."""
    short = min(width, height)
    out = []
    for name, side, crf, abr in RENDITIONS:
        if side <= short:
            out.append((name, *_scaled(width, height, side), crf, abr))
    if not out:
        name, _side, crf, abr = RENDITIONS[-1]
        out.append((name, *_scaled(width, height, short), crf, abr))
    return out


def _scaled(width: int, height: int, short_side: int) -> tuple[int, int]:
    even = short_side - short_side % 2
    if width <= height:
        return even, max(2, round(height * even / width / 2) * 2)
    return max(2, round(width * even / height / 2) * 2), even


def transcode(
    src: Path,
    source: Probe,
    out_dir: Path,
    *,
    on_progress: Callable[[int], None] | None = None,
    preset: str = "veryfast",
) -> tuple[list[MediaFile], MediaFile]:
    """Decode once, encode every rendition; then the poster. Raises :class:`TranscodeFailed` for bad input."""
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = plan(source.width, source.height)
    split = f"[0:v:0]split={len(targets)}" + "".join(f"[s{i}]" for i in range(len(targets)))
    chains = [split]
    for i, (_name, w, h, _crf, _abr) in enumerate(targets):
        chains.append(f"[s{i}]scale={w}:{h}:flags=bicubic,setsar=1,format=yuv420p[v{i}]")
    cmd = [ffmpeg_bin(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(src)]
    cmd += ["-filter_complex", ";".join(chains), "-progress", "pipe:1", "-nostats"]
    for i, (name, _w, _h, crf, abr) in enumerate(targets):
        cmd += ["-map", f"[v{i}]"]
        if source.audio_codec:
            cmd += ["-map", "0:a:0", "-c:a", "aac", "-b:a", abr, "-ac", "2", "-ar", "48000"]
        # 2-second keyframes make seeking and a later HLS packaging cheap.
        cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high"]
        cmd += ["-force_key_frames", "expr:gte(t,n_forced*2)", "-max_muxing_queue_size", "1024"]
        cmd += ["-movflags", "+faststart", "-map_metadata", "-1", str(out_dir / f"{name}.mp4")]
    timeout = max(120.0, source.duration * 20)
    errors = _run_with_progress(cmd, source.duration, timeout, on_progress)
    if "partial file" in errors or errors.count("\n") > 50:
        raise TranscodeFailed(
            f"The video is damaged: {_clean_stderr(errors, src)} (decoding stopped with errors)."
        )
    files = []
    for name, _w, _h, _crf, _abr in targets:
        path = out_dir / f"{name}.mp4"
        got = probe_output(path)
        if got["duration"] < source.duration * 0.9 - 0.2:
            raise TranscodeFailed(
                f"The video is truncated: only {got['duration']:.1f} s of its {source.duration:.1f} s "
                "could be decoded."
            )
        files.append(
            MediaFile(
                name,
                path.name,
                got["width"],
                got["height"],
                path.stat().st_size,
                sha256_of(path),
                round(got["duration"] * 1000),
            )
        )
    poster = make_poster(out_dir / f"{targets[0][0]}.mp4", out_dir / "poster.jpg", source.duration)
    return files, poster


def _run_with_progress(
    cmd: list[str], duration: float, timeout: float, on_progress: Callable[[int], None] | None
) -> str:
    """Run ffmpeg, reporting 0-100 from its ``-progress`` lines; return its error output."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        timer = threading.Timer(timeout, proc.kill)  # a hung ffmpeg must not hold the job forever
        timer.start()
        last = -1
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit() and duration > 0 and on_progress:
                    pct = min(99, int(int(value) / 1e6 / duration * 100))
                    if pct >= last + 5:  # a database write per 5 %, not per frame
                        last = pct
                        on_progress(pct)
            code = proc.wait()
        finally:
            timed_out = not timer.is_alive() and proc.returncode is not None and proc.returncode < 0
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        errors = err.read()
    if timed_out:
        raise TimeoutError(f"ffmpeg took longer than {timeout:.0f} s")
    if code != 0:
        raise TranscodeFailed(f"The video could not be transcoded: {_clean_stderr(errors, Path('/'))}.")
    return errors


def probe_output(path: Path) -> dict[str, Any]:
    cmd = [ffprobe_bin(), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(proc.stdout)
    video = next(s for s in info["streams"] if s.get("codec_type") == "video")
    return {
        "duration": float(info["format"].get("duration") or 0),
        "width": int(video["width"]),
        "height": int(video["height"]),
        "video_codec": video.get("codec_name"),
        "audio_codec": next(
            (s["codec_name"] for s in info["streams"] if s.get("codec_type") == "audio"), None
        ),
    }


def make_poster(video: Path, out: Path, duration: float) -> MediaFile:
    at = min(1.0, duration / 4)
    cmd = [ffmpeg_bin(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss", f"{at:.3f}"]
    cmd += ["-i", str(video), "-frames:v", "1", "-q:v", "3", "-update", "1", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not out.exists():
        raise TranscodeFailed(f"No poster could be taken: {_clean_stderr(proc.stderr, video)}.")
    from PIL import Image

    with Image.open(out) as img:
        width, height = img.size
    return MediaFile("poster", out.name, width, height, out.stat().st_size, sha256_of(out))


def disk_free(path: Path) -> int:
    path.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(path).free


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def atomic_move_dir(src: Path, dst: Path) -> None:
    """Put a finished folder in place; a previous attempt's folder at ``dst`` is replaced."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        shutil.rmtree(dst)
    os.replace(src, dst)
