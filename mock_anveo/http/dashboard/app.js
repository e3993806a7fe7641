/* mock-anveo dashboard. Plain JS, no build step: every datum comes from the control API
   (/_mock/...), which stays the source of truth; /_mock/events says when to read it again. */
/* The entry module: the pages register themselves, then the header is wired and the
   dashboard starts. */

import "./calls.js";
import "./journal.js";
import "./sms.js";
import "./controls.js";
import { $ } from "./dom.js";
import { advance, choose, route, start } from "./shell.js";

window.addEventListener("hashchange", route);
$("#tenant").addEventListener("change", (ev) => choose(ev.target.value));
for (const button of document.querySelectorAll("[data-advance]")) {
  button.addEventListener("click", () => advance(button.dataset.advance === "idle" ? "idle" : Number(button.dataset.advance)));
}
start();
