/* The prescription map: field, buffers, weeds, rate zones, summary, compliance, advice, exports, comparison. */
"use strict";

(() => {
  const { el, clear, num, pct, money } = DW;
  const match = location.pathname.match(/\/v1\/prescriptions\/(\d+)\/map/);
  const rxId = match ? Number(match[1]) : NaN;
  const status = document.getElementById("status");
  const state = { doc: null, cfg: null, map: null, zones: [], weeds: {}, weedShown: null, nospray: null,
                  features: null, compare: null };
  window.dwTiming = {};

  const STRATEGY = { broadcast: "Broadcast", threshold: "Threshold", target_efficacy: "Target efficacy",
                     economic: "Economic" };
  const FEATURE_COLOURS = { water: "#1f78b4", well: "#6a3d9a", runoff_entry: "#33a02c", sensitive_crop: "#b15928" };
  // The page's words (app/advice/locales/<lang>.json "map"), served on <body data-words>.
  const T = JSON.parse(document.body.dataset.words || "{}");
  const t = (key, fallback) => T[key] || fallback;
  const ACRE_HA = 0.40468564224;

  function say(msg, kind = "info") {
    status.textContent = msg;
    status.dataset.kind = kind;
    status.hidden = !msg;
  }

  function speciesName(w) {
    const n = w.names || {};
    return n[document.documentElement.lang] || n.en || n.scientific || w.species;
  }

  function rateLabel(rate, unit) { return rate > 0 ? `${num(rate, 3)} ${unit}` : t("not_sprayed", "Not sprayed"); }

  // A legend row: one rate, or a class "0.2–0.4 L/ha" when the server binned many rates (at most 7 rows).
  function legendLabel(row, unit) {
    if (row.rate_from === undefined || row.rate_from === null) return rateLabel(row.rate, unit);
    return `${num(row.rate_from, 3)}–${num(row.rate_to, 3)} ${unit}`;
  }

  // Areas in acres for US fields (hectares elsewhere): the farmer's own unit.
  function area(ha) {
    const us = state.doc && state.doc.field && state.doc.field.country === "US";
    return us ? `${num(ha / ACRE_HA, 2)} ac` : `${num(ha, 2)} ha`;
  }

  /* ---------------------------------------------------------------- map layers */

  function panes(map) {
    // Weeds sit above the rate zones: bare cells are transparent, so the zones show through.
    [["zones", 350], ["weeds", 400], ["nospray", 420], ["features", 430], ["boundary", 440]].forEach(([n, z]) => {
      map.createPane(n).style.zIndex = z;
    });
  }

  function zoneLayer(rate, pane) {
    return L.geoJSON(rate.zones, {
      pane,
      style: (f) => ({ className: "dw-zone", stroke: true, weight: 0.5, color: f.properties.colour,
                       fillColor: f.properties.colour, fillOpacity: f.properties.rate > 0 ? 0.8 : 0.22 }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        layer.bindTooltip(DW.esc(`${p.product}: ${rateLabel(p.rate, p.unit)} · ${area(p.area_ha)}`), { sticky: true });
      },
    });
  }

  function drawField(map, doc, withExtras) {
    const out = {};
    out.boundary = L.geoJSON(doc.boundary, { pane: "boundary", interactive: false,
      style: { className: "dw-boundary", color: "#17301f", weight: 3, fill: false } }).addTo(map);
    if (doc.no_spray) {
      const b = doc.no_spray.properties.buffers_m || {};
      const txt = Object.entries(b).map(([k, v]) => `${k.replace("_", " ")} ${num(v, 1)} m`).join(", ");
      out.nospray = L.geoJSON(doc.no_spray, { pane: "nospray",
        // A 5 m buffer is a few pixels wide at field zoom: a 3 px stroke keeps it visible, never a hairline.
        style: { className: "dw-nospray", color: "#b2182b", weight: 3, dashArray: "6 4",
                 fillColor: "#ef3b2c", fillOpacity: 0.45 } })
        .bindTooltip(DW.esc(`${t("buffer", "No-spray buffer")}${txt ? ` (${txt})` : ""}`), { sticky: true }).addTo(map);
    }
    if (withExtras && doc.features.features.length) {
      out.features = L.geoJSON(doc.features, { pane: "features",
        style: (f) => ({ className: "dw-feature", color: FEATURE_COLOURS[f.properties.kind] || "#444",
                         weight: 4, fillOpacity: 0.18 }),
        pointToLayer: (f, ll) => L.circleMarker(ll, { pane: "features", radius: 8, className: "dw-feature",
                                                       color: "#fff", weight: 2, fillOpacity: 1,
                                                       fillColor: FEATURE_COLOURS[f.properties.kind] || "#444" }),
        onEachFeature: (f, layer) => layer.bindTooltip(DW.esc(`${f.properties.name || f.properties.kind} (${(f.properties.kind || "").replace("_", " ")})`)),
      }).addTo(map);
    }
    out.zones = doc.rates.map((r) => zoneLayer(r, "zones").addTo(map));
    return out;
  }

  async function showWeeds(code) {
    if (state.weedShown) { state.map.removeLayer(state.weeds[state.weedShown]); }
    state.weedShown = null;
    renderLegend();
    if (!code) return;
    const w = state.doc.weeds.find((x) => x.species === code);
    if (!state.weeds[code]) {
      const blob = await (await DW.request(w.image_url)).blob();
      state.weeds[code] = L.imageOverlay(URL.createObjectURL(blob), w.bounds,
        { pane: "weeds", opacity: 0.85, className: "dw-weeds", interactive: false, alt: `${speciesName(w)} density` });
    }
    state.weeds[code].addTo(state.map);
    state.weedShown = code;
    renderLegend();
  }

  /* ---------------------------------------------------------------- legend */

  function legendControl(id) {
    const c = L.control({ position: "bottomright" });
    c.onAdd = () => {
      const d = el("div", { class: "dw-legend", id });
      // Collapsible: on a phone the legend starts folded so it never hides half the field.
      if (window.matchMedia("(max-width: 700px)").matches) d.classList.add("collapsed");
      L.DomEvent.disableScrollPropagation(d); L.DomEvent.disableClickPropagation(d);
      return d;
    };
    return c;
  }
  const legend = legendControl("legend");

  function legendHeader(box) {
    const btn = el("button", { type: "button", class: "legend-toggle", "aria-expanded": String(!box.classList.contains("collapsed")),
      text: t("legend", "Legend"), onclick: () => {
        box.classList.toggle("collapsed");
        btn.setAttribute("aria-expanded", String(!box.classList.contains("collapsed")));
      } });
    box.append(btn);
  }

  function fillLegend(box, doc, map, zones, nospray, weedShown) {
    clear(box);
    legendHeader(box);
    const body = el("div", { class: "legend-body" });
    box.append(body);
    doc.rates.forEach((r, k) => {
      if (zones && zones[k] && !map.hasLayer(zones[k])) return;
      body.append(el("div", { class: "legend-title", text: `${r.product}` }),
                  el("div", { class: "legend-unit", text: `${t("rate", "Rate")} (${r.unit})` }));
      const list = el("ul", { class: "legend-rates" });
      [...r.legend].reverse().forEach((row) => {
        const sw = el("span", { class: "swatch" }); sw.style.background = row.colour;
        list.append(el("li", { dataset: { rate: String(row.rate) } },
          [sw, el("span", { class: "legend-value", text: legendLabel(row, r.unit) }),
           el("span", { class: "legend-area", text: area(row.area_ha) })]));
      });
      body.append(list);
    });
    if (weedShown) {
      const w = doc.weeds.find((x) => x.species === weedShown);
      body.append(el("div", { class: "legend-title", text: speciesName(w) }),
                  el("div", { class: "legend-unit", text: t("density", "Density (plants/m²)") }));
      const list = el("ul", { class: "legend-weeds" });
      [...w.legend].reverse().forEach((row) => {
        const sw = el("span", { class: "swatch" }); sw.style.background = row.colour;
        const txt = row.to === null ? `≥ ${num(row.from)}` : row.from === 0 ? `< ${num(row.to)}` : `${num(row.from)}–${num(row.to)}`;
        list.append(el("li", {}, [sw, el("span", { class: "legend-value", text: txt })]));
      });
      body.append(list);
    }
    if (nospray && map.hasLayer(nospray)) {
      const sw = el("span", { class: "swatch swatch-nospray" });
      body.append(el("ul", { class: "legend-extra" }, [el("li", {}, [sw, el("span", { text: t("buffer", "No-spray buffer") })])]));
    }
  }

  function renderLegend() {
    fillLegend(document.getElementById("legend"), state.doc, state.map, state.zones, state.nospray, state.weedShown);
  }

  // Keep the field clear of the legend on wide screens: fit it into the part of the map the legend leaves free.
  function fitField(map, bounds, legendId) {
    const box = document.getElementById(legendId);
    const wide = map.getSize().x > 700;
    const right = wide && box && !box.classList.contains("collapsed") ? box.offsetWidth + 24 : 16;
    map.fitBounds(bounds, { paddingTopLeft: [16, 16], paddingBottomRight: [right, 16], animate: false });
  }

  /* ---------------------------------------------------------------- panel */

  function toggleRow(label, checked, onchange, extra = {}) {
    const input = el("input", Object.assign({ type: extra.type || "checkbox", onchange }, extra.attrs || {}));
    input.checked = checked;
    return el("label", { class: "toggle" }, [input, el("span", { text: label })]);
  }

  function renderLayerToggles() {
    const box = clear(document.getElementById("layer-toggles"));
    const doc = state.doc;
    doc.rates.forEach((r, k) => box.append(toggleRow(`${t("rate_zones", "Rate zones")} · ${r.product}`, true, (e) => {
      if (e.target.checked) state.zones[k].addTo(state.map); else state.map.removeLayer(state.zones[k]);
      renderLegend();
    })));
    if (state.nospray) {
      box.append(toggleRow(t("nospray_toggle", "No-spray zones and buffers"), true, (e) => {
        if (e.target.checked) state.nospray.addTo(state.map); else state.map.removeLayer(state.nospray);
        renderLegend();
      }));
    }
    if (state.features) {
      box.append(toggleRow(t("features_toggle", "Sensitive features (water, wells…)"), true, (e) => {
        if (e.target.checked) state.features.addTo(state.map); else state.map.removeLayer(state.features);
      }));
    }
    const weeds = el("fieldset", { class: "weed-switch" }, [el("legend", { text: t("weed_density", "Weed density") })]);
    const choose = (code) => async () => {
      try { await showWeeds(code); } catch (e) { say(`Weed map: ${e.message}`, "error"); }
    };
    weeds.append(toggleRow("None", true, choose(null), { type: "radio", attrs: { name: "weeds", value: "" } }));
    doc.weeds.forEach((w) => {
      const label = `${speciesName(w)} (${w.species}) · peak ${num(w.max_plants_m2, 0)}/m²`;
      weeds.append(toggleRow(label, false, choose(w.species), { type: "radio", attrs: { name: "weeds", value: w.species } }));
    });
    box.append(weeds);
  }

  function stat(label, value, sub) {
    return el("div", { class: "stat" }, [el("div", { class: "stat-label", text: label }),
      el("div", { class: "stat-value", text: value }), sub ? el("div", { class: "stat-sub", text: sub }) : null]);
  }

  function renderSummary() {
    const d = state.doc, s = d.summary;
    const box = clear(document.getElementById("summary"));
    const share = s.field_area_ha ? (100 * s.treated_area_ha) / s.field_area_ha : null;
    const grid = el("div", { class: "stats" }, [
      stat(t("treated_area", "Treated area"), area(s.treated_area_ha), `${t("of", "of")} ${area(s.field_area_ha)} (${pct(share, 0)})`),
    ]);
    d.products.forEach((p) => {
      grid.append(stat(p.name, `${num(p.total, 2)} ${p.total_unit}`, `${t("broadcast", "broadcast")} ${num(p.broadcast_total, 2)} ${p.total_unit}`));
      grid.append(stat(t("saving", "Saving vs broadcast"), pct(p.saving_pct, 0), `${num(p.broadcast_total - p.total, 2)} ${p.total_unit} ${t("less", "less")}`));
    });
    if (s.herbicide_cost) grid.append(stat(t("herbicide_cost", "Herbicide cost"), money(s.herbicide_cost, d.currency), s.money_saved ? `${money(s.money_saved, d.currency)} ${t("saved", "saved")}` : null));
    if (s.tank_loads) grid.append(stat(t("tank_loads", "Tank loads"), num(s.tank_loads, 0), `${num(s.spray_volume_l, 0)} L ${t("spray_volume", "spray volume")}`));
    box.append(grid);
    if (s.species && s.species.length && s.control_pct) {
      const rows = s.species.map((code, i) => el("tr", {}, [el("td", { text: code }),
        el("td", { class: "num", text: s.control_pct[i] === null ? t("not_on_label", "not on label") : pct(s.control_pct[i], 0) })]));
      box.append(el("table", { class: "mini" }, [el("thead", {}, el("tr", {}, [el("th", { text: t("species", "Species") }), el("th", { class: "num", text: t("expected_control", "Expected control") })])),
        el("tbody", {}, rows)]));
    }
    if (s.yield_loss_pct !== undefined) {
      box.append(el("p", { class: "muted", text: `Expected yield loss ${pct(s.yield_loss_pct, 2)} (untreated ${pct(s.yield_loss_untreated_pct, 2)}, broadcast ${pct(s.yield_loss_broadcast_pct, 2)}).` }));
    }
  }

  function renderCompliance() {
    const items = [...(state.doc.compliance || [])];
    const v = state.doc.verify;
    if (v) {  // the export verifier's report on the GeoJSON file, as the pre-flight check gives it
      const r = v.report;
      const added = (v.product_added || []).map((p) => `${p.product} ${p.delta >= 0 ? "+" : ""}${num(p.delta, 3)} ${p.unit}`).join(", ");
      items.push({ check: "file_check", outcome: v.ok ? "pass" : "fail",
        detail: r ? `${v.format}: ${r.zones.map((z) => `${num(z.area_m2, 4)} m² sprayed ${z.zone}`).join(", ")}${added ? `; product vs prescription ${added}` : ""}${r.problems.length ? `; ${r.problems.join("; ")}` : ""}`
          : `${v.format}: ${v.error || "not checked"}` });
    }
    const box = clear(document.getElementById("compliance"));
    const fails = items.filter((c) => c.outcome === "fail").length;
    const badge = document.getElementById("compliance-badge");
    badge.textContent = fails ? `${fails} to fix` : "all pass";
    badge.dataset.kind = fails ? "fail" : "pass";
    const order = { fail: 0, pass: 1, info: 2 };
    [...items].sort((a, b) => (order[a.outcome] ?? 3) - (order[b.outcome] ?? 3)).forEach((c) => {
      box.append(el("li", { class: `check check-${c.outcome}` }, [
        el("span", { class: "check-icon", "aria-label": c.outcome, text: c.outcome === "pass" ? "✓" : c.outcome === "fail" ? "✗" : "i" }),
        el("div", {}, [el("strong", { text: String(c.check).replace(/_/g, " ") }), el("div", { class: "check-detail", text: c.detail || "" })]),
      ]));
    });
  }

  async function loadAdvice(lang) {
    const card = document.getElementById("advice-card");
    const box = document.getElementById("advice");
    document.querySelectorAll("#advice-lang button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
    try {
      const a = await DW.json(`/v1/prescriptions/${rxId}/advice?lang=${lang}`);
      clear(box).append(el("p", { class: "advice-summary", text: a.summary || "" }));
      if (a.steps && a.steps.length) box.append(el("ol", {}, a.steps.map((s) => el("li", { text: s }))));
      if (a.warnings && a.warnings.length) box.append(el("ul", { class: "warnings" }, a.warnings.map((w) => el("li", { text: typeof w === "string" ? w : w.text, dataset: { code: (w && w.code) || "" } }))));
      card.hidden = false;
    } catch (_e) {
      card.hidden = true; // advice is optional: hide the panel when the service cannot give it
    }
  }

  /* ---------------------------------------------------------------- exports */

  // Headers carrying user text are RFC 8187 encoded (UTF-8''%..) when not plain ASCII.
  function headerText(value) {
    if (!value || !value.startsWith("UTF-8''")) return value;
    try { return decodeURIComponent(value.slice(7)); } catch (e) { return value; }
  }

  function filenameFrom(res, fallback) {
    const cd = res.headers.get("Content-Disposition") || "";
    const star = cd.match(/filename\*=UTF-8''([^;]+)/i);
    if (star) return headerText("UTF-8''" + star[1]);
    const m = cd.match(/filename="?([^";]+)"?/);
    return m ? m[1] : fallback;
  }

  async function download(fmt) {
    const out = document.getElementById("export-result");
    const terminal = document.getElementById("terminal").value;
    out.textContent = `Preparing ${fmt}…`;
    try {
      const res = await DW.request(`/v1/prescriptions/${rxId}/export/${fmt}?terminal=${encodeURIComponent(terminal)}`);
      const blob = await res.blob();
      const name = filenameFrom(res, `prescription-${rxId}.${fmt}`);
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: name, hidden: true });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      window.dwLastDownload = { format: fmt, filename: name, bytes: blob.size, type: blob.type,
                                notes: headerText(res.headers.get("X-Dosewise-Notes")) };
      out.textContent = `Saved ${name} (${DW.bytes(blob.size)})${window.dwLastDownload.notes ? ` — ${window.dwLastDownload.notes}` : ""}`;
      out.dataset.kind = "ok";
    } catch (e) {
      window.dwLastDownload = { format: fmt, error: e.message };
      out.textContent = `${fmt}: ${e.message}`;
      out.dataset.kind = "error";
    }
  }

  async function preflight() {
    const fmt = document.getElementById("check-format").value;
    const terminal = document.getElementById("terminal").value;
    const box = clear(document.getElementById("preflight"));
    box.append(el("p", { class: "muted", text: "Checking…" }));
    try {
      const r = await DW.json(`/v1/prescriptions/${rxId}/export/${fmt}/check?terminal=${encodeURIComponent(terminal)}`);
      clear(box);
      box.dataset.ok = String(r.ok);
      box.append(el("p", { class: `verdict ${r.ok ? "ok" : "bad"}`,
        text: r.ok ? `✓ Loads on ${r.terminal_limits?.title || terminal}` : `✗ Will not load on ${r.terminal_limits?.title || terminal}` }));
      if (r.error) box.append(el("p", { class: "error-text", text: r.error }));
      const facts = [["Zones", r.zones], ["Vertices", r.vertices], ["File size", DW.bytes(r.bytes)], ["CRS", r.crs]]
        .filter(([, v]) => v !== null && v !== undefined);
      box.append(el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })])));
      (r.checks || []).forEach((c) => box.append(el("p", { class: c.ok ? "ok-text" : "error-text",
        text: `${c.ok ? "✓" : "✗"} ${c.limit.replace(/_/g, " ")}: ${JSON.stringify(c.value)} (limit ${JSON.stringify(c.cap)}${c.assumed ? ", assumed" : ""})` })));
      (r.changes || []).forEach((c) => box.append(el("p", { class: "muted", text: c })));
    } catch (e) {
      clear(box).append(el("p", { class: "error-text", text: e.message }));
    }
  }

  function renderExports() {
    const cfg = state.cfg;
    const buttons = clear(document.getElementById("downloads"));
    const EXT = { isoxml: "ISOXML (.zip)", shapefile: "Shapefile (.zip)", geojson: "GeoJSON", geotiff: "GeoTIFF", png: "PNG map" };
    (cfg.formats.length ? cfg.formats : Object.keys(EXT).map((n) => ({ name: n, title: EXT[n] }))).forEach((f) => {
      buttons.append(el("button", { type: "button", class: "btn", title: f.title, dataset: { format: f.name },
                                    onclick: () => download(f.name) }, EXT[f.name] || f.name));
    });
    const term = clear(document.getElementById("terminal"));
    (cfg.terminals.length ? cfg.terminals : [{ name: "generic", title: "Any terminal" }])
      .forEach((t) => term.append(el("option", { value: t.name, text: t.title })));
    const fmt = clear(document.getElementById("check-format"));
    (cfg.formats.length ? cfg.formats : [{ name: "isoxml" }, { name: "shapefile" }])
      .filter((f) => f.for_terminals !== false).forEach((f) => fmt.append(el("option", { value: f.name, text: EXT[f.name] || f.name })));
    document.getElementById("check-btn").addEventListener("click", preflight);
  }

  /* ---------------------------------------------------------------- comparison */

  function totalsRows(a, b) {
    const row = (label, va, vb, fmt, better) => {
      const diff = (typeof va === "number" && typeof vb === "number") ? vb - va : null;
      return el("tr", {}, [el("th", { scope: "row", text: label }), el("td", { class: "num", text: fmt(va) }),
        el("td", { class: "num", text: fmt(vb) }),
        el("td", { class: `num ${diff && better ? (Math.sign(diff) === better ? "good" : "bad") : ""}`, text: diff === null ? "" : `${diff > 0 ? "+" : ""}${fmt(diff)}` })]);
    };
    const rows = [row("Strategy", STRATEGY[a.prescription.strategy.name] || a.prescription.strategy.name,
                      STRATEGY[b.prescription.strategy.name] || b.prescription.strategy.name, (v) => v, 0),
                  row("Treated area (ha)", a.summary.treated_area_ha, b.summary.treated_area_ha, (v) => num(v, 2), -1)];
    a.products.forEach((p, i) => {
      const q = b.products.find((x) => x.name === p.name) || b.products[i];
      if (!q) return;
      rows.push(row(`${p.name} (${p.total_unit})`, p.total, q.total, (v) => num(v, 2), -1));
      rows.push(row("Saving vs broadcast (%)", p.saving_pct, q.saving_pct, (v) => num(v, 1), 1));
    });
    rows.push(row(`Herbicide cost${a.currency ? ` (${a.currency})` : ""}`, a.summary.herbicide_cost, b.summary.herbicide_cost, (v) => num(v, 2), -1));
    rows.push(row("Expected yield loss (%)", a.summary.yield_loss_pct, b.summary.yield_loss_pct, (v) => num(v, 2), -1));
    if (a.summary.tank_loads || b.summary.tank_loads) rows.push(row("Tank loads", a.summary.tank_loads, b.summary.tank_loads, (v) => num(v, 0), -1));
    return rows;
  }

  function caption(map, text, cls) {
    const c = L.control({ position: "topright" });
    c.onAdd = () => el("div", { class: `map-caption ${cls}`, text });
    c.addTo(map);
    return c;
  }

  async function openCompare(otherId) {
    closeCompare();
    if (!otherId) return;
    const table = clear(document.getElementById("compare-table"));
    table.append(el("caption", { class: "muted", text: "Loading…" }));
    const other = await DW.json(`/v1/prescriptions/${otherId}/layers`);
    const wrap = document.getElementById("map-wrap");
    const node = document.getElementById("compare-map");
    node.hidden = false; wrap.classList.add("split");
    const m2 = DW.baseMap(node, state.cfg, { zoomControl: false });
    panes(m2);
    L.control.scale({ imperial: state.doc.field.country === "US" }).addTo(m2);
    const drawnB = drawField(m2, other, true);
    const legendB = legendControl("legend-b");
    legendB.addTo(m2);
    fillLegend(document.getElementById("legend-b"), other, m2, drawnB.zones, drawnB.nospray || null, null);
    caption(m2, `B · Rx ${other.prescription.id} · ${STRATEGY[other.prescription.strategy.name] || other.prescription.strategy.name}`, "cap-b");
    state.compare = { map: m2, cap: caption(state.map, `A · Rx ${rxId} · ${STRATEGY[state.doc.prescription.strategy.name] || ""}`, "cap-a") };
    let syncing = false;
    const sync = (from, to) => () => {
      if (syncing) return;
      syncing = true; to.setView(from.getCenter(), from.getZoom(), { animate: false }); syncing = false;
    };
    state.compare.onA = sync(state.map, m2); state.compare.onB = sync(m2, state.map);
    state.map.on("move zoomend", state.compare.onA); m2.on("move zoomend", state.compare.onB);
    // Both halves are now narrower: fit the field again, the other map follows.
    state.map.invalidateSize({ animate: false }); m2.invalidateSize({ animate: false });
    m2.setView(state.map.getCenter(), state.map.getZoom(), { animate: false });
    fitField(state.map, state.doc.bounds, "legend");
    state.compare.onA();
    clear(table).append(
      el("thead", {}, el("tr", {}, [el("th", {}), el("th", { class: "num", text: `A · Rx ${rxId}` }),
        el("th", { class: "num", text: `B · Rx ${otherId}` }), el("th", { class: "num", text: "B − A" })])),
      el("tbody", {}, totalsRows(state.doc, other)));
    document.getElementById("compare-close").hidden = false;
  }

  function closeCompare() {
    if (!state.compare) return;
    state.map.off("move zoomend", state.compare.onA);
    state.compare.cap.remove();
    state.compare.map.remove();
    state.compare = null;
    document.getElementById("compare-map").hidden = true;
    document.getElementById("map-wrap").classList.remove("split");
    clear(document.getElementById("compare-table"));
    document.getElementById("compare-close").hidden = true;
    document.getElementById("compare-select").value = "";
    state.map.invalidateSize();
    fitField(state.map, state.doc.bounds, "legend");
  }

  function renderCompare() {
    const others = state.doc.siblings.filter((s) => !s.this);
    const card = document.getElementById("compare-card");
    if (!others.length) {
      clear(document.getElementById("compare-table")).append(el("caption", { class: "muted",
        text: "No other prescription for this field yet. Make one with another strategy (e.g. broadcast) to compare." }));
      document.getElementById("compare-select").disabled = true;
      return card;
    }
    const sel = document.getElementById("compare-select");
    sel.append(...others.map((s) => el("option", { value: String(s.id),
      text: `Rx ${s.id} · ${STRATEGY[s.strategy] || s.strategy} · ${s.products.join(" + ")} · ${num(s.treated_area_ha, 1)} ha` })));
    sel.addEventListener("change", () => openCompare(Number(sel.value)).catch((e) => say(`Comparison: ${e.message}`, "error")));
    document.getElementById("compare-close").addEventListener("click", closeCompare);
    return card;
  }

  /* ---------------------------------------------------------------- start */

  async function start() {
    if (!Number.isFinite(rxId)) { say("No prescription id in this address.", "error"); return; }
    state.cfg = await DW.signIn();
    document.body.dataset.state = "loading";
    say(t("loading", "Loading map…"));
    const t0 = performance.now();
    let doc;
    try {
      doc = await DW.json(`/v1/prescriptions/${rxId}/layers`);
    } catch (e) {
      say(e.status === 404 ? `Prescription ${rxId} was not found for ${state.cfg.organisation}.` : `Could not load the map: ${e.message}`, "error");
      document.body.dataset.state = "error";
      return;
    }
    const t1 = performance.now();
    state.doc = doc;
    document.title = `${doc.field.name} · Rx ${rxId} · Dosewise`;
    document.getElementById("title").textContent = doc.field.name;
    const strat = STRATEGY[doc.prescription.strategy.name] || doc.prescription.strategy.name;
    document.getElementById("subtitle").textContent =
      `Rx ${rxId} · ${strat} · ${doc.products.map((p) => p.name).join(" + ")} · ${(T.crops && T.crops[doc.field.crop]) || doc.field.crop.replace("_", " ")}${doc.field.growth_stage_bbch ? `, BBCH ${doc.field.growth_stage_bbch}` : ""} · ${area(doc.field.area_ha)}`;

    const map = DW.baseMap("map", state.cfg);
    state.map = map;
    panes(map);
    L.control.scale({ imperial: doc.field.country === "US", maxWidth: 160 }).addTo(map);
    const drawn = drawField(map, doc, true);
    state.zones = drawn.zones; state.nospray = drawn.nospray || null; state.features = drawn.features || null;
    legend.addTo(map);
    renderLegend();
    fitField(map, doc.bounds, "legend");
    renderLayerToggles();
    renderSummary();
    renderCompliance();
    renderExports();
    renderCompare();
    const t2 = performance.now();
    window.dwTiming = { layers_ms: Math.round(t1 - t0), render_ms: Math.round(t2 - t1), ready_ms: Math.round(t2) };
    say("");
    document.body.dataset.state = "ready";
    document.querySelectorAll("#advice-lang button").forEach((b) => b.addEventListener("click", () => loadAdvice(b.dataset.lang)));
    const pageLang = document.documentElement.lang;
    loadAdvice(["en", "fr", "de"].includes(pageLang) ? pageLang : "en");
  }

  start().catch((e) => { say(`Something went wrong: ${e.message}`, "error"); document.body.dataset.state = "error"; });
})();
