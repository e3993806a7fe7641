/* mock-anveo dashboard. Plain JS, no build step: every datum comes from the control API
   (/_mock/...), which stays the source of truth; /_mock/events says when to read it again. */
"use strict";

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

/* ---- small DOM helpers (text only: nothing from the server is ever parsed as HTML) ---- */
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
const $ = (selector) => document.querySelector(selector);
const main = () => $("#main");
function notice(text, isError) {
  const box = $("#notice");
  box.replaceChildren(text ? h("p", { class: isError ? "error" : "" }, text) : "");
  clearTimeout(notice.timer);
  if (text && !isError) notice.timer = setTimeout(() => box.replaceChildren(), 4000);
}
/* A field that shows server state (the rate, the virtual now, a number) follows live updates,
   unless the user is editing it: focused, or changed since it last showed the server's value. */
function mirror(input, value) {
  const text = value === null || value === undefined ? "" : String(value);
  const edited = document.activeElement === input || ("shown" in input.dataset && input.value !== input.dataset.shown);
  if (edited && "shown" in input.dataset) return;
  input.value = text;
  input.dataset.shown = input.value; // read back: the browser may normalise (datetime-local)
}
const mirrored = (input) => { input.dataset.shown = input.value; };
// The browser's own bubble for an empty required field is easy to miss: say it in the notice.
document.addEventListener("invalid", (event) => {
  const field = event.target;
  const label = field.closest("label");
  const name = label ? label.firstChild.textContent.trim() : field.id;
  const why = field.validationMessage || "required";
  field.setAttribute("aria-invalid", "true");
  // Beside the field too: the notice may be scrolled out of sight.
  if (label && !label.querySelector(".why")) label.append(h("span", { class: "why" }, why));
  notice(`${name}: ${why}`, true);
}, true);
document.addEventListener("input", (event) => {
  event.target.removeAttribute("aria-invalid");
  const why = event.target.closest && event.target.closest("label") && event.target.closest("label").querySelector(".why");
  if (why) why.remove();
});
function table(headers, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty || "nothing yet");
  return h("div", { class: "scroll" },
    h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows)));
}
/* Money the same way everywhere: at least two decimals ("0" and "0.00" are one amount; the
   API gives amounts as it keeps them), finer ones with all their digits. Text, not Number:
   no rounding on the way. */
function money(text) {
  if (text === null || text === undefined || text === "") return "";
  const parts = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(text));
  if (!parts) return String(text);
  return `${parts[1]}${parts[2]}.${(parts[3] || "").padEnd(2, "0")}`;
}
/* A value too long to show whole (a forward URL of an SMS of 4096 emoji is ~49,000
   characters): its start, the whole in the title, and a button that shows it all, wrapped. */
function long(value, limit) {
  const text = value === null || value === undefined ? "" : String(value);
  const max = limit || 160;
  if (text.length <= max) return text;
  const box = h("span", { class: "long", title: text });
  const more = h("button", { type: "button", class: "show-all", onclick: (ev) => {
    ev.preventDefault(); // inside a <summary>: show the value, do not toggle the entry
    box.replaceChildren(text);
  } }, `show all ${text.length} characters`);
  box.append(text.slice(0, max) + "…", more);
  return box;
}
const shortTime = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
const enc = encodeURIComponent;
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

/* ---- pages ---- */
const pages = {};
pages.tenants = () => {
  const box = h("div");
  main().replaceChildren(h("h2", {}, "Tenants"), box);
  return {
    update() {
      const rows = state.tenants.map((t) => h("tr", { class: t.userkey === state.tenant ? "selected" : "" },
        h("td", {}, h("button", { type: "button", onclick: () => choose(t.userkey) }, t.userkey)),
        h("td", { class: "money" }, money(t.balance)), h("td", { class: "money" }, money(t.reserved)),
        h("td", { class: "money" }, money(t.total_charged)),
        h("td", { class: "mono" }, shortTime(t.clock.now)), h("td", {}, t.clock.rate),
        h("td", { class: "mono" }, shortTime(t.clock.next_event_at) || "—"), h("td", {}, t.clock.pending_events),
        h("td", {}, t.calls), h("td", {}, t.scenarios), h("td", {}, t.faults)));
      box.replaceChildren(table(["USERKEY", "balance", "reserved", "charged", "virtual now", "rate",
        "next event", "pending events", "calls", "scenarios", "faults"], rows, "no tenants"));
    },
  };
};

pages.calls = () => {
  const status = h("select", { id: "call-status" }, ["", "NONE", "INIT", "START", "END"].map((x) => h("option", { value: x }, x || "any")));
  const search = h("input", { id: "call-search", type: "search", placeholder: "number, memo, billing code…" });
  const box = h("div", { id: "calls" });
  const page = { async update() {
    if (!state.tenant) { box.replaceChildren(h("p", { class: "empty" }, "no tenant")); return; }
    const calls = await api("GET", tpath(status.value ? `/calls?status=${status.value}` : "/calls"));
    const needle = search.value.trim().toLowerCase();
    const shown = calls.filter((c) => !needle || [c.requestid, c.memo, c.billingcode, ...c.legs.map((l) => l.number)]
      .some((x) => x && String(x).toLowerCase().includes(needle)));
    const rows = shown.reverse().map((c) => h("tr", { "data-requestid": c.requestid },
      h("td", { class: "mono" }, h("a", { href: `#/call/${enc(c.requestid)}` }, c.requestid.slice(0, 12) + (c.requestid.length > 12 ? "…" : ""))),
      h("td", {}, c.action), h("td", {}, h("span", { class: `badge ${c.status}` }, c.status)), h("td", {}, c.reason || ""),
      h("td", { class: "mono" }, (c.legs[0] || {}).number || ""), h("td", { class: "mono" }, (c.legs[1] || {}).number || ""),
      h("td", {}, c.delay_minutes ?? ""), h("td", {}, c.billingcode || ""), h("td", { class: "wrap" }, long(c.memo)),
      h("td", { class: "money" }, money(c.charge)), h("td", { class: "mono" }, shortTime(c.created_at))));
    box.replaceChildren(table(["REQUESTID", "action", "status", "reason", "number", "destination", "DELAY",
      "BILLINGCODE", "MEMO", "charge", "created"], rows, calls.length ? "no call matches the filters" : "no calls yet: place one through the API"));
  } };
  status.addEventListener("change", () => page.update());
  search.addEventListener("input", () => page.update());
  main().replaceChildren(h("h2", {}, "Calls"),
    h("div", { class: "filters" }, h("label", {}, "Status", status), h("label", {}, "Search", search)), box);
  return page;
};

/* The two legs as lanes on the virtual time axis. The axis is compressed (each interval's
   width grows with the log of its length) so a 3-second ring stays visible next to a
   60-day DELAY; every break is labelled with its real moment. */
function timelineSvg(call, nowIso) {
  const seconds = (iso) => Date.parse(iso) / 1000;
  const first = {};
  for (const item of call.timeline) if (!(item.phase in first)) first[item.phase] = seconds(item.at);
  const t0 = seconds(call.created_at);
  const ended = first.ended;
  const tEnd = ended ?? Math.max(seconds(nowIso || call.created_at), t0);
  const ringFirst = first["ringing-first"];
  const ringSecond = first["ringing-second"];
  const talk = first.connected;
  const legs = call.legs.length ? call.legs : [{ number: "?" }];
  const lanes = legs.map(() => []);
  const seg = (lane, kind, from, to) => { if (lane < lanes.length && from !== undefined && to !== undefined && to >= from) lanes[lane].push([kind, from, to]); };
  seg(0, "queued", t0, ringFirst ?? tEnd);
  seg(0, "ringing", ringFirst, ringSecond ?? talk ?? tEnd);
  seg(0, "talking", ringSecond ?? talk, tEnd);
  seg(1, "ringing", ringSecond, talk ?? tEnd);
  seg(1, "talking", talk, tEnd);
  const breaks = [...new Set([t0, ringFirst, ringSecond, talk, tEnd].filter((x) => x !== undefined))].sort((a, b) => a - b);
  const weights = breaks.slice(1).map((t, i) => Math.log1p(t - breaks[i]) + 0.3);
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const left = 150, width = 620, laneHeight = 34, top = 26;
  const xs = [left];
  weights.forEach((w) => xs.push(xs[xs.length - 1] + (w / total) * width));
  const x = (t) => {
    const i = breaks.findIndex((b) => b >= t);
    if (i <= 0) return xs[0];
    const span = breaks[i] - breaks[i - 1] || 1;
    return xs[i - 1] + ((t - breaks[i - 1]) / span) * (xs[i] - xs[i - 1]);
  };
  const height = top + lanes.length * laneHeight + 50;
  const svg = s("svg", { class: "timeline", viewBox: `0 0 800 ${height}`, role: "img",
    "aria-label": `Timeline of call ${call.requestid}: ${call.status}${call.reason ? ", " + call.reason : ""}` });
  breaks.forEach((t, i) => {
    svg.append(s("line", { class: "grid", x1: xs[i], x2: xs[i], y1: top - 6, y2: top + lanes.length * laneHeight }));
    const label = new Date(t * 1000).toISOString().slice(i === 0 || new Date(t * 1000).toISOString().slice(0, 10) !== new Date(breaks[i - 1] * 1000).toISOString().slice(0, 10) ? 5 : 11, 19).replace("T", " ");
    svg.append(s("text", { x: xs[i], y: top + lanes.length * laneHeight + 16 + (i % 2) * 14, "text-anchor": "middle" }, label));
  });
  lanes.forEach((segments, lane) => {
    const y = top + lane * laneHeight;
    svg.append(s("text", { x: 8, y: y + 19 }, `leg ${lane + 1} ${legs[lane].number || ""}`));
    for (const [kind, from, to] of segments) {
      const x1 = x(from), x2 = Math.max(x(to), x1 + 2);
      const rect = s("rect", { class: `seg seg-${kind}`, "data-kind": kind, x: x1, y: y + 4, width: x2 - x1, height: laneHeight - 10, rx: 3 });
      rect.append(s("title", {}, `${kind}: ${new Date(from * 1000).toISOString()} → ${new Date(to * 1000).toISOString()}`));
      svg.append(rect);
      if (x2 - x1 > 50) svg.append(s("text", { class: "seglabel", x: x1 + 5, y: y + 21 }, kind));
    }
  });
  if (ended !== undefined) {
    const xe = x(ended);
    svg.append(s("line", { class: "endline", x1: xe, x2: xe, y1: top - 10, y2: top + lanes.length * laneHeight }));
    svg.append(s("text", { class: "endlabel", x: Math.min(xe, 700), y: 14, "text-anchor": "middle" }, `ended: ${call.reason || "?"}`));
  }
  return svg;
}

pages.call = (requestid) => {
  const box = h("div", { id: "call" });
  main().replaceChildren(h("p", {}, h("a", { href: "#/calls" }, "← all calls")), h("h2", {}, `Call ${requestid}`), box);
  return { async update() {
    let call;
    try { call = await api("GET", tpath(`/calls/${enc(requestid)}`)); } catch (error) {
      if (error.status === 404) { box.replaceChildren(h("p", { class: "empty" }, `no call ${requestid} in this tenant`)); return; }
      throw error;
    }
    const facts = [["status", h("span", { class: `badge ${call.status}` }, call.status)], ["reason", call.reason || "—"],
      ["action", call.action], ["phase", call.phase], ["created", shortTime(call.created_at)],
      ["next event", shortTime(call.next_event_at) || "—"], ["DELAY (minutes)", call.delay_minutes ?? "—"],
      ["BILLINGCODE", call.billingcode || "—"], ["MEMO", call.memo ? long(call.memo, 400) : "—"], ["charge", money(call.charge)],
      ["result", call.result || "—"], ["test", String(call.test)]];
    const legend = h("div", { class: "legend" }, ["queued", "ringing", "talking"].map((k) => h("span", {}, h("i", { class: `swatch-${k}` }), k)),
      h("span", {}, "axis compressed: long waits are shortened, every change is labelled"));
    const steps = call.timeline.map((t) => h("tr", {}, h("td", { class: "mono" }, shortTime(t.at)), h("td", {}, t.phase), h("td", {}, t.status), h("td", { class: "wrap" }, t.note || "")));
    box.replaceChildren(timelineSvg(call, state.clock && state.clock.now), legend,
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("h3", {}, "Legs"), table(["number", "caller ID", "outcome", "answered", "ended", "billable minutes"],
        call.legs.map((l) => h("tr", {}, h("td", { class: "mono" }, l.number), h("td", { class: "mono" }, l.callerid || ""), h("td", {}, l.outcome || ""),
          h("td", { class: "mono" }, shortTime(l.answered_at)), h("td", { class: "mono" }, shortTime(l.ended_at)), h("td", {}, l.billable_minutes ?? "")))),
      h("h3", {}, "State changes"), table(["at", "phase", "status", "note"], steps));
  } };
};

/* Journal: pretty request and reply, errors and faults marked, filters, copy as curl. */
function prettyXml(text) {
  if (!text || !text.trim().startsWith("<")) return prettyQuery(text);
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return text;
  const lines = [];
  const walk = (node, depth) => {
    const pad = "  ".repeat(depth);
    const attrs = [...node.attributes].map((a) => ` ${a.name}="${a.value}"`).join("");
    const kids = [...node.childNodes].filter((n) => n.nodeType === 1 || (n.nodeType === 3 && n.textContent.trim()));
    if (!kids.length) lines.push(`${pad}<${node.nodeName}${attrs}/>`);
    else if (kids.length === 1 && kids[0].nodeType === 3) lines.push(`${pad}<${node.nodeName}${attrs}>${kids[0].textContent.trim()}</${node.nodeName}>`);
    else {
      lines.push(`${pad}<${node.nodeName}${attrs}>`);
      kids.forEach((k) => (k.nodeType === 1 ? walk(k, depth + 1) : lines.push(pad + "  " + k.textContent.trim())));
      lines.push(`${pad}</${node.nodeName}>`);
    }
  };
  walk(doc.documentElement, 0);
  return lines.join("\n");
}
function prettyQuery(text) {
  if (!text) return "";
  if (!text.includes("=")) return text;
  const split = text.includes("^") && !text.includes("&") ? "^" : "&";
  return text.split(split).map((pair) => {
    const [k, ...rest] = pair.split("=");
    try { return `${decodeURIComponent(k.replace(/\+/g, " "))} = ${decodeURIComponent(rest.join("=").replace(/\+/g, " "))}`; } catch (_) { return pair; }
  }).join("\n");
}
const DOOR_PATHS = { v3: ["POST", "/api/v3.asp"], apicall: ["POST", "/apicall.asp"], v2: ["GET", "/api/v2.asp"], v1: ["GET", "/api/v1.asp"] };
const quote = (text) => `'${String(text).replace(/'/g, `'\\''`)}'`;
function curlOf(entry) {
  const [method, path] = DOOR_PATHS[entry.door] || ["POST", "/api/v3.asp"];
  const url = location.origin + path;
  if (method === "GET") return `curl -sS ${quote(url + "?" + (entry.request || ""))}`;
  return `curl -sS -X POST -H 'Content-Type: application/xml' --data-binary ${quote(entry.request || "")} ${quote(url)}`;
}
async function copyText(text, where) {
  where.replaceChildren(h("pre", { class: "mono curl-text" }, text));
  try { await navigator.clipboard.writeText(text); notice("curl command copied"); } catch (_) {
    const range = document.createRange();
    range.selectNodeContents(where.firstChild);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    notice("the clipboard is not available here: the command is selected, press Ctrl+C");
  }
}
pages.journal = () => {
  const action = h("select", { id: "journal-action" }, h("option", { value: "" }, "any"));
  const kind = h("select", { id: "journal-kind" }, ["", "exchange", "transition"].map((x) => h("option", { value: x }, x || "any")));
  const result = h("select", { id: "journal-result" }, ["", "ok", "error", "fault"].map((x) => h("option", { value: x }, x || "any")));
  const box = h("div", { class: "entries", id: "journal" });
  const open = new Set();
  const actions = new Set(["DIAL.CONNECT", "DIAL.CALLFLOW", "DIAL.GETSTATUS", "SMS"]);
  const page = { async update() {
    if (!state.tenant) { box.replaceChildren(h("p", { class: "empty" }, "no tenant")); return; }
    const params = new URLSearchParams({ limit: "300" });
    if (action.value) params.set("action", action.value);
    if (kind.value) params.set("kind", kind.value);
    const journal = await api("GET", tpath(`/journal?${params}`));
    for (const e of journal.entries) if (e.action) actions.add(e.action);
    if (action.options.length - 1 !== actions.size) {
      const chosen = action.value;
      action.replaceChildren(h("option", { value: "" }, "any"), ...[...actions].sort().map((a) => h("option", { value: a, selected: a === chosen }, a)));
    }
    const rows = journal.entries.filter((e) => {
      const verdict = e.kind !== "exchange" ? "" : isFault(e) ? "fault" : e.error_code ? "error" : "ok";
      return !result.value || verdict === result.value;
    }).reverse();
    box.replaceChildren(...(rows.length ? rows.map((e) => entryView(e, open)) : [h("p", { class: "empty" }, "no entries")]),
      journal.dropped ? h("p", { class: "empty" }, `${journal.dropped} older entries were dropped (journal limit ${journal.limit})`) : "");
  } };
  for (const control of [action, kind, result]) control.addEventListener("change", () => page.update());
  main().replaceChildren(h("h2", {}, "Journal"),
    h("div", { class: "filters" }, h("label", {}, "Action", action), h("label", {}, "Kind", kind), h("label", {}, "Result", result)), box);
  return page;
};
/* An injected fault: the journal says FAULT (a reply replaced) or names the fault in its
   detail while the reply went out (a delay). Either way it is the test's doing, not an error. */
function isFault(e) {
  return e.kind === "exchange" && (e.error_code === "FAULT" || (!!e.detail && !e.error_code));
}
function entryView(e, open) {
  const fault = isFault(e);
  const cls = e.kind === "transition" ? "transition" : fault ? "fault" : e.error_code ? "error" : "ok";
  const details = h("details", { class: cls, "data-seq": e.seq, open: open.has(e.seq) });
  details.addEventListener("toggle", () => (details.open ? open.add(e.seq) : open.delete(e.seq)));
  const summary = h("summary", {}, h("span", { class: "mono" }, `#${e.seq}`), h("span", { class: "mono" }, shortTime(e.virtual_time)),
    e.door ? h("span", {}, e.door) : "", h("strong", {}, e.action || ""),
    e.error_code && !fault ? h("span", { class: "code" }, e.error_code) : "",
    fault ? h("span", { class: "faultname" }, "fault: ", long(e.detail)) : "",
    e.kind === "transition" ? h("span", {}, long(e.detail)) : "");
  details.append(summary);
  if (e.kind === "exchange") {
    const curlBox = h("div", { class: "curl" });
    details.append(h("div", { class: "body" },
      h("div", {}, h("h3", {}, "Request"), h("pre", { class: "mono" }, prettyXml(e.request || ""))),
      h("div", {}, h("h3", {}, "Reply"), h("pre", { class: "mono" }, prettyXml(e.response || ""))),
      h("div", { class: "curl" }, h("button", { type: "button", class: "copy-curl", onclick: () => copyText(curlOf(e), curlBox) }, "Copy as curl"), curlBox)));
  } else {
    details.append(h("div", { class: "body" }, h("pre", { class: "mono" }, JSON.stringify(e.params, null, 2))));
  }
  return details;
}

pages.sms = () => {
  const smsBox = h("div", { id: "sms" });
  const noteBox = h("div", { id: "notifications" });
  const open = new Set(); // a live update redraws the list: opened messages stay open
  main().replaceChildren(h("h2", {}, "SMS and notifications"), h("h3", {}, "SMS sent (v1 door)"), smsBox, h("h3", {}, "Notifications and SMS forwards"), noteBox);
  return { async update() {
    if (!state.tenant) return;
    const sms = await api("GET", tpath("/sms"));
    const columns = [...new Set(sms.flatMap((m) => Object.keys(m)))];
    smsBox.replaceChildren(table(columns, sms.slice().reverse().map((m) => h("tr", {}, columns.map((c) => h("td", { class: c === "message" ? "wrap" : c === "fee" ? "money" : "" }, c === "fee" ? money(m[c]) : long(typeof m[c] === "object" && m[c] !== null ? JSON.stringify(m[c]) : m[c]))))), "no SMS sent yet (inbound SMS are listed with their forwards below)"));
    let items = [];
    if (state.features.notifications) {
      try { items = await api("GET", tpath("/notifications")); } catch (error) { if (error.status !== 404) throw error; }
    }
    noteBox.replaceChildren(items.length ? h("div", { class: "entries" }, items.slice().reverse().map((n) => noteView(n, open)))
      : h("p", { class: "empty" }, "no notifications"));
  } };
};
function noteView(n, open) {
  const attempts = n.attempts || [];
  const failed = attempts.some((a) => a.error || (a.status && a.status >= 300));
  const details = h("details", { class: failed ? "error" : "ok", open: open.has(n.id) });
  details.addEventListener("toggle", () => (details.open ? open.add(n.id) : open.delete(n.id)));
  details.append(
    h("summary", {}, h("strong", {}, n.type || n.kind || "message"), h("span", {}, n.state || ""),
      n.type === "FORWARD" && n.fields ? h("span", {}, `SMS from ${n.fields.from} to ${n.fields.to}`) : "",
      h("span", { class: "mono note-url" }, long(n.url, 120)),
      h("span", {}, `${attempts.length} attempt(s)`)),
    h("div", { class: "body" },
      n.url ? h("div", { class: "curl" }, h("h3", {}, "URL"), h("pre", { class: "mono" }, n.url)) : "",
      h("div", {}, h("h3", {}, "Fields"), h("pre", { class: "mono" }, JSON.stringify(n.fields || {}, null, 2))),
      h("div", {}, h("h3", {}, "Attempts"),
        table(["#", "at", "outcome"], attempts.map((a, i) => h("tr", {}, h("td", {}, a.attempt ?? i + 1),
          h("td", { class: "mono" }, shortTime(a.at)), h("td", {}, a.error || `HTTP ${a.status}`))), "not attempted yet"),
        n.next_attempt_at ? h("p", { class: "empty" }, `next attempt at ${shortTime(n.next_attempt_at)}`) : "")));
  return details;
}

pages.controls = () => {
  const rules = h("div", { id: "rules" });
  // Starts at the tenant's virtual now, so the field shows what a moment looks like.
  const moment = h("input", { id: "advance-to", type: "datetime-local", step: "1" });
  const rate = h("input", { id: "clock-rate", type: "number", min: "0", step: "any" });
  const smsTo = h("input", { id: "sms-to", required: true });
  const noNumbers = h("p", { class: "error", id: "sms-no-numbers", hidden: true }, "This tenant owns no numbers, so no SMS can arrive for it: create a tenant with numbers.");
  const follow = () => {
    mirror(moment, state.clock ? state.clock.now.slice(0, 19) : "");
    mirror(rate, state.clock ? state.clock.rate : 0);
    mirror(smsTo, firstNumber());
    noNumbers.hidden = !state.features.inbound || !state.tenant || firstNumber() !== "";
  };
  const ruleKind = h("select", { id: "rule-kind" }, h("option", { value: "scenario" }, "scenario"), h("option", { value: "fault" }, "fault"));
  const ruleText = h("textarea", { id: "rule-json", "aria-label": "Rule as JSON" }, '{"match": "*", "outcome": "busy"}');
  const examples = { scenario: '{"match": "*", "outcome": "busy"}', fault: '{"kind": "html", "action": "DIAL.CONNECT", "times": 1}' };
  ruleKind.addEventListener("change", () => { ruleText.value = examples[ruleKind.value]; });
  const field = (id, label, attrs) => h("label", {}, label, h("input", { id, ...attrs }));
  let resetArmed = false;
  const sections = [
    h("section", { class: "card" }, h("h3", {}, "Clock"),
      h("form", { onsubmit: (ev) => { ev.preventDefault(); mirrored(moment); if (moment.value) advance(new Date(moment.value + "Z").toISOString()); } },
        h("label", {}, "Advance to (UTC)", moment), h("button", { type: "submit" }, "Advance to moment")),
      h("p", {}, ["+1 min", 60, "+1 h", 3600, "+1 day", 86400].reduce((acc, v, i, all) => (i % 2 ? acc : [...acc, h("button", { type: "button", onclick: () => advance(all[i + 1]) }, v), " "]), []),
        h("button", { type: "button", onclick: () => advance("idle") }, "until idle")),
      h("form", { onsubmit: (ev) => { ev.preventDefault(); mirrored(rate); act(`rate set to ${rate.value}`, () => api("PATCH", tpath("/clock"), { rate: Number(rate.value) }), "setting the rate"); } },
        h("label", {}, "Rate (0 freezes)", rate), h("button", { type: "submit" }, "Set rate"))),
    h("section", { class: "card" }, h("h3", {}, "Add a rule"),
      h("form", { onsubmit: (ev) => {
        ev.preventDefault();
        let doc;
        try { doc = JSON.parse(ruleText.value); } catch (error) { notice(`the rule is not JSON: ${error.message}`, true); return; }
        act(`${ruleKind.value} added`, () => api("POST", tpath(`/${ruleKind.value}s`), doc), `adding the ${ruleKind.value}`);
      } }, h("label", {}, "Kind", ruleKind), ruleText, h("button", { type: "submit" }, "Add rule"))),
    h("section", { class: "card" }, h("h3", {}, "Make an SMS arrive"),
      state.features.inbound ? "" : h("p", { class: "empty" }, "This server has no inbound SMS endpoint yet (it arrives with issue 12)."),
      noNumbers,
      h("form", { id: "inbound-form", onsubmit: (ev) => {
        ev.preventDefault();
        act((r) => (r && r.forwarded === false ? `SMS arrived, not forwarded: ${r.reason}` : "SMS arrived"), () => api("POST", tpath("/sms/inbound"), { from: $("#sms-from").value, to: $("#sms-to").value, message: $("#sms-message").value }), "making an SMS arrive");
      } }, field("sms-from", "From", { value: "12125551234", required: true }), h("label", {}, "To (one of the account's numbers)", smsTo),
      field("sms-message", "Message", { value: "Hello from the dashboard", required: true }), h("button", { type: "submit", disabled: !state.features.inbound }, "Send inbound SMS"))),
    h("section", { class: "card" }, h("h3", {}, "Tenants"),
      h("form", { onsubmit: (ev) => {
        ev.preventDefault();
        const doc = {};
        if ($("#new-key").value.trim()) doc.userkey = $("#new-key").value.trim();
        if ($("#new-balance").value.trim()) doc.balance = $("#new-balance").value.trim();
        act("tenant created", async () => { const t = await api("POST", "/_mock/tenants", doc); choose(t.userkey); return t; }, "creating the tenant");
      } }, field("new-key", "USERKEY (empty: random)", {}), field("new-balance", "Balance", { placeholder: "10.00" }), h("button", { type: "submit" }, "Create tenant")),
      h("p", {}, h("button", { type: "button", class: "danger", id: "reset-tenant", onclick: (ev) => {
        if (!resetArmed) { resetArmed = true; ev.target.textContent = "Click again to reset"; setTimeout(() => { resetArmed = false; ev.target.textContent = "Reset this tenant"; }, 3000); return; }
        resetArmed = false;
        ev.target.textContent = "Reset this tenant";
        act("tenant reset", () => api("POST", tpath("/reset")), "resetting the tenant");
      } }, "Reset this tenant"))),
  ];
  main().replaceChildren(h("h2", {}, "Controls"), h("div", { class: "cards" }, sections), h("h3", {}, "Rules"), rules);
  follow();
  return { async update() {
    follow();
    if (!state.tenant) return;
    const [scenarios, faults] = await Promise.all([api("GET", tpath("/scenarios")), api("GET", tpath("/faults"))]);
    const row = (r) => h("tr", {}, h("td", {}, r.rule), h("td", { class: "mono" }, r.id),
      h("td", { class: "mono wrap" }, JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => k !== "id" && k !== "rule")))),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: () => act(`${r.rule} ${r.id} removed`, () => api("DELETE", tpath(`/${r.rule}s/${enc(r.id)}`)), `removing ${r.rule} ${r.id}`) }, "Remove")));
    rules.replaceChildren(table(["rule", "id", "fields", ""], [...scenarios, ...faults].map(row), "no scenario or fault rules"));
  } };
};

function firstNumber() {
  const tenant = state.tenants.find((t) => t.userkey === state.tenant);
  const numbers = (tenant && tenant.numbers) || [];
  return numbers.length ? numbers[0].number || "" : "";
}

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
async function route() {
  if (!state.ready) return;
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
window.addEventListener("hashchange", route);
$("#tenant").addEventListener("change", (ev) => choose(ev.target.value));
for (const button of document.querySelectorAll("[data-advance]")) {
  button.addEventListener("click", () => advance(button.dataset.advance === "idle" ? "idle" : Number(button.dataset.advance)));
}
start();
