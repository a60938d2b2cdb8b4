"""The ``dosewise`` command: serve, manage keys, prescribe from files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.settings import get_settings


def _session():  # type: ignore[no-untyped-def]
    from app.models.db import make_engine, session_factory
    from app.models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    return session_factory(make_engine(settings.resolved_database_url))()


def cmd_keys_create(args: argparse.Namespace) -> int:
    from app.models import repo

    with _session() as session:
        org = repo.get_or_create_org(session, args.org)
        row, key = repo.create_api_key(session, org, args.role, name=args.name,
                                       expires_in_days=args.expires_days, field_ids=args.field)
        session.commit()
    print(key)
    print(f"# organisation {args.org!r}, role {args.role}, prefix {row.prefix}", file=sys.stderr)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from app.models import repo

    with _session() as session:
        ok = repo.revoke_api_key(session, args.prefix)
        session.commit()
    if not ok:
        print(f"no key with prefix {args.prefix!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.prefix}")
    return 0


def _demo_key(session, data_dir: Path) -> str:  # type: ignore[no-untyped-def]
    """The demo organisation's agronomist key, kept in the data dir (development only)."""
    from app.models import repo

    path = data_dir / "demo-key.txt"
    if path.exists():
        key = path.read_text().strip()
        if repo.find_api_key(session, key) is not None:
            return key
    org = repo.get_or_create_org(session, "demo")
    _row, key = repo.create_api_key(session, org, "agronomist", name="demo")
    session.commit()
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.samples import load_samples

    settings = get_settings()
    app = create_app(settings)
    if args.samples:
        if settings.environment == "production":
            print("refusing to load sample data in production", file=sys.stderr)
            return 2
        with app.state.session_factory() as session:
            added = load_samples(session, "demo")
            session.commit()
            key = _demo_key(session, settings.data_dir)
        base = f"http://{args.host}:{args.port}"
        print(f"""
Dosewise is starting on {base}  (database: {settings.resolved_database_url})
  sample data: {added['products']} products, {added['fields']} fields, {added['prescriptions']} prescriptions added
  API docs:    {base}/docs
  demo key:    {key}
  try:         curl -H "Authorization: Bearer {key}" {base}/v1/fields
""", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from app.models.migrate import upgrade

    upgrade(get_settings().resolved_database_url)
    print("database is at the latest schema")
    return 0


def cmd_prescribe(args: argparse.Namespace) -> int:
    """Field, weed map and label files in; prescription summary and an export out."""
    from app.domain.field import FieldCreate
    from app.domain.label import LabelDoc
    from app.domain.prescription import SprayerIn, StrategyIn
    from app.domain.weed_map import WeedMapCreate
    from app.pipeline import product_totals, run_documents

    field = FieldCreate.model_validate_json(Path(args.field).read_text())
    wm = WeedMapCreate.model_validate_json(Path(args.weed_map).read_text())
    labels = [LabelDoc.model_validate_json(Path(p).read_text()) for p in args.label]
    strategy = StrategyIn(name=args.strategy, threshold_plants_m2=args.threshold, rates=args.rate)
    geometry, core, no_spray = run_documents(field, wm, labels, strategy, SprayerIn(), wind_from_deg=args.wind_from)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = core.summary.as_dict()
    summary["products"] = product_totals(core, labels)
    result = {"field": field.name, "strategy": strategy.model_dump(), "summary": summary,
              "compliance": core.compliance}
    (out / "prescription.json").write_text(json.dumps(result, indent=2, default=float))
    written = [out / "prescription.json"]
    from shapely.geometry import shape

    from app.export import ExportJob, render

    job = ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                    task_name=f"Dosewise {field.name}", no_spray_wgs84=shape(no_spray),
                    features_wgs84=tuple(geometry.features))
    for fmt in args.format:
        f = render(job, fmt, terminal=args.terminal)
        (out / f.filename).write_bytes(f.content)
        written.append(out / f.filename)
    for p in product_totals(core, labels):
        print(f"{p['name']}: {p['total']:.2f} {p['total_unit']} "
              f"(broadcast {p['broadcast_total']:.2f}, saving {p['saving_pct']:.1f} %)")
    print(f"treated {core.summary.treated_area_ha:.2f} ha of {core.summary.field_area_ha:.2f} ha")
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Read an exported file back and check it against the stored prescription; exit 1 if it breaks the label."""
    from app.export.verify import GroundTruth, sniff_format, verify
    from app.models.tables import Prescription
    from app.services.exports import export_job

    content = Path(args.file).read_bytes()
    fmt = args.format or sniff_format(content)
    with _session() as session:
        row = session.get(Prescription, args.prescription)
        if row is None:
            print(f"dosewise: error: prescription {args.prescription} not found", file=sys.stderr)
            return 2
        truth = GroundTruth.from_job(export_job(session, row))
    report = verify(content, fmt, truth)
    print(json.dumps(report.as_dict(), indent=2))
    verdict = "OK: nothing in this file breaks the label" if report.ok else "REFUSE: " + "; ".join(report.problems)
    print(verdict, file=sys.stderr)
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dosewise", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--samples", action=argparse.BooleanOptionalAction, default=True,
                       help="load the sample fields and labels into organisation 'demo' (default: on)")
    serve.set_defaults(func=cmd_serve)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("--org", required=True)
    create.add_argument("--role", required=True, choices=["agronomist", "telematics", "farmer"])
    create.add_argument("--name")
    create.add_argument("--expires-days", type=float)
    create.add_argument("--field", type=int, action="append",
                        help="limit a farmer key to this field id (repeat for several); default: all fields")
    create.set_defaults(func=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(func=cmd_keys_revoke)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    rx = sub.add_parser("prescribe", help="make a prescription from files, no server needed")
    rx.add_argument("--field", required=True, help="field JSON (as POST /v1/fields)")
    rx.add_argument("--weed-map", required=True, help="weed map JSON (as POST /v1/fields/{id}/weed-maps)")
    rx.add_argument("--label", required=True, action="append", help="label JSON; repeat for a tank mix")
    rx.add_argument("--strategy", default="threshold",
                    choices=["broadcast", "threshold", "target_efficacy", "economic"])
    rx.add_argument("--threshold", type=float, default=1.0, help="plants/m² (threshold strategy)")
    rx.add_argument("--rate", type=float, action="append", help="rate per label, in the label's unit")
    rx.add_argument("--wind-from", type=float, help="wind direction (from), degrees")
    rx.add_argument("--format", action="append", default=[], help="export format(s), e.g. geojson, isoxml")
    rx.add_argument("--terminal", help="terminal layout for shapefile exports")
    rx.add_argument("--out", default="prescription-out", help="output folder")
    rx.set_defaults(func=cmd_prescribe)

    ver = sub.add_parser("verify", help="check an exported file against its stored prescription and label")
    ver.add_argument("file", help="an ISOXML or shapefile zip, a GeoJSON or a GeoTIFF exported by the service")
    ver.add_argument("--prescription", type=int, required=True, help="the prescription id it was exported from")
    ver.add_argument("--format", choices=["isoxml", "shapefile", "geojson", "geotiff"],
                     help="default: guessed from the file")
    ver.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValueError as exc:  # domain errors carry a message that names the problem
        print(f"dosewise: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
