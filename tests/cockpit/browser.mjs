// A thin Playwright server for tests/integration/test_cockpit.py: it starts
// Debian's headless Chromium and does what the test asks, one JSON request
// per line on stdin, one JSON answer per line on stdout:
//
//   {"op":"open","url":U}                      load U, wait for the DOM
//   {"op":"wait","selector":S,"text":T?,"timeout":MS?}
//                                              until S is visible (and its
//                                              text contains T)
//   {"op":"click","selector":S}
//   {"op":"select","selector":S,"value":V}     pick an <option>
//   {"op":"fill","selector":S,"value":V}
//   {"op":"text","selector":S}                 -> {"text": textContent}
//   {"op":"count","selector":S}                -> {"count": N}
//   {"op":"screenshot","path":P}               the whole page as PNG
//   {"op":"errors"}                            -> {"errors": [page errors]}
//   {"op":"quit"}
//
// Answers: {"ok":true,...} or {"ok":false,"error":message}.  Page errors
// (uncaught exceptions, console.error) are collected for "errors".
// Environment: DVS_CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import readline from "node:readline";

const browser = await chromium.launch({
    executablePath: process.env.DVS_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // The machine has no way out: without these Chromium keeps trying
    // Google's hosts in the background.  Playwright gives it a new empty
    // profile of its own.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const errors = [];
page.on("pageerror", e => errors.push("uncaught: " + e.message));
page.on("console", m => { if (m.type() === "error") errors.push("console: " + m.text()) });

async function handle(req) {
    const timeout = req.timeout || 20000;
    switch (req.op) {
    case "open":
        await page.goto(req.url, { waitUntil: "domcontentloaded", timeout });
        return {};
    case "wait": {
        const loc = page.locator(req.selector).first();
        if (req.text === undefined) {
            await loc.waitFor({ state: "visible", timeout });
        } else {
            await page.waitForFunction(([sel, text]) => {
                return [...document.querySelectorAll(sel)].some(n => n.textContent.includes(text));
            }, [req.selector, req.text], { timeout });
        }
        return {};
    }
    case "click":
        await page.locator(req.selector).first().click({ timeout });
        return {};
    case "select":
        await page.locator(req.selector).first().selectOption(req.value, { timeout });
        return {};
    case "fill":
        await page.locator(req.selector).first().fill(req.value, { timeout });
        return {};
    case "text":
        return { text: await page.locator(req.selector).first().textContent({ timeout }) };
    case "count":
        return { count: await page.locator(req.selector).count() };
    case "screenshot":
        await page.screenshot({ path: req.path, fullPage: true });
        return {};
    case "errors":
        return { errors };
    default:
        throw new Error("unknown op " + JSON.stringify(req.op));
    }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
    let req;
    try {
        req = JSON.parse(line);
    } catch (e) {
        console.log(JSON.stringify({ ok: false, error: "not JSON: " + line }));
        continue;
    }
    if (req.op === "quit")
        break;
    try {
        console.log(JSON.stringify({ ok: true, ...(await handle(req)) }));
    } catch (e) {
        console.log(JSON.stringify({ ok: false, error: String(e.message || e) }));
    }
}
await browser.close();
