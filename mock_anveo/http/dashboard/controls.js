/* mock-anveo dashboard: the controls page (clock, rules, inbound SMS, tenants). */

import { h, $, main, notice, mirror, mirrored, table, enc } from "./dom.js";
import { state, tpath, api, act, advance, pages, choose } from "./shell.js";

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
