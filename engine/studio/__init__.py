"""Process owners' studio: model lint, version diffs, drafts."""
