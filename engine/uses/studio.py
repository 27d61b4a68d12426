"""Use cases of process owners: validation, version diffs, migration, drafts (engine/studio)."""

from __future__ import annotations

from engine.core import definitions, migration
from engine.core.archive import check_files
from engine.core.dialects import dialects_of
from engine.results import InstanceView
from engine.studio import diff as bundle_diff
from engine.studio import drafts as studio_drafts
from engine.studio import lint


class StudioUses:
    """The studio's use cases; mixed into `Engine`."""

    # -- studio (process owners) ---------------------------------------------------------------------------
    def validate_files(self, files: dict[str, str], key: str | None = None) -> list[lint.Finding]:
        """The engine's parse/validation verdict on a bundle, then our lint (see engine/studio/lint.py)."""
        return lint.validate(check_files(files), key, self.forms.check_model, dialects_of(self.services))

    def version_diff(self, key: str, old: int, new: int) -> bundle_diff.VersionDiff:
        return bundle_diff.diff_versions(key, old, self.definition_files(key, old), new,
                                         self.definition_files(key, new))

    def running_counts(self, key: str) -> dict[int, int]:
        """Running (or failed) instances per version of a process."""
        with self.read_session() as session:
            return definitions.running_counts(session, key)

    def migration_plan(self, instance_id: int, to_version: int) -> migration.MigrationPlan:
        return migration.plan(self.services, instance_id, to_version)

    def migrate_instance(self, instance_id: int, to_version: int, by: str | None = None) -> InstanceView:
        """Move a running instance to another version of its process, or raise `MigrationRefused`."""
        return migration.migrate(self.services, instance_id, to_version, by)

    def save_draft(self, key: str, username: str, files: dict[str, str],
                   base_version: int | None = None) -> studio_drafts.Draft:
        with self.write_session.begin() as session:
            return studio_drafts.save(session, key, username, files, base_version, self.clock.now())

    def draft(self, key: str, username: str) -> studio_drafts.Draft | None:
        with self.read_session() as session:
            return studio_drafts.get(session, key, username)

    def drafts(self, username: str) -> list[studio_drafts.Draft]:
        with self.read_session() as session:
            return studio_drafts.of_user(session, username)

    def discard_draft(self, key: str, username: str) -> bool:
        with self.write_session.begin() as session:
            return studio_drafts.discard(session, key, username)
