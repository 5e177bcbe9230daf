/* The DVS Cockpit page (docs/cockpit.md).
 *
 * Everything shown comes from net.dvsqemu.Manager1 on the system bus
 * (dvsmgr/dbus/net.dvsqemu.Manager1.xml) through cockpit-bridge: object
 * proxies for switches, port groups, DVports, hosts and migration jobs,
 * kept current by PropertiesChanged and the object manager; GetOutOfSync for
 * the queues; GetLiveStats for a selected port's live counters.  Actions
 * call the API's methods; dvsmgr asks polkit, and a refusal is shown as it
 * comes back (net.dvsqemu.Error.NotAuthorized).  Nothing is cached beyond
 * what the proxies hold: a reload shows what the manager has now.
 */
"use strict";

const BUS_NAME = "net.dvsqemu.Manager1";
const ROOT = "/net/dvsqemu/Manager1";
const IFACE = "net.dvsqemu.";
const LIVE_STATS_MS = 2000;
const QUEUE_POLL_MS = 5000;

const client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
const objects = {};
for (const kind of ["Manager1", "Switch1", "PortGroup1", "Port1", "Host1", "Migration1"])
    objects[kind] = client.proxies(IFACE + kind, ROOT);

const ui = {
    selected: null,       /* the DVport key whose detail is shown */
    live: null,           /* {key, host, stats, time} from GetLiveStats */
    target: {},           /* port key -> destination host picked in its row */
    queue: [],            /* GetOutOfSync entries */
    closed: false,        /* the bridge closed the bus connection */
};

/* --- small DOM helpers ------------------------------------------------ */

function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (k === "class")
            node.className = v;
        else if (k.startsWith("on"))
            node.addEventListener(k.slice(2), v);
        else if (v !== undefined && v !== null && v !== false)
            node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
        if (c === null || c === undefined || c === false)
            continue;
        node.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
    }
    return node;
}

function replace(parent, ...children) {
    parent.replaceChildren(...children.flat(Infinity).filter(c => c));
}

function proxyList(kind) {
    return Object.keys(objects[kind]).map(p => objects[kind][p]).filter(p => p && p.valid);
}

function byPath(kind, path) {
    const p = objects[kind][path];
    return p && p.valid ? p : null;
}

function parseJson(text, fallback) {
    try {
        return JSON.parse(text);
    } catch (e) {
        return fallback;
    }
}

function when(usec) {
    if (!usec)
        return "never";
    return new Date(usec / 1000).toLocaleString();
}

/* --- errors and actions ----------------------------------------------- */

function showError(what, ex) {
    const name = ex && ex.name ? ex.name : "error";
    const message = ex && ex.message ? ex.message : String(ex);
    document.getElementById("alert-text").textContent = what + " failed: " + message + " (" + name + ")";
    document.getElementById("alert").hidden = false;
}

function clearError() {
    document.getElementById("alert").hidden = true;
}

/* Calls METHOD on PATH; WHAT names the action in an error.  Returns the
 * method's out-arguments, or null after showing the error. */
function act(what, path, iface, method, args) {
    clearError();
    return client.call(path, IFACE + iface, method, args)
            .catch(ex => { showError(what, ex); return null });
}

function movePort(port) {
    const host = ui.target[port.Key];
    if (!host)
        return;
    act("Moving DVport " + port.Key + " to " + host, port.path, "Port1", "Move", [host]);
}

function migrateVm(port) {
    const host = ui.target[port.Key];
    if (!host)
        return;
    act("Migrating VM " + port.ConnecteeVm + " to " + host, ROOT, "Manager1", "MigrateVM",
        [port.ConnecteeVm, host]);
}

function disconnectPort(port) {
    act("Disconnecting DVport " + port.Key, port.path, "Port1", "Disconnect", []);
}

/* --- rendering -------------------------------------------------------- */

function hostChoice(port, hosts, label, onGo) {
    const others = hosts.filter(h => h !== port.Host && h !== port.MigratingTo);
    if (others.length === 0)
        return null;
    if (!others.includes(ui.target[port.Key]))
        ui.target[port.Key] = others[0];
    const select = el("select", {
        class: "target", "aria-label": label + " destination",
        onchange: ev => { ui.target[port.Key] = ev.target.value },
    }, others.map(h => el("option", { value: h, selected: h === ui.target[port.Key] }, h)));
    return el("span", { class: "action" }, select,
              el("button", { type: "button", class: "act", onclick: () => onGo(port) }, label));
}

function portActions(port, sw) {
    const hosts = sw ? sw.Hosts : [];
    if (!port.ConnectionId) {
        return el("button", { type: "button", class: "act", onclick: () => openConnect(port, sw) },
                  "Connect\u2026");
    }
    const parts = [];
    if (port.Link === "up" && port.ConnecteeVm && !port.MigratingTo)
        parts.push(hostChoice(port, hosts, "Migrate", migrateVm));
    else if (port.Link !== "up" && !port.MigratingTo)
        parts.push(hostChoice(port, hosts, "Move", movePort));
    parts.push(el("button", { type: "button", class: "act", onclick: () => disconnectPort(port) },
                  "Disconnect"));
    return parts;
}

/* The connect dialog is static HTML, filled when opened: renders never
 * touch it, so what the operator types survives every update. */
function openConnect(port, sw) {
    const dialog = document.getElementById("connect-dialog");
    const form = document.getElementById("connect-form");
    form.reset();
    form.dataset.path = port.path;
    form.dataset.key = port.Key;
    document.getElementById("connect-key").textContent = port.Key;
    replace(form.querySelector("[name=host]"),
            (sw ? sw.Hosts : []).map(h => el("option", { value: h }, h)));
    dialog.showModal();
}

function connectSubmitted(ev) {
    ev.preventDefault();
    const form = ev.target;
    const port = byPath("Port1", form.dataset.path);
    if (!port) {
        showError("Connecting DVport " + form.dataset.key, { message: "the DVport is gone" });
        document.getElementById("connect-dialog").close();
        return;
    }
    const value = name => form.querySelector("[name=" + name + "]").value.trim();
    act("Connecting DVport " + port.Key, port.path, "Port1", "Connect",
        [value("host"), value("vm"), value("mac"), value("interface")])
            .then(out => { if (out) document.getElementById("connect-dialog").close() });
}

function portRow(port, sw) {
    const link = port.MigratingTo ? "migrating to " + port.MigratingTo : port.Link;
    return el("tr", {
        class: "port" + (ui.selected === port.Key ? " selected" : ""),
        "data-port": port.Key,
    },
    el("td", {}, el("a", {
        href: "#", class: "port-key",
        onclick: ev => { ev.preventDefault(); selectPort(port.Key) },
    }, port.Key)),
    el("td", { class: "host" }, port.Host || "\u2014"),
    el("td", {}, port.ConnecteeVm || "\u2014"),
    el("td", {}, port.ConnecteeMac || ""),
    el("td", { class: "link link-" + port.Link }, link),
    el("td", {}, port.ConnectionId ? "connected" : "free"),
    el("td", { class: "actions" }, portActions(port, sw)));
}

function renderTopology() {
    const switches = proxyList("Switch1").sort((a, b) => a.Name.localeCompare(b.Name));
    const ports = proxyList("Port1");
    const box = document.getElementById("topology");
    if (switches.length === 0) {
        replace(box, el("p", { class: "empty" }, "No DVswitches."));
        return;
    }
    replace(box, switches.map(sw => {
        const groups = (sw.PortGroups || []).map(p => byPath("PortGroup1", p)).filter(g => g);
        return el("article", { class: "switch", "data-switch": sw.Name },
            el("h3", {}, sw.Name, " ", el("span", { class: "muted" },
               sw.Uuid + " \u00b7 " + sw.ForwardingClass + " \u00b7 MTU " + sw.Mtu +
               (sw.TransportZone ? " \u00b7 zone " + sw.TransportZone : "") +
               " \u00b7 generation " + sw.Generation)),
            el("p", { class: "members" }, "hosts: ",
               sw.Hosts.length ? sw.Hosts.map(h => el("span", { class: "chip" }, h)) : "none"),
            groups.map(pg => {
                const mine = ports.filter(p => p.PortGroup === pg.path)
                        .sort((a, b) => a.Key.localeCompare(b.Key));
                const cfg = parseJson(pg.ConfigJson, {});
                return el("div", { class: "portgroup", "data-portgroup": pg.Name },
                    el("h4", {}, "port group ", pg.Name, " ",
                       el("span", { class: "muted" },
                          (cfg.vlan !== undefined ? "VLAN " + JSON.stringify(cfg.vlan) + " \u00b7 " : "") +
                          pg.FreePorts + " of " + pg.NumPorts + " ports free")),
                    el("table", { class: "grid ports" },
                       el("thead", {}, el("tr", {}, ["DVport", "host", "VM", "MAC", "link", "", ""]
                               .map(t => el("th", {}, t)))),
                       el("tbody", {}, mine.map(p => portRow(p, sw)))));
            }));
    }));
}

function renderHosts() {
    const hosts = proxyList("Host1").sort((a, b) => a.Name.localeCompare(b.Name));
    replace(document.querySelector("#hosts tbody"), hosts.map(h => el("tr", { "data-host": h.Name },
        el("td", {}, h.Name),
        el("td", { class: h.Connected ? "ok" : "bad" }, h.Connected ? "yes" : "no"),
        el("td", { class: h.InSync ? "ok" : "bad" }, h.InSync ? "yes" : "no"),
        el("td", { title: (h.HealthReasons || []).join("; ") }, String(h.Health)),
        el("td", {}, h.Transport + (h.Address && h.Address !== h.Transport ? " " + h.Address : "")),
        el("td", {}, (h.Switches || []).length))));
}

function renderQueue() {
    const switches = {};
    for (const sw of proxyList("Switch1"))
        switches[sw.Uuid] = sw.Name;
    replace(document.querySelector("#out-of-sync tbody"), ui.queue.map(e => el("tr", {},
        el("td", {}, e.host), el("td", {}, e.queue), el("td", {}, switches[e.switch] || e.switch),
        el("td", {}, e.reason), el("td", {}, when(e.since)), el("td", {}, String(e.attempts)))));
    document.getElementById("in-sync").hidden = ui.queue.length > 0;
}

function renderMigrations() {
    const jobs = proxyList("Migration1");
    document.getElementById("migrations-section").hidden = jobs.length === 0;
    replace(document.querySelector("#migrations tbody"), jobs.map(j => el("tr", {},
        el("td", {}, j.VmName || j.Vm), el("td", {}, j.Source), el("td", {}, j.Destination),
        el("td", {}, j.State), el("td", {}, Math.round((j.Progress || 0) * 100) + " %"),
        el("td", { class: j.Error ? "bad" : "" }, j.Error || ""))));
}

function counterRows(stats) {
    const rows = [];
    for (const dir of ["rx", "tx"]) {
        const s = stats[dir] || {};
        rows.push(el("tr", {}, el("th", {}, dir === "rx" ? "from VM (rx)" : "to VM (tx)"),
                     el("td", { class: "num", "data-counter": dir + ".packets" }, String(s.packets || 0)),
                     el("td", { class: "num" }, String(s.bytes || 0))));
    }
    return rows;
}

function renderDetail() {
    const aside = document.getElementById("port-detail");
    const port = proxyList("Port1").find(p => p.Key === ui.selected);
    if (!port) {
        aside.hidden = true;
        return;
    }
    aside.hidden = false;
    document.getElementById("detail-key").textContent = port.Key;
    const pg = byPath("PortGroup1", port.PortGroup);
    const props = [
        ["port group", pg ? pg.Name : port.PortGroup], ["host", port.Host || "\u2014"],
        ["VM", port.ConnecteeVm || "\u2014"], ["MAC", port.ConnecteeMac || "\u2014"],
        ["interface", port.ConnecteeInterface || "\u2014"], ["link", port.Link],
        ["connection ID", port.ConnectionId || "none"], ["config", port.ConfigJson || "{}"],
    ];
    replace(document.getElementById("detail-props"),
            props.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    let stats, source;
    /* Live figures only while the port is up where they were read; after
     * that, the last report dvsmgr holds (taken at link down). */
    if (ui.live && ui.live.key === port.Key && ui.live.host === port.Host && port.Link === "up") {
        stats = ui.live.stats;
        source = "live from " + port.Host + ", " + new Date(ui.live.time).toLocaleTimeString();
    } else {
        stats = parseJson(port.StatsJson, {});
        source = "as reported " + when(port.StatsTime);
    }
    document.getElementById("detail-source").textContent = "(" + source + ")";
    replace(document.querySelector("#detail-counters tbody"), counterRows(stats));
    const drops = stats.drops || {};
    replace(document.querySelector("#detail-drops tbody"), Object.keys(drops).map(k =>
        el("tr", {}, el("th", {}, k.replace(/_/g, " ")), el("td", { class: "num" }, String(drops[k])))));
}

function renderSummary() {
    const mgr = byPath("Manager1", ROOT);
    const state = document.getElementById("manager-state");
    if (ui.closed || !mgr) {
        state.textContent = "dvsmgr is not running on the system bus";
        state.className = "state bad";
    } else {
        state.textContent = "dvsmgr " + mgr.Version;
        state.className = "state ok";
    }
    const hosts = proxyList("Host1");
    const up = hosts.filter(h => h.Connected).length;
    document.getElementById("counts").textContent =
        proxyList("Switch1").length + " DVswitches \u00b7 " + up + " of " + hosts.length +
        " hosts connected \u00b7 " + proxyList("Port1").length + " DVports \u00b7 " +
        (mgr ? mgr.OutOfSyncCount : 0) + " out of sync";
}

/* Each kind of object redraws only what shows it: a host's heartbeat
 * (LastSeen, Status) redraws the host table, not the topology with its
 * open drop-downs.  Redraws are coalesced to one per frame. */
const VIEWS = {
    summary: renderSummary, topology: renderTopology, hosts: renderHosts,
    queue: renderQueue, migrations: renderMigrations, detail: renderDetail,
};
const SHOWN_BY = {
    Manager1: ["summary"],
    Switch1: ["summary", "topology", "queue"],
    PortGroup1: ["topology", "detail"],
    Port1: ["summary", "topology", "detail"],
    Host1: ["summary", "hosts"],
    Migration1: ["migrations"],
};
const dirty = new Set();
function render(views) {
    const before = dirty.size;
    for (const v of views || Object.keys(VIEWS))
        dirty.add(v);
    if (before > 0 || dirty.size === 0)
        return;
    window.requestAnimationFrame(() => {
        const todo = [...dirty];
        dirty.clear();
        for (const v of todo)
            VIEWS[v]();
    });
}

/* --- polling: live counters and the queues ---------------------------- */

function selectPort(key) {
    ui.selected = key;
    ui.live = null;
    render(["topology", "detail"]);
    pollLive();
}

function pollLive() {
    const port = proxyList("Port1").find(p => p.Key === ui.selected);
    if (!port || port.Link !== "up")
        return;
    const key = port.Key;
    const host = port.Host;
    client.call(port.path, IFACE + "Port1", "GetLiveStats", [])
            .then(([json]) => {
                if (ui.selected !== key)
                    return;
                ui.live = { key, host, stats: parseJson(json, {}).stats || {}, time: Date.now() };
                render(["detail"]);
            })
            .catch(() => { ui.live = null; render(["detail"]) }); /* host unreachable: last report */
}

function pollQueue() {
    if (ui.closed || !byPath("Manager1", ROOT))
        return;
    client.call(ROOT, IFACE + "Manager1", "GetOutOfSync", [])
            .then(([json]) => { ui.queue = parseJson(json, []); render(["queue"]) })
            .catch(() => {});
}

/* --- start ------------------------------------------------------------ */

document.getElementById("alert-close").addEventListener("click", clearError);
document.getElementById("connect-form").addEventListener("submit", connectSubmitted);
document.getElementById("connect-cancel").addEventListener("click",
        () => document.getElementById("connect-dialog").close());
for (const kind of Object.keys(objects)) {
    for (const ev of ["added", "changed", "removed"])
        objects[kind].addEventListener(ev, () => render(SHOWN_BY[kind]));
}
for (const ev of ["added", "changed"])
    objects.Manager1.addEventListener(ev, pollQueue);
client.addEventListener("close", (ev, options) => {
    ui.closed = true;
    showError("The connection to the system bus", { name: options.problem, message: options.problem });
    render();
});
window.setInterval(pollLive, LIVE_STATS_MS);
window.setInterval(pollQueue, QUEUE_POLL_MS);
render();
