"""Demo step: the feed's first model snapshot, fitted from the demo's interactions (the same refit the
worker runs every hour), so the first page a visitor sees is already ranked by a learned model."""

from __future__ import annotations

from etalage.demo import DemoContext


def build_feed(ctx: DemoContext) -> None:
    from etalage.events.service import event_log
    from etalage.feed import jobs
    from etalage.feed.threads import blas_threads, cpu_count

    task = ctx.task("Feed model (first snapshot)", 1)
    with blas_threads(cpu_count()):
        manifest = jobs.refit(ctx.db, ctx.settings.data_dir, event_log(ctx.settings))
    ctx.progress.advance(task)
    ctx.counts["feed_model_items"] = int(manifest.get("n_items", 0))
    ctx.data["feed_model_version"] = manifest["version"]


STEP = (90, "Feed model", build_feed)
