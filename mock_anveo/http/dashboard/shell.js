/* mock-anveo dashboard: the state, the control API, the token, the clock header, the live
   feed and the router. Pages register in ``pages`` (their own modules); this module knows
   none of them, so nothing imports in a circle. */

import { h, $, main, notice, shortTime, enc } from "./dom.js";

const TOKEN_KEY = "mock-anveo-token";
const TENANT_KEY = "mock-anveo-tenant";
const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  // The hash names the tenant (a reload or a copied link keeps it); this tab's choice next.
  tenant: sessionStorage.getItem(TENANT_KEY) || localStorage.getItem(TENANT_KEY) || "",
  tenants: [],
  features: { notifications: false, inbound: false },
  page: null,
  ready: false,
  clock: null,
  clockRead: 0,
};
const tpath = (suffix) => `/_mock/tenants/${enc(state.tenant)}${suffix || ""}`;

/* ---- the control API ---- */
class Refused extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}
async function api(method, path, body) {
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
  if (response.status === 401) {
    askToken("The server refused the token; enter it again.");
    throw new Refused(401, data);
  }
  if (!response.ok) throw new Refused(response.status, data);
  return data;
}
/* Run one control: on success say ``done`` (or what ``done(result)`` says); on a refusal say what was tried and the
   server's own reason (it names the field). */
async function act(done, fn, trying) {
  try {
    const result = await fn();
    notice(typeof done === "function" ? done(result) : done);
    await refresh();
    return result;
  } catch (error) {
    if (error.status !== 401) notice(`${trying || done}: refused: ${error.message}`, true);
    return null;
  }
}

/* ---- token ---- */
function askToken(message) {
  state.ready = false;
  feedGeneration += 1; // stop the feed: it would only be refused
  setLive("connecting");
  document.body.dataset.locked = "yes";
  main().replaceChildren(h("section", { class: "card tokenbox" },
    h("h2", {}, "Control token"),
    h("p", {}, message || "This server protects its control API with a token (--control-token). Enter it to see its data."),
    h("form", { id: "token-form", onsubmit: (event) => {
      event.preventDefault();
      state.token = $("#token-input").value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      start();
    } },
    h("label", {}, "Token", h("input", { id: "token-input", type: "password", autocomplete: "off", required: true })),
    h("button", { type: "submit" }, "Open dashboard"))));
  $("#token-input").focus();
}

/* ---- tenant choice and clock header ---- */
async function loadTenants() {
  state.tenants = await api("GET", "/_mock/tenants");
  const keys = state.tenants.map((t) => t.userkey);
  if (!keys.includes(state.tenant)) state.tenant = keys[0] || "";
  const select = $("#tenant");
  select.replaceChildren(...state.tenants.map((t) => h("option", { value: t.userkey, selected: t.userkey === state.tenant }, t.userkey)));
  const current = state.tenants.find((t) => t.userkey === state.tenant);
  state.clock = current ? current.clock : null;
  state.clockRead = Date.now();
  drawClock();
}
function drawClock() {
  const clock = state.clock;
  if (!clock) { $("#clock").textContent = "no tenant"; return; }
  let now = clock.now;
  if (clock.rate > 0) {
    const seconds = clock.epoch_seconds + ((Date.now() - state.clockRead) / 1000) * clock.rate;
    now = new Date(seconds * 1000).toISOString();
  }
  // The next event's date only when it is not today's: the header then fits on one line.
  const next = clock.next_event_at ? shortTime(clock.next_event_at) : "";
  const sameDay = next && next.slice(0, 10) === now.slice(0, 10);
  $("#clock").textContent = `virtual ${shortTime(now)} · rate ${clock.rate} · ` +
    `${clock.pending_events} pending` +
    (clock.pending_deliveries ? ` (${clock.pending_deliveries} deliveries)` : "") +
    (next ? ` · next ${sameDay ? next.slice(11) : next}` : "");
}
setInterval(() => { if (state.clock && state.clock.rate > 0) drawClock(); }, 1000);
function advance(what) {
  const body = what === "idle" ? { until_idle: true } : typeof what === "number" ? { seconds: what } : { to: what };
  const spans = { 60: "a minute", 3600: "an hour", 86400: "a day" };
  const label = what === "idle" ? "advanced until idle" : typeof what === "number" ? `advanced ${spans[what] || `${what} s`}` : `advanced to ${what}`;
  return act(label, () => api("POST", tpath("/clock/advance"), body), "advancing the clock");
}

/* ---- live feed: server-sent events read with fetch, so the token goes in a header ---- */
function setLive(mode) {
  const pill = $("#live");
  pill.dataset.state = mode;
  pill.textContent = mode === "live" ? "live" : mode === "reconnecting" ? "reconnecting…" : "connecting";
}
let feedGeneration = 0;
async function feed() {
  const generation = ++feedGeneration;
  let serverSeen = null;
  while (generation === feedGeneration) {
    try {
      const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
      const response = await fetch("/_mock/events", { headers, cache: "no-store" });
      if (response.status === 401) { askToken("The server refused the token; enter it again."); return; }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(frame);
          const data = /^data: (.*)$/m.exec(frame);
          if (!event || !data) continue;
          const payload = JSON.parse(data[1]);
          if (event[1] === "hello") {
            setLive("live");
            if (serverSeen !== null && serverSeen !== payload.server_time) await refresh(true);
            serverSeen = payload.server_time;
            await refresh(true);
          } else if (event[1] === "change") {
            scheduleRefresh();
          }
        }
      }
      throw new Error("the feed ended");
    } catch (_) {
      if (generation !== feedGeneration) return;
      setLive("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(), 80);
}
async function refresh(all) {
  if (!state.ready) return;
  try {
    await loadTenants();
    if (state.page && state.page.update) await state.page.update(all);
  } catch (error) {
    if (error.status !== 401) setLive("reconnecting");
  }
}

/* ---- pages: each page module adds its own (name -> function drawing it) ---- */
const pages = {};

function remember(userkey) {
  state.tenant = userkey;
  sessionStorage.setItem(TENANT_KEY, userkey);
  localStorage.setItem(TENANT_KEY, userkey);
}
function choose(userkey) {
  remember(userkey);
  history.replaceState(null, "", `#/${parseHash().path || "tenants"}?tenant=${enc(userkey)}`);
  route();
}
/* "#/page/arg?tenant=KEY": the page, its argument and the tenant. */
function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, arg] = path.split("/").map(decodeURIComponent);
  return { name, arg, path, tenant: new URLSearchParams(query || "").get("tenant") };
}

/* ---- routing ---- */
let routeGeneration = 0;
async function route() {
  if (!state.ready) return;
  const generation = ++routeGeneration;
  const { name, arg, path, tenant } = parseHash();
  if (tenant) remember(tenant);
  const page = pages[name] ? name : "tenants";
  for (const link of document.querySelectorAll("nav a")) {
    const current = link.getAttribute("href") === `#/${page === "call" ? "calls" : page}`;
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  // The tenants first: a page's forms start from the chosen tenant's clock and numbers.
  let loaded = true;
  try { await loadTenants(); } catch (error) {
    loaded = false;
    if (error.status === 401) return;
    notice(`could not read the control API: ${error.message}`, true);
  }
  // Left for another page while the tenants loaded: that page's route draws, not this one.
  if (generation !== routeGeneration) return;
  if (loaded && state.tenant && tenant !== state.tenant) { // no hashchange: no second route
    history.replaceState(null, "", `#/${path || page}?tenant=${enc(state.tenant)}`);
  }
  const shown = state.page = pages[page](arg);
  if (!loaded) return;
  try { await shown.update(true); } catch (error) {
    if (error.status !== 401) notice(`could not read the control API: ${error.message}`, true);
  }
}

/* ---- start ---- */
async function start() {
  let health;
  try { health = await (await fetch("/_mock/health", { cache: "no-store" })).json(); } catch (_) {
    setLive("reconnecting");
    setTimeout(start, 1000);
    return;
  }
  if (health.token_required && !state.token) { askToken(); return; }
  try {
    const openapi = await api("GET", "/_mock/openapi.json");
    state.features.notifications = "/_mock/tenants/{userkey}/notifications" in openapi.paths;
    state.features.inbound = "/_mock/tenants/{userkey}/sms/inbound" in openapi.paths;
  } catch (error) { if (error.status === 401) return; }
  delete document.body.dataset.locked;
  state.ready = true;
  await route();
  feed();
}

export { state, tpath, api, act, advance, pages, choose, route, start };
