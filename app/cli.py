"""The ``dosewise`` command: serve, manage keys, prescribe from files."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from app.domain.errors import did_you_mean
from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.vocabulary import ROLES, STRATEGIES
from app.settings import get_settings

ModelT = TypeVar("ModelT", bound=BaseModel)


def _session():  # type: ignore[no-untyped-def]
    from app.models.db import make_engine, session_factory
    from app.models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    return session_factory(make_engine(settings.resolved_database_url))()


def _org_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise argparse.ArgumentTypeError(f"an organisation name needs 1 to 200 characters, got {text!r}")
    return name


def _positive_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not (math.isfinite(days) and 0 < days <= 36_600):
        raise argparse.ArgumentTypeError(f"expiry must be between 0 and 36600 days (exclusive of 0), got {text}")
    return days


def cmd_keys_create(args: argparse.Namespace) -> int:
    from app.models import repo

    with _session() as session:
        org = repo.get_or_create_org(session, args.org)
        row, key = repo.create_api_key(session, org, args.role, name=args.name,
                                       expires_in_days=args.expires_days, field_ids=args.field)
        session.commit()
    print(key)
    print(f"# organisation {args.org!r}, role {args.role}, prefix dw_{row.prefix} "
          f"(revoke with: dosewise keys revoke dw_{row.prefix})", file=sys.stderr)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from app.models import repo

    with _session() as session:
        ok = repo.revoke_api_key(session, repo.key_prefix(args.prefix))
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
    # Headers past max_header_kb get the app's JSON 431 naming the setting. h11 (httptools has no such cap) reads
    # up to 8x that, never less than 64 KiB, and drops anything larger at the protocol level: refusing there for
    # every oversized header would close the socket with the client's bytes unread, and its TCP reset can reach
    # the client before the 400 does. On SIGTERM, requests still running after shutdown_grace_s are cut off.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", http="h11",
                h11_max_incomplete_event_size=max(64, 8 * settings.max_header_kb) * 1024,
                timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s)))
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from app.models.migrate import upgrade

    upgrade(get_settings().resolved_database_url)
    print("database is at the latest schema")
    return 0


class CliError(Exception):
    """A problem with the command's input: printed as one line, exit status 2."""


def _read_doc(model: type[ModelT], path: str, option: str) -> ModelT:
    """Parse ``path`` as ``model``; a missing file or invalid document is one ``CliError`` line."""
    from pydantic import ValidationError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{option} {path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise CliError(f"{option} {path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "document"
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden" and err.get("loc"):
            schema = model.model_json_schema()
            parts = [schema, *schema.get("$defs", {}).values()]
            names = sorted({n for d in parts for n in d.get("properties", {})})
            hint = did_you_mean(str(err["loc"][-1]), names)
            msg += f"; did you mean {hint}?" if hint else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CliError(f"{option} {path}: {where}: {msg}{more}") from None


def _us_units(field: FieldCreate, labels: list[LabelDoc]) -> bool:
    """US customary first: a US field, or (no country) labels in per-acre units."""
    if field.country:
        return field.country.upper() in ("US", "LR", "MM")
    return any(lab.rate_unit.endswith("/acre") for lab in labels)


def _prescription(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from app.domain.prescription import SprayerIn, StrategyIn
    from app.domain.weed_map import WeedMapCreate
    from app.pipeline import CoverageRule, run_documents

    field = _read_doc(FieldCreate, args.field, "--field")
    wm = _read_doc(WeedMapCreate, args.weed_map, "--weed-map")
    labels = [_read_doc(LabelDoc, p, "--label") for p in args.label]
    sprayer = _read_doc(SprayerIn, args.sprayer, "--sprayer") if args.sprayer else SprayerIn()
    strategy = StrategyIn(name=args.strategy, threshold_plants_m2=args.threshold, rates=args.rate)
    geometry, core, no_spray = run_documents(field, wm, labels, strategy, sprayer, wind_from_deg=args.wind_from,
                                             allow_foreign_labels=args.allow_foreign_labels,
                                             coverage=CoverageRule(args.uncovered, args.min_coverage_pct))
    return field, labels, strategy, geometry, core, no_spray


def _print_totals(field: FieldCreate, labels: list[LabelDoc], core) -> None:  # type: ignore[no-untyped-def]
    from app.domain.units import ACRE_IN_HA as ACRE_HA
    from app.domain.units import from_canonical_rate
    from app.pipeline import product_totals

    us = _us_units(field, labels)
    for p in product_totals(core, labels):
        amount, unit = p["total"], p["total_unit"]
        bcast = p["broadcast_total"]
        if us:  # the unit on the jug first, the metric figure after; converted as the advice converts
            us_unit = "gal" if unit == "L" else "lb"

            def us_amount(total: float, us_unit: str = us_unit) -> float:
                return from_canonical_rate(total, f"{us_unit}/acre") / ACRE_HA

            print(f"{p['name']}: {us_amount(amount):.2f} {us_unit} ({amount:.2f} {unit}; broadcast "
                  f"{us_amount(bcast):.2f} {us_unit}, saving {p['saving_pct']:.1f} %)")
        else:
            print(f"{p['name']}: {amount:.2f} {unit} (broadcast {bcast:.2f}, saving {p['saving_pct']:.1f} %)")
    s = core.summary
    if us:
        print(f"treated {s.treated_area_ha / ACRE_HA:.2f} ac of {s.field_area_ha / ACRE_HA:.2f} ac "
              f"({s.treated_area_ha:.2f} ha of {s.field_area_ha:.2f} ha)")
    else:
        print(f"treated {s.treated_area_ha:.2f} ha of {s.field_area_ha:.2f} ha")


def cmd_prescribe(args: argparse.Namespace) -> int:
    """Field, weed map and label files in; prescription summary and an export out."""
    from app.pipeline import product_totals

    field, labels, strategy, geometry, core, no_spray = _prescription(args)
    out = Path(args.out)
    summary = core.summary.as_dict()
    summary["products"] = product_totals(core, labels)
    result = {"field": field.name, "strategy": strategy.model_dump(), "summary": summary,
              "compliance": core.compliance}
    from shapely.geometry import shape

    from app.export import ExportJob, render

    job = ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                    customer_name=field.customer, farm_name=field.farm, task_name=f"Dosewise {field.name}",
                    no_spray_wgs84=shape(no_spray), features_wgs84=tuple(geometry.features))
    from app.advice import build_fact_sheet, write_advice
    from app.advice.facts import catalogue_species_names
    from app.advice.locales import LANGS
    from app.advice.tank_plan import unit_system_for
    from app.domain.prescription import SprayerIn

    # the tank plan uses the sprayer the prescription was made for
    sprayer = _read_doc(SprayerIn, args.sprayer, "--sprayer") if getattr(args, "sprayer", None) else SprayerIn()
    if args.lang not in LANGS:
        print(f"unknown --lang {args.lang!r}; valid languages: {', '.join(LANGS)}", file=sys.stderr)
        return 2
    units = unit_system_for(field.country, args.units)
    files = [render(job, fmt, terminal=args.terminal, **({"lang": args.lang, "units": units} if fmt == "png" else {}))
             for fmt in args.format]  # all made before anything is written
    out.mkdir(parents=True, exist_ok=True)
    (out / "prescription.json").write_text(json.dumps(result, indent=2, default=float))
    written = [out / "prescription.json"]
    for f in files:
        (out / f.filename).write_bytes(f.content)
        written.append(out / f.filename)
    _print_totals(field, labels, core)
    # Then the advice's own lines (same facts, rounding and units as the API's advice).
    facts = build_fact_sheet(field=field, labels=labels, summary=core.summary.as_dict(), strategy=strategy.name,
                             sprayer=sprayer.model_dump(), unit_system=units, wind_from_deg=args.wind_from,
                             strategy_params=strategy.model_dump(), species_names=catalogue_species_names())
    advice = write_advice(facts, lang=args.lang, writer="builtin")
    (out / f"advice.{args.lang}.txt").write_text(advice.text)
    written.append(out / f"advice.{args.lang}.txt")
    print(advice.summary)
    for step in advice.steps:
        print(f"- {step}")
    for warning in advice.warnings:
        print(f"! {warning}")
    for c in core.compliance:
        if c.get("outcome") == "warning":
            print(f"warning: {c['detail']}", file=sys.stderr)
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_advice(args: argparse.Namespace) -> int:
    """The farmer's advice for a prescription made from files, in ``--lang``."""
    from app.advice import Forecast, build_fact_sheet, write_advice
    from app.services.advice import _species_names

    field, labels, strategy, _geometry, core, _no_spray = _prescription(args)
    forecast = _read_doc(Forecast, args.forecast, "--forecast") if args.forecast else None
    from app.pipeline import product_totals

    summary = core.summary.as_dict()
    summary["products"] = product_totals(core, labels)
    facts = build_fact_sheet(field=field, labels=labels, summary=summary, strategy=strategy.name,
                             species_names=_species_names(), forecast=forecast)
    advice = write_advice(facts, lang=args.lang, writer="builtin")
    print(advice.markdown if args.output_format == "markdown" else advice.text)
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
    create.add_argument("--org", required=True, type=_org_name)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name")
    create.add_argument("--expires-days", type=_positive_days)
    create.add_argument("--field", type=int, action="append",
                        help="limit a farmer key to this field id (repeat for several); default: all fields")
    create.set_defaults(func=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by its prefix, as printed (dw_xxxxxxxxxxxx)")
    revoke.add_argument("prefix")
    revoke.set_defaults(func=cmd_keys_revoke)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    rx = sub.add_parser("prescribe", help="make a prescription from files, no server needed")
    _document_options(rx)
    rx.add_argument("--format", action="append", default=[], help="export format(s), e.g. geojson, isoxml")
    rx.add_argument("--terminal", help="terminal layout for shapefile exports")
    rx.add_argument("--out", default="prescription-out", help="output folder")
    rx.add_argument("--lang", default="en", help="language of the advice and the PNG (en, fr, de)")
    rx.add_argument("--units", choices=["metric", "us"],
                    help="unit system of what is printed; default: from the field's country (US customary for US)")
    rx.set_defaults(func=cmd_prescribe)

    adv = sub.add_parser("advice", help="the farmer's advice for a prescription made from files")
    _document_options(adv)
    adv.add_argument("--lang", default="en", choices=["en", "fr", "de"], help="language of the advice")
    adv.add_argument("--forecast", help="hourly forecast JSON (as PUT /v1/fields/{id}/forecast)")
    adv.add_argument("--output-format", default="text", choices=["text", "markdown"])
    adv.set_defaults(func=cmd_advice)

    ver = sub.add_parser("verify", help="check an exported file against its stored prescription and label")
    ver.add_argument("file", help="an ISOXML or shapefile zip, a GeoJSON or a GeoTIFF exported by the service")
    ver.add_argument("--prescription", type=int, required=True, help="the prescription id it was exported from")
    ver.add_argument("--format", choices=["isoxml", "shapefile", "geojson", "geotiff"],
                     help="default: guessed from the file")
    ver.set_defaults(func=cmd_verify)
    return parser


def _document_options(rx: argparse.ArgumentParser) -> None:
    rx.add_argument("--field", required=True, help="field JSON (as POST /v1/fields)")
    rx.add_argument("--weed-map", required=True, help="weed map JSON (as POST /v1/fields/{id}/weed-maps)")
    rx.add_argument("--label", required=True, action="append", help="label JSON; repeat for a tank mix")
    rx.add_argument("--strategy", default="threshold",
                    choices=STRATEGIES)
    rx.add_argument("--threshold", type=float, default=1.0, help="plants/m² (threshold strategy)")
    rx.add_argument("--rate", type=float, action="append", help="rate per label, in the label's unit")
    rx.add_argument("--wind-from", type=float, help="wind direction (from), degrees")
    rx.add_argument("--sprayer", metavar="PROFILE.json",
                    help="sprayer profile JSON (as the prescription's \"sprayer\": boom_width_m, section_width_m, "
                         "rate_levels, ...)")
    rx.add_argument("--allow-foreign-labels", action="store_true",
                    help="prescribe a label of another country than the field's (a compliance warning)")
    rx.add_argument("--uncovered", choices=("refuse", "broadcast", "no_spray"), default="refuse",
                    help="field cells the weed map does not cover: refuse below --min-coverage-pct (default), "
                         "broadcast at the label rate, or no_spray")
    rx.add_argument("--min-coverage-pct", type=float, default=None,
                    help="coverage of the field (%%) below which it is refused; default 95 with refuse, else 0")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"dosewise: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # domain errors carry a message that names the problem
        print(f"dosewise: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output folder that cannot be written, a database that cannot be opened
        print(f"dosewise: error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
