/* mock-anveo dashboard: the journal page. Pretty request and reply, errors and faults marked,
   filters, copy as curl. */

import { h, main, notice, long, shortTime } from "./dom.js";
import { state, tpath, api, pages } from "./shell.js";

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
/* A request that was not UTF-8 (UTF-16, ISO-8859-1...) is resent from its exact bytes
   (request_base64): its text, pasted into a shell, would go out as UTF-8 under a declaration
   naming another encoding. */
const percentEncoded = (binary) => [...binary].map((c) => {
  const n = c.charCodeAt(0);
  return n > 0x20 && n < 0x7f ? c : "%" + n.toString(16).toUpperCase().padStart(2, "0");
}).join("");
function curlOf(entry) {
  const [method, path] = DOOR_PATHS[entry.door] || ["POST", "/api/v3.asp"];
  const url = location.origin + path;
  if (method === "GET") {
    const query = entry.request_base64 ? percentEncoded(atob(entry.request_base64)) : entry.request || "";
    return `curl -sS ${quote(url + "?" + query)}`;
  }
  const xml = "curl -sS -X POST -H 'Content-Type: application/xml' --data-binary";
  if (entry.request_base64) return `printf %s ${quote(entry.request_base64)} | base64 -d | ${xml} @- ${quote(url)}`;
  return `${xml} ${quote(entry.request || "")} ${quote(url)}`;
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
