/* mock-anveo dashboard: the tenants, calls and call pages. */

import { h, main, table, money, long, shortTime, enc } from "./dom.js";
import { state, tpath, api, pages, choose } from "./shell.js";
import { timelineSvg } from "./timeline.js";

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
