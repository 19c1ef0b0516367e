"""Work shared by concurrent targets: each key computed once, and the answers kept bounded."""

from __future__ import annotations

import threading

from auditor.once import OncePerKey


def test_a_key_is_computed_once_while_the_others_wait_for_it():
    once = OncePerKey()
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow() -> str:
        calls.append("slow")
        started.set()
        release.wait(10)
        return "answer"

    first = threading.Thread(target=lambda: once.get("key", slow, wait=lambda: 10.0))
    first.start()
    started.wait(10)
    answers = []
    second = threading.Thread(target=lambda: answers.append(once.get("key", lambda: "other", wait=lambda: 10.0)))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert answers == ["answer"] and calls == ["slow"]


def test_past_its_bound_the_least_recently_asked_answers_are_dropped_and_computed_again():
    once = OncePerKey(keep=4)
    calls: list[str] = []

    def ask(key: str) -> str:
        return once.get(key, lambda: calls.append(key) or key.upper(), wait=lambda: 1.0)

    for key in "abcd":
        ask(key)
    ask("a")  # asked again: now the most recently asked
    ask("e")  # five answers for four places: the least recently asked go, down to three
    assert calls == ["a", "b", "c", "d", "e"]
    assert [ask(key) for key in ("a", "e", "b")] == ["A", "E", "B"]
    assert calls == ["a", "b", "c", "d", "e", "b"]  # b was dropped and asked of its source again; a and e were kept
