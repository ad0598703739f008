"""The command line: ``commitments serve | migrate | create-org``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.settings import Settings, load_settings


async def _create_org(settings: Settings, name: str, currency: str) -> tuple[int, str]:
    from app.db.config import close_db, init_db
    from app.services.organizations import create_organization

    await init_db(settings.database_url)
    try:
        org, key = await create_organization(name, currency)
        return org.id, key
    finally:
        await close_db()


def cmd_migrate(settings: Settings) -> None:
    from app.db.migrate import apply_migrations

    asyncio.run(apply_migrations(settings.database_url))
    print(f"migrated {settings.database_url}")


def cmd_create_org(settings: Settings, name: str, currency: str) -> None:
    from app.services.errors import InvalidInput

    try:
        org_id, key = asyncio.run(_create_org(settings, name, currency))
    except InvalidInput as exc:
        sys.exit(f"error: {exc}")
    print(f"organization {org_id} created: {name}")
    print(f"API key (shown once, stored hashed): {key}")


def cmd_serve(settings: Settings) -> None:
    import uvicorn

    from app.db.migrate import apply_migrations
    from app.demo import ensure_embedded_org
    from app.main import create_app

    asyncio.run(apply_migrations(settings.database_url))
    key = None
    if settings.is_embedded:
        key = asyncio.run(ensure_embedded_org(settings))
    url = f"http://{settings.host}:{settings.port}/graphql"
    print(f"\n  GraphiQL: {url}")
    if key:
        print(f"  API key:  {key}   (GraphiQL sends it for you)\n")
    uvicorn.run(create_app(settings, graphiql_api_key=key), host=settings.host, port=settings.port,
                log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="commitments", description="Usage-based billing commitments service.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="Migrate, then serve GraphQL (embedded SQLite: with a demo organization).")
    sub.add_parser("migrate", help="Apply database migrations to DATABASE_URL.")
    create = sub.add_parser("create-org", help="Create an organization and print its API key.")
    create.add_argument("name")
    create.add_argument("--currency", default="USD")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "serve":
        cmd_serve(settings)
    elif args.command == "migrate":
        cmd_migrate(settings)
    elif args.command == "create-org":
        cmd_create_org(settings, args.name, args.currency)


if __name__ == "__main__":
    main()
