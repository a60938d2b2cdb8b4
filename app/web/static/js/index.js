/* The list page: the organisation's fields on one map, each with its prescriptions. */
"use strict";

(() => {
  const { el, clear, num } = DW;
  const T = JSON.parse(document.body.dataset.words || "{}");
  const STRATEGY = { broadcast: "Broadcast", threshold: "Threshold", target_efficacy: "Target efficacy",
                     economic: "Economic" };

  function fieldCard(f, rxs) {
    const list = el("ul", { class: "rx-list" });
    rxs.sort((a, b) => b.id - a.id).forEach((rx) => {
      const names = rx.products.map((p) => p.name).join(" + ");
      list.append(el("li", {}, el("a", { href: `/v1/prescriptions/${rx.id}/map`, dataset: { rx: String(rx.id) } }, [
        el("span", { class: "rx-id", text: `Rx ${rx.id}` }),
        el("span", { text: `${STRATEGY[rx.strategy.name] || rx.strategy.name} · ${names}` }),
        el("span", { class: "rx-meta", text: `${num(rx.summary.treated_area_ha, 1)} ha treated · ${DW.date(rx.created_at)}` }),
      ])));
    });
    return el("article", { class: "field-card", id: `field-${f.id}`, dataset: { field: String(f.id) } }, [
      el("h2", { text: f.name }),
      el("p", { class: "meta", text: `${(T.crops && T.crops[f.crop]) || f.crop.replace("_", " ")}${f.growth_stage_bbch ? ` · BBCH ${f.growth_stage_bbch}` : ""} · ${num(f.area_ha, 2)} ha${f.country ? ` · ${f.country}` : ""}` }),
      rxs.length ? list : el("p", { class: "empty", text: T.no_prescription || "No prescription yet." }),
    ]);
  }

  async function start() {
    const cfg = await DW.signIn();
    document.getElementById("subtitle").textContent = cfg.organisation;
    const status = document.getElementById("status");
    let fields, rxs;
    try {
      [fields, rxs] = await Promise.all([DW.json("/v1/fields?limit=500"), DW.json("/v1/prescriptions?limit=500")]);
    } catch (e) {
      status.textContent = `Could not load fields: ${e.message}`; status.dataset.kind = "error"; status.hidden = false;
      return;
    }
    const box = clear(document.getElementById("fields"));
    if (!fields.length) box.append(el("p", { class: "empty", text: "No fields yet: POST one to /v1/fields." }));
    const map = DW.baseMap("overview", cfg);
    L.control.scale().addTo(map);
    const group = L.featureGroup().addTo(map);
    const markers = L.layerGroup();  // added once the map has a view: permanent labels need one
    fields.forEach((f) => {
      const mine = rxs.filter((r) => r.field_id === f.id);
      box.append(fieldCard(f, mine));
      const open = () => {
        const latest = mine.sort((a, b) => b.id - a.id)[0];
        if (latest) location.href = `/v1/prescriptions/${latest.id}/map`;
        else document.getElementById(`field-${f.id}`).scrollIntoView({ behavior: "smooth" });
      };
      const outline = L.geoJSON(f.boundary, { style: { className: "dw-boundary", color: "#1e3a2b", weight: 2, fillColor: "#8bc34a", fillOpacity: 0.35 } })
        .on("click", open).addTo(group);
      // Fields on several continents are single pixels at world zoom: a marker with its name shows each one.
      L.circleMarker(outline.getBounds().getCenter(), { radius: 7, color: "#fff", weight: 2, fillColor: "#2e7d32", fillOpacity: 1,
                                                         className: "dw-field-marker" })
        .bindTooltip(DW.esc(f.name), { permanent: true, direction: "right", className: "field-label" })
        .on("click", open).addTo(markers);
    });
    // room on the right for the field names, which are drawn to the right of each marker
    if (fields.length) map.fitBounds(group.getBounds(), { paddingTopLeft: [30, 30], paddingBottomRight: [260, 30], maxZoom: 16 });
    else map.setView([48, 2], 4);
    markers.addTo(map);
    document.body.dataset.state = "ready";
  }

  start().catch((e) => { const s = document.getElementById("status"); s.textContent = e.message; s.hidden = false; });
})();
