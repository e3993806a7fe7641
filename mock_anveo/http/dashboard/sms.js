/* mock-anveo dashboard: the SMS and notifications page. */

import { h, main, table, money, long, shortTime } from "./dom.js";
import { state, tpath, api, pages } from "./shell.js";

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
