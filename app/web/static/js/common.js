/* Dosewise pages: sign-in by API key (sessionStorage only), JSON calls, formatting, DOM helpers.
   Plain browser JS, no build step. Every data call sends "Authorization: Bearer <key>". */
"use strict";

const DW = (() => {
  const KEY = "dosewise.apiKey";

  function key() { return sessionStorage.getItem(KEY); }
  function setKey(k) { sessionStorage.setItem(KEY, k); }
  function clearKey() { sessionStorage.removeItem(KEY); }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function request(path, opts = {}) {
    const headers = Object.assign({ Authorization: `Bearer ${key()}` }, opts.headers || {});
    const res = await fetch(path, Object.assign({}, opts, { headers, credentials: "omit" }));
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try { const body = await res.json(); msg = (body.error && body.error.message) || body.detail || msg; } catch (_e) { /* not JSON */ }
      if (res.status === 401) { clearKey(); }
      throw new ApiError(res.status, msg);
    }
    return res;
  }

  async function json(path) { return (await request(path)).json(); }

  /* Text for places Leaflet inserts as HTML (tooltips): names come from users and files. */
  function esc(value) {
    return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
                                                            '"': "&quot;", "'": "&#39;" })[c]);
  }

  /* Build an element: el("div", {class: "x", text: "hi", onclick: fn}, [children]). Text only, never HTML. */
  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of [].concat(children)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  const lang = document.documentElement.lang || "en";
  function num(v, digits = 2) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(v);
  }
  function pct(v, digits = 1) { return v === null || v === undefined ? "–" : `${num(v, digits)} %`; }
  function money(v, currency) {
    if (v === null || v === undefined) return "–";
    if (!currency) return num(v, 2);
    // whole currency units, as the advice writes them ("611 €", "€611")
    try { return new Intl.NumberFormat(lang, { style: "currency", currency, minimumFractionDigits: 0, maximumFractionDigits: 0 }).format(v); } catch (_e) { return `${num(v, 0)} ${currency}`; }
  }
  function bytes(n) {
    if (n === null || n === undefined) return "–";
    return n < 1024 ? `${n} B` : n < 1048576 ? `${num(n / 1024, 1)} kB` : `${num(n / 1048576, 1)} MB`;
  }
  function date(iso) { return iso ? new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" }) : ""; }

  /* Show the sign-in form until a key works; resolves with the /v1/map/config document. */
  function signIn() {
    const form = document.getElementById("signin");
    const input = document.getElementById("api-key");
    const err = document.getElementById("signin-error");
    const app = document.getElementById("app");
    const out = document.getElementById("signout");
    out.addEventListener("click", () => { clearKey(); location.reload(); });
    return new Promise((resolve) => {
      async function attempt() {
        try {
          const cfg = await json("/v1/map/config");
          form.hidden = true; app.hidden = false; out.hidden = false;
          resolve(cfg);
        } catch (e) {
          clearKey();
          form.hidden = false; app.hidden = true; out.hidden = true;
          err.textContent = e.status === 401 ? "That key was not accepted (invalid, revoked or expired)."
            : e.status === 403 ? "This key may not read maps (it needs the read permission)." : e.message;
          err.hidden = false;
          input.focus();
        }
      }
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const k = input.value.trim();
        if (!k) return;
        setKey(k); input.value = "";
        attempt();
      });
      if (key()) attempt(); else { form.hidden = false; input.focus(); }
    });
  }

  function baseMap(node, cfg, opts = {}) {
    const map = L.map(node, Object.assign({ zoomSnap: 0.25, attributionControl: !!cfg.tiles_url }, opts));
    if (cfg.tiles_url) L.tileLayer(cfg.tiles_url, { maxZoom: 21, maxNativeZoom: 19 }).addTo(map);
    return map;
  }

  return { key, setKey, clearKey, request, json, esc, el, clear, num, pct, money, bytes, date, signIn, baseMap, ApiError };
})();
