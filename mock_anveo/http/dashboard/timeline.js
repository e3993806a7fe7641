/* mock-anveo dashboard: a call's timeline as SVG.

   The two legs as lanes on the virtual time axis. The axis is compressed (each interval's
   width grows with the log of its length) so a 3-second ring stays visible next to a
   60-day DELAY; every break is labelled with its real moment. */

import { s } from "./dom.js";

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

export { timelineSvg };
