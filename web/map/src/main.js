// The Whuffie map: the attention graph drawn by sigma.js (WebGL) from data
// that Python embedded in the page (<script type="application/json">).
// Positions are computed in Python; the browser only draws, so 50,000 nodes
// open in seconds and nothing is fetched: the page works from file://.

import Graph from "graphology";
import Sigma from "sigma";
import { EdgeLineProgram, NodePointProgram } from "sigma/rendering";

import { clear, fmtInt, fmtNum, fmtScore, h } from "./dom.js";

// Edges are context, not content: the more there are, the lighter each one.
// Opaque tints, because sigma's edge programs draw translucent colours
// (rgba) as good as invisible at one pixel.
const edgeColor = (m) => (m < 20000 ? "#c9c9d3" : m < 100000 ? "#dadae2" : "#e6e6ec");
const EDGE_HOVER_COLOR = "#2a2a3c";
const EDGE_SELECTED_COLOR = "#c83232";
// Labelling every neighbour of a hub (thousands) would bury the map in text:
// only the most influential neighbours get a label while hovering.
const MAX_LABELLED_NEIGHBOURS = 30;
const MAX_MATCHES = 12;
const MAX_RECOGNISERS_LISTED = 5;

function readData() {
  const script = document.getElementById("whuffie-map-data");
  return JSON.parse(script.textContent);
}

function buildGraph(data) {
  const graph = new Graph({ type: "undirected", multi: false, allowSelfLoops: false });
  const n = data.id.length;
  const nicheIndex = data.nicheIndex;
  // Sigma draws nodes in insertion order: the least influential first, so
  // that the hubs are drawn over the crowd around them, not under it.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => data.rank[b] - data.rank[a]);
  for (const i of order) {
    graph.addNode(String(i), {
      x: data.x[i],
      y: data.y[i],
      size: data.size[i],
      color: data.niches[nicheIndex[i]].color,
      label: data.label[i] ?? data.id[i],
    });
  }
  const edges = data.edges;
  for (let k = 0; k < edges.length; k += 2) {
    // Half a pixel: sigma keeps edges at least 1.7 px thick, and thickens them
    // as one zooms in; thinner ones keep a dense core from turning grey.
    graph.addEdge(String(edges[k]), String(edges[k + 1]), { size: 0.5 });
  }
  return graph;
}

function boot() {
  const t0 = performance.now();
  const data = readData();
  const tParsed = performance.now();
  const n = data.id.length;
  const container = document.getElementById("whuffie-map");
  const status = document.getElementById("whuffie-status");
  const panel = document.getElementById("whuffie-panel");
  const searchInput = document.getElementById("whuffie-search");
  const matchesList = document.getElementById("whuffie-matches");
  const legend = document.getElementById("whuffie-legend");

  const api = { ready: false, data, timings: {} };
  window.__whuffieMap = api;

  document.getElementById("whuffie-title").textContent = data.title;
  status.textContent =
    `${fmtInt(n)} of ${fmtInt(data.total.actors)} actors (top by PageRank) · ` +
    `${fmtInt(data.edges.length / 2)} links drawn`;
  renderLegend(legend, data);
  if (n === 0) {
    status.textContent = "Nothing to draw: the graph has no actor.";
    api.ready = true;
    return;
  }

  const graph = buildGraph(data);
  const tGraph = performance.now();

  const index = new Map();
  for (let i = 0; i < n; i++) index.set(data.id[i], i);

  // Highlight state. Nodes are emphasised through sigma's reducer, refreshing
  // only the nodes concerned (a partial refresh), so hovering stays smooth at
  // 50,000 nodes. Their links are drawn on a canvas of our own between the
  // edges and the nodes: recolouring edges in WebGL would leave them under
  // the thousands of edges drawn after them.
  const hover = { node: null, nodes: new Set() };
  const selection = { node: null, nodes: new Set() };

  const manyEdges = data.edges.length / 2 > 50000;
  // GL points are drawn in one pass where circles need a quad each: measured
  // in software WebGL at 50,000 nodes, 90 ms a frame instead of 630 ms.
  // Circles look better when zoomed far in (points have a maximum size), so
  // they stay for smaller maps.
  const manyNodes = n > 20000;
  const renderer = new Sigma(graph, container, {
    defaultEdgeColor: edgeColor(data.edges.length / 2),
    defaultEdgeType: "line",
    // Thin GL lines cost a fraction of the default rectangles; with hundreds
    // of thousands of edges that is the difference between smooth and not.
    edgeProgramClasses: manyEdges ? { line: EdgeLineProgram } : {},
    nodeProgramClasses: manyNodes ? { circle: NodePointProgram } : {},
    hideEdgesOnMove: manyEdges,
    renderEdgeLabels: false,
    labelFont: "system-ui, -apple-system, 'Segoe UI', sans-serif",
    labelRenderedSizeThreshold: 7,
    labelDensity: 0.6,
    minCameraRatio: 0.001,
    maxCameraRatio: 5,
    zIndex: false,
    nodeReducer: (node, attrs) => {
      if (node === selection.node) return { ...attrs, highlighted: true, forceLabel: true };
      if (hover.nodes.has(node) || selection.nodes.has(node)) {
        return { ...attrs, highlighted: true };
      }
      return attrs;
    },
  });
  const tSigma = performance.now();

  renderer.createCanvasContext("whuffieLinks", { afterLayer: "edges" });
  // A layer added after the first render has the default canvas size until
  // resized, and resizing clears every layer: draw again (no re-indexing).
  renderer.resize(true);
  renderer.scheduleRender();
  const links = renderer.getCanvases().whuffieLinks.getContext("2d");

  function drawLinks() {
    const { width, height } = renderer.getDimensions();
    links.clearRect(0, 0, width, height);
    const point = (key) => {
      const attrs = graph.getNodeAttributes(key);
      return renderer.graphToViewport({ x: attrs.x, y: attrs.y });
    };
    const star = (centre, others, colour, thickness) => {
      if (centre === null || others.length === 0) return;
      const c = point(centre);
      links.beginPath();
      for (const other of others) {
        const p = point(other);
        links.moveTo(c.x, c.y);
        links.lineTo(p.x, p.y);
      }
      links.strokeStyle = colour;
      links.lineWidth = thickness;
      links.stroke();
    };
    if (hover.node !== null) star(hover.node, graph.neighbors(hover.node), EDGE_HOVER_COLOR, 1);
    star(selection.node, [...selection.nodes], EDGE_SELECTED_COLOR, 2);
  }
  renderer.on("afterRender", drawLinks);

  function partialRefresh(nodes) {
    renderer.refresh({ partialGraph: { nodes: [...nodes] }, skipIndexation: true });
  }

  function topNeighbours(node, limit) {
    const list = graph.neighbors(node);
    list.sort((a, b) => data.rank[+a] - data.rank[+b]);
    return list.slice(0, limit);
  }

  function setHover(node) {
    const old = hover.nodes;
    hover.node = node;
    hover.nodes = new Set();
    if (node !== null) {
      hover.nodes.add(node);
      for (const m of topNeighbours(node, MAX_LABELLED_NEIGHBOURS)) hover.nodes.add(m);
    }
    partialRefresh(new Set([...old, ...hover.nodes]));
  }

  function recognisers(i) {
    const out = [];
    for (let k = data.rbPtr[i]; k < data.rbPtr[i + 1]; k++) {
      out.push({ node: data.rb[k], weight: data.rbWeight[k], count: data.rbCount[k] });
    }
    return out;
  }

  function select(i, { zoom = true } = {}) {
    const nodes = new Set(selection.nodes);
    if (selection.node !== null) nodes.add(selection.node);
    selection.node = i === null ? null : String(i);
    selection.nodes = new Set(i === null ? [] : recognisers(i).map((r) => String(r.node)));
    for (const key of selection.nodes) nodes.add(key);
    if (selection.node !== null) nodes.add(selection.node);
    partialRefresh(nodes);
    renderPanel(i);
    if (i !== null && zoom) {
      const display = renderer.getNodeDisplayData(String(i));
      renderer.getCamera().animate({ x: display.x, y: display.y, ratio: 0.08 }, { duration: 500 });
    }
  }

  function actorButton(j, detail) {
    return h(
      "li",
      null,
      h(
        "button",
        { type: "button", className: "link", onclick: () => select(j) },
        h("span", { className: "swatch", style: { background: data.niches[data.nicheIndex[j]].color } }),
        h("span", { text: data.label[j] ?? data.id[j] }),
      ),
      detail ? h("span", { className: "muted", text: ` ${detail}` }) : null,
    );
  }

  function renderPanel(i) {
    clear(panel);
    if (i === null) {
      panel.appendChild(
        h("p", { className: "muted", text: "Click an actor on the map, or search for one, to see why it matters." }),
      );
      return;
    }
    const handle = data.label[i] ?? data.id[i];
    const niche = data.niches[data.nicheIndex[i]];
    const nicheRank = data.nicheRank?.[i];
    const nicheText =
      data.nicheId[i] === null
        ? "none"
        : `${data.nicheKind} ${data.nicheId[i]}` + (nicheRank ? ` (#${fmtInt(nicheRank)} in it)` : "");
    const rows = [
      ["actor", data.id[i]],
      ["rank", `#${fmtInt(data.rank[i])} of ${fmtInt(data.total.actors)}`],
      ["PageRank", fmtScore(data.pagerank[i])],
      ["recognition", fmtNum(data.recognition[i])],
      ["recognised by", `${fmtInt(data.inDegree[i])} people`],
      ["audience", `${fmtInt(data.audience[i])} people within two hops`],
      ["coreness", fmtInt(data.coreness[i])],
      [data.nicheKind ?? "niche", nicheText],
      ["evidence", `${fmtInt(data.received[i])} interactions received, ${fmtInt(data.given[i])} given`],
    ];
    const dl = h("dl", null);
    for (const [key, value] of rows) {
      dl.appendChild(h("dt", { text: key }));
      const dd = h("dd", { text: value, "data-field": key });
      if (key === (data.nicheKind ?? "niche")) {
        dd.prepend(h("span", { className: "swatch", style: { background: niche.color } }));
      }
      dl.appendChild(dd);
    }
    panel.appendChild(h("h2", { id: "whuffie-panel-handle", text: handle }));
    panel.appendChild(dl);
    const recs = recognisers(i);
    panel.appendChild(h("h3", { text: "Recognised by (strongest attention)" }));
    if (recs.length === 0) {
      panel.appendChild(h("p", { className: "muted", text: "No one on this map pays attention to this actor." }));
    } else {
      const list = h("ol", { className: "recognisers" });
      for (const r of recs.slice(0, MAX_RECOGNISERS_LISTED)) {
        const times = r.count === 1 ? "1 interaction" : `${fmtInt(r.count)} interactions`;
        const detail = r.weight === r.count ? times : `${times}, weight ${fmtNum(r.weight)}`;
        list.appendChild(actorButton(r.node, detail));
      }
      panel.appendChild(list);
    }
  }

  let lowerLabels = null;
  let lowerIds = null;
  function findMatches(query) {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    if (lowerLabels === null) {
      lowerLabels = data.label.map((label) => (label ?? "").toLowerCase());
      lowerIds = data.id.map((id) => id.toLowerCase());
    }
    const prefix = [];
    const inner = [];
    for (let i = 0; i < n; i++) {
      const label = lowerLabels[i];
      const id = lowerIds[i];
      if (label.startsWith(q) || id.startsWith(q) || id.endsWith(`:${q}`)) prefix.push(i);
      else if (label.includes(q) || id.includes(q)) inner.push(i);
    }
    // Prefix matches (and ids ending in ":query") first, each group by influence.
    const byRank = (a, b) => data.rank[a] - data.rank[b];
    return [...prefix.sort(byRank), ...inner.sort(byRank)].slice(0, MAX_MATCHES);
  }

  let matches = [];
  function showMatches() {
    matches = findMatches(searchInput.value);
    clear(matchesList);
    for (const i of matches) {
      const label = data.label[i] ?? data.id[i];
      matchesList.appendChild(
        h(
          "li",
          null,
          h(
            "button",
            {
              type: "button",
              onclick: () => pick(i),
              "data-actor": data.id[i],
            },
            h("span", { className: "swatch", style: { background: data.niches[data.nicheIndex[i]].color } }),
            h("span", { text: label }),
            h("span", { className: "muted", text: ` #${fmtInt(data.rank[i])}` }),
          ),
        ),
      );
    }
    if (searchInput.value.trim() && matches.length === 0) {
      matchesList.appendChild(h("li", { className: "muted", text: "No actor matches." }));
    }
  }

  function pick(i) {
    searchInput.value = data.label[i] ?? data.id[i];
    clear(matchesList);
    select(i);
  }

  searchInput.addEventListener("input", showMatches);
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && matches.length > 0) pick(matches[0]);
    if (event.key === "Escape") {
      searchInput.value = "";
      clear(matchesList);
    }
  });

  renderer.on("enterNode", ({ node }) => {
    setHover(node);
    container.style.cursor = "pointer";
  });
  renderer.on("leaveNode", () => {
    setHover(null);
    container.style.cursor = "";
  });
  renderer.on("clickNode", ({ node }) => select(+node, { zoom: false }));
  renderer.on("clickStage", () => select(null));

  renderPanel(null);

  Object.assign(api, {
    renderer,
    graph,
    select,
    search(query) {
      searchInput.value = query;
      showMatches();
      return matches.map((i) => data.id[i]);
    },
    indexOf: (actor) => index.get(actor),
    // What is drawn emphasised: the hovered node and its neighbours, the
    // selected node and its recognisers (node keys are indices as strings).
    highlighted: () => ({
      hover: [...hover.nodes],
      hoverLinks: hover.node === null ? 0 : graph.degree(hover.node),
      selected: selection.node,
      recognisers: [...selection.nodes],
    }),
    // Page coordinates of an actor's node, for tests and scripted clicks.
    screenPosition(actor) {
      const attrs = graph.getNodeAttributes(String(index.get(actor)));
      const point = renderer.graphToViewport({ x: attrs.x, y: attrs.y });
      const box = container.getBoundingClientRect();
      return { x: box.left + point.x, y: box.top + point.y };
    },
  });

  requestAnimationFrame(() => {
    const tFrame = performance.now();
    api.timings = {
      parseMs: tParsed - t0,
      graphMs: tGraph - tParsed,
      sigmaMs: tSigma - tGraph,
      bootMs: tFrame - t0,
      // Since navigation started: what the reader waits for.
      firstRenderMs: tFrame,
    };
    api.ready = true;
    document.body.dataset.ready = "true";
  });
}

function renderLegend(legend, data) {
  clear(legend);
  if (data.niches.length <= 1 && data.niches[0]?.id === null) {
    legend.appendChild(h("div", { className: "muted", text: "Size: influence (PageRank)" }));
    return;
  }
  legend.appendChild(h("div", { className: "legend-title", text: `Colour: ${data.nicheKind}` }));
  const list = h("ul", null);
  for (const niche of data.niches) {
    list.appendChild(
      h(
        "li",
        null,
        h("span", { className: "swatch", style: { background: niche.color } }),
        h("span", { text: niche.name }),
        h("span", { className: "muted", text: ` ${fmtInt(niche.count)}` }),
      ),
    );
  }
  legend.appendChild(list);
  legend.appendChild(h("div", { className: "muted", text: "Size: influence (PageRank)" }));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
