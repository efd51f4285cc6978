"""The offline map in a real browser: Debian's Chromium, driven by Playwright.

One map of the political blogs (Adamic & Glance 2005) is written and opened
from file://. The test checks that the page asks for nothing over the network,
that WebGL drew both camps in their colours, that search, click and hover work
on a named blog, and that a handle made of markup is shown as text.

WebGL without a GPU: headless Chromium with ``--disable-gpu`` falls back to
SwiftShader through ANGLE (renderer "ANGLE (Google, Vulkan 1.3.0 (SwiftShader
Device (Subzero)))"), no extra flag needed with Chromium 150.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
EVIL = '</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
#: Palette colours of the two largest niches (see whuffie.report.map.PALETTE).
BLUE, ORANGE = (0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt install chromium)")


@pytest.fixture(scope="module")
def polblogs_map(shared, tmp_path_factory):
    """The map of polblogs, coloured by leaning, one blog renamed with markup."""
    import whuffie
    from whuffie.graph.build import build_graph
    from whuffie.influence.measures import measure_influence
    from whuffie.report.map import write_map

    folder = tmp_path_factory.mktemp("map")
    with whuffie.open(folder / "polblogs.duckdb") as store:
        store.ingest([str(shared / "polblogs")])
        # atrios.blogspot.com (polblogs:55) is well linked: it is on the map.
        store.con.execute("UPDATE actors SET handle = ? WHERE actor_id = 'polblogs:55'", [EVIL])
        graph = build_graph(store)
        rows = store.con.execute("SELECT actor_id, handle, CAST(extra->>'value' AS INTEGER) "
                                 "FROM actors").fetchall()
    handles = {a: h for a, h, _ in rows}
    leaning = {a: v for a, _, v in rows}
    niches = np.array([leaning[a] for a in graph.nodes])
    table = measure_influence(graph, niches=niches)
    path = write_map(graph, table, folder / "map.html", niches=niches, labels=handles, seed=0,
                     title="Political blogs")
    ranks = dict(zip(table.column("actor_id").to_pylist(), table.column("rank").to_pylist(), strict=True))
    return path, ranks, graph


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def colour_counts(browser, png: bytes) -> dict:
    """Distinct colours and pixels near the two niche colours of a PNG, decoded by the browser."""
    page = browser.new_page()
    try:
        return page.evaluate(
            """async ([b64, blue, orange]) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
                const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
                const ctx = canvas.getContext("2d");
                ctx.drawImage(bitmap, 0, 0);
                const px = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
                const seen = new Set();
                const near = (i, c) => Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1])
                                       + Math.abs(px[i + 2] - c[2]) < 12;
                let nBlue = 0, nOrange = 0, nonWhite = 0;
                for (let i = 0; i < px.length; i += 4) {
                    seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
                    if (near(i, blue)) nBlue++;
                    if (near(i, orange)) nOrange++;
                    if (px[i] + px[i + 1] + px[i + 2] < 750) nonWhite++;
                }
                return {distinct: seen.size, blue: nBlue, orange: nOrange, nonWhite,
                        total: px.length / 4};
            }""",
            [base64.b64encode(png).decode("ascii"), BLUE, ORANGE],
        )
    finally:
        page.close()


@pytest.mark.slow
def test_map_opens_offline_and_explains_an_actor(polblogs_map, browser):
    path, ranks, graph = polblogs_map
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.__whuffieMap && window.__whuffieMap.ready", timeout=60_000)
        assert errors == []
        assert requests and all(u.startswith("file://") for u in requests), requests
        assert page.evaluate("window.__whuffieMap.graph.order") == graph.n

        # WebGL drew something, in both camps' colours.
        shot = page.screenshot(clip={"x": 0, "y": 0, "width": 940, "height": 800})
        counts = colour_counts(browser, shot)
        assert counts["distinct"] > 50, counts
        assert counts["nonWhite"] > 0.03 * counts["total"], counts
        assert counts["blue"] > 300 and counts["orange"] > 300, counts

        # Search a blog by part of its handle, pick it: the panel explains it.
        page.fill("#whuffie-search", "dailyko")
        match = page.locator('#whuffie-matches button[data-actor="polblogs:155"]')
        match.wait_for()
        match.click()
        assert page.text_content("#whuffie-panel-handle") == "dailykos.com"
        rank_text = page.text_content('#whuffie-panel dd[data-field="rank"]')
        assert rank_text == f"#{ranks['polblogs:155']:,} of {graph.n:,}"
        assert page.text_content('#whuffie-panel dd[data-field="actor"]') == "polblogs:155"
        recognisers = page.locator("#whuffie-panel ol.recognisers li")
        assert recognisers.count() == 5  # dailykos is linked from hundreds of blogs
        # The camera flew to the node: hover it, then click it.
        page.wait_for_timeout(800)
        index = page.evaluate("window.__whuffieMap.indexOf('polblogs:155')")
        page.evaluate("window.__whuffieMap.select(null, {zoom: false})")
        assert page.locator("#whuffie-panel-handle").count() == 0
        pos = page.evaluate("window.__whuffieMap.screenPosition('polblogs:155')")
        page.mouse.move(pos["x"], pos["y"])
        page.wait_for_timeout(100)
        # Hovering highlights the node, its most influential neighbours and all its links.
        state = page.evaluate("window.__whuffieMap.highlighted()")
        assert state["hover"][0] == str(index)
        assert len(state["hover"]) == 31
        assert state["hoverLinks"] == page.evaluate(f"window.__whuffieMap.graph.degree('{index}')") > 100
        # Its links are drawn over the other edges, from the node itself.
        ink = page.evaluate("""(pos) => {
            const canvas = document.querySelector("canvas.sigma-whuffieLinks");
            const box = canvas.getBoundingClientRect();
            const px = canvas.getContext("2d").getImageData(pos.x - box.left - 40, pos.y - box.top - 40,
                                                            80, 80).data;
            let ink = 0;
            for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
            return {ink, width: box.width, map: document.getElementById("whuffie-map").clientWidth};
        }""", pos)
        assert ink["width"] == ink["map"] and ink["ink"] > 500, ink
        page.mouse.click(pos["x"], pos["y"])
        assert page.text_content("#whuffie-panel-handle") == "dailykos.com"
        assert page.evaluate("window.__whuffieMap.highlighted().selected") == str(index)
    finally:
        page.close()


@pytest.mark.slow
def test_markup_in_a_handle_is_shown_as_text(polblogs_map, browser):
    path, _, _ = polblogs_map
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.__whuffieMap && window.__whuffieMap.ready", timeout=60_000)
        page.fill("#whuffie-search", "onerror")
        match = page.locator('#whuffie-matches button[data-actor="polblogs:55"]')
        match.wait_for()
        assert match.text_content().startswith(EVIL)
        match.click()
        assert page.text_content("#whuffie-panel-handle") == EVIL
        assert page.evaluate("window.__xss") is None
        # Nothing from the data became an element: still two scripts, no image.
        assert page.evaluate("document.scripts.length") == 2
        assert page.evaluate("document.images.length") == 0
        data = json.loads(page.evaluate("document.getElementById('whuffie-map-data').textContent"))
        assert EVIL in data["label"]
    finally:
        page.close()
