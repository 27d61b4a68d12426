"""The migrations build exactly the schema the models describe (the benchmark builds its tables from the models)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from engine.core.db.models import Base


def test_migrated_database_matches_the_models(database_url):
    sql = create_engine(database_url)
    try:
        with sql.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                           Base.metadata)
    finally:
        sql.dispose()
    assert differences == []
