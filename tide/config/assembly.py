"""One config assembled from several YAML files, each value knowing its file and line.

Prow's layout spreads a config over files (the Prow config, `_prowconfig.yaml` files, tide's
own settings); validation runs once over the assembled data, and each problem is reported
against the file and line that holds the offending key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tide.config.problems import KeyPath, Problem, format_path
from tide.config.source import YamlDocument


@dataclass
class Assembly:
    """The assembled data, and where each part of it came from."""

    source: str  # named in problems that have no file of their own
    data: dict[str, object] = field(default_factory=dict)
    # assembled-path prefix -> (document, the same value's path inside that document)
    origins: dict[KeyPath, tuple[YamlDocument, KeyPath]] = field(default_factory=dict)

    def place(self, path: KeyPath, value: object, doc: YamlDocument, doc_path: KeyPath) -> None:
        """Put `value` at `path` (parents created), remembering it came from `doc_path` in `doc`."""
        parent: dict[str, object] = self.data
        for segment in path[:-1]:
            child = parent.setdefault(str(segment), {})
            assert isinstance(child, dict)
            parent = child
        parent[str(path[-1])] = value
        self.origins[path] = (doc, doc_path)

    def append(
        self, path: KeyPath, items: list[object], doc: YamlDocument, doc_path: KeyPath
    ) -> None:
        """Append `items` to the list at `path`, each remembering its index in `doc`."""
        parent: dict[str, object] = self.data
        for segment in path[:-1]:
            child = parent.setdefault(str(segment), {})
            assert isinstance(child, dict)
            parent = child
        existing = parent.setdefault(str(path[-1]), [])
        assert isinstance(existing, list)
        if path not in self.origins:
            self.origins[path] = (doc, doc_path)
        for index, item in enumerate(items):
            self.origins[(*path, len(existing))] = (doc, (*doc_path, index))
            existing.append(item)

    def locate(self, path: KeyPath) -> tuple[YamlDocument | None, KeyPath]:
        """The document and in-document path for an assembled path (longest known prefix)."""
        for end in range(len(path), 0, -1):
            found = self.origins.get(path[:end])
            if found is not None:
                doc, doc_path = found
                return doc, (*doc_path, *path[end:])
        return None, path

    def problem(self, path: KeyPath, message: str) -> Problem:
        doc, doc_path = self.locate(path)
        if doc is None:
            return Problem(format_path(path), None, message, self.source)
        return Problem(format_path(doc_path), doc.line_of(doc_path), message, doc.source)
