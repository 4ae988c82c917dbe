"""Step 1 of the add flow: the episodes' durable write, possibly still in flight.

Storing the episodes first is what makes an add lose nothing. On a store in another process
(Neo4j) that write is a round trip and a commit the add otherwise waits for while this
process sits idle; the rules extraction and the add's embedding are CPU work here. When no
language model can be called before the knowledge is written (rules extractor, policy
resolver), the write runs on a thread of its own while this one extracts and plans, and
the flow waits for it before it writes anything else (the knowledge, a failed status) and
before the add returns or raises. The order DESIGN.md guarantees holds: the episode is
committed before any LLM call (there is none in between) and before the extracted
knowledge; an error of the episode write surfaces at that wait, so nothing else is written.

Stores opt in with ``GraphStore.concurrent_writes``; an embedded store (SQLite) gains
nothing from a thread and keeps the plain sequential write.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from graphmem.models import Episode
from graphmem.store.base import GraphStore


class EpisodeWrite:
    """One add's `store.add_episodes`, started now and finished by `wait()`.

    In the background only when `overlap` is true and the store allows concurrent writes;
    otherwise the write is done before the constructor returns, as before."""

    def __init__(self, store: GraphStore, episodes: Sequence[Episode], *, overlap: bool) -> None:
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if overlap and store.concurrent_writes:
            self._thread = threading.Thread(
                target=self._run, args=(store, list(episodes)), name="graphmem-episodes"
            )
            self._thread.start()
        else:
            store.add_episodes(episodes)

    def _run(self, store: GraphStore, episodes: list[Episode]) -> None:
        try:
            store.add_episodes(episodes)
        except BaseException as exc:  # re-raised on the adding thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the episodes are committed; raise the write's error if it failed
        (every later wait raises it again, so no caller can miss it)."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error


class StoredEpisodes(EpisodeWrite):
    """An episode write that is already done (reprocess() finds its episodes stored)."""

    def __init__(self) -> None:
        self._error = None
        self._thread = None


STORED = StoredEpisodes()
