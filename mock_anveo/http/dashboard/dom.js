/* mock-anveo dashboard: DOM helpers, form feedback and the formats shared by every page.
   Text only: nothing from the server is ever parsed as HTML. */

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

export { h, s, $, main, notice, mirror, mirrored, table, money, long, shortTime, enc };
